"""Catalog throughput and search latency on a synthetic 10,000-product catalog.

Phases: first sync, the same catalog again (unchanged), then 5% of prices changed. The LLM and the
embedding API are stubbed at a fixed latency (what matters is how many calls we make, and what the
rest of the pipeline costs); Postgres + pgvector is the real embedded server.

Targets (issue 2): the unchanged re-sync makes 0 LLM calls, 0 embedding calls and 0 writes and runs
at least 5x faster than the first sync; the price-change sync makes 0 LLM and 0 embedding calls.
Ends with one line of JSON.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import statistics
import tempfile
import time
from dataclasses import dataclass

import numpy as np

from mostrador.catalog.enrichment import QueuedItem, enrich_batch
from mostrador.catalog.models import EnrichMessage, ProductItem
from mostrador.catalog.search import SearchFilters, search_products
from mostrador.db.catalog_repository import CatalogRepository
from mostrador.db.connection import connect
from mostrador.db.migrate import apply_migrations
from mostrador.llm.base import Completion, Embeddings, Usage

KINDS = [
    ("Nevera", "Refrigerator", "Línea Blanca"),
    ("Lavadora", "Washer", "Línea Blanca"),
    ("Televisor", "TV", "Electrónica"),
    ("Laptop", "Laptop", "Computación"),
    ("Teléfono", "Phone", "Telefonía"),
    ("Cafetera", "Coffee maker", "Cocina"),
    ("Licuadora", "Blender", "Cocina"),
    ("Aire acondicionado", "Air conditioner", "Climatización"),
    ("Sofá", "Sofa", "Muebles"),
    ("Colchón", "Mattress", "Muebles"),
]
BRANDS = ["Samsung", "LG", "Whirlpool", "Oster", "HP", "Lenovo", "Daikin", "Mabe", "Sony", "Xiaomi"]
BRANCHES = [("CCS-01", "Caracas"), ("VLC-01", "Valencia"), ("MCB-01", "Maracaibo"), ("BQM-01", "Barquisimeto")]


def synthetic_catalog(count: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    items = []
    for i in range(count):
        es, en, category = KINDS[i % len(KINDS)]
        brand = BRANDS[(i // len(KINDS)) % len(BRANDS)]
        whs, branch = BRANCHES[i % len(BRANCHES)]
        items.append(
            {
                "itemCode": f"SKU-{i:05d}",
                "itemName": f"{es} {brand} modelo {i}",
                "description": (
                    f"<div><h3>{es} {brand}</h3><p>{en} de alta eficiencia, modelo {i}, garantía de "
                    f"{1 + i % 3} años.</p><ul><li>Color {rng.choice(['negro', 'blanco', 'gris'])}</li>"
                    f"<li>Consumo clase A</li></ul><script>track({i})</script></div>"
                ),
                "category": category,
                "subCategory": es,
                "brand": brand,
                "line": "Hogar",
                "itemGroupName": category,
                "whsName": whs,
                "branchName": branch,
                "stock": rng.randint(0, 20),
                "price": round(rng.uniform(20, 2000), 2),
                "priceBolivar": round(rng.uniform(700, 70000), 2),
            }
        )
    return items


@dataclass
class SlowSummarizer:
    latency: float
    calls: int = 0
    name: str = "stub"

    def summarize(self, text: str, *, product_name: str) -> Completion:
        time.sleep(self.latency)
        self.calls += 1
        return Completion(" ".join(text.split()[:60]), Usage("stub", "stub-chat", 200, 80))


@dataclass
class SlowEmbedder:
    latency: float
    dimensions: int = 1536
    calls: int = 0
    name: str = "stub"
    model: str = "stub-embedding"

    def embed(self, texts: list[str]) -> Embeddings:
        time.sleep(self.latency)
        self.calls += 1
        return Embeddings([self.vector(t) for t in texts], Usage("stub", self.model, 10 * len(texts), 0))

    def vector(self, text: str) -> list[float]:
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
        v = np.random.default_rng(seed).standard_normal(self.dimensions).astype(np.float32)
        return (v / np.linalg.norm(v)).tolist()


def run_sync(conn, items, sync_id, batch_size, summarizer, embedder) -> dict:
    repo = CatalogRepository(conn)
    llm_before, emb_before = summarizer.calls, embedder.calls
    started = time.perf_counter()
    for start in range(0, len(items), batch_size):
        chunk = items[start : start + batch_size]
        queued = [
            QueuedItem(
                f"{sync_id}-{start + i}",
                EnrichMessage(
                    tenant_id="bench", sync_id=sync_id, batch_id="b", batch_size=len(items), index=start + i, item=raw
                ),
                ProductItem.model_validate(raw),
                1,
            )
            for i, raw in enumerate(chunk)
        ]
        report = enrich_batch(queued, store=repo, summarizer=summarizer, embedder=embedder, max_receives=5)
        assert not report.failures, report.failures
    seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 2),
        "products_per_second": round(len(items) / seconds, 1),
        "llm_calls": summarizer.calls - llm_before,
        "embedding_calls": embedder.calls - emb_before,
        "rows_written": repo.rows_written,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=50, help="enrich batch size (SQS event source)")
    parser.add_argument("--llm-latency-ms", type=float, default=40)
    parser.add_argument("--embedding-latency-ms", type=float, default=150)
    parser.add_argument("--searches", type=int, default=200)
    args = parser.parse_args()

    from local.embedded_postgres import start_embedded_postgres

    with tempfile.TemporaryDirectory(prefix="mostrador-bench-") as data_dir:
        server = start_embedded_postgres(data_dir)
        try:
            url = server.get_uri()
            apply_migrations(url)
            conn = connect(url)
            summarizer = SlowSummarizer(args.llm_latency_ms / 1000)
            embedder = SlowEmbedder(args.embedding_latency_ms / 1000)
            catalog = synthetic_catalog(args.products)

            phases = {"first_sync": run_sync(conn, catalog, "first", args.batch_size, summarizer, embedder)}
            print("first sync", phases["first_sync"], flush=True)
            phases["unchanged_resync"] = run_sync(conn, catalog, "again", args.batch_size, summarizer, embedder)
            print("unchanged re-sync", phases["unchanged_resync"], flush=True)
            rng = random.Random(11)
            changed = [dict(item) for item in catalog]
            for item in rng.sample(changed, len(changed) // 20):
                item["price"] = round(item["price"] * 1.1, 2)
            phases["price_change_5pct"] = run_sync(conn, changed, "prices", args.batch_size, summarizer, embedder)
            print("5% prices changed", phases["price_change_5pct"], flush=True)

            conn.execute("ANALYZE products; ANALYZE product_stock")
            queries = [
                ("nevera samsung", SearchFilters()),
                ("lavadora de carga frontal", SearchFilters(in_stock=True)),
                ("televisor 55 pulgadas", SearchFilters(branch="Valencia")),
                ("SKU-04242", SearchFilters()),
                ("laptop para la universidad", SearchFilters(max_price=800)),
                ("aire acondicionado", SearchFilters(brand="Daikin", in_stock=True)),
                ("colchon", SearchFilters(category="muebles")),
                ("coffee maker", SearchFilters()),
            ]
            fast_embedder = SlowEmbedder(0)
            latencies = []
            for i in range(args.searches):
                query, filters = queries[i % len(queries)]
                t0 = time.perf_counter()
                search_products(conn, "bench", query, filters, embedder=fast_embedder, limit=5)
                latencies.append((time.perf_counter() - t0) * 1000)
            latencies.sort()
            search = {
                "queries": len(latencies),
                "p50_ms": round(statistics.median(latencies), 2),
                "p95_ms": round(latencies[int(len(latencies) * 0.95) - 1], 2),
            }
            conn.close()
        finally:
            server.cleanup()

    first, again, prices = phases["first_sync"], phases["unchanged_resync"], phases["price_change_5pct"]
    speedup = round(again["products_per_second"] / first["products_per_second"], 1)
    targets = {
        "unchanged_zero_llm_embedding_writes": (again["llm_calls"], again["embedding_calls"], again["rows_written"])
        == (0, 0, 0),
        "unchanged_at_least_5x_faster": speedup >= 5,
        "price_change_zero_llm_embedding": (prices["llm_calls"], prices["embedding_calls"]) == (0, 0),
    }
    print(
        json.dumps(
            {
                "benchmark": "catalog",
                "products": args.products,
                "batch_size": args.batch_size,
                "stub_latency_ms": {"llm": args.llm_latency_ms, "embedding": args.embedding_latency_ms},
                "phases": phases,
                "unchanged_speedup": speedup,
                "search": search,
                "targets_met": targets,
            }
        )
    )


if __name__ == "__main__":
    main()
