"""A sync is visible from the moment ingest answers 202 (issue 14, catalog item 2), and ingest still
answers 202 when the database is down or hung: then the sync appears once enrichment reads its items."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from tests.integration.catalog_support import product


def test_the_sync_id_a_post_returns_is_known_at_once(pipeline):
    status, body = pipeline.push([product("A1"), product("A2"), product("A3")])
    assert status == 202
    got, sync = pipeline.sync(body["syncId"])  # nothing enriched yet
    assert got == 200
    assert sync == {
        "syncId": body["syncId"],
        "received": 3,
        "processed": 0,
        "unchanged": 0,
        "failed": 0,
        "complete": False,
        "fullSync": False,
        "deactivated": 0,
    }
    pipeline.drain()
    sync = pipeline.sync(body["syncId"])[1]
    assert (sync["received"], sync["processed"], sync["complete"]) == (3, 3, True)  # not counted twice


def test_each_part_counts_as_soon_as_it_is_accepted(pipeline, db):
    pipeline.push(
        {"products": [product("A1"), product("A2")], "syncId": "parts", "fullSync": True, "part": 1, "final": False}
    )
    first = pipeline.sync("parts")[1]
    assert (first["received"], first["fullSync"], first["complete"]) == (2, True, False)
    pipeline.push({"products": [product("A3")], "syncId": "parts", "fullSync": True, "part": 2})
    assert pipeline.sync("parts")[1]["received"] == 3
    # The received time recorded is the one the items carry (enrichment records the same again).
    message = json.loads(pipeline.receive(1)[0]["Body"])
    batches = {r["part"]: r["received_at"] for r in db.execute("SELECT part, received_at FROM sync_batches")}
    carried = datetime.fromisoformat(message["receivedAt"])
    assert batches[message["part"]] == carried
    started = db.execute("SELECT created_at FROM syncs WHERE sync_id = 'parts'").fetchone()["created_at"]
    assert started == batches[1] < batches[2]


def _point_database_at(monkeypatch, url: str) -> None:
    from mostrador.config import reset_settings

    monkeypatch.setenv("DATABASE_URL", url)
    reset_settings()


def test_with_the_database_down_ingest_answers_202_and_the_sync_appears_once_enriched(pipeline, db_url, monkeypatch):
    with socket.socket() as probe:  # a port nothing listens on: connections are refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    _point_database_at(monkeypatch, f"postgresql://postgres@127.0.0.1:{port}/mostrador")
    status, body = pipeline.push({"products": [product("D1"), product("D2")], "syncId": "while-down"})
    assert status == 202 and body["accepted"] == 2
    assert pipeline.queued_count() == 2

    _point_database_at(monkeypatch, db_url)  # the database is back
    assert pipeline.sync("while-down")[0] == 404  # nobody could record it yet
    pipeline.drain()
    sync = pipeline.sync("while-down")[1]
    assert (sync["received"], sync["processed"], sync["complete"]) == (2, 2, True)


def test_a_full_sync_split_as_the_413_says_completes_only_after_every_part(pipeline, db, db_url, monkeypatch):
    pipeline.push([product("A1"), product("A2"), product("B1")])
    pipeline.drain()
    with socket.socket() as probe:  # a port nothing listens on: receipts cannot be written
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    _point_database_at(monkeypatch, f"postgresql://postgres@127.0.0.1:{port}/mostrador")
    # The 413 message used to say: one "syncId", "final": false on all but the last, and nothing about
    # "part". Parts that all defaulted to 1 let the last request, enriched first, complete the full sync
    # and deactivate A1 and A2 while they were still queued. Such a request is now refused.
    unnumbered = {"products": [product("A1"), product("A2")], "syncId": "n", "fullSync": True, "final": False}
    status, answer = pipeline.push(unnumbered)
    assert status == 400 and '"part"' in answer["error"]
    assert pipeline.queued_count() == 0
    # As the message says now: numbered parts.
    assert pipeline.push({**unnumbered, "part": 1})[0] == 202
    last = {"products": [product("B1")], "syncId": "n", "fullSync": True, "part": 2, "final": True}
    assert pipeline.push(last)[0] == 202

    _point_database_at(monkeypatch, db_url)
    messages = pipeline.receive_all(3)
    pipeline.enrich([m for m in messages if json.loads(m["Body"])["item"]["itemCode"] == "B1"])  # the last first
    status_now = pipeline.sync("n")[1]
    active = {r["item_code"]: r["active"] for r in db.execute("SELECT item_code, active FROM products")}
    assert status_now["complete"] is False and active == {"A1": True, "A2": True, "B1": True}
    pipeline.enrich([m for m in messages if json.loads(m["Body"])["item"]["itemCode"] != "B1"])
    status_now = pipeline.sync("n")[1]
    assert (status_now["received"], status_now["complete"], status_now["deactivated"]) == (3, True, 0)


@pytest.fixture
def hung_database() -> Iterator[tuple[str, list[socket.socket]]]:
    """A server that accepts TCP connections and never answers (a frozen PostgreSQL)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"postgresql://postgres@127.0.0.1:{server.getsockname()[1]}/mostrador", accepted
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    server.close()


def test_with_the_database_hung_ingest_answers_202_without_waiting_for_it(pipeline, db_url, monkeypatch, hung_database):
    from functions.ingest.handler import receipts

    url, connections = hung_database
    _point_database_at(monkeypatch, url)
    started = time.monotonic()
    status, _ = pipeline.push({"products": [product("H1")], "syncId": "while-hung"})
    elapsed = time.monotonic() - started
    assert status == 202
    assert elapsed < receipts.deadline_s + 3  # functional bound: the deadline, not the hang
    assert len(connections) == 1
    # While it stays unanswered, further pushes do not try (nor wait) again.
    assert pipeline.push({"products": [product("H2")], "syncId": "while-hung-2"})[0] == 202
    assert len(connections) == 1

    _point_database_at(monkeypatch, db_url)
    pipeline.drain()
    assert pipeline.sync("while-hung")[1]["complete"] is True
    assert pipeline.sync("while-hung-2")[1]["complete"] is True


def test_a_rejected_request_records_nothing(pipeline):
    status, body = pipeline.push({"products": [{"itemCode": "X"}], "syncId": "nothing"})
    assert status == 422
    assert pipeline.sync("nothing")[0] == 404


def test_a_receipt_only_late_is_stored_and_does_not_silence_the_next_ones(db, db_url):
    from mostrador.catalog.models import SyncReceipt
    from mostrador.db.receipt_writer import ReceiptWriter

    # Every write is "late" (the first of the environment too): the request never waits.
    writer = ReceiptWriter(lambda: db_url, deadline_s=0.0, first_deadline_s=0.0, quiet_s=60)

    def receipt(sync_id: str) -> SyncReceipt:
        return SyncReceipt("default", sync_id, f"batch-{sync_id}", 1, False, 1, True, datetime.now(UTC))

    try:
        assert writer(receipt("late")) is False  # given up by the request, still written by its thread
        deadline = time.monotonic() + 10
        while db.execute("SELECT 1 FROM syncs WHERE sync_id = 'late'").fetchone() is None:
            assert time.monotonic() < deadline, "the late receipt was never written"
            time.sleep(0.05)
        writer.deadline_s = 5.0
        # Not silenced for quiet_s (60 s): the database answered. (The writer thread ends the quiet
        # period a moment after its commit, hence a few tries.)
        deadline = time.monotonic() + 5
        while not writer(receipt("next")):
            assert time.monotonic() < deadline, "the late write left the writer quiet"
            time.sleep(0.05)
    finally:
        writer.reset()


# -- a cold environment's first receipt ---------------------------------------------------------------

SLOW_CONNECT_S = 0.8  # longer than a warm write's deadline (0.5 s), as a cold Lambda's import + TLS connect


@pytest.fixture
def slow_connect_url(db_url) -> Iterator[str]:
    """The test database through a path where every new connection answers only after SLOW_CONNECT_S."""
    import psycopg

    from tests.fakes.network import GoodbyeLosingPath

    parts = psycopg.conninfo.conninfo_to_dict(db_url)
    path = GoodbyeLosingPath(f"{parts['host']}/.s.PGSQL.5432", connect_delay_s=SLOW_CONNECT_S).start()
    yield path.url(str(parts["dbname"]))
    path.stop()


def test_the_first_receipt_of_an_environment_waits_for_a_slow_first_connect(pipeline, monkeypatch, slow_connect_url):
    from functions.ingest.handler import receipts

    _point_database_at(monkeypatch, slow_connect_url)
    assert pipeline.sync("not-yet")[0] == 404  # the GET routes' own connection is open (and warm) now
    receipts.reset()  # the receipt writer as a new environment has it: no connection, psycopg to load

    status, body = pipeline.push([product("C1"), product("C2")])
    assert status == 202
    got, sync = pipeline.sync(body["syncId"])  # right after the 202: it waited 0.5 s and gave up, a 404
    assert got == 200 and (sync["received"], sync["complete"]) == (2, False)
    status, body = pipeline.push([product("C3")])  # the connection is open: the warm deadline is plenty
    assert status == 202 and pipeline.sync(body["syncId"])[0] == 200


def test_a_receipt_write_that_was_only_slow_does_not_silence_the_next_one(db, slow_connect_url):
    from mostrador.catalog.models import SyncReceipt
    from mostrador.db.receipt_writer import ReceiptWriter

    writer = ReceiptWriter(lambda: slow_connect_url, deadline_s=0.2, quiet_s=60)
    writer.first_deadline_s = 0.2  # the first write, too, is given up before its connect answers

    def receipt(sync_id: str) -> SyncReceipt:
        return SyncReceipt("default", sync_id, f"batch-{sync_id}", 1, False, 1, True, datetime.now(UTC))

    try:
        assert writer(receipt("slow")) is False  # the connect takes 0.8 s: the request stopped waiting
        # The next request (on Lambda: the next invocation, which thaws the slow write) is not skipped:
        # it waits behind the slow write, which lands, then its own goes on the same connection.
        writer.deadline_s = 3.0
        assert writer(receipt("next")) is True  # it was silenced for quiet_s (60 s)
    finally:
        writer.reset()
    found = {r["sync_id"] for r in db.execute("SELECT sync_id FROM syncs WHERE sync_id IN ('slow', 'next')")}
    assert found == {"slow", "next"}


def test_a_receipt_write_that_failed_silences_the_next_ones(db):
    from mostrador.catalog.models import SyncReceipt
    from mostrador.db.receipt_writer import ReceiptWriter

    server = socket.create_server(("127.0.0.1", 0))  # takes a connection and hangs up at once: a failure
    accepted = []

    def hang_up() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            accepted.append(conn)
            conn.close()

    threading.Thread(target=hang_up, daemon=True).start()
    writer = ReceiptWriter(lambda: f"postgresql://postgres@127.0.0.1:{server.getsockname()[1]}/x", quiet_s=60)
    receipt = SyncReceipt("default", "refused", "batch-refused", 1, False, 1, True, datetime.now(UTC))
    try:
        assert writer(receipt) is False and len(accepted) == 1
        assert writer(receipt) is False and len(accepted) == 1  # quiet: not even tried
    finally:
        writer.reset()
        server.close()
