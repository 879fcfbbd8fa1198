"""Support Board: its `message-sent` webhook in, its Web API out.

Webhook: Support Board POSTs JSON {"function": "message-sent", "key": "<shared secret>",
"data": {user_id, message_id, message, attachments, conversation_id, conversation_user_id,
conversation_source, ...}} once, unsigned and never retried; the secret in `key` is the only proof.

Web API: one endpoint (…/include/api.php), form POST with `token` (an admin token) and `function`;
it answers {"success": true, "response": ...}, where parts of `response` (a message's `attachments`
and `payload` columns, sometimes the whole response) are JSON-encoded strings inside the JSON. Only
those are decoded: a message's `message` is what a person typed, and a customer who types `[[[…` or
`[99…9]` must not get a RecursionError or a ValueError out of their own conversation's history.

Sending for a conversation Support Board relays: Instagram/Messenger through its
`messenger-send-message`, WhatsApp through the Cloud API directly, then a copy through
`send-message` as the DM bot so agents see every reply. `messenger-send-message` answers with Meta's
answer for each message it sent: documented as a list [{"recipient_id", "message_id"}], also seen
as that object alone, as `true`, or JSON-encoded; any of those can carry Meta's {"error": {...}}
instead (success:true all the same). success:false (user-not-found, conversation-not-found,
invalid-token, ...) is final: retrying cannot change it.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mostrador.channels.base import OutboundMessage, PermanentSendError, SendResult, TransientSendError
from mostrador.channels.meta import classify_meta_error, new_http_client
from mostrador.channels.text_limits import limit_for, split_text
from mostrador.messaging.model import InboundMessage, MediaKind, ParsedDelivery
from mostrador.request_input import check_json_depth, top_level_string

if TYPE_CHECKING:
    import httpx

    from mostrador.channels.whatsapp import WhatsAppSender
    from mostrador.config import Settings

MESSAGE_SENT = "message-sent"
_EXTENSION_KINDS: dict[str, MediaKind] = {
    **dict.fromkeys(("jpg", "jpeg", "png", "gif", "webp", "heic"), "image"),
    **dict.fromkeys(("mp4", "mov", "3gp", "webm"), "video"),
    **dict.fromkeys(("mp3", "ogg", "oga", "opus", "m4a", "aac", "wav", "amr"), "audio"),
}

# Attachments read even when words come with them: a photo's words are its caption, a voice note's
# words are read beside its transcript (conversations/media.py).
_READ_WITH_TEXT: frozenset[MediaKind] = frozenset({"image", "audio"})


def conversation_id_for(sb_conversation_id: str) -> str:
    return f"sb:{sb_conversation_id}"


def webhook_key(raw: bytes) -> str | None:
    """The body's `key`, read without parsing the rest of an unauthenticated body: Support Board
    encodes {"function", "key", "data", "sender-url"} in that order, so the key comes before any
    nested value. BadRequestBody when the body is not a JSON object."""
    return top_level_string(raw, "key")


def key_matches(key: str | None, secret: str | None) -> bool:
    """The shared secret Support Board puts in the body's `key`, compared in constant time."""
    if not secret or not isinstance(key, str) or not key:
        return False
    return hmac.compare_digest(key.encode("utf-8"), secret.encode("utf-8"))


def parse_webhook(payload: Mapping[str, Any], tenant_id: str) -> ParsedDelivery:
    """`message-sent` events become InboundMessages; every other event is skipped."""
    parsed = ParsedDelivery()
    function = payload.get("function")
    data = payload.get("data")
    if function != MESSAGE_SENT:
        parsed.skipped.append(f"support board event {function!r}")
        return parsed
    if not isinstance(data, Mapping):
        parsed.skipped.append("support board message-sent without data")
        return parsed
    conversation = _text(data.get("conversation_id"))
    sender = _text(data.get("user_id"))
    message_id = _text(data.get("message_id"))
    if not (conversation and sender and message_id):
        parsed.skipped.append("support board message-sent without conversation_id, user_id or message_id")
        return parsed
    customer = _text(data.get("conversation_user_id"))
    metadata: dict[str, str] = {"sb_user_id": sender, "sb_conversation_id": conversation, "sb_message_id": message_id}
    if customer:
        metadata["sb_conversation_user_id"] = customer
    source = _text(data.get("conversation_source"))
    if source:
        metadata["conversation_source"] = source
    user_type = _text(data.get("user_type") or _nested(data, "user", "user_type"))
    if user_type:
        metadata["sb_user_type"] = user_type
    text = _text(data.get("message"))
    attachments = decode_attachments(data.get("attachments"))
    media_kind: MediaKind = "text"
    if attachments:
        metadata["attachment_count"] = str(len(attachments))
        metadata["attachment_url"] = attachments[0][1]
        media_kind = _attachment_kind(attachments[0])
        if text and media_kind not in _READ_WITH_TEXT:
            # A document or video with words: the words are the question (nothing reads the file).
            metadata["attachment_kind"] = media_kind
            media_kind = "text"
    parsed.items.append(
        InboundMessage(
            tenant_id=tenant_id,
            channel="support_board",
            conversation_id=conversation_id_for(conversation),
            sender_id=sender,
            # Only "the conversation's own user" is certain; the reply side applies the actor rules
            # (DM bot, comment bot, agents) to everyone else.
            sender_role="customer" if customer and sender == customer else "unknown",
            text=text,
            media_kind=media_kind,
            platform_message_id=f"sb:{message_id}",
            timestamp=_timestamp(data.get("creation_time")),
            metadata=metadata,
        )
    )
    return parsed


def decode_attachments(value: object) -> list[tuple[str, str]]:
    """[(name, url)] from Support Board's attachments: a JSON string (or list) of [name, url] pairs."""
    if isinstance(value, str):
        value = _decoded_json(value)
    pairs = []
    for item in value if isinstance(value, list) else []:
        if isinstance(item, list | tuple) and len(item) >= 2:
            pairs.append((str(item[0]), str(item[1])))
    return pairs


def _attachment_kind(attachment: tuple[str, str]) -> MediaKind:
    name = attachment[0] or attachment[1]
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return _EXTENSION_KINDS.get(extension, "document")


def _timestamp(value: object) -> datetime:
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return datetime.now(tz=UTC)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return datetime.now(tz=UTC)


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _nested(value: Mapping[str, Any], *path: str) -> object:
    current: object = value
    for key in path:
        if not isinstance(current, Mapping):
            return None
        current = current.get(key)
    return current


# The columns Support Board stores as JSON text and hands over still encoded (sb_messages.attachments,
# sb_messages.payload). Everything else, a message's text above all, is kept as the string it is.
_JSON_ENCODED_FIELDS = frozenset({"attachments", "payload"})


def _decoded_json(text: str) -> Any:
    """The JSON value of `text`, or `text` itself when it is not JSON, or not JSON within limits: nested
    deeper than the request bodies' limit, a number past 4,300 digits. Never raises."""
    if text.lstrip()[:1] not in ("[", "{"):
        return text
    try:
        check_json_depth(text)
        return json.loads(text)
    except (ValueError, RecursionError):  # BadRequestBody and JSONDecodeError are ValueErrors too
        return text


def _json_strings(value: Any) -> Any:
    """The JSON-encoded strings Support Board documents inside `value` (an answer's `response`)
    decoded: the response itself when it comes encoded, and the _JSON_ENCODED_FIELDS of the objects
    in it, at any depth. No other string is decoded."""
    if isinstance(value, str):
        value = _decoded_json(value)
    return _encoded_fields_decoded(value)


def _encoded_fields_decoded(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: _json_strings(item) if key in _JSON_ENCODED_FIELDS else _encoded_fields_decoded(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_encoded_fields_decoded(item) for item in value]
    return value


@dataclass(frozen=True)
class SupportBoardMessage:
    message_id: str
    user_id: str
    text: str
    created_at: datetime | None
    user_type: str | None = None


_REASON_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")


class SupportBoardError(PermanentSendError):
    """Support Board answered success:false (user or conversation not found, bad token, unknown
    function, missing argument): permanent. The code names Support Board's reason when it gives a
    short one ("support_board:user-not-found")."""

    def __init__(self, function: str, detail: object) -> None:
        reason = str(detail).strip() if detail is not None else ""
        code = f"support_board:{reason}" if _REASON_SLUG.match(reason) else "support_board"
        super().__init__(f"Support Board {function} failed: {reason[:200]}", code=code)


class SupportBoardClient:
    """Support Board's Web API: form POST of token + function to one URL."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        api_url: str | None = None,
        token: str | None = None,
        http: httpx.Client | None = None,
    ) -> None:
        """From settings (SUPPORT_BOARD_API_URL, SUPPORT_BOARD_API_TOKEN), or explicit values."""
        self._api_url = api_url or (settings.support_board_api_url if settings else None)
        self._token = token or (settings.secret("support_board_api_token") if settings else None)
        self._http = http

    @classmethod
    def from_settings(cls, settings: Settings, http: httpx.Client | None = None) -> SupportBoardClient:
        return cls(settings, http=http)

    def call(self, function: str, **arguments: str) -> Any:
        """The decoded `response` of one API function. Network trouble and 5xx → TransientSendError."""
        import httpx

        if not self._api_url or not self._token:
            raise PermanentSendError(
                "Support Board is not configured (SUPPORT_BOARD_API_URL, SUPPORT_BOARD_API_TOKEN)", code="config"
            )
        if self._http is None:
            self._http = new_http_client()
        form = {"token": self._token, "function": function, **arguments}
        try:
            response = self._http.post(self._api_url, data=form)
        except httpx.TimeoutException as exc:
            raise TransientSendError(f"Support Board {function} timed out", code="timeout") from exc
        except httpx.TransportError as exc:
            raise TransientSendError(f"Support Board {function} failed: {type(exc).__name__}", code="network") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise TransientSendError(
                f"Support Board {function}: HTTP {response.status_code}", code=f"http_{response.status_code}"
            )
        try:
            answer = response.json()
        except (ValueError, RecursionError) as exc:
            raise TransientSendError(f"Support Board {function}: answer is not JSON", code="bad_answer") from exc
        body = {**answer, "response": _json_strings(answer.get("response"))} if isinstance(answer, dict) else answer
        if response.status_code >= 400 or not isinstance(body, Mapping) or body.get("success") is not True:
            detail = body.get("response") if isinstance(body, Mapping) else f"HTTP {response.status_code}"
            raise SupportBoardError(function, detail)
        return body.get("response")

    def conversation(self, conversation_id: str) -> dict[str, Any]:
        answer = self.call("get-conversation", conversation_id=conversation_id)
        return answer if isinstance(answer, dict) else {}

    def recent_messages(self, conversation_id: str, limit: int = 30) -> list[SupportBoardMessage]:
        """The conversation's latest messages (user_id, text, created_at), most recent last."""
        raw = self.conversation(conversation_id.removeprefix("sb:")).get("messages")
        messages = []
        for item in raw if isinstance(raw, list) else []:
            if not isinstance(item, Mapping) or item.get("user_id") is None:
                continue
            created = item.get("creation_time")
            messages.append(
                SupportBoardMessage(
                    message_id=_text(item.get("id")),
                    user_id=_text(item.get("user_id")),
                    text=_text(item.get("message")),
                    created_at=_timestamp(created) if created else None,
                    user_type=_text(item.get("user_type")) or None,
                )
            )
        epoch = datetime.min.replace(tzinfo=UTC)
        messages.sort(key=lambda m: (m.created_at or epoch, int(m.message_id) if m.message_id.isdigit() else 0))
        return messages[-limit:]

    def user_details(self, user_id: str) -> dict[str, str]:
        """A user's extra details by slug (phone, facebook-id, ...)."""
        answer = self.call("get-user", user_id=user_id, extra="true")
        details: dict[str, str] = {}
        if isinstance(answer, Mapping):
            for detail in answer.get("details") or []:
                if isinstance(detail, Mapping) and detail.get("slug") and detail.get("value") not in (None, ""):
                    details[str(detail["slug"])] = str(detail["value"])
        return details

    def send_message(self, conversation_id: str, user_id: str, text: str) -> Any:
        return self.call(
            "send-message", user_id=user_id, conversation_id=conversation_id, message=text, attachments="[]"
        )

    def messenger_send_message(self, psid: str, page_id: str, text: str, metadata: str | None = None) -> list[str]:
        """Send through Support Board's Messenger/Instagram bridge; Meta's message ids, or a SendError."""
        arguments = {"psid": psid, "facebook_page_id": page_id, "message": text}
        if metadata:
            arguments["metadata"] = metadata
        return meta_message_ids(self.call("messenger-send-message", **arguments))


def meta_message_ids(answer: Any) -> list[str]:
    """The message ids in messenger-send-message's `response` (see the module docstring for its
    shapes). Meta's error inside it is classified like a Graph API error (Meta's code kept)."""
    from mostrador.observability import logger

    items = answer if isinstance(answer, list) and answer else [answer]
    ids: list[str] = []
    errors: list[Mapping[str, Any]] = []
    for item in items:
        if isinstance(item, Mapping) and "error" in item:
            errors.append(item)
        elif isinstance(item, Mapping) and item.get("message_id"):
            ids.append(str(item["message_id"]))
        elif item is not True:
            raise PermanentSendError(
                f"Support Board messenger-send-message: unexpected answer {str(answer)[:120]}", code="support_board"
            )
    if errors and not ids:
        raise classify_meta_error(None, errors[0], platform="Support Board messenger")
    if errors:  # part went out (the customer has it): a retry would send that part twice
        logger.warning("Support Board messenger-send-message sent part of a message", extra={"errors": len(errors)})
    return ids


class SupportBoardSender:
    """Replies in a conversation Support Board relays (OutboundMessage.conversation_id "sb:<id>").

    recipient_id is the Support Board user id of the customer. The reply side passes the inbound
    metadata along: conversation_source (wa, fb, ig) decides the route; psid / page_id / wa_id may
    be given, otherwise they are looked up (get-user details, get-conversation details.extra).
    """

    def __init__(
        self,
        client: SupportBoardClient,
        whatsapp: WhatsAppSender,
        *,
        dm_bot_user_id: str | None,
        whatsapp_numbers: frozenset[str] = frozenset(),
        whatsapp_number: str | None = None,
    ) -> None:
        """`whatsapp_numbers`: the WhatsApp phone_number_ids the tenant owns; `whatsapp_number`: the one a
        WhatsApp relay goes from when Support Board's conversation names none (None: no reply from a guess)."""
        self._client = client
        self._whatsapp = whatsapp
        self._dm_bot_user_id = dm_bot_user_id
        self._whatsapp_number = whatsapp_number
        self._whatsapp_numbers = whatsapp_numbers | ({whatsapp_number} if whatsapp_number else set())

    @classmethod
    def from_settings(cls, settings: Settings, http: httpx.Client | None = None) -> SupportBoardSender:
        from mostrador.channels.whatsapp import WhatsAppSender

        return cls(
            SupportBoardClient.from_settings(settings, http),
            WhatsAppSender.from_settings(settings, http),
            dm_bot_user_id=settings.support_board_dm_bot_user_id,
            whatsapp_numbers=settings.tenant_whatsapp_numbers,
            whatsapp_number=settings.whatsapp_phone_number_id,
        )

    def pieces(self, message: OutboundMessage) -> list[str]:
        source = (message.metadata.get("conversation_source") or "").lower()
        if source in ("wa", "fb", "ig"):
            return split_text(message.text, limit_for(source))
        return [message.text]

    def send(self, message: OutboundMessage) -> SendResult:
        sb_conversation = message.metadata.get("sb_conversation_id") or message.conversation_id.removeprefix("sb:")
        source = (message.metadata.get("conversation_source") or "").lower()
        if source == "wa":
            result = self._send_whatsapp(message, sb_conversation)
        elif source in ("fb", "ig"):
            result = self._send_messenger(message, sb_conversation, source)
        else:
            raise PermanentSendError(
                f"Support Board source {source or 'unknown'!r} has no outbound route", code="source"
            )
        self._copy_to_dashboard(sb_conversation, message.text)
        return result

    def _send_whatsapp(self, message: OutboundMessage, sb_conversation: str) -> SendResult:
        phone = message.metadata.get("wa_id") or self._client.user_details(message.recipient_id).get("phone")
        digits = re.sub(r"\D", "", phone or "")
        if not digits:
            raise PermanentSendError("Support Board user has no phone number for WhatsApp", code="no_phone")
        number = self._business_number(sb_conversation)
        # The reply_to id is Support Board's, not a wamid: no WhatsApp context for relayed chats.
        direct = replace(
            message,
            channel="whatsapp",
            recipient_id=digits,
            conversation_id="",
            reply_to_message_id=None,
            metadata={"phone_number_id": number} if number else {},
        )
        return self._whatsapp.send(direct)

    def _business_number(self, sb_conversation: str) -> str | None:
        """The tenant's WhatsApp number a relayed conversation is on. Support Board keeps the phone_number_id
        a WhatsApp Cloud conversation arrived on as the conversation's `extra` (as it keeps the Page id for
        Messenger); asked only when the tenant has several numbers, and taken only when it is one of them."""
        if len(self._whatsapp_numbers) <= 1:
            return next(iter(self._whatsapp_numbers), None)
        named = _text((self._client.conversation(sb_conversation).get("details") or {}).get("extra"))
        if named in self._whatsapp_numbers:
            return named
        if named:
            raise PermanentSendError(
                f"Support Board's conversation is on WhatsApp number {named}, which this tenant does not claim",
                code="config",
            )
        return self._whatsapp_number

    def _send_messenger(self, message: OutboundMessage, sb_conversation: str, source: str) -> SendResult:
        psid = message.metadata.get("psid") or self._client.user_details(message.recipient_id).get("facebook-id")
        page_id = message.metadata.get("page_id") or _text(
            (self._client.conversation(sb_conversation).get("details") or {}).get("extra")
        )
        if not psid or not page_id:
            raise PermanentSendError("Support Board conversation lacks the customer's PSID or the Page id", code="ids")
        trigger = (message.reply_to_message_id or "").removeprefix("sb:") or None
        ids: list[str] = []
        for piece in self.pieces(message):
            ids.extend(self._client.messenger_send_message(psid, page_id, piece, trigger))
        return SendResult(platform_message_ids=ids)

    def _copy_to_dashboard(self, sb_conversation: str, text: str) -> None:
        # The customer already has the reply: a failed copy is logged, never retried (no double send).
        from mostrador.observability import logger

        if not self._dm_bot_user_id:
            logger.error("SUPPORT_BOARD_DM_BOT_USER_ID is not set: bot reply not copied into Support Board")
            return
        try:
            self._client.send_message(sb_conversation, self._dm_bot_user_id, text)
        except (TransientSendError, PermanentSendError) as exc:
            logger.error("bot reply not copied into Support Board", extra={"error": str(exc)[:200]})
