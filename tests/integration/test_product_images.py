"""Product photos at ingest (issue 13): optional `imageUrl` / `images` per product, validated with a
clear rejection, stored by enrichment, never downloaded; a photo change alone costs no LLM call."""

from __future__ import annotations

from tests.integration import test_enrichment_deltas as deltas
from tests.integration.catalog_support import product

harness = deltas.harness

A = "https://cdn.tienda.example/fotos/p1-a.jpg"
B = "https://cdn.tienda.example/fotos/p1-b.png"


def test_photos_are_accepted_stored_in_order_and_never_fetched(pipeline, db):
    status, body = pipeline.push(
        [
            product("P1", imageUrl=A, images=[A, B]),
            product("P2"),
            product("P3", images=["http://fotos.tienda.example/p3.jpg"]),
        ]
    )
    assert status == 202 and body["accepted"] == 3 and body["rejected"] == []
    pipeline.drain()
    photos = {row["item_code"]: row["image_urls"] for row in db.execute("SELECT item_code, image_urls FROM products")}
    assert photos == {"P1": [A, B], "P2": [], "P3": ["http://fotos.tienda.example/p3.jpg"]}


def test_bad_photo_urls_are_rejected_per_item_saying_what_to_fix(pipeline, db):
    status, body = pipeline.push(
        [
            product("OK", imageUrl=A),
            product("FTP", imageUrl="ftp://files.example/p.jpg"),
            product("SPACE", images=["https://cdn.example/foto 1.jpg"]),
            product("NOTLIST", images="https://cdn.example/p.jpg"),
            product("MANY", images=[f"https://cdn.example/{n}.jpg" for n in range(11)]),
            product("CREDS", imageUrl="https://user:secret@cdn.example/p.jpg"),
            # Addresses Meta's servers can never fetch the photo from.
            product("LAN", imageUrl="http://erp.local/fotos/p.jpg"),
            product("LOOP", images=["https://cdn.example/ok.jpg", "http://127.0.0.1:8080/p.jpg"]),
            product("PRIV", imageUrl="https://192.168.1.20/p.jpg"),
            product("V6", imageUrl="http://[fd00::7]/p.jpg"),
            product("HOST", imageUrl="https://localhost/p.jpg"),
            product("CLOUD", imageUrl="https://fotos.corp.internal/p.jpg"),
            product("BARE", imageUrl="http://erp/p.jpg"),
        ]
    )
    assert status == 202 and body["accepted"] == 1
    errors = {r["itemCode"]: " ".join(r["errors"]) for r in body["rejected"]}
    assert "imageUrl" in errors["FTP"] and "https://" in errors["FTP"]
    assert "images" in errors["SPACE"] and "%20" in errors["SPACE"]
    assert "list of image URLs" in errors["NOTLIST"]
    assert "at most 10" in errors["MANY"]
    assert "user name or password" in errors["CREDS"]
    for code in ("LAN", "LOOP", "PRIV", "V6", "HOST", "CLOUD", "BARE"):
        assert "public address" in errors[code] and "Meta" in errors[code], code
    assert "images" in errors["LOOP"] and "private or reserved IP address" in errors["LOOP"]
    assert "local network name" in errors["LAN"] and "without a domain" in errors["BARE"]
    pipeline.drain()
    assert [r["item_code"] for r in db.execute("SELECT item_code FROM products")] == ["OK"]


def test_a_photo_change_alone_updates_the_photos_without_summary_or_embedding(harness):
    harness.run([product("P1", imageUrl=A)])
    old = harness.row("P1")
    report = harness.run([product("P1", imageUrl=B)])
    assert (harness.llm_calls, harness.embedding_calls) == (0, 0)
    assert harness.rows_written == 2  # the product's photos, and the stock row whose source item changed
    new = harness.row("P1")
    assert new["image_urls"] == [B] and new["summary"] == old["summary"]
    assert report.outcomes[0].outcome == "processed"
    harness.run([product("P1", imageUrl=B)])
    assert (harness.llm_calls, harness.embedding_calls, harness.rows_written) == (0, 0, 0)
