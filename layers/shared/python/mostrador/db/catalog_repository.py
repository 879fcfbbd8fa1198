"""SQL for the catalog: product state for delta detection, writes, sync bookkeeping, usage."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from mostrador.catalog.enrichment import ItemOutcome, ProductState, ProductWrite, StockState
from mostrador.catalog.models import EnrichMessage
from mostrador.llm.base import Usage

if TYPE_CHECKING:
    from mostrador.db.connection import Connection


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

    def write_product(self, write: ProductWrite) -> None:
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
                           mostrador_search_vector(%(title)s, %(searchable)s), %(embedding)s, %(embedding_model)s, true,
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
                        "title": " ".join(p for p in (item.item_name, item.brand, item.item_code) if p),
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

    def register_batches(self, messages: Iterable[EnrichMessage]) -> None:
        syncs: dict[tuple[str, str], bool] = {}
        batches: dict[tuple[str, str, str], tuple[int, int, bool]] = {}
        for m in messages:
            syncs[(m.tenant_id, m.sync_id)] = syncs.get((m.tenant_id, m.sync_id), False) or m.full_sync
            batches[(m.tenant_id, m.sync_id, m.batch_id)] = (m.batch_size, m.part, m.final)
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.executemany(
                """INSERT INTO syncs (tenant_id, sync_id, full_sync) VALUES (%s, %s, %s)
                       ON CONFLICT (tenant_id, sync_id) DO UPDATE SET full_sync = syncs.full_sync OR EXCLUDED.full_sync
                       WHERE NOT syncs.full_sync AND EXCLUDED.full_sync""",
                [(t, s, full) for (t, s), full in syncs.items()],
            )
            cur.executemany(
                """INSERT INTO sync_batches (tenant_id, sync_id, batch_id, item_count, part, final)
                       VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING""",
                [(t, s, b, size, part, final) for (t, s, b), (size, part, final) in batches.items()],
            )

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
                [
                    (
                        o.tenant_id,
                        o.sync_id,
                        o.batch_id,
                        o.index,
                        o.item_code,
                        o.warehouse,
                        o.outcome,
                        o.attempt,
                        o.final,
                        (o.error or "")[:1000] or None,
                    )
                    for o in outcomes
                ],
            )

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
        """Close complete syncs once; a complete full sync deactivates what it did not mention."""
        for sync_id in sorted(sync_ids):
            status = self.sync_status(tenant_id, sync_id)
            if status is None or not status["complete"]:
                continue
            with self.conn.transaction():
                claimed = self.conn.execute(
                    """UPDATE syncs SET finalized_at = now()
                        WHERE tenant_id = %s AND sync_id = %s AND finalized_at IS NULL RETURNING full_sync""",
                    (tenant_id, sync_id),
                ).fetchone()
                if claimed is None or not claimed["full_sync"]:
                    continue
                gone = self.conn.execute(
                    """UPDATE products p SET active = false, updated_at = now()
                        WHERE p.tenant_id = %(t)s AND p.active AND NOT EXISTS (
                              SELECT 1 FROM sync_items i WHERE i.tenant_id = %(t)s AND i.sync_id = %(s)s
                                 AND i.item_code = p.item_code)""",
                    {"t": tenant_id, "s": sync_id},
                ).rowcount
                # Warehouses a product no longer lists have no stock any more.
                self.conn.execute(
                    """UPDATE product_stock st SET stock = 0, updated_at = now()
                        WHERE st.tenant_id = %(t)s AND st.stock <> 0 AND NOT EXISTS (
                              SELECT 1 FROM sync_items i WHERE i.tenant_id = %(t)s AND i.sync_id = %(s)s
                                 AND i.item_code = st.item_code AND i.warehouse = st.warehouse)""",
                    {"t": tenant_id, "s": sync_id},
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
