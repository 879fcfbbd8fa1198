"""Each delta rule of enrichment, with the LLM and embedding calls it costs, on the real database."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from mostrador.catalog.enrichment import QueuedItem, enrich_batch
from mostrador.catalog.models import EnrichMessage, ProductItem
from mostrador.db.catalog_repository import CatalogRepository
from mostrador.llm.base import Completion, Embeddings, ProviderError, Usage
from tests.integration.catalog_support import product


@dataclass
class CountingSummarizer:
    """Stands in for the LLM: counts calls, fails on a marker."""

    name: str = "counting"
    calls: list[str] = field(default_factory=list)
    fail_on: str | None = None

    def summarize(self, text: str, *, product_name: str) -> Completion:
        self.calls.append(text)
        if self.fail_on and self.fail_on in text:
            raise ProviderError("the model refused this text")
        return Completion(f"Resumen de {product_name}: " + " ".join(text.split()[:8]), Usage("fake", "sum-1", 10, 5))


@dataclass
class CountingEmbedder:
    name: str = "counting"
    model: str = "emb-1"
    batches: list[list[str]] = field(default_factory=list)
    fail_on: str | None = None

    def embed(self, texts: list[str]) -> Embeddings:
        self.batches.append(list(texts))
        if self.fail_on and any(self.fail_on in t for t in texts):
            raise ProviderError("input rejected")
        return Embeddings([_vector(t) for t in texts], Usage("fake", self.model, len(texts), 0))


def _vector(text: str) -> list[float]:
    seed = hashlib.sha256(text.encode()).digest()
    raw = [(seed[i % 32] - 128) / 128 for i in range(1536)]
    norm = math.sqrt(sum(v * v for v in raw))
    return [v / norm for v in raw]


class Harness:
    def __init__(self, conn) -> None:
        self.conn = conn
        self.summarizer = CountingSummarizer()
        self.embedder: CountingEmbedder | None = CountingEmbedder()
        self.sequence = 0

    def run(self, items: list[dict], *, sync_id: str = "s1", full_sync: bool = False, attempt: int = 1):
        self.sequence += 1
        batch = f"b{self.sequence}"
        queued = [
            QueuedItem(
                f"m{self.sequence}-{i}",
                EnrichMessage(
                    tenant_id="t1",
                    sync_id=sync_id,
                    batch_id=batch,
                    batch_size=len(items),
                    full_sync=full_sync,
                    index=i,
                    item=raw,
                ),
                ProductItem.model_validate(raw),
                attempt,
            )
            for i, raw in enumerate(items)
        ]
        repo = CatalogRepository(self.conn)
        before = (len(self.summarizer.calls), len(self.embedder.batches) if self.embedder else 0)
        report = enrich_batch(queued, store=repo, summarizer=self.summarizer, embedder=self.embedder, max_receives=3)
        self.llm_calls = len(self.summarizer.calls) - before[0]
        self.embedding_calls = (len(self.embedder.batches) if self.embedder else 0) - before[1]
        self.rows_written = repo.rows_written
        return report

    def row(self, code: str) -> dict:
        return self.conn.execute("SELECT * FROM products WHERE tenant_id = 't1' AND item_code = %s", (code,)).fetchone()


@pytest.fixture
def harness(db) -> Harness:
    return Harness(db)


def test_new_products_are_summarized_one_call_each_and_embedded_in_one_call(harness):
    report = harness.run([product("P1"), product("P2"), product("P3")])
    assert not report.failures
    assert harness.llm_calls == 3 and harness.embedding_calls == 1
    assert len(harness.embedder.batches[0]) == 3
    row = harness.row("P1")
    assert row["summary"].startswith("Resumen de Producto P1")
    assert row["embedding"] is not None and row["embedding_model"] == "emb-1"
    assert row["description_html"].startswith("<p>") and row["description_text"].startswith(
        "Descripción del producto P1"
    )
    assert "<" not in row["searchable_text"] and "Resumen de Producto P1" in row["searchable_text"]
    assert "Marca" in row["searchable_text"] and "Hogar" in row["searchable_text"]
    stock = harness.conn.execute("SELECT * FROM product_stock WHERE item_code = 'P1'").fetchone()
    assert stock["source_data"]["itemCode"] == "P1" and stock["stock"] == Decimal(5)
    assert {o.outcome for o in report.outcomes} == {"processed"}


def test_unchanged_items_cost_no_call_and_no_write(harness):
    items = [product("P1"), product("P2")]
    harness.run(items)
    updated_at = harness.row("P1")["updated_at"]
    report = harness.run(items)
    assert (harness.llm_calls, harness.embedding_calls, harness.rows_written) == (0, 0, 0)
    assert {o.outcome for o in report.outcomes} == {"unchanged"}
    assert harness.row("P1")["updated_at"] == updated_at


def test_a_changed_description_is_summarized_and_embedded_again(harness):
    harness.run([product("P1"), product("P2")])
    old = harness.row("P1")
    report = harness.run(
        [product("P1", description="<p>Nueva descripción: ahora con <i>Wi-Fi</i>.</p>"), product("P2")]
    )
    assert (
        harness.llm_calls == 1
        and harness.embedding_calls == 1
        and harness.embedder.batches[-1][0].startswith("Producto P1")
    )
    new = harness.row("P1")
    assert new["summary"] != old["summary"] and "Wi-Fi" in new["description_text"]
    assert [o.outcome for o in report.outcomes] == ["processed", "unchanged"]


def test_only_a_price_change_updates_the_price_and_keeps_summary_and_embedding(harness):
    harness.run([product("P1")])
    old = harness.row("P1")
    report = harness.run([product("P1", price=120.5, priceBolivar=4400)])
    assert (harness.llm_calls, harness.embedding_calls) == (0, 0)
    assert harness.rows_written == 2  # the price update, and the stock row whose source item changed
    new = harness.row("P1")
    assert new["price"] == Decimal("120.50") and new["price_bolivar"] == Decimal("4400.00")
    assert new["summary"] == old["summary"] and (new["embedding"] == old["embedding"]).all()
    assert report.outcomes[0].outcome == "processed"


def test_only_a_stock_change_writes_only_the_stock_row(harness):
    harness.run([product("P1")])
    harness.run([product("P1", stock=0)])
    assert (harness.llm_calls, harness.embedding_calls, harness.rows_written) == (0, 0, 1)
    stock = harness.conn.execute("SELECT stock FROM product_stock WHERE item_code = 'P1'").fetchone()
    assert stock["stock"] == 0


def test_a_missing_summary_is_generated_without_a_description_change(harness):
    harness.run([product("P1")])
    harness.conn.execute("UPDATE products SET summary = NULL WHERE item_code = 'P1'")
    harness.run([product("P1")])
    assert harness.llm_calls == 1
    assert harness.row("P1")["summary"].startswith("Resumen")


def test_stock_per_warehouse_is_one_product_with_rows_per_branch(harness):
    harness.run(
        [
            product("P1", whsName="ALM CCS", branchName="Caracas", stock=2),
            product("P1", whsName="ALM VLC", branchName="Valencia", stock=7),
        ]
    )
    assert harness.llm_calls == 1 and harness.embedding_calls == 1
    rows = harness.conn.execute("SELECT branch, stock FROM product_stock ORDER BY branch").fetchall()
    assert [(r["branch"], r["stock"]) for r in rows] == [("Caracas", 2), ("Valencia", 7)]


def test_one_poisoned_item_fails_alone(harness):
    harness.summarizer.fail_on = "VENENO"
    report = harness.run([product("P1"), product("P2", description="<p>VENENO</p>"), product("P3")])
    assert set(report.failures) == {"m1-1"}
    assert harness.row("P1") and harness.row("P3") and harness.row("P2") is None
    failed = [o for o in report.outcomes if o.outcome == "failed"]
    assert len(failed) == 1 and failed[0].final is False  # attempt 1 of 3: will be retried


def test_an_embedding_input_the_provider_rejects_fails_alone(harness):
    harness.embedder.fail_on = "Producto P2"
    report = harness.run([product("P1"), product("P2"), product("P3")])
    assert set(report.failures) == {"m1-1"}
    assert harness.row("P1")["embedding"] is not None and harness.row("P2") is None


def test_without_an_embedder_products_are_stored_for_full_text_search(harness):
    harness.embedder = None
    harness.run([product("P1")])
    row = harness.row("P1")
    assert row["embedding"] is None and row["summary"] and row["search_vector"]


def test_a_new_embedding_model_re_embeds_without_summarizing(harness):
    harness.run([product("P1")])
    harness.embedder = CountingEmbedder(model="emb-2")
    harness.run([product("P1")])
    assert (harness.llm_calls, harness.embedding_calls) == (0, 1)
    assert harness.row("P1")["embedding_model"] == "emb-2"


def test_usage_is_recorded_per_purpose(harness):
    harness.run([product("P1"), product("P2")])
    rows = harness.conn.execute("SELECT purpose, sum(calls) AS calls FROM llm_usage GROUP BY purpose").fetchall()
    assert {r["purpose"]: r["calls"] for r in rows} == {"summary": 2, "embedding": 1}
