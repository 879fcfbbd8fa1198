"""SQL for admin access: the admin_tokens table (hashes only) and the audit_log (migration 015).

`tenant_id=None` in a read means "every tenant" and is only ever passed for a deployment operator; every
other caller's reads are bound to its own tenant by the use cases in mostrador.operations.access.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mostrador.db.connection import Connection

_COLUMNS = (
    "id, token_prefix, tenant_id, role, name, created_by, created_at, expires_at, last_used_at, revoked_at, revoked_by"
)


def find_active_token(conn: Connection, token_hash: bytes) -> dict[str, Any] | None:
    """The token with this hash unless revoked or expired; notes its use in the same round trip (a function
    looks a token up about once per cache period, so this is not a write per request)."""
    return conn.execute(
        "UPDATE admin_tokens SET last_used_at = now()"
        " WHERE token_hash = %s AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())"
        " RETURNING id, name, role, tenant_id, expires_at",
        (token_hash,),
    ).fetchone()


def insert_token(
    conn: Connection,
    *,
    token_hash: bytes,
    token_prefix: str,
    tenant_id: str | None,
    role: str,
    name: str,
    created_by: str,
    expires_at: datetime | None,
) -> dict[str, Any]:
    row = conn.execute(
        "INSERT INTO admin_tokens (token_hash, token_prefix, tenant_id, role, name, created_by, expires_at)"
        f" VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING {_COLUMNS}",
        (token_hash, token_prefix, tenant_id, role, name, created_by, expires_at),
    ).fetchone()
    assert row is not None
    return row


def get_token(conn: Connection, tenant_id: str | None, token_id: int) -> dict[str, Any] | None:
    """The token if it is `tenant_id`'s; `tenant_id=None` (an operator): whoever's it is."""
    return conn.execute(
        f"SELECT {_COLUMNS} FROM admin_tokens WHERE (%(tenant)s::text IS NULL OR tenant_id = %(tenant)s)"
        " AND id = %(id)s",
        {"tenant": tenant_id, "id": token_id},
    ).fetchone()


def list_tokens(
    conn: Connection,
    tenant_id: str | None,
    *,
    active_only: bool,
    role: str | None,
    now: datetime,
    before_id: int | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Newest first. `tenant_id=None`: every tenant's tokens and the operators' (an operator's view)."""
    where: list[str] = ["true"]
    params: list[Any] = []
    if tenant_id is not None:
        where.append("tenant_id = %s")
        params.append(tenant_id)
    if active_only:
        where.append("revoked_at IS NULL AND (expires_at IS NULL OR expires_at > %s)")
        params.append(now)
    if role is not None:
        where.append("role = %s")
        params.append(role)
    if before_id is not None:
        where.append("id < %s")
        params.append(before_id)
    params.append(limit)
    return conn.execute(
        f"SELECT {_COLUMNS} FROM admin_tokens WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT %s",
        params,
    ).fetchall()


def revoke_token(conn: Connection, tenant_id: str | None, token_id: int, revoked_by: str) -> dict[str, Any] | None:
    """Revoke if not revoked yet (and `tenant_id`'s; None: an operator's, whoever's); None when it already
    was (the caller has checked that it exists)."""
    return conn.execute(
        "UPDATE admin_tokens SET revoked_at = now(), revoked_by = %(by)s"
        " WHERE (%(tenant)s::text IS NULL OR tenant_id = %(tenant)s) AND id = %(id)s AND revoked_at IS NULL"
        f" RETURNING {_COLUMNS}",
        {"by": revoked_by, "tenant": tenant_id, "id": token_id},
    ).fetchone()


# -- audit log -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditEntry:
    tenant_id: str | None
    actor: str
    actor_role: str
    actor_token_id: int | None
    action: str
    method: str
    route: str
    target_id: str | None
    status: int


def record_audit(conn: Connection, entry: AuditEntry) -> None:
    conn.execute(
        "INSERT INTO audit_log (tenant_id, actor, actor_role, actor_token_id, action, method, route, target_id, status)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            entry.tenant_id,
            entry.actor,
            entry.actor_role,
            entry.actor_token_id,
            entry.action,
            entry.method,
            entry.route,
            entry.target_id,
            entry.status,
        ),
    )


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None
    action: str | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive


def list_audit(
    conn: Connection,
    tenant_id: str | None,
    filters: AuditFilter,
    *,
    after: tuple[datetime, int] | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Newest first; `after` is the (at, id) of the previous page's last entry. `tenant_id=None`: every
    tenant's entries and the deployment's (an operator's view)."""
    where: list[str] = ["true"]
    params: list[Any] = []
    if tenant_id is not None:
        where.append("tenant_id = %s")
        params.append(tenant_id)
    for column, value in (("actor", filters.actor), ("action", filters.action)):
        if value is not None:
            where.append(f"{column} = %s")
            params.append(value)
    if filters.since is not None:
        where.append("at >= %s")
        params.append(filters.since)
    if filters.until is not None:
        where.append("at < %s")
        params.append(filters.until)
    if after is not None:
        where.append("(at, id) < (%s, %s)")
        params.extend(after)
    params.append(limit)
    return conn.execute(
        "SELECT id, tenant_id, actor, actor_role, actor_token_id, action, method, route, target_id, status, at"
        f" FROM audit_log WHERE {' AND '.join(where)} ORDER BY at DESC, id DESC LIMIT %s",
        params,
    ).fetchall()
