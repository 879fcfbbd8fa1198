"""`make eval`: every evaluation query through the real `search_products` on a real PostgreSQL + pgvector.

The catalog (eval/data/catalog.json) goes in through the product's own path: the ingest validation
(`parse_push`, `validate_items`), the enrich-queue message shape, and `enrich_batch` with the real
`CatalogRepository` (HTML stripping, hidden text, summaries by the offline provider, searchable
text, search vectors, embeddings). Only the SQS transport is left out.

Two modes: full text alone (no embedder), and hybrid with a deterministic real model
(eval/e5_embedder.py). Per mode, per split (tune / holdout) and over all questions ("all", what the
targets apply to): recall@5, MRR and negative accuracy per kind and overall. Splits kept in files of
their own (`EXTRA_SPLITS`: the blind and blind2 splits) are run and reported apart, after the others, under their
own key of the JSON, never in "all". The last line is one JSON object.

    python -m eval.run_search_eval [--mode fulltext|hybrid|both] [--show-misses tune] [--json-only]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mostrador.catalog.enrichment import QueuedItem, enrich_batch
from mostrador.catalog.ingest import parse_push, validate_items
from mostrador.catalog.models import EnrichMessage, ProductItem
from mostrador.catalog.search import SearchFilters, SearchTuning, search_products
from mostrador.llm.base import Embedder

DATA = Path(__file__).resolve().parent / "data"
TENANT = "eval"
K = 5
SPLITS = ("tune", "holdout")
ENRICH_BATCH = 10  # the enrich function's SQS batch size


def load_catalog(conn: Any, *, embedder: Embedder | None, tenant_id: str = TENANT) -> int:
    """Push eval/data/catalog.json through ingest validation and enrichment; returns the product count."""
    from mostrador.db.catalog_repository import CatalogRepository
    from mostrador.llm.offline_provider import OfflineProvider

    body = (DATA / "catalog.json").read_bytes()
    push = parse_push(body, max_bytes=len(body) + 1)
    valid, rejected = validate_items(push.items)
    if rejected:
        raise ValueError(f"the evaluation catalog has rejected items: {[r.as_json() for r in rejected][:3]}")
    messages = [
        EnrichMessage(tenant_id=tenant_id, sync_id="eval", batch_id="eval", batch_size=len(valid), index=i, item=raw)
        for i, raw in valid
    ]
    repo = CatalogRepository(conn)
    summarizer = OfflineProvider()
    for start in range(0, len(messages), ENRICH_BATCH):
        queued = []
        for message in messages[start : start + ENRICH_BATCH]:
            # What travels over the queue, read back as the enrich function reads it.
            received = EnrichMessage.model_validate(message.model_dump(by_alias=True, mode="json"))
            queued.append(
                QueuedItem(str(received.index), received, ProductItem.model_validate(received.item), attempt=1)
            )
        report = enrich_batch(queued, store=repo, summarizer=summarizer, embedder=embedder, max_receives=5)
        if report.failures:
            raise RuntimeError(f"enrichment failed: {report.failures}")
    conn.execute("ANALYZE products")
    return conn.execute("SELECT count(*) AS n FROM products WHERE tenant_id = %s", (tenant_id,)).fetchone()["n"]


def queries() -> list[dict[str, Any]]:
    return json.loads((DATA / "queries.json").read_text(encoding="utf-8"))


# Splits written apart from queries.json and never used for tuning: measured and reported on their own,
# so that they do not move the tune / holdout / all figures. split -> file in eval/data.
EXTRA_SPLITS = {"blind": "queries_blind.json", "blind2": "queries_blind2.json"}


def extra_split_queries() -> dict[str, list[dict[str, Any]]]:
    return {split: json.loads((DATA / name).read_text(encoding="utf-8")) for split, name in EXTRA_SPLITS.items()}


def evaluate_extra_splits(conn: Any, *, modes: list[str]) -> dict[str, dict[str, Any]]:
    """split -> mode -> metrics, on a catalog already loaded, with the tuning everyone gets (the default)."""
    from eval.e5_embedder import E5Embedder

    results: dict[str, dict[str, Any]] = {}
    for split, items in extra_split_queries().items():
        results[split] = {"queries": len(items)}
        for mode in modes:
            embedder = E5Embedder("query") if mode == "hybrid" else None
            results[split][mode] = metrics(run_queries(conn, items, embedder=embedder))
    return results


@dataclass
class Outcome:
    query: dict[str, Any]
    found: list[str]

    @property
    def negative(self) -> bool:
        return not self.query["relevant"]

    @property
    def recall(self) -> float:
        relevant = set(self.query["relevant"])
        return len(relevant & set(self.found[:K])) / min(K, len(relevant))

    @property
    def reciprocal_rank(self) -> float:
        relevant = set(self.query["relevant"])
        return next((1 / (i + 1) for i, code in enumerate(self.found) if code in relevant), 0.0)


def run_queries(
    conn: Any,
    items: Iterable[dict[str, Any]],
    *,
    embedder: Embedder | None,
    tuning: SearchTuning = SearchTuning(),  # noqa: B008
    tenant_id: str = TENANT,
) -> list[Outcome]:
    """Each question through search_products, as the reply tool runs it (the query's vector comes from
    the embedder's cache when it has it)."""
    outcomes = []
    for q in items:
        cards = search_products(
            conn, tenant_id, q["query"], SearchFilters(**q["filters"]), embedder=embedder, limit=K, tuning=tuning
        )
        outcomes.append(Outcome(q, [card["item_code"] for card in cards]))
    return outcomes


def metrics(outcomes: list[Outcome]) -> dict[str, Any]:
    """Per kind and overall: recall@5 and MRR over answerable queries, negative accuracy over negatives."""

    def summary(group: list[Outcome]) -> dict[str, Any]:
        positives = [o for o in group if not o.negative]
        negatives = [o for o in group if o.negative]
        result: dict[str, Any] = {"n": len(group)}
        if positives:
            result["recall_at_5"] = round(sum(o.recall for o in positives) / len(positives), 3)
            result["mrr"] = round(sum(o.reciprocal_rank for o in positives) / len(positives), 3)
        if negatives:
            result["negative_accuracy"] = round(sum(not o.found for o in negatives) / len(negatives), 3)
        return result

    by_kind: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        by_kind[o.query["kind"]].append(o)
    return {"overall": summary(outcomes), "kinds": {k: summary(v) for k, v in sorted(by_kind.items())}}


def evaluate(conn: Any, *, modes: list[str], tuning: SearchTuning = SearchTuning()) -> dict[str, Any]:  # noqa: B008
    """Metrics per mode and split on a catalog already loaded (with embeddings when hybrid is asked)."""
    from eval.e5_embedder import E5Embedder

    results: dict[str, Any] = {}
    all_queries = queries()
    for mode in modes:
        embedder = E5Embedder("query") if mode == "hybrid" else None
        outcomes = run_queries(conn, all_queries, embedder=embedder, tuning=tuning)
        results[mode] = {split: metrics([o for o in outcomes if o.query["split"] == split]) for split in SPLITS}
        results[mode]["all"] = metrics(outcomes)
        results[mode]["_outcomes"] = outcomes
    return results


def _table(mode: str, split: str, result: dict[str, Any]) -> str:
    lines = [f"{mode} / {split}", f"  {'kind':<12} {'n':>3} {'recall@5':>9} {'MRR':>6} {'neg.acc':>8}"]
    for kind, m in [*result["kinds"].items(), ("OVERALL", result["overall"])]:
        lines.append(
            f"  {kind:<12} {m['n']:>3} {m.get('recall_at_5', ''):>9} {m.get('mrr', ''):>6} "
            f"{m.get('negative_accuracy', ''):>8}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["fulltext", "hybrid", "both"], default="both")
    parser.add_argument("--show-misses", choices=["tune"], help="list the tune split's misses (never holdout's)")
    parser.add_argument("--json-only", action="store_true")
    args = parser.parse_args(argv)
    modes = ["fulltext", "hybrid"] if args.mode == "both" else [args.mode]

    from eval.e5_embedder import E5Embedder
    from local.embedded_postgres import start_embedded_postgres
    from mostrador.db.connection import connect
    from mostrador.db.migrate import apply_migrations

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mostrador-eval-") as data_dir:
        server = start_embedded_postgres(data_dir)
        try:
            url = server.get_uri()
            apply_migrations(url)
            with connect(url) as conn:
                products = load_catalog(conn, embedder=E5Embedder("passage") if "hybrid" in modes else None)
                results = evaluate(conn, modes=modes)
                extra = evaluate_extra_splits(conn, modes=modes)
        finally:
            server.cleanup()

    report: dict[str, Any] = {"evaluation": "search", "products": products, "queries": len(queries()), "k": K}
    for mode in modes:
        outcomes = results[mode].pop("_outcomes")
        if not args.json_only:
            for split in (*SPLITS, "all"):
                print(_table(mode, split, results[mode][split]), flush=True)
            if args.show_misses == "tune":
                for o in outcomes:
                    if o.query["split"] == "tune" and (o.recall < 1 if not o.negative else bool(o.found)):
                        print(
                            f"    miss {o.query['id']:<16} {o.query['query']!r} -> {o.found} want {o.query['relevant']}"
                        )
        report[mode] = {
            split: {"overall": results[mode][split]["overall"], "kinds": results[mode][split]["kinds"]}
            for split in (*SPLITS, "all")
        }
    for split, by_mode in extra.items():
        for mode in modes:
            if not args.json_only:
                print(_table(mode, split, by_mode[mode]), flush=True)
        report[split] = by_mode
    report["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(report, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
