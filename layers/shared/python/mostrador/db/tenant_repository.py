"""SQL for tenants, the channel ids and keys that route to them, and their token use (docs/tenants.md).

Unlike the other repositories, some reads here span every tenant: they serve the deployment's
operator (the tenant list, the routing document). Everything about one tenant takes its id.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mostrador.db.connection import Connection

# Columns an update may set (the admin API's names are mapped onto these in operations/tenants.py).
SETTABLE = frozenset(
    {
        "display_name",
        "active",
        "time_zone",
        "default_language",
        "currency",
        "system_prompt",
        "business_hours",
        "after_hours_message",
        "escalation_agent_ids",
        "escalation_email",
        "escalation_webhook_url",
        "takeover_pause_minutes",
        "llm_provider",
        "chat_model",
        "monthly_token_budget",
        "over_budget",
        "budget_model",
        "support_board_api_url",
        "support_board_dm_bot_user_id",
        "support_board_agent_ids",
        "comment_bot_proxy_user_id",
        "comment_bot_initiation_tag",
        "claims_unrouted",
    }
)
_JSON_COLUMNS = frozenset({"business_hours"})


def _value(column: str, value: Any) -> Any:
    if column in _JSON_COLUMNS and value is not None:
        from psycopg.types.json import Jsonb

        return Jsonb(value)
    return value


def get_tenant(conn: Connection, tenant_id: str) -> dict[str, Any] | None:
    return conn.execute("SELECT * FROM tenants WHERE tenant_id = %s", (tenant_id,)).fetchone()


def get_tenant_with_numbers(conn: Connection, tenant_id: str) -> dict[str, Any] | None:
    """The tenant's row and the WhatsApp phone_number_ids it claims (`whatsapp_numbers`), in one query."""
    return conn.execute(
        """SELECT t.*, ARRAY(SELECT c.channel_key FROM tenant_channels c
                              WHERE c.tenant_id = t.tenant_id AND c.channel = 'whatsapp'
                              ORDER BY c.channel_key) AS whatsapp_numbers
             FROM tenants t WHERE t.tenant_id = %s""",
        (tenant_id,),
    ).fetchone()


def support_board_bot_owner(conn: Connection, api_url: str, bot_user_id: str) -> str | None:
    """The tenant whose Support Board installation and bot user these are (index tenants_support_board_bot)."""
    row = conn.execute(
        "SELECT tenant_id FROM tenants WHERE lower(support_board_api_url) = lower(%s)"
        " AND support_board_dm_bot_user_id = %s",
        (api_url, bot_user_id),
    ).fetchone()
    return str(row["tenant_id"]) if row else None


def tenant_exists(conn: Connection, tenant_id: str) -> bool:
    return conn.execute("SELECT 1 FROM tenants WHERE tenant_id = %s", (tenant_id,)).fetchone() is not None


def list_tenants(conn: Connection) -> list[dict[str, Any]]:
    """Every tenant (operator view), with how many channel ids and live keys route to it."""
    return conn.execute(
        """SELECT t.*,
                  (SELECT count(*) FROM tenant_channels c WHERE c.tenant_id = t.tenant_id) AS channel_count,
                  (SELECT count(*) FROM tenant_keys k WHERE k.tenant_id = t.tenant_id AND k.revoked_at IS NULL)
                      AS key_count
             FROM tenants t ORDER BY t.tenant_id"""
    ).fetchall()


def count_tenants(conn: Connection) -> int:
    row = conn.execute("SELECT count(*) AS n FROM tenants").fetchone()
    return int(row["n"]) if row else 0


def create_tenant(conn: Connection, tenant_id: str, values: Mapping[str, Any]) -> dict[str, Any] | None:
    """The new tenant's row; None when the id is taken."""
    columns = [c for c in values if c in SETTABLE]
    names = ", ".join(["tenant_id", *columns])
    placeholders = ", ".join(["%s"] * (len(columns) + 1))
    return conn.execute(
        f"INSERT INTO tenants ({names}) VALUES ({placeholders}) ON CONFLICT (tenant_id) DO NOTHING RETURNING *",
        (tenant_id, *(_value(c, values[c]) for c in columns)),
    ).fetchone()


def update_tenant(conn: Connection, tenant_id: str, changes: Mapping[str, Any]) -> dict[str, Any] | None:
    """The updated row; None when there is no such tenant."""
    columns = [c for c in changes if c in SETTABLE]
    if not columns:
        return get_tenant(conn, tenant_id)
    assignments = ", ".join(f"{c} = %s" for c in columns)
    return conn.execute(
        f"UPDATE tenants SET {assignments}, updated_at = now() WHERE tenant_id = %s RETURNING *",
        (*(_value(c, changes[c]) for c in columns), tenant_id),
    ).fetchone()


def tenant_channels(conn: Connection, tenant_id: str) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT channel, channel_key, created_at FROM tenant_channels WHERE tenant_id = %s"
        " ORDER BY channel, channel_key",
        (tenant_id,),
    ).fetchall()


def claim_channel(conn: Connection, tenant_id: str, channel: str, channel_key: str) -> str:
    """Claim a channel id for the tenant; the tenant that owns it afterwards (another one if it was taken)."""
    row = conn.execute(
        "INSERT INTO tenant_channels (channel, channel_key, tenant_id) VALUES (%s, %s, %s)"
        " ON CONFLICT (channel, channel_key) DO UPDATE SET channel = EXCLUDED.channel RETURNING tenant_id",
        (channel, channel_key, tenant_id),
    ).fetchone()
    assert row is not None
    return str(row["tenant_id"])


def release_channel(conn: Connection, tenant_id: str, channel: str, channel_key: str) -> bool:
    row = conn.execute(
        "DELETE FROM tenant_channels WHERE tenant_id = %s AND channel = %s AND channel_key = %s RETURNING 1",
        (tenant_id, channel, channel_key),
    ).fetchone()
    return row is not None


def claim_conversation_channels(conn: Connection, tenant_id: str) -> int:
    """Claim for the tenant every Meta channel id its conversations name (the same rule as migration 014);
    ids another tenant owns stay theirs. How many were claimed now."""
    rows = conn.execute(
        """INSERT INTO tenant_channels (channel, channel_key, tenant_id)
           SELECT DISTINCT CASE split_part(conversation_id, ':', 1)
                               WHEN 'wa' THEN 'whatsapp' WHEN 'fb' THEN 'messenger' WHEN 'ig' THEN 'instagram' END,
                  split_part(conversation_id, ':', 2), tenant_id
             FROM conversations
            WHERE tenant_id = %s AND split_part(conversation_id, ':', 1) IN ('wa', 'fb', 'ig')
              AND split_part(conversation_id, ':', 2) <> ''
           ON CONFLICT DO NOTHING RETURNING 1""",
        (tenant_id,),
    ).fetchall()
    return len(rows)


def add_key(
    conn: Connection, tenant_id: str, *, key_id: str, kind: str, key_hash: str, hint: str, label: str | None
) -> dict[str, Any] | None:
    """The new key's row; None when that key (its hash) is already registered (to anyone)."""
    return conn.execute(
        "INSERT INTO tenant_keys (key_id, tenant_id, kind, key_hash, hint, label) VALUES (%s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (key_hash) DO NOTHING"
        " RETURNING key_id, kind, hint, label, created_at, revoked_at",
        (key_id, tenant_id, kind, key_hash, hint, label),
    ).fetchone()


def list_keys(conn: Connection, tenant_id: str) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT key_id, kind, hint, label, created_at, revoked_at FROM tenant_keys WHERE tenant_id = %s"
        " ORDER BY created_at, key_id",
        (tenant_id,),
    ).fetchall()


def revoke_key(conn: Connection, tenant_id: str, key_id: str, now: datetime) -> dict[str, Any] | None:
    """The revoked key (revoking twice keeps the first time); None when the tenant has no such key."""
    return conn.execute(
        "UPDATE tenant_keys SET revoked_at = coalesce(revoked_at, %s) WHERE tenant_id = %s AND key_id = %s"
        " RETURNING key_id, kind, hint, label, created_at, revoked_at",
        (now, tenant_id, key_id),
    ).fetchone()


def routing_rows(conn: Connection) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """(tenants, channel ids, live keys) of every tenant, for the routing document."""
    tenants = conn.execute("SELECT tenant_id, active, claims_unrouted FROM tenants").fetchall()
    channels = conn.execute("SELECT channel, channel_key, tenant_id FROM tenant_channels").fetchall()
    keys = conn.execute(
        "SELECT kind, key_hash, tenant_id, revoked_at FROM tenant_keys WHERE revoked_at IS NULL"
    ).fetchall()
    return tenants, channels, keys


def tokens_used_since(conn: Connection, tenant_id: str, since: datetime) -> int:
    """LLM tokens (in + out, every purpose) the tenant used since `since`."""
    row = conn.execute(
        "SELECT coalesce(sum(tokens_in + tokens_out), 0)::bigint AS used FROM llm_usage"
        " WHERE tenant_id = %s AND at >= %s",
        (tenant_id, since),
    ).fetchone()
    return int(row["used"]) if row else 0
