"""One Postgres connection per execution environment, opened lazily, pgvector types registered.

psycopg is imported here and only here, so handlers that never touch the database (webhook, ingest's
POST) never pay for it.

What a database fault may cost (docs/deploy.md, "Database faults"):

* Every session starts with a connect timeout, a statement timeout and a lock timeout (settings), sent in
  the `options` startup parameter (no SET statement, no extra round trip), and TCP keepalives.
* A reused connection is checked before it is handed out. One the server has closed (its
  `idle_session_timeout`, a restart, `pg_terminate_backend`) has its goodbye waiting on the socket, seen
  without a round trip; one idle for `DATABASE_PING_AFTER_IDLE_SECONDS` or more is also pinged, because
  that goodbye can be lost while Lambda keeps the environment frozen. A dead connection is replaced before
  the caller runs its first statement, so no unit of work starts on it.
* `database_reachable` (/health) answers within a deadline even when the server does not answer at all.
"""

from __future__ import annotations

import select
import threading
import time
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg
    from psycopg.rows import DictRow

    from mostrador.config import Settings

    # Every connection we open returns rows as dicts.
    Connection = psycopg.Connection[DictRow]

# /health promises an answer within 2 s; the check gets this much of it.
HEALTH_CHECK_SECONDS = 1.5
# A peer that vanished without a word (a failed-over instance, a lost route) is noticed in about a minute.
TCP_KEEPALIVES = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3}

_connection: Connection | None = None
_connection_url: str | None = None
_handed_out_at = 0.0  # time.monotonic() of the last hand-out: the connection has been idle at most since then


@dataclass(frozen=True)
class SessionLimits:
    """How long a session may wait: to connect, per statement, per lock (seconds; 0 means no limit)."""

    connect_timeout_seconds: int
    statement_timeout_seconds: float
    lock_timeout_seconds: float

    @classmethod
    def for_functions(cls, settings: Settings) -> SessionLimits:
        return cls(
            settings.database_connect_timeout_seconds,
            settings.database_statement_timeout_seconds,
            settings.database_lock_timeout_seconds,
        )

    @classmethod
    def for_migrations(cls, settings: Settings) -> SessionLimits:
        # Index builds take minutes on a large catalog; the limit still ends a stuck migration (rolled
        # back, its locks released) before the migrate function's own timeout kills it holding them.
        return cls(
            settings.database_connect_timeout_seconds,
            settings.database_migration_statement_timeout_seconds,
            settings.database_migration_lock_timeout_seconds,
        )

    def connection_parameters(self, given: dict[str, Any]) -> dict[str, Any]:
        """libpq parameters to add to those a URL already has (`given`); what the URL says itself wins."""
        statement, lock = _ms(self.statement_timeout_seconds), _ms(self.lock_timeout_seconds)
        ours = f"-c statement_timeout={statement} -c lock_timeout={lock}"
        # Postgres applies `-c` switches in order, so the URL's own options (after ours) win.
        parameters: dict[str, Any] = {"options": f"{ours} {given['options']}" if given.get("options") else ours}
        if "connect_timeout" not in given:
            parameters["connect_timeout"] = self.connect_timeout_seconds
        parameters.update({name: value for name, value in TCP_KEEPALIVES.items() if name not in given})
        return parameters


def _ms(seconds: float) -> int:
    return int(round(seconds * 1000))


def connect(url: str, limits: SessionLimits | None = None, *, vector_types: bool = True) -> Connection:
    """A new connection with our session limits (the functions' unless `limits` says otherwise).
    `vector_types=False` leaves pgvector's types out (registering them imports numpy): for a connection
    that never reads or writes an embedding (ingest's sync receipt)."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict
    from psycopg.rows import dict_row

    if limits is None:
        from mostrador.config import get_settings

        limits = SessionLimits.for_functions(get_settings())
    parameters = limits.connection_parameters(conninfo_to_dict(url))
    # prepare_threshold=None: RDS Proxy pins sessions that use server-side prepared statements.
    conn = psycopg.connect(url, autocommit=True, prepare_threshold=None, row_factory=dict_row, **parameters)
    if vector_types:
        from pgvector.psycopg import register_vector

        # The vector extension does not exist yet only when the migrator connects to a new database.
        with suppress(psycopg.ProgrammingError):
            register_vector(conn)
    return conn


def get_connection(url: str | None = None) -> Connection:
    """The environment's connection: reused while it is alive, replaced (before any statement of the
    caller runs on it) when the server has dropped it."""
    global _connection, _connection_url, _handed_out_at
    from mostrador.config import get_settings

    settings = get_settings()
    if url is None:
        url = settings.secret("database_url")
        if not url:
            raise RuntimeError("DATABASE_URL is not configured")
    conn = _connection
    if conn is not None:
        idle = time.monotonic() - _handed_out_at
        if url != _connection_url or not _alive(conn, ping=idle >= settings.database_ping_after_idle_seconds):
            _discard(conn)
            conn = _connection = None
    if conn is None:
        conn = connect(url)
        _connection, _connection_url = conn, url
    _handed_out_at = time.monotonic()
    return conn


def _alive(conn: Connection, *, ping: bool) -> bool:
    import psycopg
    from psycopg.pq import TransactionStatus

    if conn.closed or conn.broken:
        return False
    if conn.info.transaction_status != TransactionStatus.IDLE:
        return True  # a caller is inside a transaction on it right now: not ours to judge or replace
    if _server_said_goodbye(conn):
        return False
    if ping:
        try:
            conn.execute("SELECT 1")
        except psycopg.Error:
            return False
    return True


def _server_said_goodbye(conn: Connection) -> bool:
    """Anything readable on an idle connection's socket (an error and EOF, in practice) means the server
    is done with it: nothing we do sends the server a reason to speak first."""
    try:
        fd = conn.fileno()
        if hasattr(select, "poll"):
            poller = select.poll()
            poller.register(fd, select.POLLIN)
            return bool(poller.poll(0))  # POLLHUP and POLLERR are always reported too
        return bool(select.select([fd], [], [], 0)[0])
    except (OSError, ValueError):
        return True


def _discard(conn: Connection) -> None:
    with suppress(Exception):
        conn.close()


def close_connection() -> None:
    global _connection
    if _connection is not None:
        _discard(_connection)
        _connection = None


def database_reachable(timeout_seconds: float = HEALTH_CHECK_SECONDS) -> bool:
    """For /health: can the environment's connection (or, if it was dropped, a new one) run a query
    within `timeout_seconds`?

    The check runs on a thread of its own, so a server that does not answer at all (stopped, or behind
    a network that drops packets) holds up that thread, never the caller. A check that misses the
    deadline keeps its connection (and closes it once it returns); the next call starts afresh.
    """
    global _connection, _connection_url, _handed_out_at
    from mostrador.config import get_settings

    url = get_settings().secret("database_url")
    if not url:
        return False
    cached = _connection if _connection_url == url else None
    lock, finished = threading.Lock(), threading.Event()
    outcome: dict[str, Any] = {}

    def check() -> None:
        import psycopg

        conn = cached
        result: Connection | None = None
        try:
            if conn is not None and (conn.closed or conn.broken or _server_said_goodbye(conn)):
                _discard(conn)
                conn = None
            if conn is not None:
                try:
                    conn.execute("SELECT 1")
                except psycopg.Error:  # dropped: one new connection decides
                    _discard(conn)
                    conn = None
            if conn is None:
                conn = connect(url)
                conn.execute("SELECT 1")
            result = conn
        except Exception:
            if conn is not None:
                _discard(conn)
        with lock:
            if outcome.get("abandoned"):
                if result is not None:
                    _discard(result)
                return
            outcome["connection"] = result
            finished.set()

    threading.Thread(target=check, name="database-health-check", daemon=True).start()
    finished.wait(timeout_seconds)
    with lock:
        if not finished.is_set():
            outcome["abandoned"] = True
    healthy: Connection | None = outcome.get("connection")
    if healthy is None:
        if _connection is cached:
            _connection = None  # dropped by the check, or still in its hands: never handed out again
        return False
    if _connection is not None and _connection is not healthy and _connection is not cached:
        _discard(_connection)  # a connection to another URL (the check already dropped a dead `cached`)
    _connection, _connection_url, _handed_out_at = healthy, url, time.monotonic()
    return True
