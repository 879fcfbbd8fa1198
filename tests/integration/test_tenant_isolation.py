"""Two tenants with overlapping item codes, the same sync id, the same customer phone and the same web chat
conversation id, through every route and tool: catalog ingest and sync progress, the webhook and the
reply function (catalog tools, history, sending with each tenant's token), web chat polling, and every
admin route (conversations, customer status, takeover/resume/reset, escalations, analytics, syncs,
export, prices, synonyms, tenants). One tenant never sees or changes the other's rows."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mostrador.conversations.toolbox import DatabaseCatalog, ReplyToolbox
from mostrador.db import conversation_repository as conversations
from mostrador.llm.base import ToolCall
from tests.fakes.platforms import platforms_fixture  # noqa: F401
from tests.integration import knowledge_support
from tests.integration import test_admin_support as support
from tests.integration.catalog_support import product
from tests.integration.channel_pipeline import channel_pipeline_fixture  # noqa: F401
from tests.integration.tenant_support import add_tenant, as_tenant, tenancy_fixture  # noqa: F401
from tests.integration.test_tenant_routing import post_meta, webchat
from tests.unit.channels.payloads import CUSTOMER_PHONE, wa_message, whatsapp_delivery, whatsapp_value

admin, reply_env = support.admin, support.reply_env
knowledge = knowledge_support.knowledge
CHAT = "shared-conversation-0001"
CATALOGS = {
    "acme": [
        product("XY-0412", itemName="Nevera Samsung RT38", brand="Samsung", price=499.0),
        product("LAV-1", itemName="Lavadora LG Carga Frontal", brand="LG", price=650.0),
    ],
    "beta": [
        product("XY-0412", itemName="Licuadora Oster Pro", brand="Oster", price=80.0),
        product("LAV-1", itemName="Ventilador Taurus Turbo", brand="Taurus", price=35.0),
    ],
}
OWN = {"acme": "Nevera Samsung RT38", "beta": "Licuadora Oster Pro"}


@pytest.fixture
def shops(admin, tenancy, channel_pipeline, pipeline, reply_env, monkeypatch) -> dict[str, dict[str, Any]]:
    reply_env.meta.other_tokens = {"acme-wa-token", "beta-wa-token"}
    shops = {
        name: add_tenant(admin, name, channels={"whatsapp": number}, secrets={"WHATSAPP_TOKEN": f"{name}-wa-token"})
        for name, number in (("acme", "1001"), ("beta", "1002"))
    }
    for name, keys in shops.items():
        status, body = pipeline.push({"products": CATALOGS[name], "syncId": "nightly"}, key=keys["ingest"])
        assert status == 202, body
    pipeline.drain()
    # The same customer writes to both shops' numbers, in one delivery.
    now = str(int(time.time()))
    delivery = whatsapp_delivery(
        *(
            whatsapp_value(
                [wa_message("text", {"body": "¿tienen el XY-0412?"}, wamid=f"wamid.{number}", timestamp=now)],
                phone_number_id=number,
            )
            for number in ("1001", "1002")
        )
    )
    assert post_meta(delivery, "/webhooks/whatsapp")["statusCode"] == 200
    # And each shop's web page opens a chat with the same conversation id.
    for name, keys in shops.items():
        body = json.dumps({"conversationId": CHAT, "text": f"hola, busco el XY-0412 ({name})"})
        assert webchat("POST", keys["webchat"], body=body)["statusCode"] == 202
    assert channel_pipeline.run_replies().failed == 0
    return shops


def poll(key: str) -> list[dict[str, Any]]:
    answer = webchat("GET", key, query={"conversationId": CHAT, "after": "0"})
    assert answer["statusCode"] == 200
    return json.loads(answer["body"])["messages"]


def test_each_tenant_answers_from_its_own_catalog_with_its_own_token(shops, reply_env, db):
    sent = {request.path.split("/")[-2]: request for request in reply_env.meta.sent()}
    assert set(sent) == {"1001", "1002"}
    for number, name in (("1001", "acme"), ("1002", "beta")):
        request = sent[number]
        assert request.headers["authorization"] == f"Bearer {name}-wa-token"
        assert request.json["to"] == CUSTOMER_PHONE
        text = request.json["text"]["body"]
        other = OWN["beta" if name == "acme" else "acme"]
        assert OWN[name] in text and other not in text, text

    for name, keys in shops.items():
        messages = poll(keys["webchat"])
        assert [m["from"] for m in messages] == ["customer", "bot"]
        assert f"({name})" in messages[0]["text"]
        other = OWN["beta" if name == "acme" else "acme"]
        assert OWN[name] in messages[1]["text"] and other not in messages[1]["text"]


def test_the_catalog_tools_and_the_history_see_only_their_tenant(shops, db):
    catalog = DatabaseCatalog(db, lambda: None)
    for name in ("acme", "beta"):
        toolbox = ReplyToolbox(catalog, name, lambda reason: 1)
        found = toolbox.run(ToolCall("c1", "search_local_products", {"query": "XY-0412"}))
        assert [card["name"] for card in found.result["products"]] == [OWN[name]]
        detail = toolbox.run(ToolCall("c2", "get_live_product_details", {"item_code": "LAV-1"}))
        expected = "Lavadora LG Carga Frontal" if name == "acme" else "Ventilador Taurus Turbo"
        assert detail.result["product"]["name"] == expected

        history = conversations.recent_history(db, name, f"webchat:{CHAT}", 20)
        assert history and all(f"({name})" in row["text"] or OWN[name] in row["text"] for row in history)


def test_sync_progress_is_read_with_the_tenant_key_only(shops, pipeline):
    for keys in shops.values():
        status, body = pipeline.sync("nightly", key=keys["ingest"])
        assert status == 200 and body["received"] == 2 and body["processed"] == 2, body
    status, _ = pipeline.push({"products": [product("ONLY-B")], "syncId": "beta-only"}, key=shops["beta"]["ingest"])
    assert status == 202
    pipeline.drain()
    assert pipeline.sync("beta-only", key=shops["acme"]["ingest"])[0] == 404
    assert pipeline.sync("beta-only", key=shops["beta"]["ingest"])[0] == 200


def days() -> dict[str, str]:
    """Yesterday to today (UTC): the rows of this test, even when it runs across midnight."""
    today = datetime.now(UTC).date()
    return {"since": (today - timedelta(days=1)).isoformat(), "until": today.isoformat()}


def test_admin_reads_show_only_the_callers_tenant(shops, admin):
    for name in ("acme", "beta"):
        as_tenant(admin, name)
        number = "1001" if name == "acme" else "1002"
        listed = {c["conversationId"] for c in admin.ok("GET", "/admin/conversations")["conversations"]}
        assert listed == {f"wa:{number}:{CUSTOMER_PHONE}", f"webchat:{CHAT}"}

        view = admin.ok("GET", f"/admin/conversations/webchat:{CHAT}")
        texts = " ".join(m["text"] for m in view["messages"])
        assert f"({name})" in texts and OWN[name] in texts
        assert "(beta)" not in texts if name == "acme" else "(acme)" not in texts

        status = admin.ok("GET", f"/admin/customers/{CUSTOMER_PHONE}/status")
        assert [c["conversationId"] for c in status["conversations"]] == [f"wa:{number}:{CUSTOMER_PHONE}"]

        report = admin.ok("GET", "/admin/analytics", query=days())
        assert report["conversations"]["withCustomerMessages"] == 2
        assert report["catalogSyncs"]["syncs"] == 1 and report["catalogSyncs"]["received"] == 2
        syncs = admin.ok("GET", "/admin/analytics/syncs", query=days())["syncs"]
        assert [s["syncId"] for s in syncs] == ["nightly"] and syncs[0]["received"] == 2

        export = admin.call("GET", "/admin/export", query={**days(), "format": "json"})
        assert export.status == 200
        exported = export.raw.decode()
        other_number = "1002" if name == "acme" else "1001"
        assert OWN[name] in exported and other_number not in exported
        assert OWN["beta" if name == "acme" else "acme"] not in exported

        shown = admin.ok("GET", f"/admin/tenants/{name}")
        assert [c["id"] for c in shown["channels"] if c["channel"] == "whatsapp"] == [number]


def test_admin_changes_touch_only_the_callers_tenant(shops, admin, channel_pipeline, db):
    conversation = f"webchat:{CHAT}"
    as_tenant(admin, "acme")
    admin.ok("POST", f"/admin/conversations/{conversation}/takeover", body={"untilResumed": True})
    paused = db.execute("SELECT tenant_id FROM conversation_pauses WHERE conversation_id = %s", (conversation,))
    assert [row["tenant_id"] for row in paused] == ["acme"]
    admin.ok("POST", f"/admin/conversations/{conversation}/reset")
    reset = {r["tenant_id"]: r["context_reset_at"] for r in db.execute("SELECT * FROM conversations")}
    assert reset["acme"] is not None

    # Beta's customer in the conversation with the same id is still answered; acme's is not.
    for name in ("acme", "beta"):
        body = json.dumps({"conversationId": CHAT, "text": f"¿y el LAV-1? ({name})"})
        assert webchat("POST", shops[name]["webchat"], body=body)["statusCode"] == 202
    channel_pipeline.run_replies()
    assert [m["from"] for m in poll(shops["acme"]["webchat"])][-1] == "customer"
    assert [m["from"] for m in poll(shops["beta"]["webchat"])][-2:] == ["customer", "bot"]
    beta_row = db.execute(
        "SELECT context_reset_at FROM conversations WHERE tenant_id = 'beta' AND conversation_id = %s", (conversation,)
    ).fetchone()
    assert beta_row["context_reset_at"] is None

    # An escalation in beta is beta's: acme neither lists nor resolves it.
    body = json.dumps({"conversationId": CHAT, "text": "quiero hablar con un asesor"})
    assert webchat("POST", shops["beta"]["webchat"], body=body)["statusCode"] == 202
    channel_pipeline.run_replies()
    [escalation] = db.execute("SELECT id, tenant_id FROM escalations").fetchall()
    assert escalation["tenant_id"] == "beta"
    assert admin.ok("GET", "/admin/escalations")["escalations"] == []
    refused = admin.call("POST", f"/admin/escalations/{escalation['id']}/resolve", body={"note": "done"})
    assert refused.status == 404
    as_tenant(admin, "beta")
    assert len(admin.ok("GET", "/admin/escalations")["escalations"]) == 1
    admin.ok("POST", f"/admin/escalations/{escalation['id']}/resolve", body={"note": "called back"})
    # Beta resuming its conversation leaves acme's takeover in place.
    admin.ok("POST", f"/admin/conversations/{conversation}/resume")
    assert [r["tenant_id"] for r in db.execute("SELECT tenant_id FROM conversation_pauses")] == ["acme"]

    # Prices and synonyms are each tenant's own.
    as_tenant(admin, "acme")
    admin.ok("PUT", "/admin/model-prices/gpt-acme", body={"inputPerMillion": 1, "outputPerMillion": 2})
    admin.ok("PUT", "/admin/search/synonyms/heladera", body={"alternatives": ["nevera"]})
    as_tenant(admin, "beta")
    assert "gpt-acme" not in {p["model"] for p in admin.ok("GET", "/admin/model-prices")["prices"]}
    beta_terms = {s["term"]: s["source"] for s in admin.ok("GET", "/admin/search/synonyms")["synonyms"]}
    assert beta_terms.get("heladera") != "tenant"
    actions = {(r["tenant_id"], r["action"]) for r in db.execute("SELECT tenant_id, action FROM operator_actions")}
    assert ("acme", "takeover") in actions and ("beta", "takeover") not in actions


def test_the_console_shows_and_answers_only_the_callers_tenant(shops, admin, reply_env):
    from urllib.parse import quote

    for name, number in (("acme", "1001"), ("beta", "1002")):
        as_tenant(admin, name)
        inbox = {c["conversationId"] for c in admin.ok("GET", "/admin/console/inbox")["conversations"]}
        assert inbox == {f"wa:{number}:{CUSTOMER_PHONE}", f"webchat:{CHAT}"}
        detail = admin.ok("GET", f"/admin/console/conversations/{quote(f'webchat:{CHAT}', safe='')}")
        assert all(f"({name})" in m["text"] or OWN[name] in m["text"] for m in detail["messages"])
        found = admin.ok("GET", "/admin/console/products", query={"q": "XY-0412"})["products"]
        assert [p["name"] for p in found] == [OWN[name]]
        assert admin.ok("GET", "/admin/me")["tenant"] == name

        # A person's reply goes out from the tenant's number with the tenant's token.
        own = quote(f"wa:{number}:{CUSTOMER_PHONE}", safe="")
        admin.ok("POST", f"/admin/conversations/{own}/reply", body={"text": f"Hola, soy de {name}"})
        sent = reply_env.meta.sent()[-1]
        assert sent.path.endswith(f"/{number}/messages")
        assert sent.headers["authorization"] == f"Bearer {name}-wa-token"
        other = quote(f"wa:{'1002' if name == 'acme' else '1001'}:{CUSTOMER_PHONE}", safe="")
        assert admin.call("POST", f"/admin/conversations/{other}/reply", body={"text": "hola"}).status == 404


def test_the_knowledge_base_of_each_tenant_is_its_own(shops, admin, knowledge, channel_pipeline):
    answers = {"acme": "Sí, enviamos a todo el país en 48 horas.", "beta": "No hacemos envíos: retiro en tienda."}
    faq_ids = {}
    for name, answer in answers.items():
        as_tenant(admin, name)
        added = knowledge.faq("¿Hacen envíos a domicilio?", answer)
        assert added.status == 202, added.raw
        faq_ids[name] = added.json["id"]
    knowledge.drain()

    for name, answer in answers.items():
        as_tenant(admin, name)
        other = "beta" if name == "acme" else "acme"
        passages = knowledge.search("¿hacen envíos?")
        assert passages and all(answers[other] not in json.dumps(p, ensure_ascii=False) for p in passages)
        assert answer in json.dumps(passages[0], ensure_ascii=False)
        listed = admin.ok("GET", "/admin/knowledge/faq")
        assert answers[other] not in json.dumps(listed, ensure_ascii=False)
        assert admin.call("DELETE", f"/admin/knowledge/faq/{faq_ids[other]}").status == 404

    # The bot answers each shop's customers from that shop's entries.
    for name, keys in shops.items():
        body = json.dumps({"conversationId": f"envios-{name}-000000001", "text": "¿hacen envíos a domicilio?"})
        assert webchat("POST", keys["webchat"], body=body)["statusCode"] == 202
    channel_pipeline.run_replies()
    for name, keys in shops.items():
        other = "beta" if name == "acme" else "acme"
        answer = webchat("GET", keys["webchat"], query={"conversationId": f"envios-{name}-000000001", "after": "0"})
        replies = [m["text"] for m in json.loads(answer["body"])["messages"] if m["from"] == "bot"]
        assert replies and answers[name] in replies[0] and answers[other] not in replies[0], replies
