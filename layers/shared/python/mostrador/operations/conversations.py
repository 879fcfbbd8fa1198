"""Conversations as support staff see and steer them: lists, one conversation with its messages,
takeover (the reply side's own pause, so the reply function honours it), resume, context reset, and
a customer's status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from mostrador.db import conversation_repository as conversations_repo
from mostrador.db import knowledge_repository as knowledge_repo
from mostrador.db import operations_repository as ops_repo
from mostrador.db.operations_repository import ConversationFilter
from mostrador.observability import logger, redact
from mostrador.operations.errors import NotFound
from mostrador.operations.paging import decode_cursor, encode_cursor

if TYPE_CHECKING:
    from mostrador.db.connection import Connection
    from mostrador.operations.auth import Principal

# "Until resumed" is a pause far enough ahead to never end by itself (timestamptz 'infinity' has no
# Python datetime); anything paused beyond INDEFINITE_AFTER is reported as until resumed.
UNTIL_RESUMED = timedelta(days=365 * 100)
INDEFINITE_AFTER = timedelta(days=365 * 50)
MAX_TAKEOVER_MINUTES = 60 * 24 * 365


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def pause_json(row: dict[str, Any], now: datetime) -> dict[str, Any] | None:
    if row.get("paused_until") is None:
        return None
    return {
        "pausedUntil": iso(row["paused_until"]),
        "untilResumed": row["paused_until"] - now > INDEFINITE_AFTER,
        "reason": row["pause_reason"],
        "setBy": row["paused_by"],
    }


def escalation_summary(row: dict[str, Any]) -> dict[str, Any] | None:
    if row.get("escalation_id") is None:
        return None
    return {
        "id": row["escalation_id"],
        "reason": row["escalation_reason"],
        "source": row["escalation_source"],
        "openedAt": iso(row["escalation_opened_at"]),
    }


def conversation_json(row: dict[str, Any], now: datetime) -> dict[str, Any]:
    last = None
    if row["last_message_id"] is not None:
        last = {
            "id": row["last_message_id"],
            "at": iso(row["last_message_at"]),
            "direction": row["last_message_direction"],
            "actor": row["last_message_actor"],
            "text": row["last_message_text"],
        }
    return {
        "conversationId": row["conversation_id"],
        "channel": row["channel"],
        "customerId": row["customer_id"],
        "language": row["language"],
        "createdAt": iso(row["created_at"]),
        "lastActivityAt": iso(row["activity_at"]),
        "lastMessage": last,
        "paused": pause_json(row, now),
        "openEscalation": escalation_summary(row),
        "contextResetAt": iso(row["context_reset_at"]),
    }


def list_conversations(
    conn: Connection, tenant_id: str, filters: ConversationFilter, *, cursor: str | None, limit: int, now: datetime
) -> dict[str, Any]:
    after = decode_cursor(cursor, datetime, str) if cursor else None
    rows = ops_repo.list_conversations(
        conn,
        tenant_id,
        filters,
        now=now,
        after=after,
        limit=limit + 1,
    )
    page, more = rows[:limit], len(rows) > limit
    next_cursor = encode_cursor(page[-1]["activity_at"], page[-1]["conversation_id"]) if more else None
    return {"conversations": [conversation_json(row, now) for row in page], "nextCursor": next_cursor}


def _existing(conn: Connection, tenant_id: str, conversation_id: str, now: datetime) -> dict[str, Any]:
    row = ops_repo.get_conversation(conn, tenant_id, conversation_id, now=now)
    if row is None:
        raise NotFound(f"no conversation {conversation_id!r}")
    return row


def message_json(
    row: dict[str, Any], cited: list[dict[str, Any]] | None, knowledge: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "id": row["id"],
        "at": iso(row["created_at"]),
        "direction": row["direction"],
        "actor": row["actor"],
        "text": row["text"],
        "mediaKind": row["media_kind"],
        "language": row["language"],
    }
    if row["direction"] == "inbound":
        message.update(state=row["state"], stateReason=row["state_reason"])
        # What the models made of a voice note or a photo (null for text).
        message.update(transcript=row.get("transcript"), mediaDescription=row.get("media_description"))
        if row["media_kind"] == "reaction":
            message["reaction"] = reaction_json(row)
    else:
        choices = row.get("choices")
        message.update(
            choices=[{"id": c.get("id"), "title": c.get("title")} for c in choices.get("items") or []]
            if isinstance(choices, dict)
            else None,
            imageUrl=row.get("image_url"),
        )
        message.update(
            status=row["status"],
            inReplyTo=row["in_reply_to"],
            latencyMs=row["latency_ms"],
            provider=row["provider"],
            model=row["model"],
            tokensIn=row["tokens_in"],
            tokensOut=row["tokens_out"],
            error={"code": row["error_code"], "title": row["error_title"]} if _shows_error(row) else None,
            citedProducts=cited or [],
            # The knowledge chunks search_knowledge gave the model for this reply (seed 001's source snippets).
            citedKnowledge=knowledge or [],
        )
    return message


# How much of the message a reaction refers to is shown with it (the whole message is in the transcript).
REACTED_EXCERPT_CHARACTERS = 120


def reaction_json(row: dict[str, Any]) -> dict[str, Any]:
    """A customer's reaction and the message it refers to ("👍 to <that message>").

    `status`: `current` (it still stands), `replaced` (the customer reacted to that message again with
    another emoji), `removed` (the customer took it away later), or `removal` (this row is the taking away).
    `to` is null when the message reacted to is not in the log (older than Mostrador, or taken back)."""
    emoji = row["text"] or ""
    later = row.get("next_reaction_text")
    if not emoji:
        status = "removal"
    elif later is None:
        status = "current"
    else:
        status = "replaced" if later else "removed"
    target = None
    if row.get("reacted_id") is not None:
        text = row.get("reacted_text") or ""
        if len(text) > REACTED_EXCERPT_CHARACTERS:
            text = text[: REACTED_EXCERPT_CHARACTERS - 1].rstrip() + "…"
        target = {
            "id": row["reacted_id"],
            "direction": row["reacted_direction"],
            "actor": row["reacted_actor"],
            "mediaKind": row["reacted_media_kind"],
            "text": text,
        }
    return {"emoji": emoji, "status": status, "platformMessageId": row.get("reacted_message_id"), "to": target}


def _shows_error(row: dict[str, Any]) -> bool:
    """A failed reply, or one sent without its product photo (the photo's error, `photo_failed:<code>`)."""
    code = str(row.get("error_code") or "")
    return row["status"] == "failed" or code.startswith(f"{conversations_repo.PHOTO_FAILED}:")


def conversation_view(
    conn: Connection, tenant_id: str, conversation_id: str, *, cursor: str | None, limit: int, now: datetime
) -> dict[str, Any]:
    """The conversation and a page of its messages, oldest first; each bot reply lists the products
    its tool calls returned (from the tool-call log of the message it answered)."""
    conversation = _existing(conn, tenant_id, conversation_id, now)
    (after_id,) = decode_cursor(cursor, int) if cursor else (0,)
    rows = ops_repo.conversation_messages(conn, tenant_id, conversation_id, after_id=after_id, limit=limit + 1)
    page, more = rows[:limit], len(rows) > limit
    answered = [row["in_reply_to"] for row in page if row["direction"] == "outbound" and row["in_reply_to"]]
    cited: dict[int, list[dict[str, Any]]] = {}
    seen: set[tuple[int, str]] = set()
    for product in ops_repo.cited_products(conn, tenant_id, answered):
        key = (product["message_id"], product["item_code"])
        if key in seen:  # the same product found by two calls is cited once
            continue
        seen.add(key)
        cited.setdefault(product["message_id"], []).append(
            {"itemCode": product["item_code"], "itemName": product["item_name"], "tool": product["tool_name"]}
        )
    knowledge: dict[int, list[dict[str, Any]]] = {}
    for entry in knowledge_repo.cited_knowledge(conn, tenant_id, answered):
        knowledge.setdefault(entry["message_id"], []).append(entry["citation"])
    messages = [
        message_json(row, cited.get(row["in_reply_to"] or -1), knowledge.get(row["in_reply_to"] or -1)) for row in page
    ]
    return {
        "conversation": conversation_json(conversation, now),
        "messages": messages,
        "nextCursor": encode_cursor(page[-1]["id"]) if more else None,
    }


@dataclass(frozen=True)
class Takeover:
    minutes: int | None
    until_resumed: bool
    note: str | None = None


def take_over(
    conn: Connection,
    tenant_id: str,
    conversation_id: str,
    request: Takeover,
    principal: Principal,
    *,
    default_minutes: int,
    now: datetime,
) -> dict[str, Any]:
    """Pause the bot in this conversation with the reply side's own pause (an existing longer pause is
    kept). The reply function checks it before every answer, so the bot stays quiet until it ends."""
    _existing(conn, tenant_id, conversation_id, now)
    if request.until_resumed:
        minutes = int(UNTIL_RESUMED.total_seconds() // 60)
    else:
        minutes = request.minutes if request.minutes is not None else default_minutes
    with conn.transaction():
        conversations_repo.pause_conversation(
            conn,
            tenant_id,
            conversation_id,
            minutes=minutes,
            reason="operator_takeover",
            set_by=principal.subject,
            now=now,
        )
        ops_repo.record_operator_action(
            conn,
            tenant_id,
            action="takeover",
            actor=principal.subject,
            role=principal.role,
            conversation_id=conversation_id,
            detail={"minutes": None if request.until_resumed else minutes, "note": request.note},
        )
    logger.info("conversation taken over", extra={"conversation": redact(conversation_id), "by": principal.subject})
    return conversation_json(_existing(conn, tenant_id, conversation_id, now), now)


def resume(
    conn: Connection, tenant_id: str, conversation_id: str, principal: Principal, *, now: datetime
) -> dict[str, Any]:
    """End the pause now, whoever set it (a takeover, an agent's message, an escalation)."""
    _existing(conn, tenant_id, conversation_id, now)
    with conn.transaction():
        was_paused = conversations_repo.resume_conversation(conn, tenant_id, conversation_id)
        ops_repo.record_operator_action(
            conn,
            tenant_id,
            action="resume",
            actor=principal.subject,
            role=principal.role,
            conversation_id=conversation_id,
            detail={"wasPaused": was_paused},
        )
    logger.info("conversation resumed", extra={"conversation": redact(conversation_id), "by": principal.subject})
    return {
        "wasPaused": was_paused,
        "conversation": conversation_json(_existing(conn, tenant_id, conversation_id, now), now),
    }


def _reset(conn: Connection, tenant_id: str, principal: Principal, **target: str) -> list[dict[str, Any]]:
    with conn.transaction():
        reset = ops_repo.reset_context(conn, tenant_id, **target)
        for row in reset:
            ops_repo.record_operator_action(
                conn,
                tenant_id,
                action="reset",
                actor=principal.subject,
                role=principal.role,
                conversation_id=row["conversation_id"],
                detail={"afterMessageId": row["context_reset_after_id"]},
            )
    return [
        {
            "conversationId": row["conversation_id"],
            "contextResetAt": iso(row["context_reset_at"]),
            "historyStartsAfterMessageId": row["context_reset_after_id"],
        }
        for row in reset
    ]


def reset_conversation(conn: Connection, tenant_id: str, conversation_id: str, principal: Principal) -> dict[str, Any]:
    """The next customer message starts fresh: the model no longer sees the messages before now (they
    stay in the log, the export and this API). Pauses and escalations are left as they are."""
    reset = _reset(conn, tenant_id, principal, conversation_id=conversation_id)
    if not reset:
        raise NotFound(f"no conversation {conversation_id!r}")
    return reset[0]


def reset_customer(conn: Connection, tenant_id: str, customer_id: str, principal: Principal) -> dict[str, Any]:
    """Reset every conversation of the customer (one per channel they wrote on)."""
    reset = _reset(conn, tenant_id, principal, customer_id=customer_id)
    if not reset:
        raise NotFound(f"no conversation with customer {customer_id!r}")
    return {"customerId": customer_id, "conversations": reset}


def customer_status(conn: Connection, tenant_id: str, customer_id: str, *, now: datetime) -> dict[str, Any]:
    """Language, last message, pause and open escalation, overall and per conversation (channel)."""
    rows = ops_repo.customer_conversations(conn, tenant_id, customer_id, now=now)
    if not rows:
        raise NotFound(f"no conversation with customer {customer_id!r}")
    conversations = [conversation_json(row, now) for row in rows]
    latest = conversations[0]  # most recently active first
    paused_until = max((row["paused_until"] for row in rows if row["paused_until"] is not None), default=None)
    return {
        "customerId": customer_id,
        "language": latest["language"],
        "lastMessage": {**latest["lastMessage"], "conversationId": latest["conversationId"]}
        if latest["lastMessage"]
        else None,
        "pausedUntil": iso(paused_until),
        "openEscalations": [
            {**c["openEscalation"], "conversationId": c["conversationId"]} for c in conversations if c["openEscalation"]
        ],
        "conversations": conversations,
    }
