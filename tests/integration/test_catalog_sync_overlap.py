"""A full sync and an incremental push that overlap (issue 14, catalog item 1).

Rule: a completed full sync deactivates only the products, and zeroes only the stock rows, that no sync
received after the full sync began has seen. "Began" is when ingest accepted the first of its parts to
arrive; "received" is when ingest accepted the request that carried an item (it travels on the queue).
Items go through the real ingest handler, the real queue and the real enrich handler; the order in which
the enrich handler sees them is chosen by taking the messages off the queue and handing them over in
that order, as two Lambda pollers could.
"""

from __future__ import annotations

import json

from mostrador.catalog.enrichment import QueuedItem, enrich_batch
from mostrador.catalog.models import EnrichMessage, ProductItem
from mostrador.db.catalog_repository import CatalogRepository
from mostrador.db.connection import connect
from mostrador.llm.base import Completion, Usage
from tests.integration.catalog_support import product

USER = [f"U{i}" for i in range(4)]


def _status(pipeline, sync_id):
    status, body = pipeline.sync(sync_id)
    assert status == 200, body
    return body


def _by_sync(messages):
    grouped: dict[str, list] = {}
    for m in messages:
        grouped.setdefault(json.loads(m["Body"])["syncId"], []).append(m)
    return grouped


def _catalog(db):
    active = {r["item_code"]: r["active"] for r in db.execute("SELECT item_code, active FROM products")}
    stock = {
        (r["item_code"], r["warehouse"]): int(r["stock"])
        for r in db.execute("SELECT item_code, warehouse, stock FROM product_stock")
    }
    return active, stock


def _before(pipeline):
    """What the shop had: a discontinued product, and two of the user's products (U0 at two warehouses)."""
    pipeline.push([product("OLD"), product("U0"), product("U0", whsName="ALM VLC", stock=4), product("U1")])
    pipeline.drain()


def _user_push(pipeline, sync_id):
    # U0 and U1 exactly as sent before (at Caracas), U2 and U3 new.
    return pipeline.push({"products": [product(code) for code in USER], "syncId": sync_id})


def _full_sync_part(pipeline, part, codes, *, final):
    return pipeline.push(
        {
            "products": [product(code) for code in codes],
            "syncId": "nightly",
            "fullSync": True,
            "part": part,
            "final": final,
        }
    )


def _assert_outcome(pipeline, db):
    active, stock = _catalog(db)
    assert active == {"OLD": False, "S0": True, "S1": True, "S2": True, **{code: True for code in USER}}
    assert stock == {
        ("OLD", "ALMACEN CARACAS"): 0,  # nobody listed it since the full sync began
        ("U0", "ALM VLC"): 0,  # the user's push listed U0 at Caracas only
        **{(code, "ALMACEN CARACAS"): 5 for code in [*USER, "S0", "S1", "S2"]},
    }
    # The same push again is all "unchanged": nothing was lost or zeroed under it.
    assert _user_push(pipeline, "user-again")[0] == 202
    pipeline.drain()
    again = _status(pipeline, "user-again")
    assert (again["processed"], again["unchanged"], again["complete"]) == (0, len(USER), True)


def test_an_incremental_push_processed_while_a_full_sync_runs_survives_its_completion(pipeline, db):
    _before(pipeline)
    # Full sync begins → the user's push is received and processed → the full sync completes.
    assert _full_sync_part(pipeline, 1, ["S0", "S1"], final=False)[0] == 202
    assert _user_push(pipeline, "user")[0] == 202
    pipeline.drain()
    assert _status(pipeline, "user")["complete"] is True
    assert _status(pipeline, "nightly")["complete"] is False
    assert _full_sync_part(pipeline, 2, ["S2"], final=True)[0] == 202
    pipeline.drain()

    nightly = _status(pipeline, "nightly")
    assert (nightly["complete"], nightly["deactivated"]) == (True, 1)  # OLD only
    _assert_outcome(pipeline, db)


def test_an_incremental_push_received_during_a_full_sync_but_processed_after_it_completes(pipeline, db):
    _before(pipeline)
    # Full sync begins → the user's push is received → the full sync is processed and completes → the
    # user's push is processed.
    assert _full_sync_part(pipeline, 1, ["S0", "S1"], final=False)[0] == 202
    assert _user_push(pipeline, "user")[0] == 202
    assert _full_sync_part(pipeline, 2, ["S2"], final=True)[0] == 202
    queued = _by_sync(pipeline.receive_all(3 + len(USER)))
    pipeline.enrich(queued["nightly"])
    assert _status(pipeline, "nightly")["complete"] is True
    # The full sync could not know what the push it had not read yet lists: U0 and U1 went inactive ...
    assert _catalog(db)[0]["U0"] is False
    pipeline.enrich(queued["user"])
    # ... and the push brings them back, stock restored even where it repeats what was sent before.
    assert _status(pipeline, "user")["complete"] is True
    _assert_outcome(pipeline, db)


def test_a_full_sync_in_parts_began_when_its_first_part_to_arrive_was_accepted(pipeline, db):
    _before(pipeline)
    # Part 2 arrives first: the full sync began then, so a push received after it is kept even though
    # it was received before part 1.
    assert _full_sync_part(pipeline, 2, ["S2"], final=True)[0] == 202
    assert _user_push(pipeline, "user")[0] == 202
    pipeline.drain()
    assert _full_sync_part(pipeline, 1, ["S0", "S1"], final=False)[0] == 202
    pipeline.drain()
    assert _status(pipeline, "nightly")["deactivated"] == 1
    _assert_outcome(pipeline, db)


def test_a_push_received_before_the_full_sync_began_is_deactivated_by_it(pipeline, db):
    _before(pipeline)
    assert _user_push(pipeline, "user")[0] == 202
    pipeline.drain()
    assert _full_sync_part(pipeline, 1, ["S0", "S1", "S2"], final=True)[0] == 202
    pipeline.drain()
    active, stock = _catalog(db)
    assert not any(active[code] for code in [*USER, "OLD"]) and active["S0"]
    assert stock[("U2", "ALMACEN CARACAS")] == 0
    assert _status(pipeline, "nightly")["deactivated"] == 1 + len(USER)


class _FinalizeWhileSummarizing:
    """The LLM stand-in: while it writes the first summary of a batch, another enrich invocation (its
    own connection) processes the full sync's last item and finalizes it."""

    name = "racing"

    def __init__(self, other_batch) -> None:
        self.other_batch = other_batch
        self.fired = False

    def summarize(self, text: str, *, product_name: str) -> Completion:
        if not self.fired:
            self.fired = True
            self.other_batch()
        return Completion(f"Resumen de {product_name}", Usage("fake", "sum-1", 1, 1))


def _queued(message_id: str, message: dict) -> QueuedItem:
    parsed = EnrichMessage.model_validate(message)
    return QueuedItem(message_id, parsed, ProductItem.model_validate(parsed.item), 1)


def test_a_full_sync_finalized_while_a_later_push_is_being_enriched_does_not_win(pipeline, db, db_url):
    _before(pipeline)
    # The full sync's only part and then the user's push are accepted; the push's batch is planned first
    # and the full sync completes while that batch waits for the LLM (U9 is new: it needs a summary). The
    # full sync cannot know the push names U0 and U1 (nothing of it is recorded yet) and deactivates them;
    # the push, planned when they were active, puts them back when it records its outcomes.
    assert _full_sync_part(pipeline, 1, ["S0"], final=True)[0] == 202
    assert pipeline.push({"products": [product("U0"), product("U1"), product("U9")], "syncId": "user"})[0] == 202
    queued = _by_sync(pipeline.receive_all(4))
    full = [_queued(m["MessageId"], json.loads(m["Body"])) for m in queued["nightly"]]
    user = [_queued(m["MessageId"], json.loads(m["Body"])) for m in queued["user"]]

    other = connect(db_url)
    try:

        def finalize_full_sync() -> None:
            enrich_batch(
                full, store=CatalogRepository(other), summarizer=_FinalizeWhileSummarizing(lambda: None),
                embedder=None, max_receives=3,
            )  # fmt: skip
            assert _status(pipeline, "nightly")["complete"] is True

        summarizer = _FinalizeWhileSummarizing(finalize_full_sync)
        report = enrich_batch(user, store=CatalogRepository(db), summarizer=summarizer, embedder=None, max_receives=3)
    finally:
        other.close()

    assert summarizer.fired and not report.failures
    active, stock = _catalog(db)
    assert active == {"OLD": False, "S0": True, "U0": True, "U1": True, "U9": True}
    assert stock[("U0", "ALMACEN CARACAS")] == 5 and stock[("U1", "ALMACEN CARACAS")] == 5
    assert stock[("U0", "ALM VLC")] == 0


def test_a_product_the_full_sync_names_stays_active_when_its_item_fails(pipeline, db, refused_item_code):
    pipeline.push([product("KEEP"), product("GONE")])
    pipeline.drain()
    # The full sync lists KEEP at a warehouse it had no row for, renamed; the database refuses it.
    refused_item_code("KEEP")
    renamed = product("KEEP", whsName="ALM VLC", itemName="Producto KEEP (nuevo)")
    assert pipeline.push({"products": [renamed, product("NEW")], "syncId": "nightly", "fullSync": True})[0] == 202
    pipeline.drain()
    dead = pipeline.retry_until_dead_lettered()
    assert [json.loads(m["Body"])["item"]["itemCode"] for m in dead] == ["KEEP"]
    nightly = _status(pipeline, "nightly")
    assert (nightly["complete"], nightly["failed"], nightly["deactivated"]) == (True, 1, 1)
    active, stock = _catalog(db)
    assert active == {"KEEP": True, "GONE": False, "NEW": True}
    assert stock[("KEEP", "ALMACEN CARACAS")] == 0  # that warehouse was not listed
