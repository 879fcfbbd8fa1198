"""What every channel's outbound side offers the reply function, and how sending can fail."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from mostrador.messaging.model import Channel


@dataclass(frozen=True)
class OutboundMessage:
    tenant_id: str
    channel: Channel
    conversation_id: str
    recipient_id: str
    text: str
    # The customer's message this answers (WhatsApp context, Support Board relay).
    reply_to_message_id: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SendResult:
    # One id per piece actually sent (long texts are split to the channel's limit).
    platform_message_ids: list[str]


class SendError(Exception):
    transient: bool = False

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class TransientSendError(SendError):
    """Worth retrying later through the queue: rate limits (130429, 131056), 5xx, timeouts."""

    transient = True


class PermanentSendError(SendError):
    """Retrying cannot help: window closed (131047), bad token (190), blocked user. Record and alarm."""


class ChannelSender(Protocol):
    def pieces(self, message: OutboundMessage) -> list[str]:
        """The texts `send` would deliver for this message, in order (long texts are split to the
        channel's limit). The reply function sends them one by one, so a retry resumes mid-way."""
        ...

    def send(self, message: OutboundMessage) -> SendResult: ...
