"""The envelope the webhook puts on the reply FIFO queue, and how the reply function reads it back.

Body: {"v": 1, "kind": "message", "message": {...InboundMessage...}},
      {"v": 1, "kind": "status", "status": {...StatusUpdate...}, "conversation_id": "..."} or
      {"v": 1, "kind": "deletion", "deletion": {...MessageDeletion...}}.
MessageGroupId is the conversation (with its tenant; a WhatsApp number in its canonical form, so a
business-app echo addressed to another form of a customer's number waits its turn with that
customer's messages), so one conversation is handled in order;
MessageDeduplicationId is the platform message id (statuses: id + status; deletions: id + ":deleted",
so an unsend is never taken for a redelivery of the message it takes back), so Meta's redeliveries
within SQS's five-minute window never reach the consumer twice.

A message whose envelope would not fit one SQS message (a 3 MB WhatsApp text) travels cut to fit
(fit_for_queue): its text ends with a visible marker and metadata["truncated_from_chars"] keeps
the original length. Refusing it instead would make Meta redeliver the same event for days.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from mostrador.channels.whatsapp import customer_key
from mostrador.messaging.model import InboundMessage, MessageDeletion, QueueItem, StatusUpdate
from mostrador.queues import MAX_MESSAGE_BYTES, OutgoingMessage, serialized_body

FIFO_ID_MAX = 128
ENVELOPE_VERSION = 1
# SQS FIFO ids: alphanumerics and ASCII punctuation only.
_FIFO_ID_CHARS = re.compile(r"^[A-Za-z0-9!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]+$")


@dataclass(frozen=True)
class ReplyEnvelope:
    item: InboundMessage | StatusUpdate | MessageDeletion
    conversation_id: str | None


def fifo_id(value: str, *, keep: str = "") -> str:
    """`value` when it is a valid FIFO id, else `keep` + a SHA-256 of it (still ≤ 128 characters)."""
    if len(value) <= FIFO_ID_MAX and _FIFO_ID_CHARS.match(value):
        return value
    digest = hashlib.sha256(value.encode("utf-8")).hexdigest()
    prefix = "".join(ch for ch in keep if _FIFO_ID_CHARS.match(ch))[: FIFO_ID_MAX - len(digest) - 3]
    return f"{prefix}:h:{digest}" if prefix else f"h:{digest}"


def group_id(tenant_id: str, conversation_id: str) -> str:
    # A WhatsApp number written in another form (an echo's "to") is the same customer's group.
    return fifo_id(f"{tenant_id}|{customer_key(conversation_id)}", keep=tenant_id)


def envelope_for(item: QueueItem, *, entry_id: str = "0") -> OutgoingMessage:
    """The SQS message for one inbound message or status (entry_id: unique within one batch)."""
    if isinstance(item, InboundMessage):
        return OutgoingMessage(
            id=entry_id,
            body={"v": ENVELOPE_VERSION, "kind": "message", "message": item.model_dump(mode="json")},
            group_id=group_id(item.tenant_id, item.conversation_id),
            deduplication_id=fifo_id(item.platform_message_id),
        )
    if isinstance(item, MessageDeletion):
        return OutgoingMessage(
            id=entry_id,
            body={"v": ENVELOPE_VERSION, "kind": "deletion", "deletion": item.model_dump(mode="json")},
            group_id=group_id(item.tenant_id, item.conversation_id),
            deduplication_id=fifo_id(f"{item.platform_message_id}:deleted"),
        )
    status = item.status
    return OutgoingMessage(
        id=entry_id,
        body={
            "v": ENVELOPE_VERSION,
            "kind": "status",
            "status": status.model_dump(mode="json"),
            "conversation_id": item.conversation_id,
        },
        group_id=group_id(status.tenant_id, item.conversation_id),
        deduplication_id=fifo_id(f"{status.platform_message_id}:{status.status}"),
    )


TRUNCATED_METADATA = "truncated_from_chars"
_MARKER = "\n\n[… message truncated by Mostrador: {total} characters received, the first {kept} kept]"
_METADATA_VALUE_CHARS = 1_000  # platform ids and URLs are far shorter; only a hostile payload is cut


def fit_for_queue(item: QueueItem, limit: int = MAX_MESSAGE_BYTES) -> QueueItem:
    """`item` when its envelope fits one SQS message; else the message with its text cut to fit,
    after a visible marker, and its length before in metadata["truncated_from_chars"].

    Sizes are those of the serialized envelope (JSON with ASCII escapes: "é" takes 6 bytes there).
    An item that cannot be made to fit (its ids alone are too long) is returned as it is; SQS then
    refuses it as invalid, which the caller reports without asking for a redelivery."""
    if not isinstance(item, InboundMessage) or _size(item) <= limit:
        return item
    metadata = {
        key: value if len(value) <= _METADATA_VALUE_CHARS else value[:_METADATA_VALUE_CHARS] + "…"
        for key, value in item.metadata.items()
    }
    metadata[TRUNCATED_METADATA] = str(len(item.text))
    total = len(item.text)
    longest_marker = _MARKER.format(total=total, kept=total)
    bare = item.model_copy(update={"text": longest_marker, "metadata": metadata})
    room = limit - _size(bare)
    if room < 0:
        return item
    kept = _longest_prefix(item.text, room)
    return item.model_copy(
        update={"text": item.text[:kept] + _MARKER.format(total=total, kept=kept), "metadata": metadata}
    )


def _size(item: InboundMessage) -> int:
    return len(serialized_body(envelope_for(item).body))


def _escaped_length(text: str) -> int:
    return len(json.dumps(text, ensure_ascii=True)) - 2


def _longest_prefix(text: str, room: int) -> int:
    """The most characters of `text` whose escaped form takes at most `room` bytes (binary search:
    the escaped length grows with the prefix, each character taking 1 to 12 bytes)."""
    low, high = 0, min(len(text), room)
    while low < high:
        middle = (low + high + 1) // 2
        if _escaped_length(text[:middle]) <= room:
            low = middle
        else:
            high = middle - 1
    return low


def envelopes_for(items: list[QueueItem]) -> list[OutgoingMessage]:
    # Batch entry ids must be unique within each SendMessageBatch call of ten.
    return [envelope_for(item, entry_id=str(index)) for index, item in enumerate(items)]


def parse_reply_queue_envelope(body: str) -> ReplyEnvelope:
    """The item in an SQS body written by envelope_for, with its conversation. ValueError if malformed."""
    try:
        data: Any = json.loads(body)
    except json.JSONDecodeError as exc:
        raise ValueError(f"reply queue body is not JSON: {exc.msg}") from exc
    if not isinstance(data, dict):
        raise ValueError("reply queue body must be a JSON object")
    kind = data.get("kind")
    if kind == "message":
        message = InboundMessage.model_validate(data.get("message"))
        return ReplyEnvelope(message, message.conversation_id)
    if kind == "status":
        status = StatusUpdate.model_validate(data.get("status"))
        conversation = data.get("conversation_id")
        return ReplyEnvelope(status, str(conversation) if conversation else None)
    if kind == "deletion":
        deletion = MessageDeletion.model_validate(data.get("deletion"))
        return ReplyEnvelope(deletion, deletion.conversation_id)
    raise ValueError(f"reply queue body has unknown kind {kind!r} (expected 'message', 'status' or 'deletion')")


def parse_reply_queue_body(body: str) -> InboundMessage | StatusUpdate | MessageDeletion:
    return parse_reply_queue_envelope(body).item
