"""The catalog path end to end: ingest handler -> SQS (moto server) -> enrich handler -> Postgres -> sync."""

from __future__ import annotations

import json

from tests.integration.catalog_support import product


def _status(pipeline, sync_id):
    status, body = pipeline.sync(sync_id)
    assert status == 200
    return body


def test_a_pushed_catalog_is_enriched_and_its_sync_completes(pipeline, db):
    status, body = pipeline.push({"products": [product(f"P{i}") for i in range(25)], "syncId": "sync-a"})
    assert status == 202
    results = pipeline.drain()
    assert all(r["batchItemFailures"] == [] for r in results)
    assert _status(pipeline, "sync-a") == {
        "syncId": "sync-a",
        "received": 25,
        "processed": 25,
        "unchanged": 0,
        "failed": 0,
        "complete": True,
        "fullSync": False,
        "deactivated": 0,
    }
    row = db.execute("SELECT summary, embedding FROM products WHERE item_code = 'P3'").fetchone()
    # Offline provider: an extractive summary and no embedding.
    assert row["summary"].startswith("Descripción del producto P3") and row["embedding"] is None


def test_the_same_catalog_again_counts_as_unchanged(pipeline):
    items = [product(f"P{i}") for i in range(12)]
    pipeline.push({"products": items, "syncId": "first"})
    pipeline.drain()
    pipeline.push({"products": items, "syncId": "second"})
    pipeline.drain()
    status = _status(pipeline, "second")
    assert (status["received"], status["processed"], status["unchanged"], status["complete"]) == (12, 0, 12, True)


def test_a_retried_request_is_not_counted_twice(pipeline):
    payload = {"products": [product("P1"), product("P2")], "syncId": "retry"}
    pipeline.push(payload)
    pipeline.push(payload)  # the fetcher timed out and sent the same body again
    pipeline.drain()
    status = _status(pipeline, "retry")
    assert status["received"] == 2 and status["processed"] == 2 and status["complete"]


def test_a_sync_in_several_parts_completes_only_after_its_last_part(pipeline):
    pipeline.push({"products": [product("P2")], "syncId": "parts", "part": 2, "final": True})
    pipeline.drain()
    assert _status(pipeline, "parts")["complete"] is False  # part 1 has not arrived
    pipeline.push({"products": [product("P1")], "syncId": "parts", "part": 1, "final": False})
    pipeline.drain()
    status = _status(pipeline, "parts")
    assert status["received"] == 2 and status["complete"] is True


def test_a_completed_full_sync_deactivates_what_it_left_out_without_deleting(pipeline, db):
    pipeline.push({"products": [product("KEEP"), product("GONE"), product("KEEP", whsName="ALM VLC", stock=4)]})
    pipeline.drain()
    pipeline.push({"products": [product("KEEP")], "syncId": "full-1", "fullSync": True})
    pipeline.drain()
    status = _status(pipeline, "full-1")
    assert status["complete"] and status["deactivated"] == 1
    rows = {r["item_code"]: r["active"] for r in db.execute("SELECT item_code, active FROM products")}
    assert rows == {"KEEP": True, "GONE": False}
    stock = {
        (r["item_code"], r["warehouse"]): r["stock"]
        for r in db.execute("SELECT item_code, warehouse, stock FROM product_stock")
    }
    assert stock == {("KEEP", "ALMACEN CARACAS"): 5, ("KEEP", "ALM VLC"): 0, ("GONE", "ALMACEN CARACAS"): 0}
    # Coming back in a later sync makes it active again.
    pipeline.push([product("GONE")])
    pipeline.drain()
    assert db.execute("SELECT active FROM products WHERE item_code = 'GONE'").fetchone()["active"] is True


def test_a_poisoned_item_fails_alone_is_retried_then_dead_lettered(pipeline, db, refused_item_code):
    # The database refuses this one product every time (see the fixture): its savepoint rolls back alone.
    refused_item_code("BAD")
    pipeline.push({"products": [product("OK1"), product("BAD"), product("OK2")], "syncId": "p"})
    first = pipeline.enrich_once()
    assert len(first["batchItemFailures"]) == 1
    assert {r["item_code"] for r in db.execute("SELECT item_code FROM products")} == {"OK1", "OK2"}
    status = _status(pipeline, "p")
    assert status["failed"] == 1 and status["complete"] is False  # will be retried

    dead = pipeline.retry_until_dead_lettered()
    assert [json.loads(m["Body"])["item"]["itemCode"] for m in dead] == ["BAD"]
    status = _status(pipeline, "p")
    assert (status["processed"], status["failed"], status["complete"]) == (2, 1, True)


def test_health_reports_the_database(pipeline):
    from functions.ingest.handler import handler
    from tests.lambda_events import LambdaContextStub, api_event, response_json

    response = handler(api_event("GET", "/health"), LambdaContextStub())
    assert response["statusCode"] == 200 and response_json(response)["database"] == "reachable"
