"""SQL for the admin console: the inbox (conversations with their state, filtered by text), the window of
latest messages a transcript shows, the tool calls behind bot replies, a person's reply from the
console, and the failed items of a catalog sync.

A conversation row is the admin API's own (operations_repository's select: latest message, active
pause, open escalation), so the inbox and /admin/conversations never disagree about a conversation.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

# One definition of "a conversation as staff see it"; the inbox adds its state and filters on top.
from mostrador.db.operations_repository import _CONVERSATION_SELECT

if TYPE_CHECKING:
    from mostrador.db.connection import Connection

# Pauses nobody has answered in yet: an operator's takeover, the bot's own escalation pause. Every other
# pause reason is set because a person wrote (an agent in Support Board, the Page inbox, a reply from
# the console), so the conversation is in a person's hands.
WAITING_PAUSE_REASONS = ("operator_takeover", "escalation")
STATES = ("bot", "paused", "escalated", "human")
_WORD = re.compile(r"[^\W_]+")
# The expression migration 012 indexes (written the same here, or the index is not used).
MESSAGE_WORDS = "to_tsvector('simple', regexp_replace(mostrador_fold(r.text), '[^[:alnum:]]+', ' ', 'g'))"

_STATE = """CASE WHEN listed.escalation_id IS NOT NULL THEN 'escalated'
     WHEN listed.paused_until IS NOT NULL AND listed.pause_reason = ANY(%(waiting)s) THEN 'paused'
     WHEN listed.paused_until IS NOT NULL THEN 'human'
     ELSE 'bot' END"""


def search_words(text: str, limit: int = 8) -> str | None:
    """A tsquery of the text's words, every one required, each matching as a prefix ("nev" finds
    "nevera"). Only letters and digits reach it, so nothing typed is tsquery syntax."""
    words = _WORD.findall(text.lower())[:limit]
    return " & ".join(f"{word}:*" for word in words) or None


def inbox(
    conn: Connection,
    tenant_id: str,
    *,
    channel: str | None,
    state: str | None,
    text: str | None,
    now: datetime,
    after: tuple[datetime, str] | None,
    limit: int,
    id_tail: tuple[str, int] | None = None,
) -> list[dict[str, Any]]:
    """Most recently active first, each with its `state`. `text` matches the words of any message of the
    conversation (case and accents ignored) and part of the customer id or the conversation id; with
    `id_tail` (text, n) — for a caller who sees customer ids masked — no id but the customer id's last n
    characters, which are all it sees of them, matched by that text (None: by no id at all)."""
    params: dict[str, Any] = {
        "tenant": tenant_id,
        "now": now,
        "limit": limit,
        "waiting": list(WAITING_PAUSE_REASONS),
    }
    inner = _CONVERSATION_SELECT
    if channel is not None:
        inner += " AND c.channel = %(channel)s"
        params["channel"] = channel
    sql = f"SELECT * FROM (SELECT listed.*, {_STATE} AS state FROM ({inner}) listed) states WHERE true"
    if state is not None:
        sql += " AND state = %(state)s"
        params["state"] = state
    if text:
        # Ids match anywhere in them (or only in what a masked caller is shown of them); messages by their
        # words, each word as a prefix (the GIN index of migration 012 answers this without reading every message).
        if id_tail is None:
            sql += (
                " AND (strpos(lower(coalesce(customer_id, '')), lower(%(text)s)) > 0"
                " OR strpos(lower(conversation_id), lower(%(text)s)) > 0"
            )
            params["text"] = text
        elif id_tail[0]:
            sql += (
                " AND ((length(customer_id) > %(shown)s"
                " AND strpos(lower(right(customer_id, %(shown)s)), lower(%(tail)s)) > 0)"
            )
            params["tail"], params["shown"] = id_tail
        else:
            sql += " AND (false"
        words = search_words(text)
        if words:
            sql += (
                " OR conversation_id IN (SELECT r.conversation_id FROM messages r WHERE r.tenant_id = %(tenant)s"
                f" AND {MESSAGE_WORDS} @@ to_tsquery('simple', mostrador_fold(%(words)s)))"
            )
            params["words"] = words
        sql += ")"
    if after is not None:
        sql += " AND (activity_at, conversation_id) < (%(after_at)s, %(after_id)s)"
        params["after_at"], params["after_id"] = after
    sql += " ORDER BY activity_at DESC, conversation_id DESC LIMIT %(limit)s"
    return conn.execute(sql, params).fetchall()


def conversation_state(conn: Connection, tenant_id: str, conversation_id: str, *, now: datetime) -> str | None:
    row = conn.execute(
        f"SELECT {_STATE} AS state FROM ({_CONVERSATION_SELECT} AND c.conversation_id = %(conversation)s) listed",
        {"tenant": tenant_id, "now": now, "conversation": conversation_id, "waiting": list(WAITING_PAUSE_REASONS)},
    ).fetchone()
    return row["state"] if row else None


def start_of_latest(conn: Connection, tenant_id: str, conversation_id: str, keep: int) -> tuple[int, bool]:
    """The message id after which the conversation's latest `keep` messages begin (0: from the start),
    and whether earlier messages exist."""
    row = conn.execute(
        "SELECT id FROM messages WHERE tenant_id = %s AND conversation_id = %s ORDER BY id DESC OFFSET %s LIMIT 1",
        (tenant_id, conversation_id, keep),
    ).fetchone()
    return (int(row["id"]), True) if row else (0, False)


def tool_calls(conn: Connection, tenant_id: str, inbound_ids: list[int]) -> list[dict[str, Any]]:
    """The tool calls made while answering these inbound messages, in the order they ran."""
    if not inbound_ids:
        return []
    return conn.execute(
        "SELECT message_id, round, tool_name, arguments, result_count, error, latency_ms FROM tool_calls"
        " WHERE tenant_id = %s AND message_id = ANY(%s) ORDER BY message_id, id",
        (tenant_id, inbound_ids),
    ).fetchall()


def senders(conn: Connection, tenant_id: str, message_ids: list[int]) -> dict[int, str | None]:
    """Who sent each of these messages (the principal, for a person's reply from the console)."""
    if not message_ids:
        return {}
    rows = conn.execute(
        "SELECT id, sender_id FROM messages WHERE tenant_id = %s AND id = ANY(%s)", (tenant_id, message_ids)
    ).fetchall()
    return {row["id"]: row["sender_id"] for row in rows}


def store_agent_message(
    conn: Connection,
    tenant_id: str,
    conversation_id: str,
    channel: str,
    *,
    text: str,
    sender: str,
    language: str | None,
) -> dict[str, Any]:
    """A person's message from the console, kept (pending) before it is sent, like a bot reply."""
    row = conn.execute(
        "INSERT INTO messages (tenant_id, conversation_id, channel, direction, actor, sender_id, text, status,"
        " language) VALUES (%s, %s, %s, 'outbound', 'agent', %s, %s, 'pending', %s) RETURNING *",
        (tenant_id, conversation_id, channel, sender, text, language),
    ).fetchone()
    assert row is not None
    return row


def sync_failures(conn: Connection, tenant_id: str, sync_id: str, limit: int) -> list[dict[str, Any]]:
    """The items of a sync that failed (still retrying or given up), in the order they were sent."""
    return conn.execute(
        "SELECT item_code, warehouse, error, attempts, final, updated_at FROM sync_items"
        " WHERE tenant_id = %s AND sync_id = %s AND outcome = 'failed' ORDER BY batch_id, item_index LIMIT %s",
        (tenant_id, sync_id, limit),
    ).fetchall()


def knowledge_excerpts(
    conn: Connection, tenant_id: str, chunks: list[tuple[int, int]], characters: int
) -> dict[tuple[int, int], str]:
    """(document id, chunk index) → the first `characters` of that chunk's text as stored now (one indexed
    lookup per cited chunk: UNIQUE (document_id, chunk_index))."""
    if not chunks:
        return {}
    rows = conn.execute(
        "SELECT c.document_id, c.chunk_index, left(c.content, %s) AS excerpt"
        " FROM unnest(%s::bigint[], %s::int[]) AS wanted(document_id, chunk_index)"
        " JOIN knowledge_chunks c ON c.document_id = wanted.document_id AND c.chunk_index = wanted.chunk_index"
        " WHERE c.tenant_id = %s",
        (characters, [d for d, _ in chunks], [i for _, i in chunks], tenant_id),
    ).fetchall()
    return {(row["document_id"], row["chunk_index"]): row["excerpt"] for row in rows}
