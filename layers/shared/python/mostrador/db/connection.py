"""One Postgres connection per execution environment, opened lazily, pgvector types registered.

psycopg is imported here and only here, so handlers that never touch the database (webhook, ingest's
POST) never pay for it.
"""

from __future__ import annotations

from contextlib import suppress
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psycopg
    from psycopg.rows import DictRow

    # Every connection we open returns rows as dicts.
    Connection = psycopg.Connection[DictRow]

_connection: Connection | None = None
_connection_url: str | None = None


def connect(url: str) -> Connection:
    import psycopg
    from pgvector.psycopg import register_vector
    from psycopg.rows import dict_row

    # prepare_threshold=None: RDS Proxy pins sessions that use server-side prepared statements.
    conn = psycopg.connect(url, autocommit=True, prepare_threshold=None, row_factory=dict_row)
    # The vector extension does not exist yet only when the migrator connects to a new database.
    with suppress(psycopg.ProgrammingError):
        register_vector(conn)
    return conn


def get_connection(url: str | None = None) -> Connection:
    """The shared connection, reopened if it was closed or broken (Lambda freezes and thaws)."""
    global _connection, _connection_url
    if url is None:
        from mostrador.config import get_settings

        url = get_settings().secret("database_url")
        if not url:
            raise RuntimeError("DATABASE_URL is not configured")
    if _connection is None or _connection.closed or _connection.broken or url != _connection_url:
        if _connection is not None and not _connection.closed:
            _connection.close()
        _connection = connect(url)
        _connection_url = url
    return _connection


def close_connection() -> None:
    global _connection
    if _connection is not None:
        _connection.close()
        _connection = None


def database_reachable() -> bool:
    """For /health: can we open (or reuse) the connection and run a query?"""
    try:
        get_connection().execute("SELECT 1")
    except Exception:
        close_connection()  # the next call reconnects instead of reusing a broken connection
        return False
    return True


def connect_with_deadlines(url: str, *, connect_timeout_s: int, statement_timeout_ms: int) -> Connection:
    """A connection for a best-effort write on a request path: it gives up connecting after
    `connect_timeout_s` (psycopg's minimum is 2), the server cancels any statement or lock wait longer than
    `statement_timeout_ms`, and pgvector's types are not registered (that would import numpy)."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict
    from psycopg.rows import dict_row

    extra = f"-c statement_timeout={statement_timeout_ms} -c lock_timeout={statement_timeout_ms}"
    options = " ".join(filter(None, [str(conninfo_to_dict(url).get("options") or ""), extra]))
    return psycopg.connect(
        url,
        autocommit=True,
        prepare_threshold=None,
        row_factory=dict_row,
        connect_timeout=connect_timeout_s,
        options=options,
    )
