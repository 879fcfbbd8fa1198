"""What every channel's outbound side offers the reply function, and how sending can fail."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from mostrador.messaging.model import Channel


@dataclass(frozen=True)
class Choice:
    """One option offered to the customer. `id` comes back when they tap it ("product:<item code>");
    each channel cuts `title` and `description` to its own limits (channels/interactive.py)."""

    id: str
    title: str
    description: str = ""
    # The product's brand: a title shortened to its distinguishing words keeps it when it fits.
    brand: str = ""


@dataclass(frozen=True)
class ChoiceSet:
    """Options to send with the last piece of a reply, with the customer-language texts around them."""

    items: tuple[Choice, ...]
    # The body of the interactive message when the reply text is too long to carry it.
    prompt: str
    # WhatsApp list messages: the label of the button that opens the list, and the section title.
    button: str
    section: str


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
    # Buttons / list rows / quick replies on this piece (channels that have them; numbered text elsewhere).
    choices: ChoiceSet | None = None
    # A photo sent by URL, `text` being its caption (channels that send images; never Support Board or web chat).
    image_url: str | None = None


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


@runtime_checkable
class ReadMarker(Protocol):
    """Channels that can tell the customer their message was read and a reply is being written."""

    def mark_read(self, message: OutboundMessage) -> None:
        """Mark `message.reply_to_message_id` read and show the typing indicator until the reply."""
        ...
