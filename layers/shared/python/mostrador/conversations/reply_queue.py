"""The envelope the webhook puts on the reply FIFO queue, and how the reply function reads it back.

Body: {"v": 1, "kind": "message", "message": {...InboundMessage...}},
      {"v": 1, "kind": "status", "status": {...StatusUpdate...}, "conversation_id": "..."} or
      {"v": 1, "kind": "deletion", "deletion": {...MessageDeletion...}}.
MessageGroupId is the conversation (with its tenant), so one conversation is handled in order;
MessageDeduplicationId is the platform message id (statuses: id + status; deletions: id + ":deleted",
so an unsend is never taken for a redelivery of the message it takes back), so Meta's redeliveries
within SQS's five-minute window never reach the consumer twice.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from mostrador.messaging.model import InboundMessage, MessageDeletion, QueueItem, StatusUpdate
from mostrador.queues import OutgoingMessage

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
    return fifo_id(f"{tenant_id}|{conversation_id}", keep=tenant_id)


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
