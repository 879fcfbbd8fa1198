"""Messenger and Instagram (both through Meta's Messenger Platform): inbound events and outbound text.

Conversation ids: "fb:<page id>:<customer psid>" and "ig:<instagram account id>:<customer igsid>".
Meta echoes every message the Page sends (`is_echo`, with the `app_id` of the app that sent it):
for an echo the customer is the recipient, and the sender role is "page" with metadata["app_id"],
so the reply side can tell its own echoes from a person answering in the Page inbox.

Handover protocol: while another app owns the thread, Meta delivers its events in the entry's
`standby` array instead of `messaging`; they are parsed the same way and marked
metadata["standby"] = "true" (recorded, never answered). An unsend (`message.is_deleted`, Instagram)
names the message taken back and becomes a MessageDeletion, never a message.

A reaction (webhook field `message_reactions`: `reaction: {mid, action: react|unreact, emoji,
reaction}`) becomes the same channel-neutral message a WhatsApp reaction does: kind "reaction", the
emoji as its text, an empty text for a removal (`unreact`), the reacted message as reply_to. It has
no id of its own, so its id is built from the reacted message, the customer, the action and the time.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mostrador.channels.base import OutboundMessage, PermanentSendError, SendResult
from mostrador.channels.interactive import messenger_quick_replies
from mostrador.channels.meta import dicts_in, from_unix_millis, new_http_client, post_graph, value_at
from mostrador.channels.text_limits import LIMITS, split_text
from mostrador.messaging.model import (
    Channel,
    InboundMessage,
    MediaKind,
    MessageDeletion,
    ParsedDelivery,
    RoutedStatus,
    StatusUpdate,
)

if TYPE_CHECKING:
    import httpx

    from mostrador.config import Settings

OBJECTS: dict[str, Channel] = {"page": "messenger", "instagram": "instagram"}
_PREFIX = {"messenger": "fb", "instagram": "ig"}
_ATTACHMENT_KINDS: dict[str, MediaKind] = {
    "image": "image",
    "audio": "audio",
    "video": "video",
    "file": "document",
    "location": "location",
    "sticker": "sticker",
}


WATERMARK_PREFIX = "watermark:"


def watermark_id(watermark: object) -> str:
    """The status id of a Messenger watermark (no message id: everything sent before it)."""
    return f"{WATERMARK_PREFIX}{watermark}"


def watermark_time(platform_message_id: str) -> datetime | None:
    """When a watermark status id says messages were delivered/read up to; None for a message id."""
    millis = platform_message_id.removeprefix(WATERMARK_PREFIX)
    if millis == platform_message_id or not millis.isdigit():
        return None
    return datetime.fromtimestamp(int(millis) / 1000, tz=UTC)


def conversation_id_for(channel: Channel, account_id: str, customer_id: str) -> str:
    return f"{_PREFIX.get(channel, 'fb')}:{account_id}:{customer_id}"


def parse_delivery(payload: Mapping[str, Any], tenant_id: str) -> ParsedDelivery:
    """Messages, echoes, postbacks, quick replies, attachments, reactions, delivery and read receipts,
    unsends, and the same events in standby (another app owns the thread)."""
    parsed = ParsedDelivery()
    channel = OBJECTS.get(str(payload.get("object")))
    if channel is None:
        parsed.skipped.append(f"meta object {payload.get('object')!r}")
        return parsed
    for entry in dicts_in(payload.get("entry")):
        account_id = str(entry.get("id") or "")
        events = dicts_in(entry.get("messaging"))
        standby = dicts_in(entry.get("standby"))
        if not events and not standby:
            parsed.skipped.append(f"{channel} entry without messaging or standby events")
        for event in events:
            parsed.extend(_parse_event(event, channel, account_id, tenant_id, standby=False))
        for event in standby:
            parsed.extend(_parse_event(event, channel, account_id, tenant_id, standby=True))
    return parsed


def _parse_event(
    event: Mapping[str, Any], channel: Channel, account_id: str, tenant_id: str, *, standby: bool
) -> ParsedDelivery:
    parsed = ParsedDelivery()
    sender = str(value_at(event, "sender", "id") or "")
    recipient = str(value_at(event, "recipient", "id") or "")
    account_id = account_id or recipient
    timestamp = from_unix_millis(event.get("timestamp"))
    message = event.get("message")
    if isinstance(message, Mapping) and message.get("mid") and sender and recipient:
        if message.get("is_deleted"):
            parsed.items.append(_deletion(message, channel, account_id, sender, recipient, timestamp, tenant_id))
            return parsed
        item = _message(message, channel, account_id, sender, recipient, timestamp, tenant_id)
        parsed.items.append(_in_standby(item) if standby else item)
        return parsed
    postback = event.get("postback")
    if isinstance(postback, Mapping) and sender:
        mid = postback.get("mid") or f"postback:{sender}:{event.get('timestamp')}"
        metadata = {"page_id": account_id}
        if standby:
            metadata["standby"] = "true"
        if postback.get("payload"):
            metadata["postback_payload"] = str(postback["payload"])
        parsed.items.append(
            InboundMessage(
                tenant_id=tenant_id,
                channel=channel,
                conversation_id=conversation_id_for(channel, account_id, sender),
                sender_id=sender,
                sender_role="customer",
                text=str(postback.get("title") or ""),
                media_kind="postback",
                platform_message_id=str(mid),
                timestamp=timestamp,
                metadata=metadata,
            )
        )
        return parsed
    reaction = event.get("reaction")
    if isinstance(reaction, Mapping) and reaction.get("mid") and sender:
        item = _reaction(reaction, channel, account_id, sender, event.get("timestamp"), timestamp, tenant_id)
        parsed.items.append(_in_standby(item) if standby else item)
        return parsed
    delivery = event.get("delivery")
    if isinstance(delivery, Mapping) and sender:
        # A delivery receipt comes from the customer: they are the sender here.
        conversation = conversation_id_for(channel, account_id, sender)
        mids = [str(mid) for mid in delivery.get("mids") or [] if mid]
        for mid in mids:
            parsed.items.append(_status(channel, tenant_id, mid, "delivered", timestamp, conversation))
        if not mids and delivery.get("watermark") is not None:
            watermark = str(delivery["watermark"])
            parsed.items.append(
                _status(channel, tenant_id, watermark_id(watermark), "delivered", timestamp, conversation)
            )
        return parsed
    read = event.get("read")
    if isinstance(read, Mapping) and sender:
        conversation = conversation_id_for(channel, account_id, sender)
        # Instagram names the message read; Messenger gives a watermark: all sent before it are read.
        mid = read.get("mid") or (watermark_id(read["watermark"]) if read.get("watermark") is not None else None)
        if mid:
            parsed.items.append(_status(channel, tenant_id, str(mid), "read", timestamp, conversation))
            return parsed
    kinds = sorted(key for key in event if key not in {"sender", "recipient", "timestamp"})
    parsed.skipped.append(f"{channel} event {','.join(kinds) or 'empty'}")
    return parsed


def _message(
    message: Mapping[str, Any],
    channel: Channel,
    account_id: str,
    sender: str,
    recipient: str,
    timestamp: Any,
    tenant_id: str,
) -> InboundMessage:
    is_echo = bool(message.get("is_echo"))
    customer = recipient if is_echo else sender
    metadata: dict[str, str] = {"page_id": account_id}
    if is_echo:
        metadata["is_echo"] = "true"
        if message.get("app_id") is not None:
            metadata["app_id"] = str(message["app_id"])
    text = str(message.get("text") or "")
    media_kind: MediaKind = "text"
    quick_reply = message.get("quick_reply")
    if isinstance(quick_reply, Mapping):
        media_kind = "interactive"
        if quick_reply.get("payload"):
            metadata["quick_reply_payload"] = str(quick_reply["payload"])
    attachments = dicts_in(message.get("attachments"))
    if attachments:
        first = attachments[0]
        kind = str(first.get("type") or "")
        payload = first.get("payload") if isinstance(first.get("payload"), Mapping) else {}
        if isinstance(payload, Mapping) and payload.get("sticker_id"):
            kind = "sticker"
        media_kind = _ATTACHMENT_KINDS.get(kind, "unsupported")
        metadata["attachment_type"] = kind
        metadata["attachment_count"] = str(len(attachments))
        if isinstance(payload, Mapping) and payload.get("url"):
            metadata["attachment_url"] = str(payload["url"])
    if message.get("is_unsupported"):
        media_kind = "unsupported"
    reply_to = value_at(message, "reply_to", "mid")
    return InboundMessage(
        tenant_id=tenant_id,
        channel=channel,
        conversation_id=conversation_id_for(channel, account_id, customer),
        sender_id=sender,
        sender_role="page" if is_echo else "customer",
        text=text,
        media_kind=media_kind,
        platform_message_id=str(message["mid"]),
        timestamp=timestamp,
        reply_to_message_id=str(reply_to) if reply_to else None,
        metadata=metadata,
    )


def _reaction(
    reaction: Mapping[str, Any],
    channel: Channel,
    account_id: str,
    sender: str,
    raw_timestamp: object,
    timestamp: Any,
    tenant_id: str,
) -> InboundMessage:
    reacted = str(reaction["mid"])
    action = str(reaction.get("action") or "react")
    metadata = {"page_id": account_id, "reacted_message_id": reacted, "reaction_action": action}
    if reaction.get("reaction"):
        metadata["reaction"] = str(reaction["reaction"])
    # Like WhatsApp's, an empty text is a removal; a reaction without an emoji keeps its name instead.
    text = "" if action == "unreact" else str(reaction.get("emoji") or reaction.get("reaction") or "?")
    return InboundMessage(
        tenant_id=tenant_id,
        channel=channel,
        conversation_id=conversation_id_for(channel, account_id, sender),
        sender_id=sender,
        sender_role="customer",
        text=text,
        media_kind="reaction",
        platform_message_id=f"reaction:{reacted}:{sender}:{action}:{raw_timestamp}",
        timestamp=timestamp,
        reply_to_message_id=reacted,
        metadata=metadata,
    )


def _in_standby(message: InboundMessage) -> InboundMessage:
    return message.model_copy(update={"metadata": {**message.metadata, "standby": "true"}})


def _deletion(
    message: Mapping[str, Any],
    channel: Channel,
    account_id: str,
    sender: str,
    recipient: str,
    timestamp: Any,
    tenant_id: str,
) -> MessageDeletion:
    # An unsent echo (the business took its own message back) belongs to the customer it was sent to.
    is_echo = bool(message.get("is_echo"))
    return MessageDeletion(
        tenant_id=tenant_id,
        channel=channel,
        conversation_id=conversation_id_for(channel, account_id, recipient if is_echo else sender),
        platform_message_id=str(message["mid"]),
        sender_id=sender,
        sender_role="page" if is_echo else "customer",
        timestamp=timestamp,
    )


def _status(channel: Channel, tenant_id: str, mid: str, state: str, timestamp: Any, conversation: str) -> RoutedStatus:
    update = StatusUpdate(
        tenant_id=tenant_id,
        channel=channel,
        platform_message_id=mid,
        status="read" if state == "read" else "delivered",
        timestamp=timestamp,
    )
    return RoutedStatus(update, conversation)


class MessengerSender:
    """Send API replies (Messenger and Instagram): POST {graph}/me/messages with the Page token.

    messaging_type RESPONSE: the bot only ever answers inside the customer's 24-hour window;
    outside it Meta answers error 10 (or 551), which is permanent for a bot (HUMAN_AGENT is for people).
    """

    def __init__(self, *, graph_url: str, page_token: str | None, http: httpx.Client | None = None) -> None:
        self._graph_url = graph_url.rstrip("/")
        self._token = page_token
        self._http = http

    @classmethod
    def from_settings(cls, settings: Settings, http: httpx.Client | None = None) -> MessengerSender:
        return cls(graph_url=settings.meta_graph_url, page_token=settings.secret("messenger_page_token"), http=http)

    def pieces(self, message: OutboundMessage) -> list[str]:
        return split_text(message.text, LIMITS["instagram" if message.channel == "instagram" else "messenger"])

    def send_with_tag(self, message: OutboundMessage, tag: str) -> SendResult:
        """A person's text after the 24-hour window, with a message tag (HUMAN_AGENT: up to 7 days, for
        people only, never the bot; conversations/window.py decides). The admin console's replies."""
        if not self._token:
            raise PermanentSendError("Messenger is not configured (MESSENGER_PAGE_TOKEN)", code="config")
        if self._http is None:
            self._http = new_http_client()
        platform = "Instagram" if message.channel == "instagram" else "Messenger"
        ids: list[str] = []
        for piece in self.pieces(message):
            payload = {
                "recipient": {"id": message.recipient_id},
                "messaging_type": "MESSAGE_TAG",
                "tag": tag,
                "message": {"text": piece},
            }
            answer = post_graph(
                self._http, f"{self._graph_url}/me/messages", token=self._token, payload=payload, platform=platform
            )
            if answer.get("message_id"):
                ids.append(str(answer["message_id"]))
        return SendResult(platform_message_ids=ids)

    def send(self, message: OutboundMessage) -> SendResult:
        if not self._token:
            raise PermanentSendError("Messenger is not configured (MESSENGER_PAGE_TOKEN)", code="config")
        if self._http is None:
            self._http = new_http_client()
        platform = "Instagram" if message.channel == "instagram" else "Messenger"
        ids: list[str] = []
        for content in self._contents(message):
            payload = {"recipient": {"id": message.recipient_id}, "messaging_type": "RESPONSE", "message": content}
            answer = post_graph(
                self._http, f"{self._graph_url}/me/messages", token=self._token, payload=payload, platform=platform
            )
            if answer.get("message_id"):
                ids.append(str(answer["message_id"]))
        return SendResult(platform_message_ids=ids)

    def _contents(self, message: OutboundMessage) -> list[dict[str, Any]]:
        """Text pieces, the last with the choices as quick replies; or a photo as an attachment by URL
        (an attachment has no caption here: the reply's text follows as its own message)."""
        if message.image_url:
            return [{"attachment": {"type": "image", "payload": {"url": message.image_url, "is_reusable": True}}}]
        contents: list[dict[str, Any]] = [{"text": piece} for piece in self.pieces(message)]
        if contents and message.choices and message.choices.items:
            quick_replies = messenger_quick_replies(message.choices)
            if quick_replies:
                contents[-1]["quick_replies"] = quick_replies
        return contents
