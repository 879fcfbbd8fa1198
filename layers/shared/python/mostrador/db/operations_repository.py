"""SQL for the admin API: conversation lists and views, context resets, the operator audit, escalation
lists, analytics aggregates, the streamed export, and model prices.

Writes that the reply side also does (pauses, resume, resolving escalations) are not here: the admin
use cases call mostrador.db.conversation_repository for those, so both sides share one mechanism.
Every function takes the connection and the tenant explicitly; rows come back as dicts.
"""

from __future__ import annotations

import json
from collections.abc import Generator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mostrador.db.connection import Connection

# One row per conversation: its latest message, its active pause and its open escalation.
_CONVERSATION_SELECT = """
SELECT c.conversation_id, c.channel, c.customer_id, c.language, c.created_at, c.context_reset_at,
       coalesce(last.created_at, c.created_at) AS activity_at,
       last.id AS last_message_id, last.created_at AS last_message_at, last.text AS last_message_text,
       last.direction AS last_message_direction, last.actor AS last_message_actor,
       p.paused_until, p.reason AS pause_reason, p.set_by AS paused_by,
       e.id AS escalation_id, e.reason AS escalation_reason, e.source AS escalation_source,
       e.opened_at AS escalation_opened_at
  FROM conversations c
  LEFT JOIN LATERAL (
        SELECT m.id, m.created_at, m.text, m.direction, m.actor FROM messages m
         WHERE m.tenant_id = c.tenant_id AND m.conversation_id = c.conversation_id AND m.deleted_at IS NULL
         ORDER BY m.id DESC LIMIT 1) last ON true
  LEFT JOIN conversation_pauses p
         ON p.tenant_id = c.tenant_id AND p.conversation_id = c.conversation_id AND p.paused_until > %(now)s
  LEFT JOIN escalations e
         ON e.tenant_id = c.tenant_id AND e.conversation_id = c.conversation_id AND e.status = 'open'
 WHERE c.tenant_id = %(tenant)s
"""


@dataclass(frozen=True)
class ConversationFilter:
    channel: str | None = None
    customer_id: str | None = None
    paused: bool | None = None
    escalated: bool | None = None
    # Conversations with at least one message in [since, until).
    since: datetime | None = None
    until: datetime | None = None


def list_conversations(
    conn: Connection,
    tenant_id: str,
    filters: ConversationFilter,
    *,
    now: datetime,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Most recently active first; `after` is the (activity_at, conversation_id) of the previous page's last row."""
    params: dict[str, Any] = {"tenant": tenant_id, "now": now, "limit": limit}
    where: list[str] = []
    if filters.channel is not None:
        where.append("c.channel = %(channel)s")
        params["channel"] = filters.channel
    if filters.customer_id is not None:
        where.append("c.customer_id = %(customer)s")
        params["customer"] = filters.customer_id
    if filters.paused is not None:
        where.append(f"p.paused_until IS {'NOT ' if filters.paused else ''}NULL")
    if filters.escalated is not None:
        where.append(f"e.id IS {'NOT ' if filters.escalated else ''}NULL")
    if filters.since is not None or filters.until is not None:
        where.append(
            "EXISTS (SELECT 1 FROM messages r WHERE r.tenant_id = c.tenant_id AND r.conversation_id = c.conversation_id"
            " AND r.created_at >= coalesce(%(since)s, '-infinity'::timestamptz)"
            " AND r.created_at < coalesce(%(until)s, 'infinity'::timestamptz))"
        )
        params["since"], params["until"] = filters.since, filters.until
    sql = _CONVERSATION_SELECT + "".join(f" AND {condition}" for condition in where)
    outer = f"SELECT * FROM ({sql}) listed"
    if after is not None:
        outer += " WHERE (activity_at, conversation_id) < (%(after_at)s, %(after_id)s)"
        params["after_at"], params["after_id"] = after
    outer += " ORDER BY activity_at DESC, conversation_id DESC LIMIT %(limit)s"
    return conn.execute(outer, params).fetchall()


def get_conversation(conn: Connection, tenant_id: str, conversation_id: str, *, now: datetime) -> dict[str, Any] | None:
    return conn.execute(
        _CONVERSATION_SELECT + " AND c.conversation_id = %(conversation)s",
        {"tenant": tenant_id, "now": now, "conversation": conversation_id},
    ).fetchone()


def customer_conversations(
    conn: Connection, tenant_id: str, customer_id: str, *, now: datetime
) -> list[dict[str, Any]]:
    return conn.execute(
        f"SELECT * FROM ({_CONVERSATION_SELECT} AND c.customer_id = %(customer)s) listed"
        " ORDER BY activity_at DESC, conversation_id DESC",
        {"tenant": tenant_id, "now": now, "customer": customer_id},
    ).fetchall()


def conversation_messages(
    conn: Connection, tenant_id: str, conversation_id: str, *, after_id: int, limit: int
) -> list[dict[str, Any]]:
    """A page of the conversation's messages. A reaction comes with the message it reacts to (`reacted_*`:
    any piece of one of our replies, or an inbound message; none when it is not in the log or was taken
    back) and `next_reaction_text`: the same sender's next reaction to that message ('' a removal, NULL
    none: this one still stands)."""
    return conn.execute(
        "SELECT m.id, m.direction, m.actor, m.sender_id, m.text, m.media_kind, m.state, m.state_reason, m.status,"
        " m.error_code, m.error_title, m.latency_ms, m.provider, m.model, m.tokens_in, m.tokens_out, m.language,"
        " m.in_reply_to, m.created_at, m.transcript, m.media_description, m.choices, m.image_url,"
        " m.reacted_message_id, reacted.id AS reacted_id, reacted.direction AS reacted_direction,"
        " reacted.actor AS reacted_actor, reacted.text AS reacted_text, reacted.media_kind AS reacted_media_kind,"
        " later.text AS next_reaction_text"
        " FROM messages m"
        " LEFT JOIN LATERAL (SELECT r.id, r.direction, r.actor, r.text, r.media_kind FROM messages r"
        "  WHERE r.tenant_id = m.tenant_id AND r.conversation_id = m.conversation_id AND r.id <> m.id"
        "  AND r.platform_message_ids @> ARRAY[m.reacted_message_id] AND r.deleted_at IS NULL"
        "  ORDER BY r.id LIMIT 1) reacted ON m.reacted_message_id IS NOT NULL"
        " LEFT JOIN LATERAL (SELECT l.text FROM messages l"
        "  WHERE l.tenant_id = m.tenant_id AND l.conversation_id = m.conversation_id AND l.id > m.id"
        "  AND l.media_kind = 'reaction' AND l.reacted_message_id = m.reacted_message_id"
        "  AND l.sender_id IS NOT DISTINCT FROM m.sender_id ORDER BY l.id LIMIT 1) later"
        "  ON m.reacted_message_id IS NOT NULL"
        " WHERE m.tenant_id = %s AND m.conversation_id = %s AND m.id > %s AND m.deleted_at IS NULL"
        " ORDER BY m.id LIMIT %s",
        (tenant_id, conversation_id, after_id, limit),
    ).fetchall()


def cited_products(conn: Connection, tenant_id: str, inbound_ids: list[int]) -> list[dict[str, Any]]:
    """Products the tool calls made for these inbound messages returned, in call and result order."""
    if not inbound_ids:
        return []
    return conn.execute(
        "SELECT t.message_id, t.tool_name, u.code AS item_code, p.item_name"
        "  FROM tool_calls t"
        " CROSS JOIN LATERAL unnest(t.product_ids) WITH ORDINALITY AS u(code, position)"
        "  LEFT JOIN products p ON p.tenant_id = t.tenant_id AND p.item_code = u.code"
        " WHERE t.tenant_id = %s AND t.message_id = ANY(%s)"
        " ORDER BY t.message_id, t.id, u.position",
        (tenant_id, inbound_ids),
    ).fetchall()


def reset_context(
    conn: Connection, tenant_id: str, *, conversation_id: str | None = None, customer_id: str | None = None
) -> list[dict[str, Any]]:
    """Mark the latest message of each matching conversation as the start of a fresh context."""
    column, value = (
        ("conversation_id", conversation_id) if conversation_id is not None else ("customer_id", customer_id)
    )
    return conn.execute(
        "UPDATE conversations c SET context_reset_at = now(), updated_at = now(),"
        " context_reset_after_id = coalesce((SELECT max(m.id) FROM messages m"
        "   WHERE m.tenant_id = c.tenant_id AND m.conversation_id = c.conversation_id), 0)"
        f" WHERE c.tenant_id = %s AND c.{column} = %s"
        " RETURNING c.conversation_id, c.context_reset_after_id, c.context_reset_at",
        (tenant_id, value),
    ).fetchall()


def record_operator_action(
    conn: Connection,
    tenant_id: str,
    *,
    action: str,
    actor: str,
    role: str,
    conversation_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    conn.execute(
        "INSERT INTO operator_actions (tenant_id, conversation_id, action, actor, role, detail)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        (tenant_id, conversation_id, action, actor, role, json.dumps(detail or {}, default=str)),
    )


# -- escalations -----------------------------------------------------------------------------------


def get_escalation(conn: Connection, tenant_id: str, escalation_id: int) -> dict[str, Any] | None:
    return conn.execute(
        "SELECT e.*, c.channel, c.customer_id, c.language FROM escalations e"
        " JOIN conversations c ON c.tenant_id = e.tenant_id AND c.conversation_id = e.conversation_id"
        " WHERE e.tenant_id = %s AND e.id = %s",
        (tenant_id, escalation_id),
    ).fetchone()


def list_escalations(
    conn: Connection, tenant_id: str, *, status: str | None, after_id: int, limit: int
) -> list[dict[str, Any]]:
    """Oldest first (the queue an agent works through); `status` None means every escalation."""
    return conn.execute(
        "SELECT e.*, c.channel, c.customer_id, c.language FROM escalations e"
        " JOIN conversations c ON c.tenant_id = e.tenant_id AND c.conversation_id = e.conversation_id"
        " WHERE e.tenant_id = %s AND (%s::text IS NULL OR e.status = %s) AND e.id > %s"
        " ORDER BY e.id LIMIT %s",
        (tenant_id, status, status, after_id, limit),
    ).fetchall()


def latest_messages(
    conn: Connection, tenant_id: str, conversation_ids: list[str], per_conversation: int
) -> list[dict[str, Any]]:
    """The last `per_conversation` messages of each conversation, oldest first within each."""
    if not conversation_ids:
        return []
    return conn.execute(
        "SELECT conversation_id, id, direction, actor, text, media_kind, status, created_at FROM ("
        "  SELECT m.*, row_number() OVER (PARTITION BY m.conversation_id ORDER BY m.id DESC) AS recency"
        "    FROM messages m WHERE m.tenant_id = %s AND m.conversation_id = ANY(%s) AND m.deleted_at IS NULL) ranked"
        " WHERE recency <= %s ORDER BY conversation_id, id",
        (tenant_id, conversation_ids, per_conversation),
    ).fetchall()


# -- analytics -------------------------------------------------------------------------------------


def automation_counts(conn: Connection, tenant_id: str, since: datetime, until: datetime) -> dict[str, Any]:
    """Conversations where a customer wrote in the range; of them, those the bot answered with no human
    (no agent or Page message, no reply from the console, no escalation, no operator takeover in the range)."""
    row = conn.execute(
        """
        WITH active AS (
            SELECT DISTINCT conversation_id FROM messages
             WHERE tenant_id = %(t)s AND created_at >= %(s)s AND created_at < %(u)s
               AND direction = 'inbound' AND actor = 'customer'
        ), flags AS (
            SELECT a.conversation_id,
                   EXISTS (SELECT 1 FROM messages m WHERE m.tenant_id = %(t)s AND m.conversation_id = a.conversation_id
                             AND m.created_at >= %(s)s AND m.created_at < %(u)s AND m.direction = 'outbound'
                             AND m.actor = 'bot' AND m.status IN ('sent', 'delivered', 'read')) AS bot_replied,
                   EXISTS (SELECT 1 FROM messages m WHERE m.tenant_id = %(t)s AND m.conversation_id = a.conversation_id
                             AND m.created_at >= %(s)s AND m.created_at < %(u)s
                             AND ((m.direction = 'inbound' AND m.actor IN ('agent', 'unknown'))
                                  -- a person's reply from the admin console
                                  OR (m.direction = 'outbound' AND m.actor = 'agent'))) AS human_wrote,
                   EXISTS (SELECT 1 FROM escalations x
                            WHERE x.tenant_id = %(t)s AND x.conversation_id = a.conversation_id
                             AND x.opened_at >= %(s)s AND x.opened_at < %(u)s) AS escalated,
                   EXISTS (SELECT 1 FROM operator_actions o WHERE o.tenant_id = %(t)s
                             AND o.conversation_id = a.conversation_id AND o.action = 'takeover'
                             AND o.at >= %(s)s AND o.at < %(u)s) AS taken_over
              FROM active a
        )
        SELECT count(*) AS conversations,
               count(*) FILTER (WHERE bot_replied AND NOT (human_wrote OR escalated OR taken_over)) AS automated,
               count(*) FILTER (WHERE human_wrote OR escalated OR taken_over) AS with_human,
               count(*) FILTER (WHERE NOT bot_replied) AS unanswered_by_bot
          FROM flags
        """,
        {"t": tenant_id, "s": since, "u": until},
    ).fetchone()
    assert row is not None
    return row


def reply_latency(conn: Connection, tenant_id: str, since: datetime, until: datetime) -> dict[str, Any]:
    row = conn.execute(
        "SELECT count(*) AS replies,"
        " percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) AS median_ms,"
        " percentile_cont(0.9) WITHIN GROUP (ORDER BY latency_ms) AS p90_ms"
        " FROM messages WHERE tenant_id = %s AND created_at >= %s AND created_at < %s"
        " AND direction = 'outbound' AND actor = 'bot' AND status IN ('sent', 'delivered', 'read')"
        " AND latency_ms IS NOT NULL",
        (tenant_id, since, until),
    ).fetchone()
    assert row is not None
    return row


def escalations_by_source(conn: Connection, tenant_id: str, since: datetime, until: datetime) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT source, count(*) AS escalations, count(*) FILTER (WHERE status = 'open') AS still_open"
        " FROM escalations WHERE tenant_id = %s AND opened_at >= %s AND opened_at < %s"
        " GROUP BY source ORDER BY source",
        (tenant_id, since, until),
    ).fetchall()


def messages_by_channel(conn: Connection, tenant_id: str, since: datetime, until: datetime) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT channel, direction, count(*) AS messages FROM messages"
        " WHERE tenant_id = %s AND created_at >= %s AND created_at < %s"
        " GROUP BY channel, direction ORDER BY channel, direction",
        (tenant_id, since, until),
    ).fetchall()


def usage_by_day(conn: Connection, tenant_id: str, since: datetime, until: datetime) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT (at AT TIME ZONE 'UTC')::date AS day, provider, model, purpose,"
        " sum(calls)::bigint AS calls, sum(tokens_in)::bigint AS tokens_in, sum(tokens_out)::bigint AS tokens_out"
        " FROM llm_usage WHERE tenant_id = %s AND at >= %s AND at < %s"
        " GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4",
        (tenant_id, since, until),
    ).fetchall()


def sync_totals(conn: Connection, tenant_id: str, since: datetime, until: datetime) -> dict[str, Any]:
    row = conn.execute(
        """
        SELECT count(*) AS syncs,
               count(*) FILTER (WHERE s.full_sync) AS full_syncs,
               count(*) FILTER (WHERE s.finalized_at IS NOT NULL) AS finalized,
               coalesce(sum(s.deactivated), 0)::bigint AS deactivated,
               coalesce(sum((SELECT sum(b.item_count) FROM sync_batches b
                              WHERE b.tenant_id = s.tenant_id AND b.sync_id = s.sync_id)), 0)::bigint AS received,
               coalesce(sum(i.processed), 0)::bigint AS processed,
               coalesce(sum(i.unchanged), 0)::bigint AS unchanged,
               coalesce(sum(i.failed), 0)::bigint AS failed
          FROM syncs s
          LEFT JOIN LATERAL (
                SELECT count(*) FILTER (WHERE outcome = 'processed') AS processed,
                       count(*) FILTER (WHERE outcome = 'unchanged') AS unchanged,
                       count(*) FILTER (WHERE outcome = 'failed') AS failed
                  FROM sync_items it WHERE it.tenant_id = s.tenant_id AND it.sync_id = s.sync_id) i ON true
         WHERE s.tenant_id = %s AND s.created_at >= %s AND s.created_at < %s
        """,
        (tenant_id, since, until),
    ).fetchone()
    assert row is not None
    return row


def list_syncs(
    conn: Connection,
    tenant_id: str,
    since: datetime,
    until: datetime,
    *,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Syncs started in the range, newest first; counts come from CatalogRepository.sync_status."""
    params: list[Any] = [tenant_id, since, until]
    sql = (
        "SELECT sync_id, created_at, finalized_at FROM syncs"
        " WHERE tenant_id = %s AND created_at >= %s AND created_at < %s"
    )
    if after is not None:
        sql += " AND (created_at, sync_id) < (%s, %s)"
        params.extend(after)
    sql += " ORDER BY created_at DESC, sync_id DESC LIMIT %s"
    params.append(limit)
    return conn.execute(sql, params).fetchall()


# -- export ----------------------------------------------------------------------------------------

EXPORT_COLUMNS = (
    "message_id",
    "conversation_id",
    "customer_id",
    "channel",
    "language",
    "timestamp",
    "direction",
    "actor",
    "text",
    "latency_ms",
    # The knowledge passages a bot reply cited (document, chunk, section, page, score), from the tool calls of
    # the message it answered, as the admin view's citedKnowledge; [] for every other row.
    "cited_knowledge",
)


def stream_export_rows(
    conn: Connection,
    tenant_id: str,
    since: datetime,
    until: datetime,
    *,
    customer_id: str | None,
    after_id: int,
    fetch_size: int = 500,
) -> Generator[dict[str, Any], None, None]:
    """Messages in [since, until) in id order, read through a server-side (named) cursor so that
    only `fetch_size` rows are in memory at a time. Stop iterating to stop reading."""
    from psycopg.rows import dict_row

    sql = (
        "SELECT m.id AS message_id, m.conversation_id, c.customer_id, m.channel,"
        " coalesce(m.language, c.language) AS language, m.created_at AS timestamp, m.direction, m.actor,"
        " CASE WHEN m.text = '' AND m.media_kind <> 'text' THEN '[' || m.media_kind || ']' ELSE m.text END AS text,"
        " m.latency_ms, coalesce(k.cited, '[]'::jsonb) AS cited_knowledge"
        " FROM messages m JOIN conversations c ON c.tenant_id = m.tenant_id AND c.conversation_id = m.conversation_id"
        # One indexed lookup per reply (tool_calls_message, migration 019); none for the other rows.
        " LEFT JOIN LATERAL (SELECT jsonb_agg(e.value ORDER BY t.id, e.n) AS cited FROM tool_calls t"
        "   CROSS JOIN LATERAL jsonb_array_elements(t.knowledge_chunks) WITH ORDINALITY AS e(value, n)"
        "   WHERE m.direction = 'outbound' AND t.message_id = m.in_reply_to AND t.tenant_id = m.tenant_id) k ON true"
        " WHERE m.tenant_id = %s AND m.created_at >= %s AND m.created_at < %s AND m.id > %s"
        " AND m.deleted_at IS NULL AND (%s::text IS NULL OR c.customer_id = %s)"
        " ORDER BY m.id"
    )
    # A named cursor needs a transaction; the shared connection is in autocommit mode otherwise.
    with conn.transaction(), conn.cursor(name="operations_export", row_factory=dict_row) as cursor:
        cursor.itersize = fetch_size
        cursor.execute(sql, (tenant_id, since, until, after_id, customer_id, customer_id))
        yield from cursor


# -- prices ----------------------------------------------------------------------------------------


def model_prices(conn: Connection, tenant_id: str) -> list[dict[str, Any]]:
    """The tenant's own prices (the shipped defaults live in mostrador.operations.pricing)."""
    return conn.execute(
        "SELECT model, input_per_million, output_per_million, updated_at FROM model_prices"
        " WHERE tenant_id = %s ORDER BY model",
        (tenant_id,),
    ).fetchall()


def set_model_price(
    conn: Connection, tenant_id: str, model: str, input_per_million: Any, output_per_million: Any
) -> None:
    conn.execute(
        "INSERT INTO model_prices (tenant_id, model, input_per_million, output_per_million) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (tenant_id, model) DO UPDATE SET input_per_million = EXCLUDED.input_per_million,"
        " output_per_million = EXCLUDED.output_per_million, updated_at = now()",
        (tenant_id, model, input_per_million, output_per_million),
    )
