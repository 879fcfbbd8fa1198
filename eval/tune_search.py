"""Grid search of the search knobs on the evaluation's TUNE split only (never holdout).

    python -m eval.tune_search

Prints the similarity profile of the tune queries (for the embedding calibration) and the best
settings per mode. The chosen values go into SearchTuning / CALIBRATIONS by hand, with the reasoning
in docs/search.md.
"""

from __future__ import annotations

import itertools
import tempfile
from dataclasses import replace
from typing import Any

from eval.e5_embedder import E5Embedder
from eval.run_search_eval import TENANT, K, Outcome, load_catalog, metrics, queries
from mostrador.catalog.search import SearchFilters, SearchTuning, VectorCalibration, score_candidates, search_candidates


def candidates(conn: Any, items: list[dict[str, Any]], tuning: SearchTuning, embedder: E5Embedder | None) -> list:
    out = []
    for q in items:
        vector = embedder.embed([q["query"]]).vectors[0] if embedder else None
        found = search_candidates(
            conn,
            TENANT,
            q["query"],
            SearchFilters(**q["filters"]),
            embedder=embedder,
            tuning=tuning,
            query_vector=vector,
        )
        out.append((q, found))
    return out


def evaluate(cands: list, tuning: SearchTuning, calibration: VectorCalibration) -> dict[str, Any]:
    outcomes = []
    for q, found in cands:
        ranked = (
            []
            if found is None
            else score_candidates(found.rows, found.plan, tuning, calibration, vector_side=found.vector_side)[:K]
        )
        outcomes.append(Outcome(q, [r.item_code for r in ranked]))
    return metrics(outcomes)


def objective(m: dict[str, Any]) -> float:
    overall = m["overall"]
    return overall["recall_at_5"] + overall["mrr"] * 0.5 + overall["negative_accuracy"] * 0.8


def profile(cands: list) -> None:
    negatives, relevant_sims, best_positive = [], [], []
    for q, found in cands:
        if found is None:
            continue
        sims = {r["item_code"]: r["similarity"] for r in found.rows if r["similarity"] is not None}
        if not sims:
            continue
        best = max(sims.values())
        if not q["relevant"]:
            negatives.append(best)
        else:
            best_positive.append(best)
            relevant_sims += [sims[c] for c in q["relevant"] if c in sims]

    def show(name: str, values: list[float]) -> None:
        values = sorted(values)
        if values:
            quantiles = [round(values[int(p * (len(values) - 1))], 3) for p in (0, 0.1, 0.25, 0.5, 0.75, 0.9, 1)]
            print(f"  {name:<28} n={len(values):<4} min/p10/p25/p50/p75/p90/max {quantiles}")

    print("similarity profile (tune):")
    show("best hit, negative queries", negatives)
    show("best hit, answerable queries", best_positive)
    show("relevant products", relevant_sims)


def main() -> None:
    from local.embedded_postgres import start_embedded_postgres
    from mostrador.db.connection import connect
    from mostrador.db.migrate import apply_migrations

    tune = [q for q in queries() if q["split"] == "tune"]
    with tempfile.TemporaryDirectory(prefix="mostrador-tune-") as data_dir:
        server = start_embedded_postgres(data_dir)
        try:
            url = server.get_uri()
            apply_migrations(url)
            with connect(url) as conn:
                load_catalog(conn, embedder=E5Embedder("passage"))
                for mode, embedder in (("fulltext", None), ("hybrid", E5Embedder("query"))):
                    results = []
                    for share in (0.5, 0.6, 0.67, 0.75, 0.8, 1.0):
                        base = SearchTuning(min_should_match=share)
                        cands = candidates(conn, tune, base, embedder)
                        if mode == "hybrid" and share == 0.75:
                            profile(cands)
                        grid = itertools.product(
                            (0.6, 0.8),
                            (0.8, 0.9, 1.0),
                            (0.05, 0.1),
                            (0.5, 0.6, 0.7, 0.8) if embedder else (0.7,),
                            (0.02, 0.04, 0.06) if embedder else (0.05,),
                            (0.84, 0.85, 0.86, 0.87, 0.88) if embedder else (0.85,),
                            (0.9, 0.92, 0.94) if embedder else (0.92,),
                            (0.8, 0.85, 0.9, 0.95, 1.0),
                        )
                        for body, category, soft, weight, band, floor, sure, synonym in grid:
                            if category < body:
                                continue  # a category word never counts less than a description word
                            tuning = replace(
                                base,
                                body_match=body,
                                category_match=category,
                                soft_bonus=soft,
                                lexical_weight=weight,
                                vector_band=band,
                                synonym_match=synonym,
                            )
                            m = evaluate(cands, tuning, VectorCalibration(floor, sure))
                            results.append(
                                (objective(m), share, body, category, soft, weight, band, floor, sure, synonym, m)
                            )
                    results.sort(key=lambda r: -r[0])
                    print(f"== {mode}: best 8 on tune (objective = recall + mrr/2 + 0.8 neg)")
                    for r in results[:8]:
                        o = r[-1]["overall"]
                        print(
                            f"  obj={r[0]:.3f} share={r[1]} body={r[2]} category={r[3]} soft={r[4]} weight={r[5]} "
                            f"band={r[6]} floor={r[7]} sure={r[8]} synonym={r[9]} -> recall={o['recall_at_5']} "
                            f"mrr={o['mrr']} "
                            f"neg={o['negative_accuracy']}"
                        )
                    now = SearchTuning()
                    current = (now.min_should_match, now.body_match, now.category_match, now.soft_bonus)
                    current += (now.lexical_weight, now.vector_band) if embedder else (0.7, 0.05)
                    current += (0.86, 0.94) if embedder else (0.85, 0.92)
                    current += (now.synonym_match,)
                    default = [r for r in results if r[1:10] == current]
                    if default:
                        print("  current defaults:", default[0][-1]["overall"])
                    best = results[0][-1]
                    print("  per kind of the best:", {k: v for k, v in best["kinds"].items()})
        finally:
            server.cleanup()


if __name__ == "__main__":
    main()
