"""Writing a sync's receipt from the ingest path, where the database is optional.

Ingest answers 202 once the items are queued, database or not. Writing the receipt there as well lets
`GET /ingest/syncs/{id}` know the sync at once; but a slow or hung database must not hold the answer up,
so the write runs on a thread of its own that the request waits for at most `deadline_s` (a daemon
thread: one stuck on a frozen server never holds the process at exit), on a connection of its own (short
connect and statement timeouts; a stuck write never blocks the other routes' connection).
After a failure or a timeout it stays quiet for `quiet_s` instead of making every request wait again;
a write that was only late (and then succeeded) ends the quiet period.
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


class ReceiptWriter:
    def __init__(
        self, database_url: Callable[[], str | None], *, deadline_s: float = 0.5, quiet_s: float = 10.0
    ) -> None:
        self._database_url = database_url
        self.deadline_s = deadline_s
        self.quiet_s = quiet_s
        self._lock = threading.Lock()  # the quiet period and the hand-over between request and writer
        self._writing = threading.Lock()  # one write at a time on the one connection
        self._quiet_until = 0.0
        self._conn: Connection | None = None
        self._conn_url: str | None = None

    def __call__(self, receipt: SyncReceipt) -> bool:
        """True when the receipt is stored; False (never an exception) when it was given up."""
        with self._lock:
            if time.monotonic() < self._quiet_until:
                return False
        done = threading.Event()
        errors: list[BaseException] = []
        given_up = False

        def write() -> None:
            try:
                with self._writing:
                    self._write(receipt)
            except Exception as exc:
                errors.append(exc)
            with self._lock:
                done.set()
                if given_up and not errors:
                    # Only slow (a cold start's import and connect): the database answers, stop skipping.
                    self._quiet_until = 0.0

        threading.Thread(target=write, name="sync-receipt", daemon=True).start()
        done.wait(self.deadline_s)
        with self._lock:
            if not done.is_set():
                given_up = True
                self._quiet_until = time.monotonic() + self.quiet_s
        if given_up:
            self._warn("sync receipt not written in time; enrichment will record it", None)
        elif errors:
            with self._lock:
                self._quiet_until = time.monotonic() + self.quiet_s
            self._warn("sync receipt not written; enrichment will record it", errors[0])
        else:
            return True
        return False

    def _warn(self, message: str, exc: BaseException | None) -> None:
        extra: dict[str, Any] = {"deadline_s": self.deadline_s}
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
        """Forget the quiet period and the connection (tests; a changed configuration)."""
        with self._lock:
            self._quiet_until = 0.0
        conn = self._conn
        if conn is not None:
            self._discard(conn)  # a write stuck on it (hung server) fails and ends
