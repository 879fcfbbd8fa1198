"""Two tenants with overlapping item codes, the same sync id, the same customer phone and the same web chat
conversation id, through every route and tool: catalog ingest and sync progress, the webhook and the
reply function (catalog tools, history, sending with each tenant's token), web chat polling, and every
admin route (conversations, customer status, takeover/resume/reset, escalations, analytics, syncs,
export, prices, synonyms, tenants). One tenant never sees or changes the other's rows."""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mostrador.conversations.toolbox import DatabaseCatalog, ReplyToolbox
from mostrador.db import conversation_repository as conversations
from mostrador.llm.base import ToolCall
from tests.fakes.media_files import ogg_opus_voice_note
from tests.fakes.platforms import platforms_fixture  # noqa: F401
from tests.integration import knowledge_support
from tests.integration import test_admin_support as support
from tests.integration.catalog_support import product
from tests.integration.channel_pipeline import channel_pipeline_fixture  # noqa: F401
from tests.integration.rich_support import use_openai_media
from tests.integration.tenant_support import add_tenant, as_tenant, tenancy_fixture  # noqa: F401
from tests.integration.test_tenant_routing import post_meta, webchat
from tests.unit.channels.payloads import CUSTOMER_PHONE, wa_message, whatsapp_delivery, whatsapp_value

admin, reply_env = support.admin, support.reply_env
AdminClient = support.AdminClient
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


def test_customer_reset_synonym_removal_and_the_seed_export_act_on_the_callers_tenant_only(shops, admin, db):
    # The same customer phone wrote to both shops: acme resetting that customer resets acme's conversation.
    as_tenant(admin, "acme")
    admin.ok("POST", f"/admin/customers/{CUSTOMER_PHONE}/reset", body={})
    reset = db.execute("SELECT tenant_id, context_reset_at FROM conversations WHERE conversation_id LIKE 'wa:%'")
    assert {r["tenant_id"]: r["context_reset_at"] is not None for r in reset} == {"acme": True, "beta": False}

    # Both shops have their own entry for a term; acme removing its own leaves beta's.
    for name in ("acme", "beta"):
        as_tenant(admin, name)
        admin.ok("PUT", "/admin/search/synonyms/heladera", body={"alternatives": [f"nevera {name}"]})
    as_tenant(admin, "acme")
    admin.ok("DELETE", "/admin/search/synonyms/heladera")
    assert admin.call("DELETE", "/admin/search/synonyms/heladera").status == 404  # acme has none left
    as_tenant(admin, "beta")
    terms = {s["term"]: s for s in admin.ok("GET", "/admin/search/synonyms")["synonyms"]}
    assert terms["heladera"]["source"] == "tenant" and "nevera beta" in terms["heladera"]["alternatives"]

    # Seed 003's export route: the caller's rows only.
    for name, other in (("acme", "beta"), ("beta", "acme")):
        as_tenant(admin, name)
        query = {"start_date": days()["since"], "end_date": days()["until"], "format": "json"}
        answer = admin.call("GET", "/api/v1/export/conversations", query=query)
        assert answer.status == 200, answer.raw
        exported = answer.raw.decode()
        assert OWN[name] in exported and OWN[other] not in exported
        assert f"({name})" in exported and f"({other})" not in exported


def test_faq_edits_and_documents_by_id_stay_in_their_tenant(shops, admin, knowledge, db):
    as_tenant(admin, "beta")
    faq = knowledge.faq("¿Abren los domingos?", "No, de lunes a sábado.")
    document = knowledge.upload("horario-beta.txt", b"Beta abre de 9 a 18.")
    assert faq.status == 202 and document.status == 202, (faq.raw, document.raw)
    faq_id, document_id = faq.json["id"], document.json["id"]
    knowledge.drain()
    before = db.execute("SELECT id, tenant_id, title, status FROM knowledge_documents ORDER BY id").fetchall()
    assert {r["tenant_id"] for r in before} == {"beta"}

    as_tenant(admin, "acme")
    edited = admin.call(
        "PUT", f"/admin/knowledge/faq/{faq_id}", body={"question": "¿Abren los domingos?", "answer": "Sí, abrimos."}
    )
    assert edited.status == 404
    for method in ("GET", "DELETE"):
        assert admin.call(method, f"/admin/knowledge/documents/{document_id}").status == 404
    assert admin.ok("GET", "/admin/knowledge/documents")["documents"] == []
    # Acme's own upload is acme's: beta neither lists nor reads it.
    mine = knowledge.upload("horario-acme.txt", b"Acme abre de 8 a 20.")
    assert mine.status == 202
    knowledge.drain()
    assert db.execute("SELECT tenant_id FROM knowledge_documents WHERE id = %s", (mine.json["id"],)).fetchone() == {
        "tenant_id": "acme"
    }
    as_tenant(admin, "beta")
    assert admin.call("GET", f"/admin/knowledge/documents/{mine.json['id']}").status == 404
    assert [d["id"] for d in admin.ok("GET", "/admin/knowledge/documents")["documents"]] == [document_id]
    after = db.execute(
        "SELECT id, tenant_id, title, status FROM knowledge_documents WHERE tenant_id = 'beta' ORDER BY id"
    ).fetchall()
    assert after == before  # beta's FAQ entry and document unchanged, not deleted
    assert "Sí, abrimos." not in json.dumps(admin.ok("GET", "/admin/knowledge/faq"), ensure_ascii=False)


def test_a_syncs_failed_items_are_listed_to_their_tenant_only(shops, admin, pipeline, db):
    # The database refuses items whose code starts with BAD (a trigger): a failure per item, in each tenant.
    db.execute(
        "CREATE OR REPLACE FUNCTION isolation_test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$"
        " BEGIN IF NEW.item_code LIKE 'BAD%' THEN RAISE EXCEPTION 'refused for this test'"
        " USING ERRCODE = 'data_exception'; END IF; RETURN NEW; END $$"
    )
    db.execute(
        "CREATE OR REPLACE TRIGGER isolation_test_refuse BEFORE INSERT OR UPDATE ON products"
        " FOR EACH ROW EXECUTE FUNCTION isolation_test_refuse()"
    )
    try:
        for name in ("acme", "beta"):
            body = {"products": [product("OK-1"), product(f"BAD-{name}")], "syncId": "weekly"}
            assert pipeline.push(body, key=shops[name]["ingest"])[0] == 202
        pipeline.drain()
    finally:
        db.execute("DROP TRIGGER IF EXISTS isolation_test_refuse ON products")
        db.execute("DROP FUNCTION IF EXISTS isolation_test_refuse()")
    for name in ("acme", "beta"):
        as_tenant(admin, name)
        failures = admin.ok("GET", "/admin/console/syncs/weekly/failures")["failures"]
        assert [f["itemCode"] for f in failures] == [f"BAD-{name}"]


# -- what main added since (issues 13 and 14, the console's Knowledge section) ---------------------


def test_sync_receipts_at_202_and_a_full_sync_belong_to_the_ingest_keys_tenant(shops, pipeline, admin, db):
    # Both shops push the same sync id; before enrichment runs each key reads its own receipt.
    pushes = {
        "acme": [product("XY-0412", itemName="Nevera Samsung RT38", brand="Samsung", price=499.0), product("R2")],
        "beta": [product("R1")],
    }
    for name, items in pushes.items():
        body = {"products": items, "syncId": "tonight", "fullSync": name == "acme"}
        status, answer = pipeline.push(body, key=shops[name]["ingest"])
        assert status == 202, answer
    for name, items in pushes.items():
        status, sync = pipeline.sync("tonight", key=shops[name]["ingest"])
        assert status == 200, sync
        assert (sync["received"], sync["processed"], sync["fullSync"]) == (len(items), 0, name == "acme"), sync
    receipts = db.execute("SELECT tenant_id, count(*) AS n FROM sync_batches WHERE sync_id = 'tonight' GROUP BY 1")
    assert {row["tenant_id"]: row["n"] for row in receipts} == {"acme": 1, "beta": 1}

    # A sync only acme has is unknown to beta's key, even before enrichment.
    only_acme = {"products": [product("ONLY-A")], "syncId": "acme-only"}
    assert pipeline.push(only_acme, key=shops["acme"]["ingest"])[0] == 202
    assert pipeline.sync("acme-only", key=shops["beta"]["ingest"])[0] == 404
    assert pipeline.sync("acme-only", key=shops["acme"]["ingest"])[1]["received"] == 1

    # Acme's full sync deactivates what it did not name in acme's catalog only.
    pipeline.drain()
    active = {(r["tenant_id"], r["item_code"]): r["active"] for r in db.execute("SELECT * FROM products")}
    assert active[("acme", "LAV-1")] is False and active[("acme", "XY-0412")] is True
    assert active[("beta", "LAV-1")] is True and active[("beta", "XY-0412")] is True
    assert pipeline.sync("tonight", key=shops["acme"]["ingest"])[1]["deactivated"] == 1
    assert pipeline.sync("tonight", key=shops["beta"]["ingest"])[1]["deactivated"] == 0
    for name in ("acme", "beta"):
        as_tenant(admin, name)
        listed = {s["syncId"]: s["received"] for s in admin.ok("GET", "/admin/analytics/syncs", query=days())["syncs"]}
        expected = {"nightly": 2, "tonight": len(pushes[name])} | ({"acme-only": 1} if name == "acme" else {})
        assert listed == expected


def test_a_tapped_product_is_shown_with_the_tenants_own_photo_and_token(
    shops, pipeline, reply_env, channel_pipeline, db
):
    photos = {name: f"https://cdn.{name}.example/xy-0412.jpg" for name in ("acme", "beta")}
    for name, photo in photos.items():
        [item] = [dict(p) for p in CATALOGS[name] if p["itemCode"] == "XY-0412"]
        assert pipeline.push({"products": [{**item, "imageUrl": photo}]}, key=shops[name]["ingest"])[0] == 202
    pipeline.drain()
    stored = {r["tenant_id"]: r["image_urls"] for r in db.execute("SELECT * FROM products WHERE item_code = 'XY-0412'")}
    assert stored == {name: [photo] for name, photo in photos.items()}

    # The same customer taps the same item code's button on both shops' numbers.
    before = len(reply_env.meta.sent())
    tap = {"type": "button_reply", "button_reply": {"id": "product:XY-0412", "title": "XY-0412"}}
    now = str(int(time.time()))
    delivery = whatsapp_delivery(
        *(
            whatsapp_value(
                [wa_message("interactive", tap, wamid=f"wamid.tap.{number}", timestamp=now)], phone_number_id=number
            )
            for number in ("1001", "1002")
        )
    )
    assert post_meta(delivery, "/webhooks/whatsapp")["statusCode"] == 200
    assert channel_pipeline.run_replies().failed == 0
    images = [r for r in reply_env.meta.sent()[before:] if r.json.get("type") == "image"]
    by_number = {r.path.split("/")[-2]: r for r in images}
    assert set(by_number) == {"1001", "1002"}
    for number, name in (("1001", "acme"), ("1002", "beta")):
        sent = by_number[number]
        assert sent.headers["authorization"] == f"Bearer {name}-wa-token"
        assert sent.json["image"]["link"] == photos[name] and sent.json["image"]["caption"] == OWN[name]
    replies = db.execute("SELECT tenant_id, image_url FROM messages WHERE image_url IS NOT NULL").fetchall()
    assert {(r["tenant_id"], r["image_url"]) for r in replies} == {(name, photo) for name, photo in photos.items()}


def test_voice_notes_are_fetched_and_transcribed_with_the_tenants_own_token_and_llm_key(
    shops, admin, reply_env, llm_server, channel_pipeline, monkeypatch, db
):
    use_openai_media(monkeypatch, llm_server)  # the deployment's OpenAI key is "test-key"
    as_tenant(admin, "acme")
    assert admin.call("PUT", "/admin/tenants/acme/secrets", body={"OPENAI_API_KEY": "acme-openai-key"}).status == 200
    notes: dict[str, tuple[str, str]] = {}
    for name in ("acme", "beta"):
        data = ogg_opus_voice_note(3, name)
        llm_server.add_transcript(data, f"¿tienen el LAV-1? ({name})")
        notes[name] = (reply_env.meta.add_media(data, "audio/ogg; codecs=opus"), hashlib.sha256(data).hexdigest())
    before = len(reply_env.meta.requests)
    now = str(int(time.time()))
    delivery = whatsapp_delivery(
        *(
            whatsapp_value(
                [
                    wa_message(
                        "audio",
                        {"id": notes[name][0], "mime_type": "audio/ogg; codecs=opus", "voice": True},
                        wamid=f"wamid.voice.{number}",
                        timestamp=now,
                    )
                ],
                phone_number_id=number,
            )
            for number, name in (("1001", "acme"), ("1002", "beta"))
        )
    )
    assert post_meta(delivery, "/webhooks/whatsapp")["statusCode"] == 200
    assert channel_pipeline.run_replies().failed == 0

    # Each shop's media is looked up and downloaded with its own WhatsApp token.
    fetched = [r for r in reply_env.meta.requests[before:] if r.method == "GET"]
    for name, (media_id, _) in notes.items():
        mine = [r for r in fetched if r.path.endswith(f"/{media_id}")]
        assert len(mine) == 2 and all(r.headers["authorization"] == f"Bearer {name}-wa-token" for r in mine)
    # Acme's voice note is transcribed with acme's OpenAI key; beta brings none and uses the deployment's.
    transcribed = [r for r in llm_server.requests if r.kind == "transcription"]
    uploads = {r.body["file_sha256"]: r.headers["authorization"] for r in transcribed}
    assert uploads == {notes["acme"][1]: "Bearer acme-openai-key", notes["beta"][1]: "Bearer test-key"}
    transcripts = db.execute("SELECT tenant_id, transcript FROM messages WHERE transcript IS NOT NULL").fetchall()
    assert {(r["tenant_id"], r["transcript"]) for r in transcripts} == {
        (name, f"¿tienen el LAV-1? ({name})") for name in notes
    }
    usage = db.execute("SELECT tenant_id, count(*) AS n FROM llm_usage WHERE purpose = 'transcription' GROUP BY 1")
    assert {row["tenant_id"]: row["n"] for row in usage} == {"acme": 1, "beta": 1}


def test_page_and_instagram_replies_use_the_tenants_page_token_and_photos_its_llm_key_and_budget(
    shops, admin, reply_env, llm_server, channel_pipeline, monkeypatch, db
):
    from tests.fakes.llm_server import _openai_image_sha
    from tests.fakes.media_files import png_photo
    from tests.unit.channels.payloads import PSID, fb_event, messenger_delivery

    use_openai_media(monkeypatch, llm_server)  # the deployment's OpenAI key is "test-key"
    reply_env.meta.other_tokens |= {"acme-page-token", "beta-page-token"}
    created = {"acme": ("messenger", "2001"), "beta": ("instagram", "3002")}
    for name, (channel, account) in created.items():
        assert (
            admin.call("POST", f"/admin/tenants/{name}/channels", body={"channel": channel, "id": account}).status
            == 201
        )
    secrets = {"acme": {"MESSENGER_PAGE_TOKEN": "acme-page-token", "OPENAI_API_KEY": "acme-openai-key"},
               "beta": {"MESSENGER_PAGE_TOKEN": "beta-page-token"}}  # fmt: skip
    for name, values in secrets.items():
        assert admin.call("PUT", f"/admin/tenants/{name}/secrets", body=values).status == 200
    photos = {"acme": png_photo("acme-blender"), "beta": png_photo("beta-fan")}
    described = {"acme": "Una licuadora Oster.", "beta": "Un ventilador Taurus."}
    before = len(reply_env.meta.requests)
    for name, (channel, account) in created.items():
        llm_server.add_image_description(photos[name], described[name])
        url = reply_env.meta.cdn_url(photos[name], "image/png")
        event = fb_event(
            recipient=account,
            timestamp=int(time.time() * 1000),
            message={"mid": f"m_photo_{name}", "attachments": [{"type": "image", "payload": {"url": url}}]},
        )
        obj = "page" if channel == "messenger" else "instagram"
        assert post_meta(messenger_delivery(event, obj=obj, account_id=account))["statusCode"] == 200
    assert channel_pipeline.run_replies().failed == 0

    # Each shop's photo is described with its own OpenAI key (beta brings none: the deployment's) ...
    vision = [r for r in llm_server.requests if r.kind == "vision"]
    by_photo = {_openai_image_sha(r.body): r.headers["authorization"] for r in vision}
    assert by_photo == {
        hashlib.sha256(photos["acme"]).hexdigest(): "Bearer acme-openai-key",
        hashlib.sha256(photos["beta"]).hexdigest(): "Bearer test-key",
    }
    rows = db.execute("SELECT tenant_id, media_description FROM messages WHERE media_description IS NOT NULL")
    assert {(r["tenant_id"], r["media_description"]) for r in rows} == set(described.items())
    # ... billed to it ...
    usage = db.execute("SELECT tenant_id, count(*) AS n FROM llm_usage WHERE purpose = 'vision' GROUP BY 1")
    assert {row["tenant_id"]: row["n"] for row in usage} == {"acme": 1, "beta": 1}
    # ... and answered to the customer with the tenant's own Page token.
    sent = [r for r in reply_env.meta.sent() if r.json.get("recipient", {}).get("id") == PSID]
    assert sorted(r.headers["authorization"] for r in sent) == ["Bearer acme-page-token", "Bearer beta-page-token"]
    tokens = {r.headers.get("authorization") for r in reply_env.meta.requests[before:]}
    assert f"Bearer {reply_env.meta.token}" not in tokens  # never the deployment's Page token


def test_knowledge_suggestions_are_listed_and_decided_only_in_their_tenant(
    shops, admin, knowledge, channel_pipeline, db
):
    body = json.dumps({"conversationId": CHAT, "text": "quiero hablar con un asesor"})
    assert webchat("POST", shops["beta"]["webchat"], body=body)["statusCode"] == 202
    channel_pipeline.run_replies()
    [escalation] = db.execute("SELECT id FROM escalations WHERE tenant_id = 'beta'").fetchall()
    as_tenant(admin, "beta")
    people = {
        role: AdminClient(admin.ok("POST", "/admin/tokens", body={"name": f"beta {role}", "role": role})["secret"])
        for role in ("agent", "viewer")
    }
    note = "No hacemos envíos: retiro en tienda."
    people["agent"].ok("POST", f"/admin/escalations/{escalation['id']}/resolve", body={"note": note})

    # Beta's people see the suggestion with the escalation it came from; the viewer may not decide it.
    [suggestion] = people["viewer"].ok("GET", "/admin/knowledge/suggestions")["suggestions"]
    assert suggestion["answer"] == note and suggestion["escalation"]["id"] == escalation["id"]
    assert suggestion["escalation"]["channel"] == "webchat"
    decide = f"/admin/knowledge/suggestions/{suggestion['id']}"
    assert people["viewer"].call("POST", f"{decide}/approve", body={}).status == 403
    assert people["viewer"].call("POST", f"{decide}/discard").status == 403

    # Acme's owner neither lists nor decides it.
    as_tenant(admin, "acme")
    assert admin.ok("GET", "/admin/knowledge/suggestions", query={"status": "all"})["suggestions"] == []
    assert admin.call("POST", f"{decide}/approve", body={}).status == 404
    assert admin.call("POST", f"{decide}/discard").status == 404
    assert db.execute("SELECT status FROM knowledge_suggestions").fetchone()["status"] == "suggested"

    # Beta's agent approves it: the entry is beta's FAQ, not acme's.
    approved = people["agent"].call("POST", f"{decide}/approve", body={"question": "¿Hacen envíos?", "answer": note})
    assert approved.status in (200, 202), approved.raw
    knowledge.drain()
    assert note not in json.dumps(admin.ok("GET", "/admin/knowledge/faq"), ensure_ascii=False)
    as_tenant(admin, "beta")
    assert note in json.dumps(admin.ok("GET", "/admin/knowledge/faq"), ensure_ascii=False)
    audited = db.execute("SELECT tenant_id FROM audit_log WHERE action LIKE %s", ("%suggestion%",)).fetchall()
    assert audited and {row["tenant_id"] for row in audited} == {"beta"}


def test_writes_and_reads_by_a_message_id_only_reach_the_named_tenants_row(db):
    """The reply side addresses messages, replies and tool calls by their global id; every such statement
    also names the tenant (tests/unit/test_repository_tenancy.py), so an id of another tenant's row
    changes and reads nothing."""
    from mostrador.db import knowledge_repository
    from mostrador.messaging.model import InboundMessage

    def inbound(tenant: str) -> int:
        message = InboundMessage(
            tenant_id=tenant,
            channel="webchat",
            conversation_id=f"webchat:{CHAT}",
            sender_id=CHAT,
            sender_role="customer",
            text="hola",
            platform_message_id=f"{tenant}.in.1",
            timestamp=datetime.now(UTC),
        )
        return conversations.record_inbound(db, message, "customer").id

    acme, beta = inbound("acme"), inbound("beta")
    draft = conversations.store_reply_draft(
        db, "acme", f"webchat:{CHAT}", "webchat", acme, conversations.ReplyDraft("¡Hola!", "es")
    )
    conversations.record_tool_call(
        db,
        "acme",
        f"webchat:{CHAT}",
        acme,
        round_number=0,
        tool_name="search_local_products",
        arguments={"query": "x"},
        product_ids=[],
        result_count=0,
        error=None,
        latency_ms=5,
    )

    def acme_rows() -> list[dict[str, Any]]:
        return db.execute(
            "SELECT id, state, state_reason, language, actor, status, error_code, pieces_sent, in_reply_to,"
            " transcript, metadata FROM messages WHERE tenant_id = 'acme' ORDER BY id"
        ).fetchall()

    before = acme_rows()
    conversations.mark_inbound(db, "beta", acme, "failed", "x")
    conversations.mark_inbound_many(db, "beta", [acme], "failed", "x")
    conversations.set_message_language(db, "beta", acme, "en")
    conversations.set_inbound_actor(db, "beta", acme, "agent")
    conversations.mark_awaiting(db, "beta", acme, {"k": "v"})
    conversations.save_media_understanding(db, "beta", acme, "oído", None)
    conversations.mark_reply_sent(db, "beta", draft["id"], ["w1"], 5)
    conversations.record_pieces_sent(db, "beta", draft["id"], 1, ["w1"])
    conversations.mark_reply_failed(db, "beta", draft["id"], "x", "x")
    conversations.note_photo_failed(db, "beta", draft["id"], "x", "x")
    conversations.supersede_draft(db, "beta", draft["id"])
    conversations.forget_tool_calls(db, "beta", acme)
    assert acme_rows() == before
    assert db.execute("SELECT count(*) AS n FROM tool_calls WHERE tenant_id = 'acme'").fetchone()["n"] == 1
    assert conversations.pending_reply(db, "beta", acme) is None
    assert conversations.pending_reply_among(db, "beta", [acme]) is None
    assert conversations.media_understanding(db, "beta", acme) == {"transcript": None, "media_description": None}
    assert knowledge_repository.reusable_embeddings(db, "beta", 1, "m") == {}

    # The same calls with the row's own tenant do reach it.
    assert conversations.pending_reply(db, "acme", acme)["id"] == draft["id"]
    conversations.mark_inbound(db, "acme", acme, "replied")
    conversations.mark_reply_sent(db, "acme", draft["id"], ["w1"], 5)
    conversations.forget_tool_calls(db, "acme", acme)
    states = {row["id"]: (row["state"], row["status"]) for row in acme_rows()}
    assert states[acme][0] == "replied" and states[draft["id"]][1] == "sent"
    assert db.execute("SELECT count(*) AS n FROM tool_calls").fetchone()["n"] == 0
    assert db.execute("SELECT state FROM messages WHERE id = %s", (beta,)).fetchone()["state"] == "received"
