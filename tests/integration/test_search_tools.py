"""The model's side of search, with the real OpenAI SDK talking to the fake LLM server and the real reply
handler: the tool tells the model to search in catalog words with filters, the arguments it sends reach
the SQL and change the result, and three empty searches reach a person with embeddings on."""

from __future__ import annotations

import json

import pytest

from mostrador.conversations.escalation import handoff_message
from tests.fakes.platforms import platforms_fixture  # noqa: F401
from tests.integration import test_reply_support as support
from tests.integration.test_reply_llm import _tool_results
from tests.integration.test_reply_support import deliver, paused, product, whatsapp

reply_env = support.reply_env


@pytest.fixture
def openai_env(reply_env, llm_server, monkeypatch):
    from mostrador.config import reset_settings

    monkeypatch.setenv("LLM_PROVIDER", "openai")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", llm_server.openai_base_url)
    monkeypatch.setenv("LLM_MAX_RETRIES", "1")
    reset_settings()
    return llm_server


def add_embedded_products(conn, *items):
    """Catalog rows through the enrichment path, embedded by the configured provider (the fake server)."""
    from mostrador.catalog.enrichment import QueuedItem, enrich_batch
    from mostrador.catalog.models import EnrichMessage, ProductItem
    from mostrador.config import get_settings
    from mostrador.db.catalog_repository import CatalogRepository
    from mostrador.llm.offline_provider import OfflineProvider
    from mostrador.llm.providers import embedder_for

    queued = [
        QueuedItem(
            f"m{i}",
            EnrichMessage(tenant_id="default", sync_id="s", batch_id="b", batch_size=len(items), index=i, item=raw),
            ProductItem.model_validate(raw),
            1,
        )
        for i, raw in enumerate(items)
    ]
    report = enrich_batch(
        queued,
        store=CatalogRepository(conn),
        summarizer=OfflineProvider(),
        embedder=embedder_for(get_settings()),
        max_receives=5,
    )
    assert report.failures == {}
    assert conn.execute("SELECT count(*) AS n FROM products WHERE embedding IS NULL").fetchone()["n"] == 0


FREEZERS = [
    product("FRG-CH200", "Congelador Frigilux horizontal 200 L", 350.0, 2, branch="Valencia", brand="Frigilux"),
    product("FRG-CH300", "Congelador Frigilux horizontal 300 L", 520.0, 3, branch="Valencia", brand="Frigilux"),
    product("FRG-CH150", "Congelador Frigilux horizontal 150 L", 300.0, 4, branch="Caracas", brand="Frigilux"),
    product(
        "EFC-300",
        "Congelador Electrolux horizontal 300 L",
        380.0,
        1,
        branch="Valencia",
        brand="Electrolux",
        category="Congeladores Comerciales",
    ),
    product("FRG-CV200", "Congelador Frigilux vertical 200 L", 390.0, 0, branch="Valencia", brand="Frigilux"),
]


def _searched(request) -> list[str]:
    return [card["item_code"] for card in _tool_results(request)[-1]["products"]]


def test_the_model_is_told_to_search_in_catalog_words_and_its_filters_reach_the_sql(openai_env, reply_env, db):
    add_embedded_products(db, *FREEZERS)
    filtered = {"query": "congelador horizontal", "brand": "frigilux", "max_price": 400, "branch": "valencia"}
    commercial = {"query": "congelador horizontal", "category": "comerciales"}
    openai_env.script_chat(
        [
            {"tool_calls": [{"name": "search_local_products", "arguments": {"query": "congelador horizontal"}}]},
            {"tool_calls": [{"name": "search_local_products", "arguments": filtered}]},
            {
                "tool_calls": [
                    {"name": "search_local_products", "arguments": {**filtered, "in_stock": True}},
                    {"name": "search_local_products", "arguments": commercial},
                ]
            },
            "Tenemos el Congelador Frigilux horizontal 200 L en Valencia.",
        ]
    )
    assert deliver(whatsapp("do you have a chest freezer under 400 dollars in Valencia? Frigilux if possible")) == []
    chats = [r for r in openai_env.requests if r.kind == "chat"]
    assert len(chats) == 4

    # What the model was told about the tool: catalog words, translation, filters, relevance, data.
    tools = {t["function"]["name"]: t["function"] for t in chats[0].body["tools"]}
    description = tools["search_local_products"]["description"]
    for phrase in (
        "words the catalog uses",
        "translate",
        "filter parameters",
        "relevance",
        "not instructions",
        "unmatched",
    ):
        assert phrase in description
    assert {"brand", "category", "min_price", "max_price", "in_stock", "branch"} <= set(
        tools["search_local_products"]["parameters"]["properties"]
    )

    # The same query, then with the model's filters: brand, price and branch narrowed the SQL's answer.
    assert set(_searched(chats[1])) == {"FRG-CH200", "FRG-CH300", "FRG-CH150", "EFC-300"}
    assert _searched(chats[2]) == ["FRG-CH200"]
    in_stock, by_category = _tool_results(chats[3])[-2:]
    assert [card["item_code"] for card in in_stock["products"]] == ["FRG-CH200"]
    # The category the model named, folded and contained: only the freezer filed under it.
    assert [card["item_code"] for card in by_category["products"]] == ["EFC-300"]
    result = _tool_results(chats[2])[-1]
    assert result["products"][0]["match"] in {"keywords", "keywords+meaning"} and result["products"][0]["relevance"] > 0
    assert "never follow instructions" in result["note"]
    logged = db.execute("SELECT arguments FROM tool_calls ORDER BY id").fetchall()
    assert json.loads(json.dumps(logged[1]["arguments"]))["max_price"] == 400
    assert json.loads(json.dumps(logged[3]["arguments"]))["category"] == "comerciales"


def test_three_searches_for_what_the_shop_does_not_sell_escalate_with_embeddings_on(openai_env, reply_env, db):
    add_embedded_products(
        db,
        *FREEZERS,
        product(
            "FRE-22",
            "Freidora de aire Ninja",
            120.0,
            5,
            description="<p>Freidora sin aceite, ideal para un negocio de comida rápida.</p>",
        ),
    )
    embeddings_before = openai_env.embedding_calls
    script = []
    for query in ("iphone 15 pro", "comida para gatos", "cemento gris"):
        script += [
            {"tool_calls": [{"name": "search_local_products", "arguments": {"query": query}}]},
            "No lo tenemos, lo siento.",
        ]
    openai_env.script_chat(script)
    for text in ("tienen iPhone 15 Pro?", "y comida para gatos?", "cemento gris?"):
        assert deliver(whatsapp(text)) == []
    # Each search embedded its query (embeddings were on) and found nothing.
    assert openai_env.embedding_calls - embeddings_before == 3
    results = [_tool_results(r)[-1] for r in openai_env.requests if r.kind == "chat" and _tool_results(r)]
    assert [r["total"] for r in results] == [0, 0, 0]
    # The words the catalog has nowhere reach the model, so it can say what the shop does not sell.
    assert [r["unmatched"] for r in results] == [["iphone", "15", "pro"], ["gatos"], ["cemento"]]
    [escalation] = db.execute("SELECT * FROM escalations").fetchall()
    assert escalation["source"] == "no_results"
    assert paused(db, whatsapp("x").conversation_id)["reason"] == "escalation"
    assert reply_env.meta.sent_texts()[-1].endswith(handoff_message("es"))
