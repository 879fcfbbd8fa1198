"""Web chat: a browser (the local /chat page, or a shop's own website) posts a customer's text and polls
for the bot's replies. Inbound: {conversationId, text, clientMessageId?} → InboundMessage. Outbound:
nothing travels — the reply function records its reply and the browser reads it with messages_after.

Conversation id: "webchat:<conversationId chosen by the browser>". The id is the only key to read a
conversation back, so browsers make it long and random (the page uses crypto.randomUUID()).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mostrador.channels.base import OutboundMessage, SendResult
from mostrador.messaging.model import InboundMessage
from mostrador.request_input import BadRequestBody, clean_text, parse_json_body

CONVERSATION_PREFIX = "webchat:"
MAX_TEXT = 4000
ID_PATTERN = r"^[A-Za-z0-9_-]{16,64}$"


class WebChatRequestError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class WebChatPost(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    conversationId: str = Field(pattern=ID_PATTERN)  # noqa: N815 - the wire format is camelCase
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    clientMessageId: str | None = Field(default=None, pattern=ID_PATTERN)  # noqa: N815

    @field_validator("text", mode="before")
    @classmethod
    def _clean(cls, value: Any) -> Any:
        # Before the length check, so a text of nothing but control characters is "empty".
        return clean_text(value) if isinstance(value, str) else value


def conversation_key(conversation_id: str) -> str:
    return CONVERSATION_PREFIX + conversation_id


def _explain(error: ValidationError) -> str:
    hints = {
        "conversationId": "conversationId must be 16-64 letters, digits, '-' or '_' (e.g. a UUID)",
        "text": f"text must be 1-{MAX_TEXT} characters",
        "clientMessageId": "clientMessageId must be 16-64 letters, digits, '-' or '_'",
    }
    problems = []
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else ""
        problems.append(hints.get(field, f"{field or 'body'}: {item['msg']}"))
    return "; ".join(dict.fromkeys(problems))


def parse_post(body: str | bytes | None, tenant_id: str, now: datetime) -> InboundMessage:
    """The customer's message, or WebChatRequestError(4xx) saying what to fix."""
    if not body:
        raise WebChatRequestError(400, 'Body is empty; send {"conversationId": "...", "text": "..."}.')
    try:
        payload: Any = parse_json_body(body)
    except BadRequestBody as exc:
        raise WebChatRequestError(400, exc.message) from exc
    if not isinstance(payload, dict):
        raise WebChatRequestError(400, 'Body must be a JSON object {"conversationId": "...", "text": "..."}.')
    try:
        post = WebChatPost.model_validate(payload)
    except ValidationError as exc:
        raise WebChatRequestError(400, _explain(exc)) from exc
    message_id = post.clientMessageId or uuid.uuid4().hex
    return InboundMessage(
        tenant_id=tenant_id,
        channel="webchat",
        conversation_id=conversation_key(post.conversationId),
        sender_id=post.conversationId,
        sender_role="customer",
        text=post.text,
        platform_message_id=f"webchat:{post.conversationId}:{message_id}",
        timestamp=now,
    )


def parse_poll(query: dict[str, str] | None) -> tuple[str, int]:
    """conversationId and the id after which to read (0: from the start)."""
    query = query or {}
    conversation_id = query.get("conversationId", "")
    try:
        WebChatPost.model_validate({"conversationId": conversation_id, "text": "-"})
    except ValidationError as exc:
        raise WebChatRequestError(400, _explain(exc)) from exc
    after = query.get("after") or "0"
    if not after.isdigit() or len(after) > 18:
        raise WebChatRequestError(400, "after must be a message id (a whole number) from a previous answer, or 0.")
    return conversation_id, int(after)


def public_messages(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the browser may see of each message: who wrote it, the text, when."""
    shown = []
    for row in rows:
        if row["direction"] == "inbound":
            author = "customer" if row.get("actor") == "customer" else "agent"
        else:
            author = "bot" if row.get("actor") in (None, "bot") else "agent"
        created = row.get("created_at")
        shown.append(
            {
                "id": int(row["id"]),
                "from": author,
                "text": row.get("text") or "",
                "at": created.isoformat() if isinstance(created, datetime) else created,
            }
        )
    return shown


def cors_headers(origin: str | None, allowed_origins: str | None) -> dict[str, str]:
    """CORS for the configured origins (comma-separated; "*" allows any). Same-origin pages need none."""
    if not origin or not allowed_origins:
        return {}
    allowed = {part.strip().rstrip("/") for part in allowed_origins.split(",") if part.strip()}
    if "*" not in allowed and origin.rstrip("/") not in allowed:
        return {}
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
        "Access-Control-Allow-Headers": "Content-Type, X-Widget-Key",
        "Access-Control-Max-Age": "600",
        "Vary": "Origin",
    }


class WebChatSender:
    """Nothing to deliver: the reply is stored by the reply function and the browser polls for it."""

    def pieces(self, message: OutboundMessage) -> list[str]:
        return [message.text]  # a web page has no length limit worth splitting for

    def send(self, message: OutboundMessage) -> SendResult:
        return SendResult(platform_message_ids=[f"webchat-out:{uuid.uuid4().hex}"])
