"""Search quality against the real database, catalog loaded through the real ingest and enrich handlers:
item codes anywhere in a message, nothing for what the shop does not sell (full text and with
embeddings), and the vocabulary a deployment edits through the admin API."""

from __future__ import annotations

import pytest

from mostrador.catalog.search import SearchFilters, search_products
from mostrador.config import get_settings, reset_settings
from mostrador.llm.providers import embedder_for
from tests.integration.catalog_support import product

CATALOG = [
    product(
        "XY-0412",
        itemName="Licuadora Oster Pro 1200",
        description="<p>Licuadora de vaso de vidrio de 1,5 litros con 7 velocidades.</p>",
        brand="Oster",
        category="Cocina",
    ),
    product("XY-0413", itemName="Licuadora Oster Clásica", description="<p>Licuadora de 10 velocidades.</p>"),
    product("300412", itemName="Cafetera Imusa 6 tazas", description="<p>Cafetera italiana de aluminio.</p>"),
    product(
        "FRE-22",
        itemName="Freidora de Aire Ninja 5 L",
        description="<p>Prepara papas y pollo sin aceite. Ideal para un negocio de comida rápida.</p>",
        brand="Ninja",
    ),
    product("HP-15", itemName="Laptop HP 15 Core i5", description="<p>Portátil de 15,6 pulgadas y 8 GB de RAM.</p>"),
    product(
        "TV-55",
        itemName="Televisor Samsung 55 pulgadas 4K",
        description="<p>Pantalla gris oscuro con HDR.</p>",
        brand="Samsung",
    ),
    product("TV-65", itemName="Televisor Samsung 65 pulgadas 4K", description="<p>Pantalla QLED.</p>", brand="Samsung"),
    product("OLL-5", itemName="Olla de presión Imusa 5 L", description="<p>Olla de aluminio con válvula.</p>"),
]

CODE_SPELLINGS = [
    "¿cuánto vale el XY-0412?",
    "disponibilidad XY 0412",
    "price of xy0412",
    "tienen el xy_0412 en caracas?",
    "hay XY/0412 o algo así",
    "info del Xy.0412 porfa",
]

NOT_SOLD = ["tienen iPhone 15 Pro?", "comida para gatos", "cemento gris", "pasajes de avión a Madrid"]


@pytest.fixture
def offline_catalog(pipeline, db):
    status, _ = pipeline.push(CATALOG)
    assert status == 202
    assert all(r["batchItemFailures"] == [] for r in pipeline.drain())
    return db


@pytest.fixture
def embedded_catalog(pipeline, db, llm_server, monkeypatch):
    monkeypatch.setenv("LLM_PROVIDER", "openai")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", llm_server.openai_base_url)
    reset_settings()
    status, _ = pipeline.push(CATALOG)
    assert status == 202
    assert all(r["batchItemFailures"] == [] for r in pipeline.drain())
    assert db.execute("SELECT count(*) AS n FROM products WHERE embedding IS NOT NULL").fetchone()["n"] == 8
    return db


def _search(conn, query, *, embed=False, **filters):
    embedder = embedder_for(get_settings()) if embed else None
    return search_products(conn, "default", query, SearchFilters(**filters), embedder=embedder, limit=5)


@pytest.mark.parametrize("query", CODE_SPELLINGS)
def test_an_item_code_anywhere_in_a_message_in_any_spelling_ranks_first(offline_catalog, query):
    cards = _search(offline_catalog, query)
    assert cards[0]["item_code"] == "XY-0412"
    assert (cards[0]["relevance"], cards[0]["match"]) == (1.0, "item_code")


@pytest.mark.parametrize("query", CODE_SPELLINGS[:3])
def test_an_item_code_ranks_first_with_embeddings_on(embedded_catalog, query):
    assert _search(embedded_catalog, query, embed=True)[0]["item_code"] == "XY-0412"


def test_the_digits_of_a_code_find_it_as_a_part_and_not_a_code_that_merely_contains_them(offline_catalog):
    # Postgres alone reads XY-0412 as "xy" and the number "-0412": "0412" used to match nothing.
    assert [c["item_code"] for c in _search(offline_catalog, "el 0412")] == ["XY-0412"]
    assert _search(offline_catalog, "300412")[0]["item_code"] == "300412"


@pytest.mark.parametrize("query", NOT_SOLD)
def test_what_the_shop_does_not_sell_finds_nothing_in_full_text(offline_catalog, query):
    assert _search(offline_catalog, query) == []


@pytest.mark.parametrize("query", NOT_SOLD)
def test_what_the_shop_does_not_sell_finds_nothing_with_embeddings_on(embedded_catalog, query):
    assert _search(embedded_catalog, query, embed=True) == []


def test_what_it_sells_is_still_found_with_a_relevance_the_model_sees(offline_catalog):
    cards = _search(offline_catalog, "televisor 55 pulgadas")
    assert [c["item_code"] for c in cards] == ["TV-55"]  # the 65" does not have the 55
    assert cards[0]["match"] == "keywords" and 0.5 < cards[0]["relevance"] <= 1
    # Colour is a quality: it ranks, it does not exclude.
    assert [c["item_code"] for c in _search(offline_catalog, "televisor samsung gris")] == ["TV-55", "TV-65"]


def test_a_typo_finds_the_catalog_word(offline_catalog):
    assert _search(offline_catalog, "licudora oster")[0]["item_code"] in {"XY-0412", "XY-0413"}
    assert [c["item_code"] for c in _search(offline_catalog, "frediora de aire")] == ["FRE-22"]


def test_synonyms_edited_through_the_admin_api_change_a_result(offline_catalog, monkeypatch):
    from tests.integration.test_admin_support import ADMIN_TOKEN, AdminClient

    monkeypatch.setenv("ADMIN_TOKEN", ADMIN_TOKEN)
    reset_settings()
    admin = AdminClient()
    assert _search(offline_catalog, "un perol grande") == []  # Venezuelan for a big pot: not in the list

    answer = admin.ok("PUT", "/admin/search/synonyms/perol", body={"alternatives": ["olla", "Olla de presión"]})
    assert answer == {"term": "perol", "alternatives": ["olla", "olla presion"], "source": "tenant", "disabled": False}
    assert [c["item_code"] for c in _search(offline_catalog, "un perol grande")] == ["OLL-5"]

    # A shipped entry switched off, then back.
    assert {c["item_code"] for c in _search(offline_catalog, "una tele")} == {"TV-55", "TV-65"}
    admin.ok("PUT", "/admin/search/synonyms/tele", body={"alternatives": []})
    assert _search(offline_catalog, "una tele") == []
    listed = {e["term"]: e for e in admin.ok("GET", "/admin/search/synonyms")["synonyms"]}
    assert listed["tele"]["disabled"] is True and "televisor" in listed["tele"]["shippedAlternatives"]
    assert listed["perol"]["source"] == "tenant" and listed["nevera"]["source"] == "shipped"
    admin.ok("DELETE", "/admin/search/synonyms/tele")
    assert {c["item_code"] for c in _search(offline_catalog, "una tele")} == {"TV-55", "TV-65"}

    assert admin.call("DELETE", "/admin/search/synonyms/tele").status == 404
    bad = admin.call("PUT", "/admin/search/synonyms/perol", body={"alternatives": "olla"})
    assert bad.status == 422 and "alternatives" in bad.json["error"]
    assert admin.call("PUT", "/admin/search/synonyms/%20", body={"alternatives": ["x"]}).status in (400, 422)
    actions = offline_catalog.execute("SELECT action FROM operator_actions ORDER BY id").fetchall()
    assert [a["action"] for a in actions] == ["set_synonym", "set_synonym", "delete_synonym"]
