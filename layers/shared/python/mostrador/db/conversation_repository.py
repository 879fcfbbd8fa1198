"""SQL for conversations, the message log, pauses, escalations, tool calls and tenant settings.

Every function takes the connection and the tenant explicitly; rows come back as dicts. The
connection is in autocommit mode: each statement stands alone, and the statements are ordered so a
crash between two of them leaves a state the retry of the same queue message can finish.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mostrador.db.connection import Connection
    from mostrador.messaging.model import InboundMessage, MessageDeletion, StatusUpdate

# Later statuses never go back to earlier ones (a late "delivered" after "read" is ignored).
_STATUS_RANK = {"pending": 0, "sent": 1, "delivered": 2, "read": 3, "failed": 4}


@dataclass(frozen=True)
class RecordedInbound:
    id: int
    state: str
    # False when the platform message id was already known (a redelivery).
    created: bool
    # The known row is one of our own outbound messages (a Messenger echo of our reply).
    is_own_outbound: bool = False


def ensure_conversation(conn: Connection, tenant_id: str, conversation_id: str, channel: str) -> dict[str, Any]:
    row = conn.execute(
        "INSERT INTO conversations (tenant_id, conversation_id, channel) VALUES (%s, %s, %s)"
        " ON CONFLICT (tenant_id, conversation_id) DO UPDATE SET updated_at = conversations.updated_at"
        " RETURNING *",
        (tenant_id, conversation_id, channel),
    ).fetchone()
    assert row is not None
    return row


def get_conversation(conn: Connection, tenant_id: str, conversation_id: str) -> dict[str, Any] | None:
    return conn.execute(
        "SELECT * FROM conversations WHERE tenant_id = %s AND conversation_id = %s", (tenant_id, conversation_id)
    ).fetchone()


def customers_conversation(conn: Connection, tenant_id: str, conversation_ids: list[str]) -> str | None:
    """Of `conversation_ids`, the one the customer last wrote in; None when the customer wrote in none."""
    row = conn.execute(
        "SELECT conversation_id FROM conversations"
        " WHERE tenant_id = %s AND conversation_id = ANY(%s) AND last_customer_message_at IS NOT NULL"
        " ORDER BY last_customer_message_at DESC LIMIT 1",
        (tenant_id, conversation_ids),
    ).fetchone()
    return row["conversation_id"] if row else None


def share_pause(conn: Connection, tenant_id: str, conversation_id: str, others: list[str], now: datetime) -> bool:
    """Give `conversation_id` the longest pause active on any of `others` (a longer own pause is kept),
    unless an operator resumed `conversation_id` after that pause was set. Returns whether one was shared."""
    row = conn.execute(
        "INSERT INTO conversation_pauses (tenant_id, conversation_id, paused_until, reason, set_by)"
        " SELECT tenant_id, %(id)s, paused_until, reason, set_by FROM conversation_pauses"
        "  WHERE tenant_id = %(tenant)s AND conversation_id = ANY(%(others)s) AND paused_until > %(now)s"
        "    AND updated_at > coalesce((SELECT bot_resumed_at FROM conversations"
        "                                WHERE tenant_id = %(tenant)s AND conversation_id = %(id)s), '-infinity')"
        "  ORDER BY paused_until DESC LIMIT 1"
        " ON CONFLICT (tenant_id, conversation_id) DO UPDATE SET"
        " paused_until = GREATEST(conversation_pauses.paused_until, EXCLUDED.paused_until),"
        " reason = CASE WHEN conversation_pauses.paused_until >= EXCLUDED.paused_until"
        "  THEN conversation_pauses.reason ELSE EXCLUDED.reason END,"
        " set_by = CASE WHEN conversation_pauses.paused_until >= EXCLUDED.paused_until"
        "  THEN conversation_pauses.set_by ELSE EXCLUDED.set_by END,"
        " updated_at = now()"
        " RETURNING paused_until",
        {"id": conversation_id, "tenant": tenant_id, "others": others, "now": now},
    ).fetchone()
    return row is not None


def record_inbound(conn: Connection, message: InboundMessage, actor: str) -> RecordedInbound:
    """Insert the inbound message once. A known platform id returns the existing row, created=False."""
    ensure_conversation(conn, message.tenant_id, message.conversation_id, message.channel)
    # A reaction names the message it reacts to (shown with it: "👍 to <that message>").
    reacted = message.metadata.get("reacted_message_id") if message.media_kind == "reaction" else None
    row = conn.execute(
        "INSERT INTO messages (tenant_id, conversation_id, channel, direction, actor, sender_id, text,"
        " media_kind, platform_message_id, platform_message_ids, state, platform_timestamp, reacted_message_id)"
        " VALUES (%s, %s, %s, 'inbound', %s, %s, %s, %s, %s, ARRAY[%s], 'received', %s, %s)"
        " ON CONFLICT (tenant_id, platform_message_id) DO NOTHING RETURNING id, state",
        (
            message.tenant_id,
            message.conversation_id,
            message.channel,
            actor,
            message.sender_id,
            message.text,
            message.media_kind,
            message.platform_message_id,
            message.platform_message_id,
            message.timestamp,
            reacted or None,
        ),
    ).fetchone()
    if row is not None:
        return RecordedInbound(id=row["id"], state=row["state"], created=True)
    existing = conn.execute(
        "SELECT id, state, direction FROM messages WHERE tenant_id = %s AND platform_message_id = %s",
        (message.tenant_id, message.platform_message_id),
    ).fetchone()
    assert existing is not None
    return RecordedInbound(
        id=existing["id"],
        state=existing["state"] or "",
        created=False,
        is_own_outbound=existing["direction"] == "outbound",
    )


def inbound_id(conn: Connection, tenant_id: str, platform_message_id: str) -> int | None:
    row = conn.execute(
        "SELECT id FROM messages WHERE tenant_id = %s AND platform_message_id = %s AND direction = 'inbound'",
        (tenant_id, platform_message_id),
    ).fetchone()
    return row["id"] if row else None


def forget_message(conn: Connection, deletion: MessageDeletion) -> bool | None:
    """The sender took a message back: its text is removed for good and the row is marked deleted
    (left out of history, exports and transcripts). A message not received yet gets a tombstone under
    its id, so the late original is a known id: never answered, never stored. True when the message
    had been recorded (its text is now gone), False when a tombstone now waits for it, None when the
    id is a message of another conversation (left alone: only its own conversation can take it back).
    A voice note's transcript and a photo's description go with the text; a message still waiting for
    its burst's reply (or whose handling never finished) is skipped: never answered."""
    ensure_conversation(conn, deletion.tenant_id, deletion.conversation_id, deletion.channel)
    row = conn.execute(
        "INSERT INTO messages (tenant_id, conversation_id, channel, direction, actor, sender_id, text,"
        " platform_message_id, platform_message_ids, state, state_reason, platform_timestamp, deleted_at)"
        " VALUES (%s, %s, %s, 'inbound', %s, %s, '', %s, ARRAY[%s], 'skipped', 'deleted', %s, now())"
        " ON CONFLICT (tenant_id, platform_message_id) DO UPDATE SET text = '', transcript = NULL,"
        " media_description = NULL, deleted_at = coalesce(messages.deleted_at, now()), updated_at = now(),"
        " state_reason = CASE WHEN messages.state = 'received' THEN 'deleted' ELSE messages.state_reason END,"
        " state = CASE WHEN messages.state = 'received' THEN 'skipped' ELSE messages.state END"
        " WHERE messages.conversation_id = EXCLUDED.conversation_id"
        " RETURNING id, (xmax = 0) AS tombstone",
        (
            deletion.tenant_id,
            deletion.conversation_id,
            deletion.channel,
            "customer" if deletion.sender_role == "customer" else "page",
            deletion.sender_id,
            deletion.platform_message_id,
            deletion.platform_message_id,
            deletion.timestamp,
        ),
    ).fetchone()
    if row is None:
        return None
    if row["tombstone"]:
        return False
    # The searches made for its reply carry the customer's words (the offline model's query is the
    # whole message): their arguments go too; which products they found stays for the analytics. A
    # burst's reply records its calls under the burst's latest message, and a superseded reply under
    # the latest one it read: every call from this message up to the first reply written at or after
    # it (all calls since, while none is) read it.
    conn.execute(
        "UPDATE tool_calls SET arguments = '{}'::jsonb"
        " WHERE tenant_id = %s AND conversation_id = %s AND message_id >= %s AND message_id <= coalesce("
        " (SELECT min(in_reply_to) FROM messages WHERE tenant_id = %s AND conversation_id = %s"
        " AND direction = 'outbound' AND in_reply_to >= %s), 9223372036854775807)",
        (
            deletion.tenant_id,
            deletion.conversation_id,
            row["id"],
            deletion.tenant_id,
            deletion.conversation_id,
            row["id"],
        ),
    )
    return True


def is_own_outbound(conn: Connection, tenant_id: str, platform_message_id: str) -> bool:
    """Whether we sent a message with this id (any piece of a split reply)."""
    row = conn.execute(
        "SELECT 1 FROM messages WHERE tenant_id = %s AND direction = 'outbound'"
        " AND platform_message_ids @> ARRAY[%s]::text[] LIMIT 1",
        (tenant_id, platform_message_id),
    ).fetchone()
    return row is not None


def mark_inbound(conn: Connection, tenant_id: str, message_id: int, state: str, reason: str | None = None) -> None:
    conn.execute(
        "UPDATE messages SET state = %s, state_reason = %s, updated_at = now() WHERE tenant_id = %s AND id = %s",
        (state, reason, tenant_id, message_id),
    )


def set_message_language(conn: Connection, tenant_id: str, message_id: int, language: str) -> None:
    conn.execute(
        "UPDATE messages SET language = %s WHERE tenant_id = %s AND id = %s", (language, tenant_id, message_id)
    )


def set_inbound_actor(conn: Connection, tenant_id: str, message_id: int, actor: str) -> None:
    conn.execute("UPDATE messages SET actor = %s WHERE tenant_id = %s AND id = %s", (actor, tenant_id, message_id))


def note_customer_message(
    conn: Connection, tenant_id: str, conversation_id: str, customer_id: str, at: datetime, language: str | None
) -> dict[str, Any]:
    """Remember the customer, when they last wrote (the 24-hour window) and their language."""
    row = conn.execute(
        "UPDATE conversations SET customer_id = %s,"
        " last_customer_message_at = GREATEST(coalesce(last_customer_message_at, %s), %s),"
        " language = coalesce(%s, language), updated_at = now()"
        " WHERE tenant_id = %s AND conversation_id = %s RETURNING *",
        (customer_id, at, at, language, tenant_id, conversation_id),
    ).fetchone()
    assert row is not None
    return row


def active_pause(conn: Connection, tenant_id: str, conversation_id: str, now: datetime) -> dict[str, Any] | None:
    return conn.execute(
        "SELECT * FROM conversation_pauses WHERE tenant_id = %s AND conversation_id = %s AND paused_until > %s",
        (tenant_id, conversation_id, now),
    ).fetchone()


def pause_conversation(
    conn: Connection,
    tenant_id: str,
    conversation_id: str,
    *,
    minutes: int,
    reason: str,
    set_by: str | None,
    now: datetime,
) -> datetime:
    """Pause the bot until now + minutes (an existing longer pause is kept). Returns paused_until."""
    until = now + timedelta(minutes=minutes)
    row = conn.execute(
        "INSERT INTO conversation_pauses (tenant_id, conversation_id, paused_until, reason, set_by)"
        " VALUES (%s, %s, %s, %s, %s)"
        " ON CONFLICT (tenant_id, conversation_id) DO UPDATE SET"
        " paused_until = GREATEST(conversation_pauses.paused_until, EXCLUDED.paused_until),"
        " reason = EXCLUDED.reason, set_by = EXCLUDED.set_by, updated_at = now()"
        " RETURNING paused_until",
        (tenant_id, conversation_id, until, reason, set_by),
    ).fetchone()
    assert row is not None
    paused_until: datetime = row["paused_until"]
    return paused_until


def resume_conversation(conn: Connection, tenant_id: str, conversation_id: str) -> bool:
    """End a pause now (for operators and the admin API). Returns whether one was active.

    Also marks the moment, so an agent message older than it no longer counts as a takeover."""
    with conn.transaction():
        cursor = conn.execute(
            "DELETE FROM conversation_pauses WHERE tenant_id = %s AND conversation_id = %s",
            (tenant_id, conversation_id),
        )
        conn.execute(
            "UPDATE conversations SET bot_resumed_at = now() WHERE tenant_id = %s AND conversation_id = %s",
            (tenant_id, conversation_id),
        )
    return cursor.rowcount > 0


def open_escalation(
    conn: Connection,
    tenant_id: str,
    conversation_id: str,
    *,
    reason: str,
    source: str,
    message_id: int | None,
) -> int:
    """Open an escalation, or return the conversation's already open one (retries open nothing new)."""
    row = conn.execute(
        "INSERT INTO escalations (tenant_id, conversation_id, reason, source, message_id)"
        " VALUES (%s, %s, %s, %s, %s)"
        " ON CONFLICT (tenant_id, conversation_id) WHERE status = 'open' DO NOTHING RETURNING id",
        (tenant_id, conversation_id, reason[:500], source, message_id),
    ).fetchone()
    if row is None:
        row = conn.execute(
            "SELECT id FROM escalations WHERE tenant_id = %s AND conversation_id = %s AND status = 'open'",
            (tenant_id, conversation_id),
        ).fetchone()
    assert row is not None
    escalation_id: int = row["id"]
    return escalation_id


def resolve_escalation(conn: Connection, tenant_id: str, escalation_id: int, note: str | None = None) -> bool:
    cursor = conn.execute(
        "UPDATE escalations SET status = 'resolved', resolved_at = now(), note = coalesce(%s, note)"
        " WHERE tenant_id = %s AND id = %s AND status = 'open'",
        (note, tenant_id, escalation_id),
    )
    return cursor.rowcount > 0


# An operator's context reset (admin API, migration 003): history starts after this message id.
_AFTER_RESET = (
    " AND {column} > coalesce((SELECT context_reset_after_id FROM conversations c"
    " WHERE c.tenant_id = %s AND c.conversation_id = %s), 0)"
)


def recent_history(conn: Connection, tenant_id: str, conversation_id: str, limit: int = 20) -> list[dict[str, Any]]:
    """The last `limit` messages with text worth showing the model (since any context reset, never
    one its sender took back), oldest first."""
    rows = conn.execute(
        "SELECT id, direction, actor, text, media_kind, status, transcript, media_description FROM messages"
        " WHERE tenant_id = %s AND conversation_id = %s AND deleted_at IS NULL"
        " AND (direction = 'inbound' OR status IN ('sent', 'delivered', 'read'))"
        + _AFTER_RESET.format(column="id")
        + " ORDER BY id DESC LIMIT %s",
        (tenant_id, conversation_id, tenant_id, conversation_id, limit),
    ).fetchall()
    return list(reversed(rows))


def pending_reply(conn: Connection, tenant_id: str, inbound_id: int) -> dict[str, Any] | None:
    """The reply generated for this inbound message whose send has not succeeded yet."""
    return conn.execute(
        "SELECT * FROM messages WHERE tenant_id = %s AND in_reply_to = %s AND direction = 'outbound'",
        (tenant_id, inbound_id),
    ).fetchone()


@dataclass(frozen=True)
class ReplyDraft:
    text: str
    language: str
    provider: str | None = None
    model: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    # The products offered (conversations.choices.choices_json) and a product photo to send first.
    choices: dict[str, Any] | None = None
    image_url: str | None = None
    image_caption: str | None = None


def store_reply_draft(
    conn: Connection, tenant_id: str, conversation_id: str, channel: str, inbound_id: int, draft: ReplyDraft
) -> dict[str, Any]:
    """Keep the generated reply before sending it, so a retry resends it instead of generating another."""
    row = conn.execute(
        "INSERT INTO messages (tenant_id, conversation_id, channel, direction, actor, text, in_reply_to, status,"
        " provider, model, tokens_in, tokens_out, language, choices, image_url, image_caption)"
        " VALUES (%s, %s, %s, 'outbound', 'bot', %s, %s, 'pending', %s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (in_reply_to) WHERE direction = 'outbound' DO NOTHING RETURNING *",
        (
            tenant_id,
            conversation_id,
            channel,
            draft.text,
            inbound_id,
            draft.provider,
            draft.model,
            draft.tokens_in,
            draft.tokens_out,
            draft.language,
            json.dumps(draft.choices, ensure_ascii=False) if draft.choices is not None else None,
            draft.image_url,
            draft.image_caption,
        ),
    ).fetchone()
    if row is None:
        row = pending_reply(conn, tenant_id, inbound_id)
    assert row is not None
    return row


def mark_reply_sent(
    conn: Connection, tenant_id: str, reply_id: int, platform_message_ids: list[str], latency_ms: int
) -> None:
    conn.execute(
        "UPDATE messages SET status = 'sent', platform_message_id = %s, platform_message_ids = %s,"
        " latency_ms = %s, updated_at = now() WHERE tenant_id = %s AND id = %s",
        (
            platform_message_ids[0] if platform_message_ids else None,
            platform_message_ids,
            latency_ms,
            tenant_id,
            reply_id,
        ),
    )


def record_pieces_sent(
    conn: Connection,
    tenant_id: str,
    reply_id: int,
    pieces_sent: int,
    platform_message_ids: list[str],
    *,
    image_message_id: str | None = None,
) -> None:
    """Progress of a reply sent in pieces, kept as each piece goes out; `image_message_id`: the piece
    just sent was the product photo, under this id (a later status naming it is the photo's)."""
    conn.execute(
        "UPDATE messages SET pieces_sent = %s, platform_message_ids = %s,"
        " image_message_id = coalesce(%s, image_message_id), updated_at = now() WHERE tenant_id = %s AND id = %s",
        (pieces_sent, platform_message_ids, image_message_id, tenant_id, reply_id),
    )


def mark_reply_failed(
    conn: Connection,
    tenant_id: str,
    reply_id: int,
    error_code: str | None,
    error_title: str,
    latency_ms: int | None = None,
) -> None:
    conn.execute(
        "UPDATE messages SET status = 'failed', error_code = %s, error_title = %s,"
        " latency_ms = coalesce(%s, latency_ms), updated_at = now() WHERE tenant_id = %s AND id = %s",
        (error_code, error_title[:500], latency_ms, tenant_id, reply_id),
    )


PHOTO_FAILED = "photo_failed"


def note_photo_failed(
    conn: Connection, tenant_id: str, reply_id: int, error_code: str | None, error_title: str
) -> None:
    """The reply's product photo was refused (its text is sent without it): error_code
    `photo_failed:<code>` on a reply whose status goes on to `sent`."""
    conn.execute(
        "UPDATE messages SET error_code = %s, error_title = %s, updated_at = now() WHERE tenant_id = %s AND id = %s",
        (
            f"{PHOTO_FAILED}:{error_code or 'unknown'}",
            f"product photo not sent: {error_title}"[:500],
            tenant_id,
            reply_id,
        ),
    )


def note_photo_piece_failed(conn: Connection, update: StatusUpdate) -> bool:
    """A `failed` status naming the product photo of a reply that has text besides it: the photo is
    noted as not sent (`photo_failed:<code>`, as when Messenger refuses it during the send) and the
    reply's status is left as its text's. True when the status was the photo's; a reply that already
    failed keeps its own error. False for any other message (its status applies as usual)."""
    row = conn.execute(
        "UPDATE messages SET"
        " error_code = CASE WHEN status = 'failed' THEN error_code ELSE %s END,"
        " error_title = CASE WHEN status = 'failed' THEN error_title ELSE %s END,"
        " updated_at = now()"
        " WHERE tenant_id = %s AND direction = 'outbound' AND platform_message_ids @> ARRAY[%s]::text[]"
        " AND image_message_id = %s AND btrim(text) <> '' RETURNING id",
        (
            f"{PHOTO_FAILED}:{update.error_code or 'unknown'}",
            f"product photo not sent: {update.error_title or 'failed'}"[:500],
            update.tenant_id,
            update.platform_message_id,
            update.platform_message_id,
        ),
    ).fetchone()
    return row is not None


def apply_watermark(conn: Connection, tenant_id: str, conversation_id: str, status: str, watermark: datetime) -> int:
    """Messenger's delivery/read watermark: every message we sent in the conversation up to that
    moment reached that status. Returns how many moved forward."""
    return conn.execute(
        "UPDATE messages SET status = %s, updated_at = now()"
        " WHERE tenant_id = %s AND conversation_id = %s AND direction = 'outbound' AND created_at <= %s"
        " AND (CASE status WHEN 'sent' THEN 1 WHEN 'delivered' THEN 2 ELSE 99 END) < %s",
        (status, tenant_id, conversation_id, watermark, _STATUS_RANK[status]),
    ).rowcount


def apply_status(conn: Connection, update: StatusUpdate) -> bool:
    """Move a sent message's status forward. Returns False when no sent message has that id."""
    rank = _STATUS_RANK[update.status]
    cursor = conn.execute(
        "UPDATE messages SET status = %s,"
        " error_code = CASE WHEN %s = 'failed' THEN %s ELSE error_code END,"
        " error_title = CASE WHEN %s = 'failed' THEN %s ELSE error_title END,"
        " updated_at = now()"
        " WHERE tenant_id = %s AND direction = 'outbound' AND platform_message_ids @> ARRAY[%s]::text[]"
        " AND (CASE status WHEN 'pending' THEN 0 WHEN 'sent' THEN 1 WHEN 'delivered' THEN 2"
        "      WHEN 'read' THEN 3 ELSE 4 END) < %s",
        (
            update.status,
            update.status,
            update.error_code,
            update.status,
            update.error_title,
            update.tenant_id,
            update.platform_message_id,
            rank,
        ),
    )
    if cursor.rowcount > 0:
        return True
    return is_own_outbound(conn, update.tenant_id, update.platform_message_id)


def record_tool_call(
    conn: Connection,
    tenant_id: str,
    conversation_id: str,
    message_id: int,
    *,
    round_number: int,
    tool_name: str,
    arguments: dict[str, Any],
    product_ids: list[str],
    result_count: int,
    error: str | None,
    latency_ms: int,
    knowledge_chunks: list[dict[str, Any]] | None = None,
) -> None:
    conn.execute(
        "INSERT INTO tool_calls (tenant_id, conversation_id, message_id, round, tool_name, arguments,"
        " product_ids, result_count, error, latency_ms, knowledge_chunks)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            tenant_id,
            conversation_id,
            message_id,
            round_number,
            tool_name,
            json.dumps(arguments, ensure_ascii=False, default=str),
            product_ids,
            result_count,
            error,
            latency_ms,
            json.dumps(knowledge_chunks or [], ensure_ascii=False),
        ),
    )


def forget_tool_calls(conn: Connection, tenant_id: str, message_id: int) -> None:
    conn.execute("DELETE FROM tool_calls WHERE tenant_id = %s AND message_id = %s", (tenant_id, message_id))


def consecutive_empty_searches(conn: Connection, tenant_id: str, conversation_id: str, window: int = 10) -> int:
    """How many of the conversation's latest searches in a row (since any context reset) found nothing."""
    rows = conn.execute(
        "SELECT result_count, error FROM tool_calls WHERE tenant_id = %s AND conversation_id = %s"
        " AND tool_name = 'search_local_products'"
        + _AFTER_RESET.format(column="message_id")
        + " ORDER BY id DESC LIMIT %s",
        (tenant_id, conversation_id, tenant_id, conversation_id, window),
    ).fetchall()
    count = 0
    for row in rows:
        if row["result_count"] > 0:
            break
        if row["error"] is None:
            count += 1
    return count


def record_usage(
    conn: Connection,
    tenant_id: str,
    provider: str,
    model: str,
    tokens_in: int,
    tokens_out: int,
    purpose: str = "chat",
) -> None:
    """One model call's usage; purpose 'chat', or 'transcription' / 'vision' for a customer's media."""
    conn.execute(
        "INSERT INTO llm_usage (tenant_id, provider, model, purpose, calls, tokens_in, tokens_out)"
        " VALUES (%s, %s, %s, %s, 1, %s, %s)",
        (tenant_id, provider, model, purpose, tokens_in, tokens_out),
    )


def tenant_system_prompt(conn: Connection, tenant_id: str) -> str | None:
    row = conn.execute("SELECT system_prompt FROM tenants WHERE tenant_id = %s", (tenant_id,)).fetchone()
    return row["system_prompt"] if row and row["system_prompt"] else None


def set_tenant_system_prompt(conn: Connection, tenant_id: str, prompt: str | None) -> None:
    """The tenant's prompt (a tenant that does not exist yet is created with its id as its name)."""
    conn.execute(
        "INSERT INTO tenants (tenant_id, display_name, system_prompt) VALUES (%s, %s, %s)"
        " ON CONFLICT (tenant_id) DO UPDATE SET system_prompt = EXCLUDED.system_prompt, updated_at = now()",
        (tenant_id, tenant_id, prompt),
    )


_PUBLIC_COLUMNS = (
    "id, conversation_id, channel, direction, actor, text, media_kind, status, state, created_at, in_reply_to"
)


def messages_after(
    conn: Connection, tenant_id: str, conversation_id: str, after_id: int, limit: int = 50
) -> list[dict[str, Any]]:
    """The conversation's messages with id > after_id, oldest first (web chat polling for replies).

    Bot replies show up once sent; a draft that is still pending is not part of the conversation yet,
    and a message taken back by its sender is not part of it any more.
    """
    return conn.execute(
        f"SELECT {_PUBLIC_COLUMNS} FROM messages WHERE tenant_id = %s AND conversation_id = %s AND id > %s"
        " AND deleted_at IS NULL AND (direction = 'inbound' OR status IN ('sent', 'delivered', 'read'))"
        " ORDER BY id LIMIT %s",
        (tenant_id, conversation_id, after_id, max(1, min(limit, 200))),
    ).fetchall()


def open_escalation_id(conn: Connection, tenant_id: str, conversation_id: str) -> int | None:
    """The conversation's open escalation, if it has one."""
    row = conn.execute(
        "SELECT id FROM escalations WHERE tenant_id = %s AND conversation_id = %s AND status = 'open'",
        (tenant_id, conversation_id),
    ).fetchone()
    return int(row["id"]) if row else None


# -- voice notes, photos, choices and bursts (issue 13) ------------------------------------------

AWAITING_REPLY = "awaiting_reply"


def save_media_understanding(
    conn: Connection, tenant_id: str, message_id: int, transcript: str | None, description: str | None
) -> None:
    conn.execute(
        "UPDATE messages SET transcript = %s, media_description = %s, updated_at = now()"
        " WHERE tenant_id = %s AND id = %s",
        (transcript, description, tenant_id, message_id),
    )


def media_understanding(conn: Connection, tenant_id: str, message_id: int) -> dict[str, Any]:
    """What was already made of a message's media (a retry does not transcribe twice)."""
    row = conn.execute(
        "SELECT transcript, media_description FROM messages WHERE tenant_id = %s AND id = %s", (tenant_id, message_id)
    ).fetchone()
    return row or {"transcript": None, "media_description": None}


def set_conversation_language(conn: Connection, tenant_id: str, conversation_id: str, language: str) -> None:
    conn.execute(
        "UPDATE conversations SET language = %s, updated_at = now() WHERE tenant_id = %s AND conversation_id = %s",
        (language, tenant_id, conversation_id),
    )


def claim_unsupported_notice(conn: Connection, tenant_id: str, conversation_id: str) -> bool:
    """True the first time only: the "I can read text, voice notes and photos" notice is sent once."""
    row = conn.execute(
        "UPDATE conversations SET unsupported_notice_at = now()"
        " WHERE tenant_id = %s AND conversation_id = %s AND unsupported_notice_at IS NULL RETURNING 1",
        (tenant_id, conversation_id),
    ).fetchone()
    return row is not None


def last_offered_choices(conn: Connection, tenant_id: str, conversation_id: str) -> list[dict[str, Any]] | None:
    """The choices of the conversation's latest sent bot reply (a typed "2" picks the second), if it had any."""
    row = conn.execute(
        "SELECT choices FROM messages WHERE tenant_id = %s AND conversation_id = %s AND direction = 'outbound'"
        " AND status IN ('sent', 'delivered', 'read') ORDER BY id DESC LIMIT 1",
        (tenant_id, conversation_id),
    ).fetchone()
    choices = row["choices"] if row else None
    items = choices.get("items") if isinstance(choices, dict) else None
    return items if isinstance(items, list) and items else None


def mark_awaiting(conn: Connection, tenant_id: str, message_id: int, metadata: dict[str, str]) -> None:
    """The message waits for its burst's one reply; its channel details are kept for that reply."""
    conn.execute(
        "UPDATE messages SET state = 'received', state_reason = %s, metadata = %s, updated_at = now()"
        " WHERE tenant_id = %s AND id = %s",
        (AWAITING_REPLY, json.dumps(metadata, ensure_ascii=False), tenant_id, message_id),
    )


# An open burst whose reply was due this long ago lost its timer (it failed past its retries): the next
# message opens a new burst rather than wait for it for ever. Timers run in order in their own group,
# so an old timer still retrying and the new one never answer the same messages twice.
STALE_BURST = timedelta(minutes=15)


def open_burst(
    conn: Connection,
    tenant_id: str,
    conversation_id: str,
    message_id: int,
    due_at: datetime,
    *,
    if_waiting: bool = False,
) -> datetime | None:
    """Open the conversation's burst with this message unless one is open already. Returns when its
    reply is due if this message holds the burst (it opened it now, or on an earlier attempt), else None.
    `if_waiting`: only when customer messages are waiting for a reply (a message that joins no burst
    itself holds one for them)."""
    row = conn.execute(
        "UPDATE conversations SET burst_anchor_id = %s,"
        " burst_due_at = CASE WHEN burst_anchor_id = %s THEN burst_due_at ELSE %s END"
        " WHERE tenant_id = %s AND conversation_id = %s"
        " AND (burst_anchor_id IS NULL OR burst_anchor_id = %s OR burst_due_at < %s)"
        " AND (NOT %s OR EXISTS (SELECT 1 FROM messages WHERE messages.tenant_id = conversations.tenant_id"
        " AND messages.conversation_id = conversations.conversation_id AND direction = 'inbound'"
        " AND state = 'received' AND state_reason = %s AND deleted_at IS NULL))"
        " RETURNING burst_due_at",
        (
            message_id,
            message_id,
            due_at,
            tenant_id,
            conversation_id,
            message_id,
            due_at - STALE_BURST,
            if_waiting,
            AWAITING_REPLY,
        ),
    ).fetchone()
    return row["burst_due_at"] if row else None


def close_burst(conn: Connection, tenant_id: str, conversation_id: str, anchor_id: int) -> None:
    """The burst's reply is being written: any later customer message opens a new burst."""
    conn.execute(
        "UPDATE conversations SET burst_anchor_id = NULL, burst_due_at = NULL"
        " WHERE tenant_id = %s AND conversation_id = %s AND burst_anchor_id = %s",
        (tenant_id, conversation_id, anchor_id),
    )


def awaiting_reply(conn: Connection, tenant_id: str, conversation_id: str) -> list[dict[str, Any]]:
    """Customer messages waiting for a burst's reply, oldest first."""
    return conn.execute(
        "SELECT id, channel, sender_id, text, media_kind, transcript, media_description, platform_message_id,"
        " platform_timestamp, metadata, created_at FROM messages"
        " WHERE tenant_id = %s AND conversation_id = %s AND direction = 'inbound' AND state = 'received'"
        " AND state_reason = %s AND deleted_at IS NULL ORDER BY id",
        (tenant_id, conversation_id, AWAITING_REPLY),
    ).fetchall()


def newer_customer_messages(
    conn: Connection,
    tenant_id: str,
    conversation_id: str,
    after_id: int,
    *,
    never_answered_kinds: list[str],
    handled_within_seconds: float,
) -> list[dict[str, Any]]:
    """Customer messages newer than `after_id` waiting for a reply or still being handled (recorded, their
    voice note or photo perhaps still being read), newest first: a reply written before them is stale.
    Kinds that never get a reply (`never_answered_kinds`: reactions, stickers) do not count, nor does a
    message recorded more than `handled_within_seconds` ago (the reply function's timeout) and never
    finished: its handling raised, and it waits a retry or sits in the dead-letter queue. Each row: `id`,
    `platform_message_id`, `awaiting` (it waits in a burst) and `seconds_left` (until it no longer
    counts as being handled)."""
    return conn.execute(
        "SELECT id, platform_message_id, state_reason IS NOT DISTINCT FROM %s AS awaiting,"
        " EXTRACT(EPOCH FROM created_at + make_interval(secs => %s) - now())::float8 AS seconds_left"
        " FROM messages WHERE tenant_id = %s AND conversation_id = %s AND id > %s"
        " AND direction = 'inbound' AND actor = 'customer' AND state = 'received' AND deleted_at IS NULL"
        " AND NOT (media_kind = ANY(%s))"
        " AND (state_reason = %s OR created_at > now() - make_interval(secs => %s)) ORDER BY id DESC",
        (
            AWAITING_REPLY,
            handled_within_seconds,
            tenant_id,
            conversation_id,
            after_id,
            never_answered_kinds,
            AWAITING_REPLY,
            handled_within_seconds,
        ),
    ).fetchall()


# One inbound message (tenant, id) still only recorded: `received`, not waiting in a burst (state_reason
# AWAITING_REPLY, the last parameter), not taken back. Its handling is under way, or it raised.
_STILL_ONLY_RECORDED = (
    "tenant_id = %s AND id = %s AND direction = 'inbound' AND state = 'received'"
    " AND state_reason IS DISTINCT FROM %s AND deleted_at IS NULL"
)


def seconds_left_to_handle(
    conn: Connection, tenant_id: str, message_id: int, handled_within_seconds: float
) -> float | None:
    """For a message still only recorded (`received`, not waiting in a burst, not taken back): the seconds
    until it was recorded `handled_within_seconds` ago (0 or less: its handling is over and failed).
    None when it finished: answered, waiting in a burst, skipped, failed or taken back."""
    row = conn.execute(
        "SELECT EXTRACT(EPOCH FROM created_at + make_interval(secs => %s) - now())::float8 AS seconds_left"
        f" FROM messages WHERE {_STILL_ONLY_RECORDED}",
        (handled_within_seconds, tenant_id, message_id, AWAITING_REPLY),
    ).fetchone()
    return float(row["seconds_left"]) if row else None


def fail_unfinished(conn: Connection, tenant_id: str, message_id: int, reason: str) -> bool:
    """Mark a message whose handling never finished (still only `received`, not waiting in a burst)
    failed for good; False when it had finished (or waits in a burst)."""
    row = conn.execute(
        f"UPDATE messages SET state = 'failed', state_reason = %s, updated_at = now() WHERE {_STILL_ONLY_RECORDED}"
        " RETURNING id",
        (reason, tenant_id, message_id, AWAITING_REPLY),
    ).fetchone()
    return row is not None


def burst_is_open(conn: Connection, tenant_id: str, conversation_id: str) -> bool:
    """Whether a burst is open whose timer is still expected (one due more than STALE_BURST ago lost it)."""
    row = conn.execute(
        "SELECT 1 FROM conversations WHERE tenant_id = %s AND conversation_id = %s"
        " AND burst_anchor_id IS NOT NULL AND burst_due_at >= now() - %s",
        (tenant_id, conversation_id, STALE_BURST),
    ).fetchone()
    return row is not None


def pending_reply_among(conn: Connection, tenant_id: str, inbound_ids: list[int]) -> dict[str, Any] | None:
    """The newest reply written for any of these customer messages whose send has not succeeded yet
    (a burst's reply whose send failed before newer messages joined the waiting ones)."""
    return conn.execute(
        "SELECT * FROM messages WHERE tenant_id = %s AND in_reply_to = ANY(%s) AND direction = 'outbound'"
        " ORDER BY id DESC LIMIT 1",
        (tenant_id, inbound_ids),
    ).fetchone()


def any_taken_back(conn: Connection, tenant_id: str, message_ids: list[int]) -> bool:
    """Whether the customer unsent any of these messages (a reply to them may quote it)."""
    row = conn.execute(
        "SELECT 1 FROM messages WHERE tenant_id = %s AND id = ANY(%s) AND deleted_at IS NOT NULL LIMIT 1",
        (tenant_id, message_ids),
    ).fetchone()
    return row is not None


def supersede_draft(conn: Connection, tenant_id: str, reply_id: int) -> None:
    """A stale reply is kept for the record and never sent; the newer reply answers its messages."""
    conn.execute(
        "UPDATE messages SET status = 'superseded', in_reply_to = NULL, error_code = 'superseded',"
        " error_title = 'a newer customer message arrived while it was written', updated_at = now()"
        " WHERE tenant_id = %s AND id = %s AND status = 'pending'",
        (tenant_id, reply_id),
    )


def mark_inbound_many(
    conn: Connection, tenant_id: str, message_ids: list[int], state: str, reason: str | None = None
) -> None:
    """The outcome for every message a (burst) reply answers; one its sender took back keeps 'deleted'."""
    if message_ids:
        conn.execute(
            "UPDATE messages SET state = %s, state_reason = %s, updated_at = now()"
            " WHERE tenant_id = %s AND id = ANY(%s) AND deleted_at IS NULL",
            (state, reason, tenant_id, message_ids),
        )
