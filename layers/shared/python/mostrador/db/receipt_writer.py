"""Writing a sync's receipt from the ingest path, where the database is optional.

Ingest answers 202 once the items are queued, database or not. Writing the receipt there as well lets
`GET /ingest/syncs/{id}` know the sync at once; but a slow or hung database must not hold the answer up,
so the write runs on a thread of its own that the request waits for at most `deadline_s` (a daemon
thread: one stuck on a frozen server never holds the process at exit), on a connection of its own (short
connect and statement timeouts; a stuck write never blocks the other routes' connection).
The first write of an environment waits up to `first_deadline_s` instead: it imports psycopg and opens
the connection, which on a small Lambda can take longer than a warm write's deadline.
A write the request stopped waiting for is not counted on: on Lambda the environment is frozen once the
response is sent, and its thread goes on only when the next request thaws it (if one ever comes).
After a failure the writer stays quiet for `quiet_s` (those requests do not wait at all); a write that
was only slow silences nothing, and later requests queue behind it unless it has run longer than any
write on an answering server can (STUCK_AFTER_S).
Nothing is lost by giving up: each queued item carries the receipt and enrichment writes it too.

psycopg is imported on the worker thread at the first write, never when this module is imported.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mostrador.catalog.models import SyncReceipt
from mostrador.observability import logger

if TYPE_CHECKING:
    from mostrador.db.connection import Connection

CONNECT_TIMEOUT_S = 2  # psycopg's minimum
STATEMENT_TIMEOUT_S = 1.0  # statements and lock waits alike
# The first write of an environment imports psycopg and opens the (TLS, on RDS) connection: on a small
# Lambda that alone can take longer than a warm write's deadline. Just above the connect timeout, so a
# server that does not answer at all costs that first request the connect timeout, no more.
FIRST_WRITE_DEADLINE_S = 2.0
# A write on a server that answers ends within its timeouts (a statement, a reconnect, the statement
# again). One running longer is on a server that never answers (a stopped server enforces no
# statement_timeout): later requests do not queue behind it.
STUCK_AFTER_S = 2 * STATEMENT_TIMEOUT_S + CONNECT_TIMEOUT_S + 1.0


class ReceiptWriter:
    def __init__(
        self,
        database_url: Callable[[], str | None],
        *,
        deadline_s: float = 0.5,
        first_deadline_s: float = FIRST_WRITE_DEADLINE_S,
        quiet_s: float = 10.0,
    ) -> None:
        self._database_url = database_url
        self.deadline_s = deadline_s
        self.first_deadline_s = first_deadline_s
        self.quiet_s = quiet_s
        self._lock = threading.Lock()  # the state below and the hand-over between request and writer
        self._writing = threading.Lock()  # one write at a time on the one connection
        self._quiet_until = 0.0
        self._attempted = False  # a first write (import and connect) has been started in this environment
        self._running_since: float | None = None  # when the write holding the connection started
        self._generation = 0  # bumped by reset(): a write from before it no longer silences anything
        self._conn: Connection | None = None
        self._conn_url: str | None = None

    def __call__(self, receipt: SyncReceipt) -> bool:
        """True when the receipt is stored; False (never an exception) when it was given up."""
        with self._lock:
            now = time.monotonic()
            if now < self._quiet_until:
                return False
            if self._running_since is not None and now - self._running_since > STUCK_AFTER_S:
                return False  # the server does not answer: do not queue behind that write
            deadline = self.deadline_s if self._attempted else max(self.deadline_s, self.first_deadline_s)
            self._attempted = True
            generation = self._generation
        done = threading.Event()
        errors: list[BaseException] = []

        def write() -> None:
            with self._writing:
                with self._lock:
                    if time.monotonic() < self._quiet_until:  # the write queued before this one failed
                        errors.append(RuntimeError("an earlier receipt write failed moments ago"))
                        done.set()
                        return
                    self._running_since = time.monotonic()
                try:
                    self._write(receipt)
                except Exception as exc:
                    errors.append(exc)
                with self._lock:
                    self._running_since = None
                    if errors and generation == self._generation:
                        # Only a failure silences the writer (the next requests do not wait at all); a
                        # write that was only slow does not, whether or not its request waited for it.
                        self._quiet_until = time.monotonic() + self.quiet_s
            done.set()

        threading.Thread(target=write, name="sync-receipt", daemon=True).start()
        if not done.wait(deadline):
            self._warn("sync receipt not written in time; enrichment will record it", None, deadline)
        elif errors:
            self._warn("sync receipt not written; enrichment will record it", errors[0], deadline)
        else:
            return True
        return False

    def _warn(self, message: str, exc: BaseException | None, deadline: float) -> None:
        extra: dict[str, Any] = {"deadline_s": deadline}
        if exc is not None:
            extra["error"] = f"{type(exc).__name__}: {exc}"
        logger.warning(message, extra=extra)

    def _write(self, receipt: SyncReceipt) -> None:
        from mostrador.db.catalog_repository import CatalogRepository
        from mostrador.db.connection import SessionLimits, connect

        url = self._database_url()
        if not url:
            raise RuntimeError("DATABASE_URL is not configured")
        reused = self._conn
        if reused is not None and not reused.closed and not reused.broken and url == self._conn_url:
            try:
                CatalogRepository(reused).record_receipt(receipt)
                return
            except Exception as exc:  # e.g. the server ended the idle session: one more try, on a new one
                logger.info("receipt connection failed; reconnecting", extra={"error": type(exc).__name__})
        if reused is not None:
            self._discard(reused)
        limits = SessionLimits(CONNECT_TIMEOUT_S, STATEMENT_TIMEOUT_S, STATEMENT_TIMEOUT_S)
        conn = connect(url, limits, vector_types=False)
        self._conn, self._conn_url = conn, url
        try:
            CatalogRepository(conn).record_receipt(receipt)
        except Exception:
            self._discard(conn)
            raise

    def _discard(self, conn: Connection) -> None:
        if self._conn is conn:
            self._conn = None
        try:
            conn.close()
        except Exception as exc:  # closing a broken connection may fail; it is dropped either way
            logger.debug("closing the receipt connection failed", extra={"error": str(exc)})

    def reset(self) -> None:
        """Back to a new environment's state: no quiet period, no connection, the next write a first one
        (tests; a changed configuration)."""
        with self._lock:
            self._quiet_until = 0.0
            self._attempted = False
            self._generation += 1
        conn = self._conn
        if conn is not None:
            self._discard(conn)  # a write stuck on it (hung server) fails and ends
