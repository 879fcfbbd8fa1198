-- A completed full sync deactivates only the products (and zeroes only the stock rows) that no item
-- received after the full sync began has named (docs/catalog.md). What each item named is sync_items;
-- when it was received is its batch's received_at (when ingest accepted the request): finding the batches
-- received since a full sync began is this index's job.
CREATE INDEX sync_batches_received ON sync_batches (tenant_id, received_at);
