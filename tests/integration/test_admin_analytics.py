"""Analytics and sync figures checked against a scenario counted by hand. Conversations come from the
real reply handler, takeovers from the admin API, syncs from the real ingest + enrich handlers.

Two things cannot come out of a pipeline deterministically and are set by the test, each saying so:
the bot's reply latencies (real timings; a test must not depend on them) and LLM usage with token
counts on chosen past days (the offline provider reports zero tokens, and usage is stamped now())."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.fakes.platforms import platforms_fixture  # noqa: F401
from tests.integration import test_admin_support as support
from tests.integration.catalog_support import product
from tests.integration.test_reply_support import META_APP_ID, deliver, messenger, whatsapp

admin, reply_env = support.admin, support.reply_env


def _today_range() -> dict[str, str]:
    today = datetime.now(UTC).date()  # a day either side: the test may run across midnight UTC
    return {"since": str(today - timedelta(days=1)), "until": str(today + timedelta(days=1))}


def test_analytics_match_a_hand_counted_day(admin, db, pipeline):
    # A: one question, answered by the bot.                               automated
    deliver(whatsapp("¿tienen neveras?", sender="111"))
    # B: two questions, two bot answers.                                   automated
    deliver(whatsapp("hola", sender="222"))
    deliver(whatsapp("¿y lavadoras?", sender="222"))
    # C: Messenger; the bot answers, then a person writes from the Page inbox.   human
    deliver(messenger("hola por messenger"))
    deliver(messenger("Hola, soy Luis de la tienda", echo_app="263902037430900"))
    # D: asks for a person: escalation (customer_request) and the handoff message.   human
    deliver(whatsapp("quiero hablar con un asesor", sender="333"))
    # E: answered, then an operator takes it over through the admin API.   human
    asked = whatsapp("¿tienen cocinas?", sender="444")
    deliver(asked)
    admin.ok("POST", f"/admin/conversations/{asked.conversation_id}/takeover", body={"minutes": 10})
    # F: three searches that find nothing: escalation (no_results) on the third.   human
    for text in ("busco un zeppelin", "zeppelin inflable", "un dirigible zeppelin"):
        deliver(whatsapp(text, sender="555"))
    # An echo of a message our app sent elsewhere: logged (actor bot), no reply, no human.
    deliver(messenger("otro eco nuestro", echo_app=META_APP_ID))

    # Bot replies: A 1, B 2, C 1, D 1, E 1, F 3 = 9. Their latencies, set by hand (see module doc):
    replies = db.execute(
        "SELECT id FROM messages WHERE direction = 'outbound' AND actor = 'bot' AND status = 'sent' ORDER BY id"
    ).fetchall()
    assert len(replies) == 9
    for latency, row in zip([900, 100, 800, 200, 700, 300, 600, 400, 500], replies, strict=True):
        db.execute("UPDATE messages SET latency_ms = %s WHERE id = %s", (latency, row["id"]))

    # Catalog: 3 new products, then the same 3 again plus 1 new.
    assert pipeline.push({"products": [product("P1"), product("P2"), product("P3")], "syncId": "first"})[0] == 202
    pipeline.drain()
    items = [product("P1"), product("P2"), product("P3"), product("P4")]
    assert pipeline.push({"products": items, "syncId": "second", "fullSync": True})[0] == 202
    pipeline.drain()

    report = admin.ok("GET", "/admin/analytics", query=_today_range())
    assert report["conversations"] == {
        "withCustomerMessages": 6,
        "automated": 2,  # A, B
        "withHuman": 4,  # C (Page inbox), D and F (escalated), E (taken over)
        "unansweredByBot": 0,
        "automationRate": round(2 / 6, 4),
    }
    # 100..900: median 500; p90 = 800 + 0.2 * (900 - 800) (linear interpolation) = 820.
    assert report["timeToReplyMs"] == {"replies": 9, "median": 500.0, "p90": 820.0}
    assert report["escalationsByReason"] == {
        "customer_request": {"escalations": 1, "stillOpen": 1},
        "no_results": {"escalations": 1, "stillOpen": 1},
    }
    # WhatsApp in: A 1, B 2, D 1, E 1, F 3 = 8, out the same. Messenger in: customer, Luis, our echo = 3; out 1.
    assert report["messagesByChannel"] == {
        "messenger": {"inbound": 3, "outbound": 1, "total": 4},
        "whatsapp": {"inbound": 8, "outbound": 8, "total": 16},
    }
    # Offline chat: three calls (knowledge search, product search, answer) for A, B's second, C, E, F x3 = 21,
    # plus one for B's "hola" (a greeting is answered without a search) = 22 calls; D never reached the model.
    [day] = report["llmUsageByDay"]
    chat = [m for m in day["byModel"] if m["purpose"] == "chat"]
    assert [(m["model"], m["calls"], m["estimatedCostUsd"], m["pricedAs"]) for m in chat] == [
        ("offline-template", 22, 0.0, "offline")
    ]
    assert report["llmUsageTotal"]["unpricedModels"] == []
    # Syncs: 3 + 4 received; 3 + 1 processed; 3 unchanged.
    assert report["catalogSyncs"] == {
        "syncs": 2,
        "fullSyncs": 1,
        "finalized": 2,
        "received": 7,
        "processed": 4,
        "unchanged": 3,
        "failed": 0,
        "deactivated": 0,
    }

    first_page = admin.ok("GET", "/admin/analytics/syncs", query={**_today_range(), "limit": "1"})
    [newest] = first_page["syncs"]
    assert (newest["syncId"], newest["received"], newest["processed"], newest["unchanged"]) == ("second", 4, 1, 3)
    assert newest["complete"] is True and newest["fullSync"] is True and newest["finalizedAt"]
    rest = admin.ok(
        "GET", "/admin/analytics/syncs", query={**_today_range(), "limit": "1", "cursor": first_page["nextCursor"]}
    )
    assert [(s["syncId"], s["processed"]) for s in rest["syncs"]] == [("first", 3)] and rest["nextCursor"] is None

    tomorrow = datetime.now(UTC).date() + timedelta(days=2)
    empty = admin.ok("GET", "/admin/analytics", query={"since": str(tomorrow), "until": str(tomorrow)})
    assert empty["conversations"]["automationRate"] is None and empty["timeToReplyMs"]["median"] is None
    assert empty["llmUsageByDay"] == [] and empty["catalogSyncs"]["syncs"] == 0


@pytest.fixture
def usage_on_past_days(db):
    """LLM usage with token counts on chosen days (see the module doc for why it is written here)."""
    rows = [
        ("2026-01-10 09:00+00", "openai", "gpt-4o-mini-2024-07-18", "chat", 40, 2_000_000, 500_000),
        ("2026-01-10 23:59+00", "openai", "text-embedding-3-small", "embedding", 3, 1_000_000, 0),
        ("2026-01-11 00:00+00", "gemini", "gemini-2.5-flash", "chat", 10, 1_000_000, 1_000_000),
        ("2026-01-11 12:00+00", "acme", "mystery-model", "chat", 1, 10, 10),
        ("2026-01-12 00:00+00", "openai", "gpt-4o", "chat", 1, 1_000_000, 0),  # outside the range
    ]
    db.cursor().executemany(
        "INSERT INTO llm_usage (tenant_id, at, provider, model, purpose, calls, tokens_in, tokens_out)"
        " VALUES ('default', %s, %s, %s, %s, %s, %s, %s)",
        rows,
    )


def test_tokens_and_cost_per_day_with_shipped_tenant_and_environment_prices(admin, db, usage_on_past_days, monkeypatch):
    query = {"since": "2026-01-10", "until": "2026-01-11"}
    report = admin.ok("GET", "/admin/analytics", query=query)
    day1, day2 = report["llmUsageByDay"]
    # Shipped prices: gpt-4o-mini 0.15 / 0.60, text-embedding-3-small 0.02, gemini-2.5-flash 0.30 / 2.50 per 1M.
    assert (day1["day"], day1["calls"], day1["tokensIn"], day1["tokensOut"]) == ("2026-01-10", 43, 3_000_000, 500_000)
    assert day1["estimatedCostUsd"] == pytest.approx(2 * 0.15 + 0.5 * 0.60 + 0.02)  # 0.62
    assert [m["pricedAs"] for m in day1["byModel"]] == ["gpt-4o-mini", "text-embedding-3-small"]
    assert (day2["day"], day2["tokensIn"]) == ("2026-01-11", 1_000_010)
    assert day2["estimatedCostUsd"] == pytest.approx(0.30 + 2.50)  # the unknown model has no price
    assert report["llmUsageTotal"]["unpricedModels"] == ["mystery-model"]
    assert report["llmUsageTotal"]["estimatedCostUsd"] == pytest.approx(3.42)

    # The tenant's own price for the family, through the API.
    price = admin.ok("PUT", "/admin/model-prices/gpt-4o-mini", body={"inputPerMillion": 1, "outputPerMillion": 2})
    assert price == {
        "model": "gpt-4o-mini",
        "inputPerMillion": 1.0,
        "outputPerMillion": 2.0,
        "currency": "USD",
        "source": "tenant",
    }
    day1 = admin.ok("GET", "/admin/analytics", query=query)["llmUsageByDay"][0]
    assert day1["estimatedCostUsd"] == pytest.approx(2 * 1 + 0.5 * 2 + 0.02)  # 3.02

    # The environment override wins over both.
    monkeypatch.setenv(
        "MOSTRADOR_MODEL_PRICES", '{"gpt-4o-mini": {"input": 0.5, "output": 0}, "mystery": {"input": 1000}}'
    )
    report = admin.ok("GET", "/admin/analytics", query=query)
    assert report["llmUsageByDay"][0]["estimatedCostUsd"] == pytest.approx(2 * 0.5 + 0.02)  # 1.02
    assert report["llmUsageByDay"][1]["estimatedCostUsd"] == pytest.approx(2.80 + 10 * 1000 / 1_000_000)
    assert report["llmUsageTotal"]["unpricedModels"] == []
    prices = {p["model"]: p for p in admin.ok("GET", "/admin/model-prices")["prices"]}
    assert prices["gpt-4o-mini"]["source"] == "environment" and prices["gemini-2.5-flash"]["source"] == "shipped"


def test_analytics_inputs_are_validated(admin, db):
    for query, hint in (
        ({"since": "2026-01-10"}, "until"),
        ({"since": "2026-01-10", "until": "2026-01-09"}, "since must not be after until"),
        ({"since": "2026-01-10", "until": "yesterday"}, "until"),
        ({"since": "2025-01-01", "until": "2026-01-10"}, "at most 366"),
    ):
        answer = admin.call("GET", "/admin/analytics", query=query)
        assert answer.status in (400, 422) and hint in answer.json["error"], (query, answer.json)
    bad_price = admin.call("PUT", "/admin/model-prices/gpt-4o", body={"inputPerMillion": -1, "outputPerMillion": 1})
    assert bad_price.status == 422 and "inputPerMillion" in bad_price.json["error"]
