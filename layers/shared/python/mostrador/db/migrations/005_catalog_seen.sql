-- When a sync last saw each stock row (a product at a warehouse): the time ingest accepted the request
-- that carried its item. A completed full sync deactivates only products none of whose rows a sync
-- received after the full sync began has seen, and zeroes only such rows (docs/catalog.md). A product's
-- own "last seen" is the latest of its rows': every item is one row, and marking the wide products row
-- (embedding, HNSW index) on every unchanged re-send would cost far more than marking its narrow row.
--
-- Rows that exist when this runs count as seen now: a full sync in flight across the deploy then
-- deactivates nothing it has not seen again; the next full sync does.
ALTER TABLE product_stock ADD COLUMN seen_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE product_stock ALTER COLUMN seen_at DROP DEFAULT;

-- A row zeroed by a full sync has source_hash '' (no item hashes to that), so the next item for that
-- warehouse counts as a change and restores its stock, even when it repeats the last data sent.
