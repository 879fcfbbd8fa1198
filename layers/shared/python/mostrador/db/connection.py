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
* API-path work runs under `database_deadline`: statement_timeout is enforced by the server, so it never
  fires while the server itself is hung (stopped, swapping, a wedged host). Past the deadline a watchdog
  asks the server for a new session; if that is not answered either, it cuts the socket under the
  request's connection, and the request answers 503 (DatabaseUnavailable) instead of holding its
  execution environment until API Gateway gives up at 29 s. A server that answers the probe is slow, not
  hung: the request goes on under its statement_timeout.
"""

from __future__ import annotations

import os
import select
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
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

# A probe of a server suspected hung gets this long to open a session (libpq's minimum connect timeout).
PROBE_CONNECT_SECONDS = 2
# What a 503 from a hung database asks the caller to wait before trying again.
RETRY_AFTER_SECONDS = 5

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
    if _deadline is not None:
        _deadline.watch(url)  # before the liveness ping: that, too, waits on the server
    conn = _connection
    if conn is not None:
        idle = time.monotonic() - _handed_out_at
        if url != _connection_url or not _alive(conn, ping=idle >= settings.database_ping_after_idle_seconds):
            _discard(conn)
            conn = _connection = None
    if conn is None:
        if _deadline is not None and _deadline.expired:
            raise DatabaseUnavailable("the database did not answer within the request's deadline")
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


class DatabaseUnavailable(Exception):
    """The database could not be reached or did not answer in time: the request may be tried again."""

    retry_after_seconds = RETRY_AFTER_SECONDS
    # What an API caller is told (the reason, in str(), is for the log).
    answer = "The database is not answering right now; try again in a few seconds."


class _Deadline:
    """A watchdog over one request's database work, started when the request first takes the connection."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._ended = threading.Event()
        self._lock = threading.Lock()
        self._watching = False

    def watch(self, url: str) -> None:
        if not self._watching:
            self._watching = True
            threading.Thread(target=self._run, args=(url,), name="database-deadline", daemon=True).start()

    def end(self) -> None:
        with self._lock:
            self._ended.set()

    def _run(self, url: str) -> None:
        if self._ended.wait(self.seconds) or _server_answers(url):
            return
        with self._lock:
            if self._ended.is_set():
                return
            self.expired = True
            conn = _connection
            if conn is not None:
                _cut(conn)


def _server_answers(url: str) -> bool:
    """Does the server open a new session and run a statement? (Only a hung server fails this quickly.)"""
    try:
        limits = SessionLimits(PROBE_CONNECT_SECONDS, PROBE_CONNECT_SECONDS, PROBE_CONNECT_SECONDS)
        with connect(url, limits, vector_types=False) as probe:
            probe.execute("SELECT 1")
        return True
    except Exception:
        return False


def _cut(conn: Connection) -> None:
    """Shut the connection's socket down under whoever waits on it: their read ends at once with an error
    and psycopg marks the connection broken (so it is replaced). Closing it from this thread instead would
    free a descriptor the waiting thread still polls."""
    with suppress(Exception), socket.socket(fileno=os.dup(conn.fileno())) as sock:
        sock.shutdown(socket.SHUT_RDWR)


_deadline: _Deadline | None = None


@contextmanager
def database_deadline(seconds: float | None = None) -> Iterator[None]:
    """Bound the database work of an API request (docs/deploy.md, "Database faults"). Connection-level
    failures inside (a hung server cut at the deadline, a connect timeout, a dropped connection, a
    statement or lock timeout) come out as DatabaseUnavailable, and the environment's connection is
    dropped when it is no longer usable, so the next request reconnects. Costs nothing (no thread, no
    psycopg import) when the request never takes the connection."""
    global _deadline
    if seconds is None:
        from mostrador.config import get_settings

        seconds = get_settings().database_request_deadline_seconds
    deadline = _deadline = _Deadline(seconds)
    try:
        yield
    except Exception as error:
        psycopg = sys.modules.get("psycopg")
        if psycopg is not None and isinstance(error, psycopg.OperationalError):
            conn = _connection
            if conn is not None and (conn.closed or conn.broken):
                close_connection()
            raise DatabaseUnavailable(f"the database did not answer ({type(error).__name__})") from error
        raise
    finally:
        deadline.end()
        _deadline = None
