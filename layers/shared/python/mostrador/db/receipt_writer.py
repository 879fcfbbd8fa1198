"""Writing a sync's receipt from the ingest path, where the database is optional.

Ingest answers 202 once the items are queued, database or not. Writing the receipt there as well lets
`GET /ingest/syncs/{id}` know the sync at once; but a slow or hung database must not hold the answer up,
so the write runs on a worker thread that the request waits for at most `deadline_s`, on a connection of
its own (short connect and statement timeouts; a stuck write never blocks the other routes' connection).
After a failure or a timeout it stays quiet for `quiet_s` instead of making every request wait again.
Nothing is lost by giving up: each queued item carries the receipt and enrichment writes it too.

psycopg is imported on the worker thread at the first write, never when this module is imported.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING, Any

from mostrador.catalog.models import SyncReceipt
from mostrador.observability import logger

if TYPE_CHECKING:
    from mostrador.db.connection import Connection

CONNECT_TIMEOUT_S = 2
STATEMENT_TIMEOUT_MS = 1000


class ReceiptWriter:
    def __init__(
        self, database_url: Callable[[], str | None], *, deadline_s: float = 2.0, quiet_s: float = 10.0
    ) -> None:
        self._database_url = database_url
        self.deadline_s = deadline_s
        self.quiet_s = quiet_s
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync-receipts")
        self._lock = threading.Lock()
        self._quiet_until = 0.0
        self._conn: Connection | None = None
        self._conn_url: str | None = None

    def __call__(self, receipt: SyncReceipt) -> bool:
        """True when the receipt is stored; False (never an exception) when it was given up."""
        with self._lock:
            if time.monotonic() < self._quiet_until:
                return False
        future: Future[None] = self._executor.submit(self._write, receipt)
        try:
            future.result(timeout=self.deadline_s)
            return True
        except FutureTimeout:
            future.cancel()  # if still queued behind a stuck write; a running one finishes on its own
            self._fail("sync receipt not written in time; enrichment will record it", None)
        except Exception as exc:
            self._fail("sync receipt not written; enrichment will record it", exc)
        return False

    def _fail(self, message: str, exc: BaseException | None) -> None:
        extra: dict[str, Any] = {"deadline_s": self.deadline_s}
        if exc is not None:
            extra["error"] = f"{type(exc).__name__}: {exc}"
        logger.warning(message, extra=extra)
        with self._lock:
            self._quiet_until = time.monotonic() + self.quiet_s

    def _write(self, receipt: SyncReceipt) -> None:
        from mostrador.db.catalog_repository import CatalogRepository
        from mostrador.db.connection import connect_with_deadlines

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
        conn = connect_with_deadlines(
            url, connect_timeout_s=CONNECT_TIMEOUT_S, statement_timeout_ms=STATEMENT_TIMEOUT_MS
        )
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
        """Forget the quiet period, the worker and the connection (tests; a changed configuration)."""
        with self._lock:
            self._quiet_until = 0.0
            stale, self._executor = (
                self._executor,
                ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync-receipts"),
            )
        stale.shutdown(wait=False, cancel_futures=True)  # a write stuck on a hung server ends on its own
        if self._conn is not None:
            self._discard(self._conn)
