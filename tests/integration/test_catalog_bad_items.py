"""One bad item never takes its neighbours down (issue 14, catalog item 3).

Ingest refuses, per item and with a reason, whatever the database could not store; enrichment fails an
item alone (a savepoint per product) when something gets through anyway; and a sync whose items end in
the dead-letter queue completes with them counted as failed instead of waiting forever.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from tests.integration.catalog_support import product


def _status(pipeline, sync_id):
    status, body = pipeline.sync(sync_id)
    assert status == 200, body
    return body


def _queued_codes(pipeline, expected):
    return sorted(json.loads(m["Body"])["item"]["itemCode"] for m in pipeline.receive_all(expected))


def test_an_item_code_with_a_nul_is_refused_alone_and_its_neighbours_are_stored(pipeline, db):
    items = [product("OK1"), product("OK2"), product("OK3"), product("BAD\u0000X")]
    status, body = pipeline.push({"products": items, "syncId": "nul"})
    assert status == 202 and body["accepted"] == 3
    [rejected] = body["rejected"]
    assert rejected["index"] == 3 and rejected["itemCode"] == "BAD\u0000X"
    assert "itemCode contains a NUL character (U+0000) at position 3" in rejected["errors"][0]
    assert pipeline.queued_count() == 3

    results = pipeline.drain()
    assert all(r["batchItemFailures"] == [] for r in results)
    assert {r["item_code"] for r in db.execute("SELECT item_code FROM products")} == {"OK1", "OK2", "OK3"}
    status = _status(pipeline, "nul")
    assert (status["received"], status["processed"], status["failed"], status["complete"]) == (3, 3, 0, True)


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"itemName": "Nevera\u0000"}, "itemName contains a NUL character"),
        ({"description": "<p>hola\u000bmundo</p>"}, "description contains a control character (U+000B)"),
        ({"brand": "Marca\u0085"}, "brand contains a control character (U+0085)"),
        ({"whsName": "ALM\u001f"}, "whsName contains a control character (U+001F)"),
        ({"color": {"name": "rojo\u0000"}}, "color.name contains a NUL character"),  # unknown field, kept for audit
        ({"tags": ["a", "b\u0000"]}, "tags[1] contains a NUL character"),
        ({"bad\u0000key": 1}, 'field name "bad\\u0000key" contains a NUL character'),
        ({"stock": 1_000_000_000_000}, "stock"),
        ({"stock": -1_000_000_000_000}, "stock"),
        ({"price": 100_000_000_000}, "price"),
    ],
)
def test_what_the_database_cannot_store_is_refused_per_item_with_a_reason(pipeline, overrides, fragment):
    status, body = pipeline.push([product("GOOD"), product("BAD", **overrides)])
    assert status == 202 and body["accepted"] == 1
    [rejected] = body["rejected"]
    assert rejected["index"] == 1 and any(fragment in e for e in rejected["errors"]), rejected
    assert _queued_codes(pipeline, 1) == ["GOOD"]


def test_raw_json_that_python_reads_but_the_database_refuses_is_refused(pipeline):
    # NaN, 1e999 (infinity) and an unpaired surrogate escape are accepted by Python's JSON reader only.
    good = json.dumps(product("GOOD"))
    body = (
        f'[{good}, {{"itemCode": "N1", "itemName": "x", "weight": NaN}},'
        f' {{"itemCode": "N2", "itemName": "x", "size": 1e999}},'
        f' {{"itemCode": "N3", "itemName": "caf\\ud800"}}]'
    ).encode()
    status, answer = pipeline.push(body)
    assert status == 202 and answer["accepted"] == 1
    errors = {r["itemCode"]: r["errors"][0] for r in answer["rejected"]}
    assert "weight is not a finite number: send a plain number" in errors["N1"]
    assert "size is not a finite number: send a plain number" in errors["N2"]
    assert "control character" not in errors["N1"] + errors["N2"]  # the advice fits the problem
    assert "itemName contains an unpaired surrogate (U+D800)" in errors["N3"]
    assert _queued_codes(pipeline, 1) == ["GOOD"]


def test_tabs_and_newlines_are_ordinary_text(pipeline, db):
    status, body = pipeline.push([product("T1", description="<p>Línea 1\r\n\tLínea 2</p>", itemName="Nevera\tXL")])
    assert status == 202 and body["rejected"] == []
    pipeline.drain()
    assert db.execute("SELECT item_name FROM products").fetchone()["item_name"] == "Nevera\tXL"


def test_a_part_number_out_of_range_is_a_400(pipeline):
    status, body = pipeline.push({"products": [product("X1")], "syncId": "big", "part": 1_000_000_000_000})
    assert status == 400 and '"part" must be a whole number from 1 to 100000' in body["error"]
    assert pipeline.queued_count() == 0


def _old_message(item: dict, *, sync_id: str, index: int = 0, batch_size: int = 1, part: int = 1) -> str:
    """An enrich message as the ingest of an earlier release queued it (no receivedAt, nothing checked)."""
    return json.dumps(
        {
            "tenantId": "default",
            "syncId": sync_id,
            "batchId": uuid.uuid4().hex,
            "batchSize": batch_size,
            "fullSync": False,
            "part": part,
            "final": True,
            "index": index,
            "item": item,
        }
    )


def test_an_unstorable_item_already_queued_fails_alone_and_its_sync_completes_after_the_dead_letter_queue(
    pipeline, db, sqs
):
    # Queued before ingest checked items: a NUL in the item code made the whole batch fail before.
    sqs.send_message(QueueUrl=pipeline.queue_url, MessageBody=_old_message(product("BAD\u0000X"), sync_id="old"))
    pipeline.push({"products": [product("G1"), product("G2"), product("G3")], "syncId": "good"})

    first = pipeline.enrich_once()
    assert len(first["batchItemFailures"]) == 1
    assert {r["item_code"] for r in db.execute("SELECT item_code FROM products")} == {"G1", "G2", "G3"}
    assert _status(pipeline, "good")["complete"] is True
    old = _status(pipeline, "old")
    assert (old["received"], old["failed"], old["complete"]) == (1, 1, False)  # retried until the last attempt

    dead = pipeline.retry_until_dead_lettered()
    assert [json.loads(m["Body"])["item"]["itemCode"] for m in dead] == ["BAD\u0000X"]
    old = _status(pipeline, "old")
    assert (old["processed"], old["failed"], old["complete"]) == (0, 1, True)
    error = db.execute("SELECT item_code, attempts, error FROM sync_items WHERE sync_id = 'old'").fetchone()
    assert error["item_code"] == "BAD\\u0000X" and error["attempts"] == 3 and "NUL" in error["error"]


def test_a_queued_part_number_out_of_range_fails_alone_and_spares_the_good_push_in_its_batch(pipeline, db, sqs):
    sqs.send_message(
        QueueUrl=pipeline.queue_url, MessageBody=_old_message(product("X1"), sync_id="big", part=1_000_000_000_000)
    )
    pipeline.push({"products": [product("G1"), product("G2")], "syncId": "good"})
    result = pipeline.enrich_once()
    assert len(result["batchItemFailures"]) == 1
    status = _status(pipeline, "good")
    assert (status["processed"], status["complete"]) == (2, True)
    assert {r["item_code"] for r in db.execute("SELECT item_code FROM products")} == {"G1", "G2"}


def test_a_product_the_database_refuses_fails_alone_in_the_batch_transaction(pipeline, db, refused_item_code):
    refused_item_code("P2")
    pipeline.push({"products": [product(f"P{i}") for i in range(5)], "syncId": "s"})
    result = pipeline.enrich_once()
    assert len(result["batchItemFailures"]) == 1
    stored = {r["item_code"] for r in db.execute("SELECT item_code FROM products")}
    assert stored == {"P0", "P1", "P3", "P4"}
    # The stock rows of the refused product were rolled back with it; the others' are there.
    assert {r["item_code"] for r in db.execute("SELECT item_code FROM product_stock")} == stored
    outcomes = {r["item_code"]: r["outcome"] for r in db.execute("SELECT item_code, outcome FROM sync_items")}
    assert outcomes == {"P0": "processed", "P1": "processed", "P2": "failed", "P3": "processed", "P4": "processed"}


def test_the_received_time_of_an_old_message_is_when_it_is_read(pipeline, db, sqs):
    before = datetime.now(UTC)
    sqs.send_message(QueueUrl=pipeline.queue_url, MessageBody=_old_message(product("O1"), sync_id="legacy"))
    pipeline.drain()
    row = db.execute("SELECT received_at FROM sync_batches WHERE sync_id = 'legacy'").fetchone()
    assert row["received_at"] >= before
