"""The one inbound-message model every channel normalizes into, and what one webhook delivery holds.

Text from outside is cleaned here, once for every channel: NUL and other control characters are
dropped and lone surrogates become U+FFFD (mostrador.request_input.clean_text). PostgreSQL refuses
NUL in text and no encoder takes a lone surrogate; a customer who sent one still gets an answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from mostrador.request_input import clean_text

Channel = Literal["whatsapp", "messenger", "instagram", "support_board", "webchat"]
# Who wrote the message, as far as the channel alone can tell. The reply function refines
# support-board senders with the actor rules (DM bot, comment bot, agents).
SenderRole = Literal["customer", "bot", "agent", "page", "unknown"]
MediaKind = Literal[
    "text",
    "image",
    "audio",
    "video",
    "document",
    "location",
    "sticker",
    "reaction",
    "interactive",
    "postback",
    "unsupported",
]


class InboundMessage(BaseModel):
    model_config = ConfigDict(frozen=True)

    tenant_id: str
    channel: Channel
    # Stable id of the conversation within the tenant: FIFO message group on the reply queue.
    conversation_id: str
    sender_id: str
    sender_role: SenderRole
    text: str = ""
    media_kind: MediaKind = "text"
    # Unique per platform: wamid, Messenger mid, "sb:<message_id>"; FIFO deduplication id.
    platform_message_id: str
    timestamp: datetime
    # Channel-specific details the reply side needs (e.g. the Page id, the Support Board
    # conversation source, the id of the message this one replies to, an echo's app_id).
    reply_to_message_id: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)

    @field_validator(
        "tenant_id", "conversation_id", "sender_id", "text", "platform_message_id", "reply_to_message_id", mode="before"
    )
    @classmethod
    def _clean_text(cls, value: Any) -> Any:
        return _cleaned(value)

    @field_validator("metadata", mode="before")
    @classmethod
    def _clean_metadata(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            return value
        return {_cleaned(key): _cleaned(item) for key, item in value.items()}


class StatusUpdate(BaseModel):
    """Delivery status of a message we sent (WhatsApp statuses, Messenger delivery/read)."""

    model_config = ConfigDict(frozen=True)

    tenant_id: str
    channel: Channel
    platform_message_id: str
    status: Literal["sent", "delivered", "read", "failed"]
    timestamp: datetime
    error_code: str | None = None
    error_title: str | None = None

    @field_validator("tenant_id", "platform_message_id", "error_code", "error_title", mode="before")
    @classmethod
    def _clean_text(cls, value: Any) -> Any:
        return _cleaned(value)


def _cleaned(value: Any) -> Any:
    return clean_text(value) if isinstance(value, str) else value


class MessageDeletion(BaseModel):
    """The sender took a message back (an Instagram unsend, `is_deleted`): not a new message.

    `platform_message_id` is the id of the message taken back, which may not have arrived yet."""

    model_config = ConfigDict(frozen=True)

    tenant_id: str
    channel: Channel
    conversation_id: str
    platform_message_id: str
    sender_id: str
    # "customer" when the customer unsent their message, "page" when the business unsent its own.
    sender_role: SenderRole = "customer"
    timestamp: datetime


@dataclass(frozen=True)
class RoutedStatus:
    """A delivery status and the conversation it belongs to (StatusUpdate itself has no conversation)."""

    status: StatusUpdate
    conversation_id: str


QueueItem = InboundMessage | RoutedStatus | MessageDeletion


@dataclass
class ParsedDelivery:
    """What one webhook delivery holds for the queue, and what was skipped (reasons, no customer data)."""

    items: list[QueueItem] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def extend(self, other: ParsedDelivery) -> None:
        self.items.extend(other.items)
        self.skipped.extend(other.skipped)
