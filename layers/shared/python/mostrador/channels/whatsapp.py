"""WhatsApp Cloud API: inbound webhook deliveries into InboundMessage/StatusUpdate, outbound text.

Senders are identified by `from` (a phone number) or, for users who hide it behind a username,
only by a business-scoped user id (`from_user_id`, e.g. "US.1349..."): the id is opaque either way.
Conversation id: "wa:<business phone_number_id>:<sender id>".

Coexistence (a number on both the WhatsApp Business app and the Cloud API): what a person types
in the app on the phone arrives as field `smb_message_echoes`, value.message_echoes[] with `from`
(the business number), `to` (the customer) and the usual id/timestamp/type/<type> content. Those
become InboundMessages in the customer's conversation with sender_role "agent" and
metadata["is_echo"] = "true": a person answering, for the reply side's takeover rules.

An echo carries no `contacts` and no `wa_id` (Meta's smb_message_echoes reference): its `to` is the
number as the business entered it, which is not always the customer's WhatsApp id. In Brazil, Mexico
and Argentina one mobile number has two forms (Brazil's 9th digit: wa_id 55 21 8765-4321 for
+55 21 98765-4321; Mexico 521 vs 52; Argentina 549 vs 54, and a local "15"), so
`canonical_number` maps every form to one, `number_variants` lists the forms a wa_id can take, and
the reply side puts the echo into the conversation the customer's own messages opened.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mostrador.channels.base import OutboundMessage, PermanentSendError, SendResult
from mostrador.channels.interactive import WHATSAPP_BODY_MAX, WHATSAPP_CAPTION_MAX, shorten, whatsapp_interactive
from mostrador.channels.meta import dicts_in, from_unix_seconds, new_http_client, post_graph, value_at
from mostrador.channels.text_limits import LIMITS, split_text
from mostrador.messaging.model import InboundMessage, MediaKind, ParsedDelivery, RoutedStatus, StatusUpdate

if TYPE_CHECKING:
    import httpx

    from mostrador.config import Settings

OBJECT = "whatsapp_business_account"
_MEDIA_KINDS: dict[str, MediaKind] = {
    "image": "image",
    "audio": "audio",
    "video": "video",
    "document": "document",
    "sticker": "sticker",
}
_STATUSES = {"sent", "delivered", "read", "failed"}
# A typed phone number: digits with "+", spaces and ( ) . - between them. One character class, so a
# fullmatch is linear however long the input; anything longer than PHONE_MAX_CHARS is not a number.
_PHONE = re.compile(r"\+?[\d\s().-]+")
PHONE_MAX_CHARS = 32
MESSAGES_FIELD = "messages"
ECHOES_FIELD = "smb_message_echoes"


def conversation_id_for(phone_number_id: str, customer_id: str) -> str:
    return f"wa:{phone_number_id}:{customer_id}"


def typed_number_digits(value: str) -> str | None:
    """The digits of a phone number as someone typed it ("+55 (21) 98765-4321"), or None when `value`
    is not one (a business-scoped user id such as "BR.1502…", or something far too long)."""
    if len(value) > PHONE_MAX_CHARS or not _PHONE.fullmatch(value):
        return None
    digits = re.sub(r"\D", "", value)
    return digits or None


def canonical_number(digits: str) -> str:
    """One form for every way a mobile number of Brazil, Mexico or Argentina is written (international
    digits in, digits out); any other number as it is. Two numbers are the same customer's when their
    canonical forms are equal.

    Brazil: 55 + area + 9 + 8 digits and 55 + area + 8 digits (WhatsApp ids of mobiles registered
    before the 9th digit lack it) -> without the 9. Only mobiles (the 8 digits start 6-9) are folded,
    so a landline never meets a mobile. Mexico: 521 + 10 digits and 52 + 10 -> 52 + 10. Argentina:
    549 + 10 digits, 54 + 10 and the local mobile prefix 15 after the area code -> 54 + 10.
    """
    if digits.startswith("55") and len(digits) == 13 and digits[4] == "9" and digits[5] in "6789":
        return digits[:4] + digits[5:]
    if digits.startswith("521") and len(digits) == 13:
        return "52" + digits[3:]
    if digits.startswith("54"):
        national = digits[2:]
        if len(national) in (11, 13) and national.startswith("9"):
            national = national[1:]
        if len(national) == 12:  # area code (2 to 4 digits) + 15 + local number
            for area in (2, 3, 4):
                if national[area : area + 2] == "15" and (area == 2) == national.startswith("11"):
                    national = national[:area] + national[area + 2 :]
                    break
        if len(national) == 10:
            return "54" + national
    return digits


def number_variants(digits: str) -> list[str]:
    """Every form a WhatsApp id of this number can take (its canonical form first)."""
    canonical = canonical_number(digits)
    variants = [canonical]
    if canonical.startswith("55") and len(canonical) == 12 and canonical[4] in "6789":
        variants.append(canonical[:4] + "9" + canonical[4:])
    elif canonical.startswith("52") and len(canonical) == 12:
        variants.append("521" + canonical[2:])
    elif canonical.startswith("54") and len(canonical) == 12:
        variants.append("549" + canonical[2:])
    return variants


def same_customer_conversation_ids(conversation_id: str) -> list[str]:
    """The ids the same customer's WhatsApp conversation with this business number may have: the
    number's other forms (Brazil, Mexico, Argentina); `conversation_id` alone for anything else."""
    parts = conversation_id.split(":", 2)
    if len(parts) != 3 or parts[0] != "wa" or not parts[2].isdigit():
        return [conversation_id]
    others = [conversation_id_for(parts[1], v) for v in number_variants(parts[2])]
    return [conversation_id, *(other for other in others if other != conversation_id)]


def customer_key(conversation_id: str) -> str:
    """The conversation id with the customer's number in its canonical form: equal for every form of
    one customer's number (the reply queue's message group, so an echo and the customer's messages
    are handled in order)."""
    parts = conversation_id.split(":", 2)
    if len(parts) != 3 or parts[0] != "wa" or not parts[2].isdigit():
        return conversation_id
    return conversation_id_for(parts[1], canonical_number(parts[2]))


def parse_delivery(payload: Mapping[str, Any], tenant_id: str) -> ParsedDelivery:
    """Every message and status in one webhook delivery (several entries and changes allowed)."""
    parsed = ParsedDelivery()
    for entry in dicts_in(payload.get("entry")):
        for change in dicts_in(entry.get("changes")):
            value = change.get("value")
            field = change.get("field")
            if field not in (MESSAGES_FIELD, ECHOES_FIELD) or not isinstance(value, Mapping):
                parsed.skipped.append(f"whatsapp change field {field!r}")
                continue
            parsed.extend(_parse_value(value, tenant_id))
    return parsed


def _parse_value(value: Mapping[str, Any], tenant_id: str) -> ParsedDelivery:
    parsed = ParsedDelivery()
    phone_number_id = str(value_at(value, "metadata", "phone_number_id") or "")
    if not phone_number_id:
        parsed.skipped.append("whatsapp value without metadata.phone_number_id")
        return parsed
    contacts = dicts_in(value.get("contacts"))
    for message in dicts_in(value.get("messages")):
        item = _parse_message(message, contacts, phone_number_id, tenant_id)
        if item is None:
            parsed.skipped.append(f"whatsapp message of type {message.get('type')!r} without id or sender")
        else:
            parsed.items.append(item)
    for echo in dicts_in(value.get("message_echoes")):
        item = _parse_echo(echo, phone_number_id, tenant_id)
        if item is None:
            parsed.skipped.append(f"whatsapp message echo of type {echo.get('type')!r} without id or recipient")
        else:
            parsed.items.append(item)
    for status in dicts_in(value.get("statuses")):
        routed = _parse_status(status, phone_number_id, tenant_id)
        if routed is None:
            parsed.skipped.append(f"whatsapp status {status.get('status')!r}")
        else:
            parsed.items.append(routed)
    return parsed


def _parse_message(
    message: Mapping[str, Any], contacts: list[Mapping[str, Any]], phone_number_id: str, tenant_id: str
) -> InboundMessage | None:
    message_id = message.get("id")
    user_id = message.get("from_user_id")
    if not user_id and len(contacts) == 1:
        user_id = contacts[0].get("user_id")
    sender = message.get("from") or user_id
    if not message_id or not sender:
        return None
    kind = str(message.get("type") or "unsupported")
    text, media_kind, metadata = _content(kind, message)
    metadata["phone_number_id"] = phone_number_id
    if user_id:
        metadata["wa_user_id"] = str(user_id)
    context = message.get("context")
    reply_to = None
    if isinstance(context, Mapping):
        reply_to = str(context["id"]) if context.get("id") else None
        if context.get("forwarded") or context.get("frequently_forwarded"):
            metadata["forwarded"] = "true"
    if media_kind == "reaction" and metadata.get("reacted_message_id"):
        reply_to = metadata["reacted_message_id"]
    return InboundMessage(
        tenant_id=tenant_id,
        channel="whatsapp",
        conversation_id=conversation_id_for(phone_number_id, str(sender)),
        sender_id=str(sender),
        sender_role="customer",
        text=text,
        media_kind=media_kind,
        platform_message_id=str(message_id),
        timestamp=from_unix_seconds(message.get("timestamp")),
        reply_to_message_id=reply_to,
        metadata=metadata,
    )


def _parse_echo(echo: Mapping[str, Any], phone_number_id: str, tenant_id: str) -> InboundMessage | None:
    """A message the business sent from the WhatsApp Business app (coexistence): a person answering."""
    message_id = echo.get("id")
    customer = str(echo.get("to") or echo.get("to_user_id") or "")
    # `to` is the number as the business typed it ("+58 412-555-0101"); customers' own messages
    # carry it as digits only (their wa_id), which is what their conversation id holds. When the
    # digits are another form of the wa_id (see canonical_number) the reply side finds the
    # customer's conversation (same_customer_conversation_ids).
    customer = typed_number_digits(customer) or customer
    if not message_id or not customer:
        return None
    kind = str(echo.get("type") or "unsupported")
    text, media_kind, metadata = _content(kind, echo)
    metadata.update(phone_number_id=phone_number_id, is_echo="true", echo_source="business_app")
    return InboundMessage(
        tenant_id=tenant_id,
        channel="whatsapp",
        conversation_id=conversation_id_for(phone_number_id, customer),
        sender_id=str(echo.get("from") or phone_number_id),
        sender_role="agent",
        text=text,
        media_kind=media_kind,
        platform_message_id=str(message_id),
        timestamp=from_unix_seconds(echo.get("timestamp")),
        metadata=metadata,
    )


def _content(kind: str, message: Mapping[str, Any]) -> tuple[str, MediaKind, dict[str, str]]:
    """(text, media kind, details) of one WhatsApp message by its type."""
    body = message.get(kind) if isinstance(message.get(kind), Mapping) else {}
    assert isinstance(body, Mapping)
    metadata: dict[str, str] = {"wa_type": kind}
    if kind == "text":
        return str(body.get("body") or ""), "text", metadata
    if kind in _MEDIA_KINDS:
        for key in ("id", "mime_type", "filename", "sha256"):
            if body.get(key):
                metadata[f"media_{key}" if key != "filename" else "filename"] = str(body[key])
        if body.get("voice"):
            metadata["voice"] = "true"
        if body.get("animated"):
            metadata["animated"] = "true"
        return str(body.get("caption") or ""), _MEDIA_KINDS[kind], metadata
    if kind == "interactive":
        reply_type = str(body.get("type") or "")
        reply = body.get(reply_type) if isinstance(body.get(reply_type), Mapping) else {}
        assert isinstance(reply, Mapping)
        metadata["interactive_type"] = reply_type
        if reply.get("id"):
            metadata["reply_id"] = str(reply["id"])
        if reply.get("description"):
            metadata["reply_description"] = str(reply["description"])
        text = reply.get("title") or reply.get("body") or ""
        return str(text), "interactive", metadata
    if kind == "button":  # quick-reply button of a template message
        if body.get("payload"):
            metadata["reply_id"] = str(body["payload"])
        return str(body.get("text") or ""), "interactive", metadata
    if kind == "location":
        for key in ("latitude", "longitude", "name", "address", "url"):
            if body.get(key) is not None:
                metadata[key] = str(body[key])
        text = ", ".join(str(body[key]) for key in ("name", "address") if body.get(key))
        return text, "location", metadata
    if kind == "reaction":
        if body.get("message_id"):
            metadata["reacted_message_id"] = str(body["message_id"])
        # An empty emoji means the customer removed their reaction.
        return str(body.get("emoji") or ""), "reaction", metadata
    errors = dicts_in(message.get("errors"))
    if errors:
        metadata["error_code"] = str(errors[0].get("code", ""))
    return "", "unsupported", metadata


def _parse_status(status: Mapping[str, Any], phone_number_id: str, tenant_id: str) -> RoutedStatus | None:
    state = status.get("status")
    message_id = status.get("id")
    recipient = status.get("recipient_id") or status.get("recipient_user_id")
    if state not in _STATUSES or not message_id or not recipient:
        return None
    errors = dicts_in(status.get("errors"))
    error = errors[0] if errors else {}
    update = StatusUpdate(
        tenant_id=tenant_id,
        channel="whatsapp",
        platform_message_id=str(message_id),
        status=state,
        timestamp=from_unix_seconds(status.get("timestamp")),
        error_code=str(error["code"]) if error.get("code") is not None else None,
        error_title=str(error.get("title") or error.get("message") or "") or None,
    )
    return RoutedStatus(update, conversation_id_for(phone_number_id, str(recipient)))


class WhatsAppSender:
    """Replies through the Cloud API: text split to 4096 characters (the first piece quoting the
    customer), product photos by link, choices as reply buttons or a list message."""

    def __init__(
        self, *, graph_url: str, phone_number_id: str | None, token: str | None, http: httpx.Client | None = None
    ) -> None:
        self._graph_url = graph_url.rstrip("/")
        self._phone_number_id = phone_number_id
        self._token = token
        self._http = http

    @classmethod
    def from_settings(cls, settings: Settings, http: httpx.Client | None = None) -> WhatsAppSender:
        return cls(
            graph_url=settings.meta_graph_url,
            phone_number_id=settings.whatsapp_phone_number_id,
            token=settings.secret("whatsapp_token"),
            http=http,
        )

    def pieces(self, message: OutboundMessage) -> list[str]:
        return split_text(message.text, LIMITS["whatsapp"])

    def send(self, message: OutboundMessage) -> SendResult:
        phone_number_id = self._phone_number_id_for(message)
        if not self._token or not phone_number_id:
            raise PermanentSendError(
                "WhatsApp is not configured (WHATSAPP_TOKEN, WHATSAPP_PHONE_NUMBER_ID)", code="config"
            )
        if self._http is None:
            self._http = new_http_client()
        url = f"{self._graph_url}/{phone_number_id}/messages"
        ids: list[str] = []
        for index, payload in enumerate(self._payloads(message)):
            if index == 0 and message.reply_to_message_id:
                payload["context"] = {"message_id": message.reply_to_message_id}
            answer = post_graph(self._http, url, token=self._token, payload=payload, platform="WhatsApp")
            sent = answer.get("messages")
            if isinstance(sent, list) and sent and isinstance(sent[0], Mapping) and sent[0].get("id"):
                ids.append(str(sent[0]["id"]))
        return SendResult(platform_message_ids=ids)

    def _payloads(self, message: OutboundMessage) -> list[dict[str, Any]]:
        """Text pieces; a photo with its caption; choices as buttons or a list on the last piece."""
        recipient = message.recipient_id
        if message.image_url:
            image: dict[str, Any] = {"link": message.image_url}
            if message.text.strip():
                image["caption"] = shorten(message.text, WHATSAPP_CAPTION_MAX)
            return [addressed(recipient, {"type": "image", "image": image})]
        pieces = self.pieces(message)
        payloads = [text_payload(recipient, piece) for piece in pieces]
        if message.choices and message.choices.items:
            # The last piece carries the choices when it fits an interactive body; else they follow it.
            last = pieces[-1] if pieces else ""
            carrying = bool(last) and len(last) <= WHATSAPP_BODY_MAX
            interactive = whatsapp_interactive(message.choices, last if carrying else message.choices.prompt)
            if interactive is not None:
                if carrying:
                    payloads.pop()
                payloads.append(addressed(recipient, {"type": "interactive", "interactive": interactive}))
        return payloads

    def mark_read(self, message: OutboundMessage) -> None:
        """The Cloud API's read receipt with a typing indicator (shown until the reply, or 25 s)."""
        phone_number_id = self._phone_number_id_for(message)
        if not self._token or not phone_number_id or not message.reply_to_message_id:
            return
        if self._http is None:
            self._http = new_http_client()
        payload = {
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": message.reply_to_message_id,
            "typing_indicator": {"type": "text"},
        }
        url = f"{self._graph_url}/{phone_number_id}/messages"
        post_graph(self._http, url, token=self._token, payload=payload, platform="WhatsApp")

    def _phone_number_id_for(self, message: OutboundMessage) -> str | None:
        # The conversation names the business number the customer wrote to.
        parts = message.conversation_id.split(":", 2)
        if message.metadata.get("phone_number_id"):
            return message.metadata["phone_number_id"]
        if len(parts) == 3 and parts[0] == "wa" and parts[1]:
            return parts[1]
        return self._phone_number_id


def text_payload(recipient: str, text: str) -> dict[str, Any]:
    return addressed(recipient, {"type": "text", "text": {"preview_url": False, "body": text}})


def addressed(recipient: str, content: dict[str, Any]) -> dict[str, Any]:
    """A Cloud API message of any type (`content` holds "type" and its object) to one customer."""
    payload: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual", **content}
    digits = recipient.lstrip("+")
    # Phone numbers go in "to"; a business-scoped user id (CC.xxxx) in "recipient".
    if digits.isdigit():
        payload["to"] = digits
    else:
        payload["recipient"] = recipient
    return payload
