"""SQL for the catalog: product state for delta detection, writes, sync bookkeeping, usage.

Concurrency with full syncs (docs/catalog.md): an enrich batch records its outcomes — and writes, and puts
back what a full sync deactivated after the batch was planned — holding its tenant's catalog lock shared;
a full sync's finalization holds it exclusively, so it sees all of a batch's outcomes or none of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from mostrador.catalog.enrichment import ItemOutcome, ProductState, ProductWrite, QueuedItem, StockState
from mostrador.catalog.models import EnrichMessage, SyncReceipt, source_hash
from mostrador.llm.base import Usage

if TYPE_CHECKING:
    from mostrador.db.connection import Connection

# pg_advisory_xact_lock(class, key): the class keeps these apart from any other advisory lock.
_CATALOG_LOCK_CLASS = 727_114

# One statement, so that ingest's best-effort write is one round trip. Enrichment runs the same for every
# batch it reads (idempotent): the earliest receipt of a sync or batch wins, whoever wrote it first.
_RECORD_RECEIPT = """
WITH sync AS (
    INSERT INTO syncs AS s (tenant_id, sync_id, full_sync, created_at)
    VALUES (%(tenant)s, %(sync)s, %(full)s, %(received)s)
    ON CONFLICT (tenant_id, sync_id) DO UPDATE
       SET full_sync = s.full_sync OR EXCLUDED.full_sync, created_at = least(s.created_at, EXCLUDED.created_at)
     WHERE (EXCLUDED.full_sync AND NOT s.full_sync) OR EXCLUDED.created_at < s.created_at
)
INSERT INTO sync_batches AS b (tenant_id, sync_id, batch_id, item_count, part, final, received_at)
VALUES (%(tenant)s, %(sync)s, %(batch)s, %(count)s, %(part)s, %(final)s, %(received)s)
ON CONFLICT (tenant_id, sync_id, batch_id) DO UPDATE SET received_at = EXCLUDED.received_at
 WHERE EXCLUDED.received_at < b.received_at
"""


# What the items received since a full sync began named (its own included): (item_code, warehouse).
_NAMED_SINCE_BEGAN = """
WITH named AS (
    SELECT i.item_code, i.warehouse
      FROM sync_batches b
      JOIN sync_items i ON i.tenant_id = b.tenant_id AND i.sync_id = b.sync_id AND i.batch_id = b.batch_id
     WHERE b.tenant_id = %(t)s
       AND b.received_at >= (SELECT min(received_at) FROM sync_batches WHERE tenant_id = %(t)s AND sync_id = %(s)s)
)
"""


def _receipt_params(receipt: SyncReceipt) -> dict[str, Any]:
    return {
        "tenant": receipt.tenant_id,
        "sync": receipt.sync_id,
        "full": receipt.full_sync,
        "received": receipt.received_at,
        "batch": receipt.batch_id,
        "count": receipt.item_count,
        "part": receipt.part,
        "final": receipt.final,
    }


def _printable(text: str | None, limit: int) -> str | None:
    """Error texts and item codes of broken items can carry what the database refuses (NUL, surrogates)."""
    if not text:
        return None
    cleaned = text.replace("\x00", "\\u0000").encode("utf-8", "backslashreplace").decode("utf-8")
    return cleaned[:limit]


def _item_key(o: ItemOutcome) -> tuple[str, str, str, int, str, str]:
    """An item's row in sync_items: its sync, batch and place, and what it was (printable, bounded)."""
    return (
        o.tenant_id,
        o.sync_id,
        o.batch_id,
        o.index,
        _printable(o.item_code, 200) or "",
        _printable(o.warehouse, 200) or "",
    )


class CatalogRepository:
    """Implements catalog.enrichment.CatalogStore on Postgres. Counts the catalog rows it writes."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.rows_written = 0

    def load_products(self, tenant_id: str, item_codes: list[str]) -> dict[str, ProductState]:
        rows = self.conn.execute(
            """SELECT item_code, item_name, description_hash, summary, attributes_hash, searchable_text,
                      embedding_model, embedding IS NOT NULL AS has_embedding, price, price_bolivar, active
                 FROM products WHERE tenant_id = %s AND item_code = ANY(%s)""",
            (tenant_id, item_codes),
        ).fetchall()
        return {r["item_code"]: ProductState(**{k: v for k, v in r.items() if k != "item_code"}) for r in rows}

    def load_stock(self, tenant_id: str, item_codes: list[str]) -> dict[tuple[str, str], StockState]:
        rows = self.conn.execute(
            """SELECT item_code, warehouse, branch, stock, source_hash
                 FROM product_stock WHERE tenant_id = %s AND item_code = ANY(%s)""",
            (tenant_id, item_codes),
        ).fetchall()
        return {(r["item_code"], r["warehouse"]): StockState(r["branch"], r["stock"], r["source_hash"]) for r in rows}

    @contextmanager
    def batch_transaction(self, tenant_ids: Iterable[str], *, writes: bool) -> Iterator[None]:
        """One transaction for a batch's writes, outcomes and restore, holding the tenants' catalog lock
        shared. Each write_product is a savepoint in it. Without catalog writes (an unchanged re-send) the
        statements are pipelined: one round trip."""
        if writes:
            with self.conn.transaction():
                self._lock_catalog(tenant_ids, exclusive=False)
                yield
            return
        with self.conn.pipeline(), self.conn.transaction():
            self._lock_catalog(tenant_ids, exclusive=False)
            yield

    def _lock_catalog(self, tenant_ids: Iterable[str], *, exclusive: bool) -> None:
        function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        for tenant_id in sorted(set(tenant_ids)):  # one order everywhere: no lock cycles between batches
            self.conn.execute(f"SELECT {function}(%s, hashtext(%s))", (_CATALOG_LOCK_CLASS, tenant_id))

    def write_product(self, write: ProductWrite) -> None:
        """Stores one product. Inside batch_transaction this is a savepoint: a database error (bad data,
        a constraint) rolls back this product alone and is raised for the caller to report."""
        from psycopg.types.json import Jsonb

        item = write.item
        with self.conn.transaction():
            if write.full:
                self.conn.execute(
                    """INSERT INTO products AS p (tenant_id, item_code, item_name, description_html, description_text,
                           description_hash, summary, summary_model, category, sub_category, brand, line, item_group,
                           price, price_bolivar, attributes_hash, searchable_text, search_vector, embedding,
                           embedding_model, active, image_urls)
                       VALUES (%(tenant)s, %(code)s, %(name)s, %(html)s, %(text)s, %(dhash)s, %(summary)s,
                           %(summary_model)s, %(category)s, %(sub_category)s, %(brand)s, %(line)s, %(group)s,
                           %(price)s, %(price_bolivar)s, %(ahash)s, %(searchable)s,
                           mostrador_product_search_vector(%(name)s, %(brand)s, %(code)s, %(category)s,
                                                           %(sub_category)s, %(group)s, %(searchable)s),
                           %(embedding)s, %(embedding_model)s, true,
                           %(images)s)
                       ON CONFLICT (tenant_id, item_code) DO UPDATE SET
                           item_name = EXCLUDED.item_name, description_html = EXCLUDED.description_html,
                           description_text = EXCLUDED.description_text, description_hash = EXCLUDED.description_hash,
                           summary = EXCLUDED.summary,
                           summary_model = CASE WHEN %(regen)s THEN EXCLUDED.summary_model
                                                WHEN EXCLUDED.summary IS NULL THEN NULL ELSE p.summary_model END,
                           category = EXCLUDED.category, sub_category = EXCLUDED.sub_category,
                           brand = EXCLUDED.brand, line = EXCLUDED.line, item_group = EXCLUDED.item_group,
                           price = EXCLUDED.price, price_bolivar = EXCLUDED.price_bolivar,
                           attributes_hash = EXCLUDED.attributes_hash, searchable_text = EXCLUDED.searchable_text,
                           search_vector = EXCLUDED.search_vector,
                           embedding = CASE WHEN %(keep)s THEN p.embedding ELSE EXCLUDED.embedding END,
                           embedding_model = CASE WHEN %(keep)s THEN p.embedding_model
                                                  ELSE EXCLUDED.embedding_model END,
                           active = true, image_urls = EXCLUDED.image_urls, updated_at = now()""",
                    {
                        "tenant": write.tenant_id,
                        "code": write.item_code,
                        "name": item.item_name,
                        "html": item.description,
                        "text": write.description_text,
                        "dhash": write.description_hash,
                        "summary": write.summary,
                        "summary_model": write.summary_model,
                        "regen": write.summary_regenerated,
                        "category": item.category,
                        "sub_category": item.sub_category,
                        "brand": item.brand,
                        "line": item.line,
                        "group": item.item_group_name,
                        "price": item.price,
                        "price_bolivar": item.price_bolivar,
                        "ahash": write.attributes_hash,
                        "searchable": write.searchable_text,
                        "embedding": _vector(write.embedding),
                        "embedding_model": write.embedding_model,
                        "keep": write.keep_embedding,
                        "images": item.image_urls,
                    },
                )
                self.rows_written += 1
            elif write.update_prices:
                self.conn.execute(
                    """UPDATE products SET price = %s, price_bolivar = %s, updated_at = now()
                        WHERE tenant_id = %s AND item_code = %s""",
                    (item.price, item.price_bolivar, write.tenant_id, write.item_code),
                )
                self.rows_written += 1
            if not write.full:
                # Photos changed without anything else: the item's raw JSON changed, so this write happens
                # anyway; the product row is touched only when its photos really differ.
                self.rows_written += self.conn.execute(
                    "UPDATE products SET image_urls = %s, updated_at = now()"
                    " WHERE tenant_id = %s AND item_code = %s AND image_urls IS DISTINCT FROM %s",
                    (item.image_urls, write.tenant_id, write.item_code, item.image_urls),
                ).rowcount
            for row, raw, raw_hash in write.stock_rows:
                self.conn.execute(
                    """INSERT INTO product_stock (tenant_id, item_code, warehouse, branch, stock, source_data,
                           source_hash)
                       VALUES (%s, %s, %s, %s, %s, %s, %s)
                       ON CONFLICT (tenant_id, item_code, warehouse) DO UPDATE SET
                           branch = EXCLUDED.branch, stock = EXCLUDED.stock, source_data = EXCLUDED.source_data,
                           source_hash = EXCLUDED.source_hash, updated_at = now()""",
                    (
                        write.tenant_id,
                        write.item_code,
                        row.whs_name,
                        row.branch_name,
                        row.stock,
                        Jsonb(raw),
                        raw_hash,
                    ),
                )
                self.rows_written += 1

    def restore_named(self, items: list[QueuedItem]) -> None:
        """Puts back what a full sync that finalized after these items were planned deactivated or zeroed,
        though they name it: their products active again, their zeroed rows (source hash '') with the
        stock they carry. Matches nothing (writes nothing) in the usual case."""
        by_tenant: dict[str, dict[tuple[str, str], QueuedItem]] = {}
        for q in items:
            by_tenant.setdefault(q.message.tenant_id, {})[(q.product.item_code, q.product.whs_name)] = q
        for tenant_id, rows in sorted(by_tenant.items()):
            keys = sorted(rows)
            self.conn.execute(
                """UPDATE products SET active = true, updated_at = now()
                    WHERE tenant_id = %s AND item_code = ANY(%s) AND NOT active""",
                (tenant_id, sorted({code for code, _ in keys})),
            )
            self.conn.execute(
                """UPDATE product_stock st SET stock = v.stock, source_hash = v.hash, updated_at = now()
                     FROM unnest(%s::text[], %s::text[], %s::numeric[], %s::text[]) AS v(code, warehouse, stock, hash)
                    WHERE st.tenant_id = %s AND st.item_code = v.code AND st.warehouse = v.warehouse
                      AND st.source_hash = ''""",
                (
                    [code for code, _ in keys],
                    [warehouse for _, warehouse in keys],
                    [rows[k].product.stock for k in keys],
                    [source_hash(rows[k].message.item) for k in keys],
                    tenant_id,
                ),
            )

    def record_receipt(self, receipt: SyncReceipt) -> None:
        """The sync and its batch, as ingest accepted them (ingest's best-effort write)."""
        self.conn.execute(_RECORD_RECEIPT, _receipt_params(receipt))

    def register_batches(self, messages: Iterable[EnrichMessage]) -> None:
        """Records the syncs and batches these items came in: idempotent, ingest has usually done it
        already (the same statement, the same values from the queued items)."""
        receipts: dict[tuple[str, str, str], SyncReceipt] = {}
        for m in messages:
            key = (m.tenant_id, m.sync_id, m.batch_id)
            if key not in receipts or m.received_at < receipts[key].received_at:
                receipts[key] = SyncReceipt.of(m)
        with self.conn.pipeline(), self.conn.transaction():
            self.conn.cursor().executemany(_RECORD_RECEIPT, [_receipt_params(r) for _, r in sorted(receipts.items())])

    def record_outcomes(self, outcomes: list[ItemOutcome]) -> None:
        if not outcomes:
            return
        with self.conn.cursor() as cur:
            cur.executemany(
                """INSERT INTO sync_items (tenant_id, sync_id, batch_id, item_index, item_code, warehouse, outcome,
                       attempts, final, error)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
                   ON CONFLICT (tenant_id, sync_id, batch_id, item_index) DO UPDATE SET
                       outcome = EXCLUDED.outcome, attempts = EXCLUDED.attempts, final = EXCLUDED.final,
                       error = EXCLUDED.error, updated_at = now()
                   -- a redelivered, already-counted item keeps its first outcome (it was stored then)
                   WHERE sync_items.outcome = 'failed'""",
                [(*_item_key(o), o.outcome, o.attempt, o.final, _printable(o.error, 1000)) for o in outcomes],
            )

    def record_dead_letters(self, outcomes: list[ItemOutcome]) -> int:
        """Dead-lettered items, failed for good: a new row, or one whose failure was not yet final (its last
        receive failed before it could be counted). An item already final (stored, or counted failed on
        its last receive) keeps its row. Returns how many rows changed."""
        changed = 0
        with self.conn.transaction(), self.conn.cursor() as cur:
            for o in outcomes:
                cur.execute(
                    """INSERT INTO sync_items (tenant_id, sync_id, batch_id, item_index, item_code, warehouse,
                           outcome, attempts, final, error)
                       VALUES (%s, %s, %s, %s, %s, %s, 'failed', %s, true, %s)
                       ON CONFLICT (tenant_id, sync_id, batch_id, item_index) DO UPDATE SET
                           attempts = GREATEST(sync_items.attempts, EXCLUDED.attempts), final = true,
                           error = EXCLUDED.error || COALESCE('; last error: ' || sync_items.error, ''),
                           updated_at = now()
                       WHERE sync_items.outcome = 'failed' AND NOT sync_items.final""",
                    (*_item_key(o), o.attempt, _printable(o.error, 1000)),
                )
                changed += cur.rowcount
        return changed

    def record_usage(self, tenant_id: str, purpose: str, usages: list[Usage]) -> None:
        totals: dict[tuple[str, str], list[int]] = {}
        for u in usages:
            entry = totals.setdefault((u.provider, u.model), [0, 0, 0])
            entry[0] += 1
            entry[1] += u.tokens_in
            entry[2] += u.tokens_out
        with self.conn.cursor() as cur:
            cur.executemany(
                """INSERT INTO llm_usage (tenant_id, provider, model, purpose, calls, tokens_in, tokens_out)
                   VALUES (%s, %s, %s, %s, %s, %s, %s)""",
                [(tenant_id, p, m, purpose, c, ti, to) for (p, m), (c, ti, to) in totals.items()],
            )

    def sync_status(self, tenant_id: str, sync_id: str) -> dict[str, Any] | None:
        row = self.conn.execute(
            """SELECT s.sync_id, s.full_sync, s.finalized_at, s.deactivated,
                      (SELECT coalesce(sum(item_count), 0) FROM sync_batches b
                        WHERE b.tenant_id = s.tenant_id AND b.sync_id = s.sync_id) AS received,
                      -- every part up to the final one has arrived (parts are numbered by the fetcher)
                      (SELECT max(part) FILTER (WHERE final) IS NOT NULL
                              AND count(DISTINCT part) = max(part) FILTER (WHERE final)
                         FROM sync_batches b
                        WHERE b.tenant_id = s.tenant_id AND b.sync_id = s.sync_id) AS all_parts_seen,
                      count(i.*) FILTER (WHERE i.outcome = 'processed') AS processed,
                      count(i.*) FILTER (WHERE i.outcome = 'unchanged') AS unchanged,
                      count(i.*) FILTER (WHERE i.outcome = 'failed') AS failed,
                      count(i.*) FILTER (WHERE i.outcome = 'failed' AND NOT i.final) AS retrying
                 FROM syncs s LEFT JOIN sync_items i ON i.tenant_id = s.tenant_id AND i.sync_id = s.sync_id
                WHERE s.tenant_id = %s AND s.sync_id = %s
                GROUP BY s.tenant_id, s.sync_id""",
            (tenant_id, sync_id),
        ).fetchone()
        if row is None:
            return None
        done = row["processed"] + row["unchanged"] + row["failed"]
        complete = bool(row["all_parts_seen"]) and row["retrying"] == 0 and done >= row["received"]
        return {
            "syncId": row["sync_id"],
            "received": int(row["received"]),
            "processed": row["processed"],
            "unchanged": row["unchanged"],
            "failed": row["failed"],
            "complete": complete,
            "fullSync": row["full_sync"],
            "deactivated": row["deactivated"],
        }

    def finalize_syncs(self, tenant_id: str, sync_ids: set[str]) -> None:
        """Close complete syncs once. A complete full sync deactivates the products, and zeroes the stock
        rows, that no item received since it began has named. An item's received time is its batch's
        (sync_batches.received_at: when ingest accepted the request); "began" is the earliest of the full
        sync's batches, whatever their part numbers; sync_items is the record of what each item named.
        Zeroed rows lose their source hash, so the next item for them restores their stock."""
        for sync_id in sorted(sync_ids):
            status = self.sync_status(tenant_id, sync_id)
            if status is None or not status["complete"]:
                continue
            with self.conn.transaction():
                if status["fullSync"]:
                    # Before claiming the sync row: batches take this lock first, then sync rows.
                    self._lock_catalog([tenant_id], exclusive=True)
                claimed = self.conn.execute(
                    """UPDATE syncs SET finalized_at = now()
                        WHERE tenant_id = %s AND sync_id = %s AND finalized_at IS NULL RETURNING full_sync""",
                    (tenant_id, sync_id),
                ).fetchone()
                if claimed is None or not claimed["full_sync"]:
                    continue
                params = {"t": tenant_id, "s": sync_id}
                gone = self.conn.execute(
                    _NAMED_SINCE_BEGAN
                    + """UPDATE products p SET active = false, updated_at = now()
                          WHERE p.tenant_id = %(t)s AND p.active
                            AND NOT EXISTS (SELECT 1 FROM named n WHERE n.item_code = p.item_code)""",
                    params,
                ).rowcount
                # Warehouses no item since then has listed have no stock any more.
                self.conn.execute(
                    _NAMED_SINCE_BEGAN
                    + """UPDATE product_stock st SET stock = 0, source_hash = '', updated_at = now()
                          WHERE st.tenant_id = %(t)s AND (st.stock <> 0 OR st.source_hash <> '')
                            AND NOT EXISTS (SELECT 1 FROM named n
                                             WHERE n.item_code = st.item_code AND n.warehouse = st.warehouse)""",
                    params,
                )
                self.conn.execute(
                    "UPDATE syncs SET deactivated = %s WHERE tenant_id = %s AND sync_id = %s",
                    (gone, tenant_id, sync_id),
                )


def _vector(values: list[float] | None) -> Any:
    if values is None:
        return None
    import numpy as np

    return np.asarray(values, dtype=np.float32)


def product_image_urls(conn: Connection, tenant_id: str, item_code: str) -> list[str]:
    """The product's photos as the fetcher sent them (imageUrl first); [] when it has none."""
    row = conn.execute(
        "SELECT image_urls FROM products WHERE tenant_id = %s AND item_code = %s AND active",
        (tenant_id, item_code),
    ).fetchone()
    return list(row["image_urls"]) if row else []
