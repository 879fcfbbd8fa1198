"""POST /ingest/products: what a fetcher gets back for good, partly bad and bad requests."""

from __future__ import annotations

import json

import pytest

from tests.integration.catalog_support import product


def test_valid_list_is_accepted_and_every_item_enqueued(pipeline):
    status, body = pipeline.push([product(str(i)) for i in range(23)])
    assert status == 202
    assert body["accepted"] == 23 and body["rejected"] == [] and body["syncId"]
    assert pipeline.queued_count() == 23
    message = json.loads(pipeline.receive(1)[0]["Body"])
    assert message["syncId"] == body["syncId"] and message["batchSize"] == 23
    assert message["item"]["itemCode"] in {str(i) for i in range(23)}


def test_the_namdamasco_alias_route_does_the_same(pipeline):
    status, body = pipeline.push([product("A1")], path="/api/receive-products")
    assert status == 202 and body["accepted"] == 1
    assert pipeline.queued_count() == 1


def test_object_form_keeps_the_fetchers_sync_id(pipeline):
    status, body = pipeline.push({"products": [product("A1")], "syncId": "nightly-2026-11-23", "fullSync": True})
    assert status == 202 and body["syncId"] == "nightly-2026-11-23"
    message = json.loads(pipeline.receive(1)[0]["Body"])
    assert message["fullSync"] is True and message["final"] is True and message["part"] == 1


@pytest.mark.parametrize("key", [None, "wrong-key", ""])
def test_missing_or_wrong_key_is_401_and_nothing_is_enqueued(pipeline, key):
    status, body = pipeline.push([product("A1")], key=key)
    assert status == 401 and "X-API-KEY" in body["error"]
    assert pipeline.queued_count() == 0


@pytest.mark.parametrize(
    ("payload", "status", "fragment"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b"", 400, "empty"),
        (b'"a string"', 400, "JSON list of products"),
        (b"[]", 400, "empty"),
        (b'{"items": []}', 400, "Unknown top-level field"),
        (b'{"syncId": "x"}', 400, '"products" list'),
        (b'{"products": {"itemCode": "1"}}', 400, "must be a list"),
        (b'{"products": [{"itemCode": "1", "itemName": "x"}], "syncId": "bad id!"}', 400, "syncId"),
        (b'{"products": [{"itemCode": "1", "itemName": "x"}], "fullSync": "yes"}', 400, "true or false"),
        (b'{"products": [{"itemCode": "1", "itemName": "x"}], "final": false}', 400, "same"),
        (b'{"products": [{"itemCode": "1", "itemName": "x"}], "syncId": "s", "part": 0}', 400, "part"),
        # A part without its number: completion counts the distinct part numbers up to the final one.
        (b'{"products": [{"itemCode": "1", "itemName": "x"}], "syncId": "s", "final": false}', 400, '"part": 1, 2'),
    ],
)
def test_malformed_requests_get_an_actionable_4xx_and_nothing_is_enqueued(pipeline, payload, status, fragment):
    got, body = pipeline.push(payload)
    assert got == status
    assert fragment in body["error"]
    assert pipeline.queued_count() == 0


def test_oversized_body_is_413_with_how_to_split(pipeline, monkeypatch):
    from mostrador.config import reset_settings

    monkeypatch.setenv("INGEST_MAX_BODY_BYTES", "2000")
    reset_settings()
    status, body = pipeline.push([product(str(i)) for i in range(40)])
    assert status == 413 and '"final": false' in body["error"]
    assert '"syncId"' in body["error"] and '"part": 1, 2' in body["error"]
    assert pipeline.queued_count() == 0


def test_too_many_products_is_413_with_how_to_split(pipeline):
    from mostrador.catalog.ingest import MAX_ITEMS

    minimal = {"itemCode": "X", "itemName": "x"}
    status, body = pipeline.push([minimal] * (MAX_ITEMS + 1))
    assert status == 413, body
    assert body["error"].startswith(f"{MAX_ITEMS + 1} products in one request; the limit is {MAX_ITEMS}.")
    assert f"at most {MAX_ITEMS} products" in body["error"] and '"final": false' in body["error"]
    assert '"part": 1, 2' in body["error"]
    assert pipeline.queued_count() == 0


def test_a_nan_price_is_refused_with_advice_about_numbers(pipeline):
    good = json.dumps(product("GOOD"))
    status, body = pipeline.push(f'[{good}, {{"itemCode": "NAN1", "itemName": "x", "price": NaN}}]'.encode())
    assert status == 202 and body["accepted"] == 1
    [rejected] = body["rejected"]
    [error] = rejected["errors"]
    assert "price is not a finite number: send a plain number" in error, error
    assert "control character" not in error


def test_invalid_items_are_reported_one_by_one_and_never_enqueued(pipeline):
    items = [
        product("OK1"),
        {"itemName": "no code"},
        product("NEG", price=-3),
        "not an object",
        product("OK2", price="12.50"),
        product("OK1"),  # same item and warehouse twice
        product("BAD", stock="many"),
    ]
    status, body = pipeline.push(items)
    assert status == 202 and body["accepted"] == 2
    rejected = {r["index"]: r for r in body["rejected"]}
    assert set(rejected) == {1, 2, 3, 5, 6}
    assert any("itemCode" in e for e in rejected[1]["errors"])
    assert rejected[2]["itemCode"] == "NEG" and any("price" in e for e in rejected[2]["errors"])
    assert "must be an object" in rejected[3]["errors"][0]
    assert "duplicate" in rejected[5]["errors"][0] and "index 0" in rejected[5]["errors"][0]
    assert any("stock" in e for e in rejected[6]["errors"])
    codes = sorted(json.loads(m["Body"])["item"]["itemCode"] for m in pipeline.receive(10))
    assert codes == ["OK1", "OK2"]


def test_a_request_with_only_invalid_items_is_422(pipeline):
    status, body = pipeline.push([{"itemCode": "X"}])
    assert status == 422 and body["accepted"] == 0 and body["rejected"][0]["itemCode"] == "X"
    assert pipeline.queued_count() == 0


def test_unconfigured_key_refuses_everything(pipeline, monkeypatch):
    from mostrador.config import reset_settings

    monkeypatch.delenv("INGEST_API_KEY")
    reset_settings()
    status, _ = pipeline.push([product("A")], key="")
    assert status == 401
    assert pipeline.queued_count() == 0


def test_unknown_sync_is_404_and_needs_the_key(pipeline):
    assert pipeline.sync("nope")[0] == 404
    assert pipeline.sync("nope", key="wrong")[0] == 401


def test_ingest_module_does_not_load_heavy_sdks():
    import subprocess
    import sys

    code = (
        "import sys; import functions.ingest.handler; "
        "heavy = ('openai', 'google.genai', 'psycopg', 'bs4', 'numpy', 'py3langid'); "
        "print(','.join(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=_env())
    assert out.stdout.strip() == ""


def _env() -> dict[str, str]:
    import os

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(["layers/shared/python", "."])
    return env
