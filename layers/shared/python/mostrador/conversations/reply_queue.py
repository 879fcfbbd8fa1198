"""The envelope the webhook puts on the reply FIFO queue, and how the reply function reads it back.

Body: {"v": 1, "kind": "message", "message": {...InboundMessage...}},
      {"v": 1, "kind": "status", "status": {...StatusUpdate...}, "conversation_id": "..."},
      {"v": 1, "kind": "deletion", "deletion": {...MessageDeletion...}} or
      {"v": 1, "kind": "reply_due", "due": {...ReplyDue...}} (the reply function's own timer for a burst
      of messages, or a backstop, each in a message group of its own so it never waits behind the
      conversation's messages).
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
import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from mostrador.channels.whatsapp import customer_key
from mostrador.messaging.model import InboundMessage, MessageDeletion, QueueItem, StatusUpdate
from mostrador.queues import MAX_MESSAGE_BYTES, OutgoingMessage, serialized_body

FIFO_ID_MAX = 128
ENVELOPE_VERSION = 1
# SQS FIFO ids: alphanumerics and ASCII punctuation only.
_FIFO_ID_CHARS = re.compile(r"^[A-Za-z0-9!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]+$")


class ReplyDue(BaseModel):
    """The one reply to a burst of customer messages is due at `due_at` (the burst opened with
    message `anchor_id`). Its queue message is handed back to SQS, invisible, until then.

    A `backstop` watches message `anchor_id` instead: a burst's reply was superseded for it while it was
    still being handled; at `due_at` (the reply function's timeout after it was recorded) a message still
    only recorded had its handling fail, and the messages waiting behind it get a burst of their own."""

    model_config = ConfigDict(frozen=True)

    tenant_id: str
    conversation_id: str
    anchor_id: int
    anchor_platform_message_id: str
    due_at: datetime
    kind: Literal["burst", "backstop"] = "burst"


@dataclass(frozen=True)
class ReplyEnvelope:
    item: InboundMessage | StatusUpdate | MessageDeletion | ReplyDue
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


DUE_GROUP_SUFFIX = "#reply"
BACKSTOP_GROUP_SUFFIX = "#backstop"


def due_envelope_for(due: ReplyDue, *, entry_id: str = "0") -> OutgoingMessage:
    """The timer of a burst. Its group is the conversation's own plus "#reply": timers of one
    conversation run in order, and never wait behind (or block) the conversation's messages. Its
    deduplication id names the burst (anchor and due time): a retry scheduling the same burst again is
    dropped, a later burst held by the same message is not.

    A backstop waits in "#backstop" (deferred for up to the reply function's timeout, it must not hold
    back the burst timers behind it) and is deduplicated per watched message."""
    if due.kind == "backstop":
        suffix, deduplication = BACKSTOP_GROUP_SUFFIX, f"backstop:{due.anchor_platform_message_id}"
    else:
        due_us = round(due.due_at.timestamp() * 1_000_000)
        suffix, deduplication = DUE_GROUP_SUFFIX, f"due:{due.anchor_platform_message_id}@{due_us}"
    return OutgoingMessage(
        id=entry_id,
        body={"v": ENVELOPE_VERSION, "kind": "reply_due", "due": due.model_dump(mode="json")},
        group_id=group_id(due.tenant_id, due.conversation_id + suffix),
        deduplication_id=fifo_id(deduplication, keep=deduplication.split(":", 1)[0]),
    )


class QueueReplyScheduler:
    """Puts a burst's timer on the reply queue (the FIFO queue the reply function consumes)."""

    def __init__(self, queue_url: str) -> None:
        self.queue_url = queue_url

    def schedule(self, due: ReplyDue) -> None:
        from mostrador.queues import send_messages

        failures = send_messages(self.queue_url, [due_envelope_for(due)])
        if failures:
            # The customer's message is recorded as waiting; failing makes the queue retry it, which
            # schedules again (the same deduplication id, so never twice).
            raise RuntimeError(f"the reply queue refused a burst timer: {failures[0].code}")


class ItemDeferred(Exception):
    """Raised for a queue item handed back to SQS until later: Lambda must not delete it."""


def defer_record(receipt_handle: str, event_source_arn: str, seconds: float, queue_url: str | None) -> None:
    """Make the SQS message invisible for `seconds` (rounded up: SQS counts whole seconds), then raise
    ItemDeferred so the batch reports it failed and SQS delivers it again when it is due. A FIFO queue
    has no per-message delay; this is its substitute, at the price of one extra receive."""
    from mostrador.queues import sqs_client

    client = sqs_client()
    url = queue_url or _queue_url_from_arn(client, event_source_arn)
    timeout = max(0, min(43_200, math.ceil(seconds)))
    client.change_message_visibility(QueueUrl=url, ReceiptHandle=receipt_handle, VisibilityTimeout=timeout)
    raise ItemDeferred(f"deferred for {timeout} s")


def _queue_url_from_arn(client: Any, arn: str) -> str:
    parts = arn.split(":")
    answer = client.get_queue_url(QueueName=parts[-1], QueueOwnerAWSAccountId=parts[-2])
    return str(answer["QueueUrl"])


def timers_last(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The batch with burst timers after every customer message: messages of other conversations (other
    groups) are recorded first, so a timer's reply sees the newest messages. Order within a group holds."""
    return sorted(records, key=lambda record: _TIMER_KIND.search(str(record.get("body", ""))) is not None)


_TIMER_KIND = re.compile(r'"kind"\s*:\s*"reply_due"')


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
    if kind == "reply_due":
        due = ReplyDue.model_validate(data.get("due"))
        return ReplyEnvelope(due, due.conversation_id)
    raise ValueError(
        f"reply queue body has unknown kind {kind!r} (expected 'message', 'status', 'deletion' or 'reply_due')"
    )


def parse_reply_queue_body(body: str) -> InboundMessage | StatusUpdate | MessageDeletion | ReplyDue:
    return parse_reply_queue_envelope(body).item
