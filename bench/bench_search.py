"""Search latency at 10,000 products: hybrid (full text + HNSW) and full text alone, warm, query embedding
excluded (issue 9 targets: hybrid p50 <= 10 ms, p95 <= 30 ms).

The catalog is bench_catalog's synthetic one, stored through the real enrichment (offline summaries).
Embeddings are realistic without embedding 10,000 texts: each product's vector is the
multilingual-e5-small vector of its kind-and-brand text plus a little noise (so neighbours cluster as
in a real catalog); queries are embedded by the same model before timing starts.

    python -m bench.bench_search [--products 10000] [--rounds 25] [--explain]

Ends with one line of JSON. --explain also prints EXPLAIN (ANALYZE, BUFFERS) of the candidate query.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from dataclasses import dataclass, field

import numpy as np

from bench.bench_catalog import BRANDS, KINDS, synthetic_catalog
from eval.e5_embedder import DIMENSIONS, E5Embedder
from mostrador.catalog.enrichment import QueuedItem, enrich_batch
from mostrador.catalog.models import EnrichMessage, ProductItem
from mostrador.catalog.search import SearchFilters, rank_products
from mostrador.llm.base import Embeddings, Usage
from mostrador.llm.offline_provider import OfflineProvider

QUERIES: list[tuple[str, SearchFilters, str]] = [
    ("nevera samsung", SearchFilters(), "brand"),
    ("lavadora de carga frontal", SearchFilters(in_stock=True), "in stock"),
    ("televisor lg en valencia", SearchFilters(branch="Valencia"), "branch"),
    ("cuanto cuesta el SKU-04242?", SearchFilters(), "code"),
    ("sku 4242 hay?", SearchFilters(), "code part"),
    ("laptop para la universidad", SearchFilters(max_price=800), "price"),
    ("aire acondicionado", SearchFilters(brand="Daikin", in_stock=True), "brand filter"),
    ("colchon", SearchFilters(category="muebles"), "category"),
    ("coffee maker", SearchFilters(), "english"),
    ("una licua oster", SearchFilters(), "colloquial"),
    ("cafetrea oster", SearchFilters(), "typo"),
    ("tienen iphone 15 pro?", SearchFilters(), "negative"),
    ("comida para gatos", SearchFilters(), "negative"),
    ("algo para hacer jugos en la mañana", SearchFilters(), "semantic"),
]


@dataclass
class TemplateEmbedder:
    """Product vectors: the e5 vector of "<kind> <brand>" plus noise; deterministic per text."""

    templates: dict[str, np.ndarray]
    name: str = "bench"
    model: str = "multilingual-e5-small"
    calls: int = 0
    cache: dict[str, list[float]] = field(default_factory=dict)

    def embed(self, texts: list[str]) -> Embeddings:
        self.calls += 1
        vectors = []
        for text in texts:
            first_line = text.splitlines()[0].lower()
            key = next((k for k in self.templates if all(w in first_line for w in k.split())), None)
            base = self.templates[key] if key else np.zeros(DIMENSIONS, dtype=np.float32)
            seed = abs(hash(text)) % (2**32)
            noise = np.random.default_rng(seed).standard_normal(DIMENSIONS).astype(np.float32)
            noise[384:] = 0
            vector = base + 0.015 * noise
            vectors.append((vector / np.linalg.norm(vector)).tolist())
        return Embeddings(vectors, Usage("bench", self.model, 0, 0))


def load(conn, items: list[dict], embedder: TemplateEmbedder, batch: int = 100) -> None:
    from mostrador.db.catalog_repository import CatalogRepository

    repo = CatalogRepository(conn)
    summarizer = OfflineProvider()
    for start in range(0, len(items), batch):
        queued = [
            QueuedItem(
                str(start + i),
                EnrichMessage(
                    tenant_id="bench", sync_id="s", batch_id="b", batch_size=len(items), index=start + i, item=raw
                ),
                ProductItem.model_validate(raw),
                1,
            )
            for i, raw in enumerate(items[start : start + batch])
        ]
        report = enrich_batch(queued, store=repo, summarizer=summarizer, embedder=embedder, max_receives=5)
        assert not report.failures, report.failures


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(share * len(ordered))) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=25, help="times each query is timed")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--data-dir", help="keep the database here and reuse its catalog (development)")
    args = parser.parse_args()

    from local.embedded_postgres import start_embedded_postgres
    from mostrador.db.connection import connect
    from mostrador.db.migrate import apply_migrations

    e5_passage, e5_query = E5Embedder("passage"), E5Embedder("query")
    template_texts = [f"{es} {brand}".lower() for es, _, _ in KINDS for brand in BRANDS]
    vectors = e5_passage.embed([f"{t}" for t in template_texts]).vectors
    embedder = TemplateEmbedder(
        {t: np.asarray(v, dtype=np.float32) for t, v in zip(template_texts, vectors, strict=True)}
    )
    query_vectors = {q: e5_query.embed([q]).vectors[0] for q, _, _ in QUERIES}

    with tempfile.TemporaryDirectory(prefix="mostrador-bench-search-") as scratch:
        server = start_embedded_postgres(args.data_dir or scratch, cleanup_mode=None if args.data_dir else "stop")
        try:
            url = server.get_uri()
            apply_migrations(url)
            with connect(url) as conn:
                started = time.perf_counter()
                loaded = conn.execute("SELECT count(*) AS n FROM products WHERE tenant_id = 'bench'").fetchone()["n"]
                if loaded != args.products:
                    load(conn, synthetic_catalog(args.products), embedder)
                load_seconds = time.perf_counter() - started
                conn.execute("VACUUM ANALYZE products")
                conn.execute("ANALYZE product_stock")
                results: dict[str, dict] = {}
                for mode in ("hybrid", "fulltext"):
                    timings: list[float] = []
                    per_query: dict[str, float] = {}
                    fastest: dict[str, float] = {}
                    found: dict[str, int] = {}
                    for query, filters, _ in QUERIES:  # warm: caches, plans, pages
                        rank_products(
                            conn,
                            "bench",
                            query,
                            filters,
                            embedder=e5_query if mode == "hybrid" else None,
                            query_vector=query_vectors[query] if mode == "hybrid" else None,
                        )
                    for query, filters, label in QUERIES:
                        mine = []
                        for _ in range(args.rounds):
                            t0 = time.perf_counter()
                            ranked = rank_products(
                                conn,
                                "bench",
                                query,
                                filters,
                                embedder=e5_query if mode == "hybrid" else None,
                                query_vector=query_vectors[query] if mode == "hybrid" else None,
                            )
                            mine.append((time.perf_counter() - t0) * 1000)
                        timings += mine
                        per_query[f"{label}: {query}"] = round(statistics.median(mine), 2)
                        fastest[f"{label}: {query}"] = round(min(mine), 2)
                        found[f"{label}: {query}"] = len(ranked)
                    results[mode] = {
                        "searches": len(timings),
                        "p50_ms": round(statistics.median(timings), 2),
                        "p95_ms": round(percentile(timings, 0.95), 2),
                        "max_ms": round(max(timings), 2),
                        "median_ms_per_query": per_query,
                        # on a shared machine the fastest of the rounds shows the search's own cost
                        "fastest_ms_per_query": fastest,
                        "p50_of_fastest_ms": round(statistics.median(fastest.values()), 2),
                        "results_per_query": found,
                    }
                    print(mode, {k: v for k, v in results[mode].items() if not isinstance(v, dict)}, flush=True)
                if args.explain:
                    explain(conn, query_vectors)
                    explain(conn, query_vectors, "colchon", SearchFilters(category="muebles"))
        finally:
            server.cleanup()

    hybrid = results["hybrid"]
    print(
        json.dumps(
            {
                "benchmark": "search",
                "products": args.products,
                "load_seconds": round(load_seconds, 1),
                "embedding": "multilingual-e5-small vectors (query embedding excluded from timings)",
                "hybrid": hybrid,
                "fulltext": results["fulltext"],
                "load_average_1m": round(os.getloadavg()[0], 2),
                "cpus": os.cpu_count(),
                "targets_met": {
                    "hybrid_p50_le_10ms": hybrid["p50_ms"] <= 10,
                    "hybrid_p95_le_30ms": hybrid["p95_ms"] <= 30,
                },
            },
            ensure_ascii=False,
        )
    )


def explain(
    conn,
    query_vectors: dict[str, list[float]],
    query: str = "nevera samsung",
    filters: SearchFilters = SearchFilters(in_stock=True),  # noqa: B008
) -> None:
    """EXPLAIN ANALYZE of the candidate query of one hybrid search (docs/search.md)."""
    from mostrador.db import search_repository as repo

    captured: dict = {}
    original = repo.search_candidates

    def capture(conn_, **kwargs):
        captured.update(kwargs)
        return original(conn_, **kwargs)

    repo.search_candidates = capture  # type: ignore[assignment]
    try:
        rank_products(conn, "bench", query, filters, query_vector=query_vectors[query], embedder=E5Embedder("query"))
    finally:
        repo.search_candidates = original  # type: ignore[assignment]
    params = {
        "tenant": captured["tenant_id"],
        "floor": captured["floor"],
        "terms": captured["terms"],
        "title_terms": captured["title_terms"],
        "soft_terms": captured["soft_terms"],
        "code_keys": captured["code_keys"],
        "qvec": repo._vector(captured["query_vector"]),
        "walk_limit": repo.walk_length(captured["filters"], captured["vector_limit"]),
        "lexical_limit": captured["lexical_limit"],
        "vector_limit": captured["vector_limit"],
        **captured["filters"],
    }
    with conn.transaction():
        conn.execute(f"SET LOCAL hnsw.ef_search = {max(100, params['walk_limit'])}")
        plan = conn.execute(
            "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + repo.candidates_sql(captured["filters"]), params
        ).fetchall()
    print(f"EXPLAIN ANALYZE, hybrid search {query!r} {filters}:")
    for row in plan:
        print("   ", row["QUERY PLAN"])


if __name__ == "__main__":
    main()
