"""Hybrid product search over a catalog enriched through the real pipeline (OpenAI SDK -> fake server)."""

from __future__ import annotations

import pytest

from mostrador.catalog.search import SearchFilters, get_product_details, search_products
from mostrador.config import get_settings, reset_settings
from mostrador.llm.providers import embedder_for
from tests.integration.catalog_support import product

CATALOG = [
    product(
        "NEV-RT38",
        itemName="Nevera Samsung RT38 No Frost",
        description="<p>Refrigerador de dos puertas, 380 litros, con dispensador de agua.</p>",
        brand="Samsung",
        category="Línea Blanca",
        subCategory="Refrigeración",
        price=899,
        whsName="CCS-01",
        branchName="Caracas",
        stock=3,
    ),
    product(
        "NEV-RT38",
        whsName="VLC-01",
        branchName="Valencia",
        stock=0,
        price=899,
        brand="Samsung",
        itemName="Nevera Samsung RT38 No Frost",
        category="Línea Blanca",
        subCategory="Refrigeración",
        description="<p>Refrigerador de dos puertas, 380 litros, con dispensador de agua.</p>",
    ),
    product(
        "LG-WM17",
        itemName="Lavadora LG 17 kg carga frontal",
        description="<p>Lavadora con motor Inverter Direct Drive y 14 programas.</p>",
        brand="LG",
        category="Línea Blanca",
        subCategory="Lavado",
        price=650,
        whsName="VLC-01",
        branchName="Valencia",
        stock=2,
    ),
    product(
        "TV-55Q",
        itemName="Televisor Samsung 55 pulgadas 4K",
        description="<p>Pantalla QLED con HDR10+ y sistema Tizen.</p>",
        brand="Samsung",
        category="Electrónica",
        subCategory="Video",
        price=720,
        whsName="MCB-01",
        branchName="Maracaibo",
        stock=5,
    ),
    product(
        "HP-15",
        itemName="Laptop HP 15 Core i5",
        description="<p>Portátil de 15,6 pulgadas, 16 GB de RAM y SSD de 512 GB.</p>",
        brand="HP",
        category="Computación",
        subCategory="Portátiles",
        price=550,
        whsName="CCS-01",
        branchName="Caracas",
        stock=0,
    ),
    product(
        "CAF-OST",
        itemName="Cafetera Oster 12 tazas",
        description="<p>Prepara café filtrado con jarra de vidrio y función de pausa.</p>",
        brand="Oster",
        category="Pequeños electrodomésticos",
        subCategory="Cocina",
        price=45,
        whsName="CCS-01",
        branchName="Caracas",
        stock=10,
    ),
    product(
        "SAM-A55",
        itemName="Teléfono celular Samsung Galaxy A55",
        description="<p>Smartphone con cámara de 50 MP y batería de 5000 mAh.</p>",
        brand="Samsung",
        category="Telefonía",
        subCategory="Celulares",
        price=380,
        whsName="VLC-01",
        branchName="Valencia",
        stock=4,
    ),
]


@pytest.fixture
def catalog(pipeline, db, llm_server, monkeypatch):
    monkeypatch.setenv("LLM_PROVIDER", "openai")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", llm_server.openai_base_url)
    # The fake's bag-of-concepts vectors: a shared concept gives about 0.3, nothing shared 0.
    monkeypatch.setenv("SEARCH_MIN_SIMILARITY", "0.2")
    reset_settings()
    status, _ = pipeline.push(CATALOG)
    assert status == 202
    assert all(r["batchItemFailures"] == [] for r in pipeline.drain())
    # Summaries one per product; embeddings batched: one call per enrich batch of up to ten messages.
    assert llm_server.summary_calls == 6
    assert llm_server.embedding_calls == 1
    return db


def _codes(cards):
    return [c["item_code"] for c in cards]


NO_FILTERS = SearchFilters()


def _search(conn, query, filters=NO_FILTERS, embed=True, limit=5):
    embedder = embedder_for(get_settings()) if embed else None
    return search_products(conn, "default", query, filters, embedder=embedder, limit=limit)


def test_finds_by_meaning_with_no_word_in_common(catalog, llm_server):
    # "icebox" appears nowhere in the Spanish catalog nor in the vocabulary; only the embedding
    # connects it to "nevera".
    llm_server.concepts["icebox"] = "fridge"
    assert _codes(_search(catalog, "icebox"))[0] == "NEV-RT38"
    assert _search(catalog, "icebox", embed=False) == []


def test_english_product_names_find_the_spanish_catalog_through_the_vocabulary(catalog):
    assert _codes(_search(catalog, "fridge", embed=False)) == ["NEV-RT38"]
    assert _codes(_search(catalog, "washing machine", embed=False)) == ["LG-WM17"]


def test_finds_by_brand(catalog):
    assert set(_codes(_search(catalog, "samsung", limit=10))) >= {"NEV-RT38", "TV-55Q", "SAM-A55"}
    only = _search(catalog, "nevera o lavadora", SearchFilters(brand="SAMSUNG"), limit=10)
    assert _codes(only) == ["NEV-RT38"]


def test_an_exact_item_code_ranks_first(catalog):
    assert _codes(_search(catalog, "lg-wm17"))[0] == "LG-WM17"
    assert _codes(_search(catalog, "precio del CAF-OST?", embed=False))[0] == "CAF-OST"


def test_an_accentless_spelling_finds_the_accented_word(catalog):
    assert _codes(_search(catalog, "telefono", embed=False))[0] == "SAM-A55"
    assert _codes(_search(catalog, "portatil", embed=False)) == ["HP-15"]


def test_full_text_alone_serves_without_an_embedder(catalog):
    cards = _search(catalog, "lavadora carga frontal", embed=False)
    assert _codes(cards)[0] == "LG-WM17"


def test_filters_brand_category_price_stock_and_branch(catalog):
    everything = "samsung o lavadora o nevera o laptop o cafetera o telefono o televisor"
    by_category = _search(catalog, everything, SearchFilters(category="linea blanca"), limit=10)
    assert set(_codes(by_category)) == {"NEV-RT38", "LG-WM17"}
    by_price = _search(catalog, everything, SearchFilters(min_price=400, max_price=750), limit=10)
    assert set(_codes(by_price)) == {"LG-WM17", "TV-55Q", "HP-15"}
    in_stock = _search(catalog, everything, SearchFilters(in_stock=True), limit=10)
    assert "HP-15" not in _codes(in_stock) and len(in_stock) == 5
    valencia = _search(catalog, everything, SearchFilters(branch="valencia"), limit=10)
    # The nevera is listed in Valencia but with no stock there: not "in stock in Valencia".
    assert set(_codes(valencia)) == {"LG-WM17", "SAM-A55"}
    combined = _search(catalog, everything, SearchFilters(brand="samsung", branch="Caracas"), limit=10)
    assert _codes(combined) == ["NEV-RT38"]


def test_cards_carry_price_and_stock_per_branch(catalog):
    card = get_product_details(catalog, "default", "NEV-RT38")
    assert card["price"] == 899.0 and card["in_stock"] is True and card["stock_total"] == 3.0
    assert card["branches"] == [{"branch": "Caracas", "stock": 3.0}, {"branch": "Valencia", "stock": 0.0}]
    assert card["catalog_description"].startswith("Summary:")
    assert get_product_details(catalog, "default", "NOPE") is None


def test_inactive_products_are_never_offered(catalog):
    catalog.execute("UPDATE products SET active = false WHERE item_code = 'CAF-OST'")
    assert "CAF-OST" not in _codes(_search(catalog, "cafetera", embed=False))
    assert get_product_details(catalog, "default", "CAF-OST") is None


def test_nonsense_finds_nothing_rather_than_the_nearest_anything(catalog):
    assert _search(catalog, "zxqv blorft") == []


def test_another_tenant_sees_nothing(catalog):
    assert search_products(catalog, "other-tenant", "nevera") == []
