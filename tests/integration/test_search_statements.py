"""How a search talks to the database (docs/search.md, "Speed"), against the real PostgreSQL + pgvector:
one prepared statement per pass with its settings in the same pipeline (and nowhere else), the HNSW
walk widened by those settings, floor matches ranked by the same lexical score Python gives them,
the stock filter applied before the lexical limit, neighbours judged by the floor wherever they rank,
and the folded filter columns of migration 011 following the catalog's writes.

Products go in through the real enrichment (`enrich_batch`, `CatalogRepository`); the embedding model
is the only stand-in (`AxisEmbedder`, deterministic vectors chosen per test)."""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass, field
from typing import Any

import pytest

from mostrador.catalog.enrichment import QueuedItem, enrich_batch
from mostrador.catalog.models import EnrichMessage, ProductItem
from mostrador.catalog.search import (
    SearchFilters,
    SearchTuning,
    VectorCalibration,
    lexical_score,
    rank_products,
    search_products,
)
from mostrador.db import search_repository as repo
from mostrador.llm.base import Embeddings, Usage
from mostrador.llm.offline_provider import OfflineProvider
from tests.integration.catalog_support import product

DIMENSIONS = 1536
CALIBRATED = SearchTuning(calibration=VectorCalibration(0.5, 0.95))


@dataclass
class AxisEmbedder:
    """Stands in for the embedding API: a text's vector is `near[axis]` parts of one axis and the rest
    of another, so similarities are exact and chosen by the test (first line of the text decides)."""

    angles: dict[str, tuple[int, float]] = field(default_factory=dict)  # word in the text -> (axis, cosine)
    name: str = "test"
    model: str = "test-axis"

    def vector(self, text: str) -> list[float]:
        first = text.splitlines()[0].lower()
        axis, cosine = next((v for k, v in self.angles.items() if k in first), (DIMENSIONS - 1, 1.0))
        values = [0.0] * DIMENSIONS
        values[axis] = cosine
        values[DIMENSIONS - 2] = math.sqrt(max(0.0, 1 - cosine * cosine))
        return values

    def embed(self, texts: list[str]) -> Embeddings:
        return Embeddings([self.vector(t) for t in texts], Usage("test", self.model, 0, 0))


def store(conn: Any, items: list[dict[str, Any]], embedder: AxisEmbedder | None = None) -> None:
    from mostrador.db.catalog_repository import CatalogRepository

    queued = [
        QueuedItem(
            str(i),
            EnrichMessage(tenant_id="default", sync_id="s", batch_id="b", batch_size=len(items), index=i, item=raw),
            ProductItem.model_validate(raw),
            1,
        )
        for i, raw in enumerate(items)
    ]
    for start in range(0, len(queued), 10):
        report = enrich_batch(
            queued[start : start + 10],
            store=CatalogRepository(conn),
            summarizer=OfflineProvider(),
            embedder=embedder,
            max_receives=5,
        )
        assert not report.failures
    conn.execute("ANALYZE products")


class StatementLog:
    """Counts the statements the search sends (the settings statement aside)."""

    def __init__(self, conn: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sent: list[str] = []
        execute = type(conn).execute

        def counting(this: Any, query: Any, params: Any = None, **kwargs: Any) -> Any:
            if this is conn and "set_config(" not in str(query):
                self.sent.append(str(query))
            return execute(this, query, params, **kwargs)

        monkeypatch.setattr(type(conn), "execute", counting)


def _codes(found: list[Any]) -> list[str]:
    return [getattr(f, "item_code", None) or f["item_code"] for f in found]


COFFEE = [
    product(f"CAF-{i}", itemName=f"Cafetera Modelo {i}", description="<p>Prepara café filtrado.</p>", brand="Imusa")
    for i in range(1, 7)
]


def test_a_search_whose_words_the_catalog_has_is_one_statement_and_an_unknown_word_two(db, monkeypatch):
    store(db, COFFEE)
    queries = ("cafetera imusa", "cafetera de carga", "cafetrea imusa")
    for query in queries:  # warm: the words' stems, the synonyms and the catalog's words are cached
        rank_products(db, "default", query)
    log = StatementLog(db, monkeypatch)
    assert _codes(rank_products(db, "default", "cafetera imusa")) == ["CAF-1", "CAF-2", "CAF-3", "CAF-4", "CAF-5"]
    assert len(log.sent) == 1
    log.sent.clear()
    # "carga" matches nothing: the first statement also says so, the relaxed one follows. No third.
    assert _codes(rank_products(db, "default", "cafetera de carga"))[0] == "CAF-1"
    assert len(log.sent) == 2
    log.sent.clear()
    # A typo: the correction is checked once more before the relaxed statement.
    assert _codes(rank_products(db, "default", "cafetrea imusa"))[0] == "CAF-1"
    assert len(log.sent) == 3


def test_the_search_settings_stay_inside_its_own_statements(db):
    embedder = AxisEmbedder({"cafetera": (0, 0.9)})
    store(db, COFFEE, embedder)
    settings = "SELECT current_setting('plan_cache_mode') AS mode, current_setting('hnsw.ef_search') AS ef"
    query = embedder.vector("cafetera")
    assert rank_products(db, "default", "cafetera", SearchFilters(brand="imusa"), embedder=embedder, query_vector=query)
    defaults = {"mode": "auto", "ef": "40"}
    assert db.execute(settings).fetchone() == defaults
    # Inside a caller's transaction: the search's settings go with its savepoint, the caller's work stays.
    with db.transaction():
        db.execute("UPDATE products SET price = 1 WHERE item_code = 'CAF-1'")
        assert _codes(search_products(db, "default", "cafetera"))[0] == "CAF-1"
        assert db.execute(settings).fetchone() == defaults
    assert db.execute("SELECT price FROM products WHERE item_code = 'CAF-1'").fetchone()["price"] == 1


def test_a_selective_filter_walks_the_index_past_its_default_search_list(db):
    # 100 products right next to the query and 12 of the brand asked for further away: HNSW gives at
    # most ef_search rows (40 by default), so only the widened walk reaches the brand's products.
    embedder = AxisEmbedder({"cercano": (0, 0.99), "acme": (0, 0.80)})
    near = [product(f"N-{i:03d}", itemName=f"Equipo cercano {i}", brand="Otra") for i in range(100)]
    acme = [product(f"A-{i:02d}", itemName=f"Equipo acme {i}", brand="Acme") for i in range(12)]
    store(db, near + acme, embedder)
    query = embedder.vector("cercano")
    found = rank_products(
        db,
        "default",
        "qwzx",
        SearchFilters(brand="acme"),
        embedder=embedder,
        query_vector=query,
        tuning=CALIBRATED,
        limit=25,
    )
    assert sorted(_codes(found)) == [f"A-{i:02d}" for i in range(12)]
    assert all(f.match == "meaning" for f in found)


def test_in_stock_keeps_the_best_matches_that_have_stock_however_many_rank_above_them(db):
    items = [dict(p, stock=0 if i < 3 else 4) for i, p in enumerate(COFFEE)]
    store(db, items)
    tuning = SearchTuning(lexical_limit=2)
    found = rank_products(db, "default", "cafetera", SearchFilters(in_stock=True), tuning=tuning)
    assert _codes(found) == ["CAF-4", "CAF-5"]


def test_floor_matches_past_the_lexical_limit_are_the_lower_lexical_scores(db):
    # Title matches score 1, text-only matches 0.8: with room for two, the two named "cafetera" stay.
    store(
        db,
        [
            product("B-1", itemName="Jarra Imusa", description="<p>Jarra para cafetera, cafetera y más cafetera.</p>"),
            product("B-2", itemName="Filtro Imusa", description="<p>Filtro de papel para cafetera de goteo.</p>"),
            product("T-9", itemName="Cafetera Imusa 12 tazas", description="<p>Prepara café.</p>"),
            product("T-8", itemName="Cafetera Oster", description="<p>Prepara café.</p>"),
        ],
    )
    found = rank_products(db, "default", "cafetera", tuning=SearchTuning(lexical_limit=2), limit=5)
    assert _codes(found) == ["T-8", "T-9"]


def test_a_neighbour_that_passes_the_floor_gets_its_keywords_wherever_it_ranks_lexically(db):
    # CAF-6 is last by code among six equal title matches (the lexical limit keeps two), but it is the
    # query's nearest neighbour: it passes the floor all the same, so keywords and meaning both count.
    embedder = AxisEmbedder({"modelo 6": (0, 0.99), "cafetera": (0, 0.6)})
    store(db, COFFEE, embedder)
    found = rank_products(
        db,
        "default",
        "cafetera",
        embedder=embedder,
        query_vector=embedder.vector("modelo 6"),
        tuning=SearchTuning(lexical_limit=2, calibration=VectorCalibration(0.5, 0.95)),
    )
    assert found[0].item_code == "CAF-6" and found[0].match == "keywords+meaning"


def test_the_statement_ranks_floor_matches_by_the_lexical_score_python_gives_them(db):
    tuning = SearchTuning()
    rng = random.Random(9)
    cases = []
    for _ in range(300):
        count = rng.randint(1, 6)
        hits = [rng.choice((0, 1, 2, 3, 4)) for _ in range(count)]  # absent, text, category, name, name's kind
        # where the customer's own words match, for a term the vocabulary widened (None: not widened)
        own = [rng.choice((None, 0, 1, 2, 3)) for _ in range(count)]
        cut = rng.randint(1, count)
        segments = (tuple(range(cut)), tuple(range(cut, count))) if cut < count else (tuple(range(count)),)
        cases.append((hits, own, rng.randint(0, 4), segments))
    for hits, own, soft, segments in cases:
        widened = {i for i, level in enumerate(own) if level is not None}
        sql = repo._score_sql(
            list(segments), tuning.body_match, tuning.category_match, tuning.soft_bonus, tuning.synonym_match, widened
        )
        row = db.execute(
            f"SELECT {sql} AS score FROM (SELECT %s::int[] AS hits, %s::int[] AS own, %s AS soft) p", (hits, own, soft)
        ).fetchone()
        expected = lexical_score(hits, soft, segments, tuning, own)
        assert float(row["score"]) == pytest.approx(expected), (hits, own, soft, segments)


def test_category_brand_and_branch_filters_follow_the_catalog_writes(db):
    store(db, [product("CAF-1", itemName="Cafetera Imusa", category="Cocina", brand="Imusa", branchName="Mérida")])
    assert _codes(search_products(db, "default", "cafetera", SearchFilters(category="cocina", branch="merida")))
    # The catalog sends the product again under another category, brand and branch.
    store(
        db,
        [product("CAF-1", itemName="Cafetera Imusa", category="Electrodomésticos", brand="ÍMUSA", branchName="Coro")],
    )
    assert not search_products(db, "default", "cafetera", SearchFilters(category="cocina"))
    both = SearchFilters(category="electrodomesticos", brand="imusa", branch="coro")
    assert _codes(search_products(db, "default", "cafetera", both)) == ["CAF-1"]


def test_category_and_branch_filters_match_percent_and_underscore_literally(db):
    store(
        db,
        [
            product("CAF-1", itemName="Cafetera Imusa", category="Cocina", branchName="Caracas"),
            product("CAF-2", itemName="Cafetera Oster", category="Ofertas 50%", branchName="Zona_Sur"),
        ],
    )
    # LIKE wildcards from the model's arguments used to match every category or branch.
    for filters, expected in (
        (SearchFilters(category="%"), ["CAF-2"]),
        (SearchFilters(category="_"), []),
        (SearchFilters(category="50%"), ["CAF-2"]),
        (SearchFilters(branch="%"), []),
        (SearchFilters(branch="c_r"), []),
        (SearchFilters(branch="zona_sur"), ["CAF-2"]),
        (SearchFilters(category="coc"), ["CAF-1"]),
    ):
        assert sorted(_codes(search_products(db, "default", "cafetera", filters))) == expected, filters


def test_every_filter_combination_finds_what_a_plain_check_finds(db):
    # The statement is written per combination of filters (and prepared once each): check them all.
    items = []
    for i, (brand, category, branch) in enumerate(
        itertools.product(("Imusa", "Oster"), ("Cocina", "Hogar"), ("Caracas", "Valencia"))
    ):
        items.append(
            product(
                f"CAF-{i}",
                itemName=f"Cafetera {brand}",
                brand=brand,
                category=category,
                branchName=branch,
                whsName=f"ALM-{branch[:3].upper()}",
                price=10 + i * 10,
                stock=i % 2,
            )
        )
    store(db, items)
    asked = {
        "brand": "oster",
        "category": "hogar",
        "min_price": 30,
        "max_price": 70,
        "in_stock": True,
        "branch": "valencia",
    }
    for size in range(len(asked) + 1):
        for names in itertools.combinations(asked, size):
            filters = SearchFilters(**{n: asked[n] for n in names})
            expected = {
                it["itemCode"]
                for it in items
                if (filters.brand is None or it["brand"].lower() == filters.brand)
                and (filters.category is None or it["category"].lower() == filters.category)
                and (filters.min_price is None or it["price"] >= filters.min_price)
                and (filters.max_price is None or it["price"] <= filters.max_price)
                and (not (filters.in_stock or filters.branch) or it["stock"] > 0)
                and (filters.branch is None or it["branchName"].lower() == filters.branch)
            }
            found = rank_products(db, "default", "cafetera", filters, limit=25)
            assert set(_codes(found)) == expected, filters
