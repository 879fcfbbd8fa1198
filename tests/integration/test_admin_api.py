"""The admin API end to end: real admin handler -> Postgres, with conversations produced by the real
reply handler (offline LLM, fake Meta Graph over HTTP) and, for the reset, the real OpenAI SDK
talking to the fake LLM server."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest

from tests.fakes.platforms import platforms_fixture  # noqa: F401
from tests.integration import test_admin_support as support
from tests.integration.test_admin_support import ADMIN_TOKEN, AdminClient
from tests.integration.test_reply_support import (
    add_products,
    deliver,
    inbound_row,
    messenger,
    product,
    whatsapp,
)

admin, reply_env = support.admin, support.reply_env


def path_of(conversation_id: str, action: str = "") -> str:
    return f"/admin/conversations/{conversation_id}" + (f"/{action}" if action else "")


# -- auth and the document -------------------------------------------------------------------------


def test_every_route_needs_the_bearer_token(admin, db):
    deliver(whatsapp("hola"))
    routes = [
        ("GET", "/admin/conversations"),
        ("GET", "/admin/escalations"),
        ("GET", "/admin/analytics"),
        ("GET", "/admin/export"),
        ("POST", "/admin/conversations/wa:x/takeover"),
        ("GET", "/admin/no-such-route"),
    ]
    for method, path in routes:
        for kwargs in (
            {"token": None},
            {"token": "wrong-token"},
            {"token": ADMIN_TOKEN[:-1]},
            {"authorization": f"Basic {ADMIN_TOKEN}"},
            {"authorization": "Bearer"},
        ):
            answer = admin.call(method, path, **kwargs)
            assert answer.status == 401, (method, path, kwargs, answer.status)
            assert "bearer token" in answer.json["error"] and answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert admin.call("GET", "/admin/conversations", authorization=f"bearer  {ADMIN_TOKEN} ").status == 200
    assert admin.call("GET", "/admin/no-such-route").status == 404


def test_without_a_configured_token_nothing_is_allowed(admin, monkeypatch):
    from mostrador.config import reset_settings

    monkeypatch.delenv("ADMIN_TOKEN")
    reset_settings()
    assert admin.call("GET", "/admin/conversations").status == 401
    assert admin.call("GET", "/admin/conversations", token="").status == 401


def test_the_openapi_document_is_served_and_lists_every_route(admin):
    answer = admin.call("GET", "/admin/openapi.json", token=None)
    assert answer.status == 200
    document = json.loads(answer.raw)
    assert document["openapi"].startswith("3.") and document["info"]["title"] == "Mostrador admin API"
    operations = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    # The knowledge routes are checked in tests/integration/test_knowledge.py.
    operations = {(method, path) for method, path in operations if not path.startswith("/admin/knowledge/")}
    assert operations == {
        ("GET", "/admin/conversations"),
        # the admin console's routes (functions/admin/console_routes.py, test_console_api.py)
        ("GET", "/admin/me"),
        ("GET", "/admin/console/inbox"),
        ("GET", "/admin/console/conversations/{conversation_id}"),
        ("POST", "/admin/conversations/{conversation_id}/reply"),
        ("GET", "/admin/console/products"),
        ("GET", "/admin/console/syncs/{sync_id}/failures"),
        ("GET", "/api/v1/export/conversations"),
        ("GET", "/admin/conversations/{conversation_id}"),
        ("POST", "/admin/conversations/{conversation_id}/takeover"),
        ("POST", "/admin/conversations/{conversation_id}/resume"),
        ("POST", "/admin/conversations/{conversation_id}/reset"),
        ("GET", "/admin/customers/{customer_id}/status"),
        ("POST", "/admin/customers/{customer_id}/reset"),
        ("GET", "/admin/escalations"),
        ("POST", "/admin/escalations/{escalation_id}/resolve"),
        ("GET", "/admin/analytics"),
        ("GET", "/admin/analytics/syncs"),
        ("GET", "/admin/export"),
        ("GET", "/admin/model-prices"),
        ("PUT", "/admin/model-prices/{model}"),
        ("GET", "/admin/search/synonyms"),
        ("PUT", "/admin/search/synonyms/{term}"),
        ("DELETE", "/admin/search/synonyms/{term}"),
        ("GET", "/admin/me"),
        ("POST", "/admin/tokens"),
        ("GET", "/admin/tokens"),
        ("POST", "/admin/tokens/{token_id}/revoke"),
        ("GET", "/admin/audit"),
        # functions/admin/tenant_routes.py (docs/tenants.md)
        ("GET", "/admin/tenants"),
        ("POST", "/admin/tenants"),
        ("GET", "/admin/tenants/{tenant_id}"),
        ("PATCH", "/admin/tenants/{tenant_id}"),
        ("POST", "/admin/tenants/{tenant_id}/channels"),
        ("DELETE", "/admin/tenants/{tenant_id}/channels/{channel}/{channel_id}"),
        ("GET", "/admin/tenants/{tenant_id}/keys"),
        ("POST", "/admin/tenants/{tenant_id}/keys"),
        ("DELETE", "/admin/tenants/{tenant_id}/keys/{key_id}"),
        ("PUT", "/admin/tenants/{tenant_id}/secrets"),
        ("POST", "/admin/routing"),
    }
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    # Each operation names the permissions it needs and takes an operator's X-Tenant.
    assert document["paths"]["/admin/export"]["get"]["x-mostrador-permissions"] == ["export"]
    assert document["paths"]["/admin/me"]["get"]["x-mostrador-permissions"] == []
    for item in document["paths"].values():
        for operation in item.values():
            assert "X-Tenant" in [p["name"] for p in operation["parameters"] if p["in"] == "header"]
    assert document["security"] == [{"bearerAuth": []}]
    takeover = document["paths"]["/admin/conversations/{conversation_id}/takeover"]["post"]
    body_ref = takeover["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert set(document["components"]["schemas"][body_ref]["properties"]) == {"minutes", "untilResumed", "note"}
    export_params = {p["name"] for p in document["paths"]["/admin/export"]["get"]["parameters"]}
    assert {"since", "until", "format", "customer", "cursor", "limit"} <= export_params


def test_an_agent_token_steers_conversations_but_cannot_export_or_see_prices_change(admin, db):
    """Roles through real tokens: an owner's token made by the operator's ADMIN_TOKEN, an agent's by the owner."""
    owner = AdminClient(admin.ok("POST", "/admin/tokens", body={"name": "dueña", "role": "owner"})["secret"])
    agent = AdminClient(owner.ok("POST", "/admin/tokens", body={"name": "ana", "role": "agent"})["secret"])
    message = whatsapp("hola")
    deliver(message)
    [listed] = agent.ok("GET", "/admin/conversations")["conversations"]  # by the handle the API gives an agent
    taken = agent.ok("POST", path_of(listed["conversationId"], "takeover"), body={"minutes": 5})
    assert taken["paused"]["setBy"] == "ana"
    export = agent.get("/admin/export", since="2026-01-01", until="2026-01-02")
    assert export.status == 403 and export.json["missingPermission"] == "export"
    assert "'export'" in export.json["error"] and "'agent'" in export.json["error"]
    price = agent.call("PUT", "/admin/model-prices/gpt-4o", body={"inputPerMillion": 1, "outputPerMillion": 1})
    assert price.status == 403 and price.json["missingPermission"] == "configure"
    assert agent.get("/admin/analytics", since="2026-01-01", until="2026-01-02").status == 200
    assert owner.get("/admin/export", since="2026-01-01", until="2026-01-02").status == 200


# -- takeover and resume ---------------------------------------------------------------------------


def test_a_takeover_silences_the_bot_in_that_conversation_only_and_resume_brings_it_back(admin, db, reply_env):
    first_a, first_b = whatsapp("hola, ¿tienen neveras?", sender="111"), whatsapp("hola", sender="222")
    assert deliver(first_a, first_b) == []
    assert len(reply_env.meta.sent()) == 2

    before = datetime.now(UTC)
    taken = admin.ok(
        "POST", path_of(first_a.conversation_id, "takeover"), body={"minutes": 30, "note": "le atiendo yo"}
    )
    paused_until = datetime.fromisoformat(taken["paused"]["pausedUntil"])
    assert timedelta(minutes=29) < paused_until - before <= timedelta(minutes=30, seconds=5)
    assert (taken["paused"]["untilResumed"], taken["paused"]["reason"]) == (False, "operator_takeover")

    during_a, during_b = whatsapp("¿sigues ahí?", sender="111"), whatsapp("¿y lavadoras?", sender="222")
    assert deliver(during_a, during_b) == []
    assert inbound_row(db, during_a.platform_message_id)["state_reason"] == "paused"
    assert inbound_row(db, during_b.platform_message_id)["state"] == "replied"
    assert [r.json["to"] for r in reply_env.meta.sent()] == ["111", "222", "222"]

    listed = admin.ok("GET", "/admin/conversations", query={"paused": "true"})["conversations"]
    assert [c["conversationId"] for c in listed] == [first_a.conversation_id]

    resumed = admin.ok("POST", path_of(first_a.conversation_id, "resume"), body={})
    assert resumed["wasPaused"] is True and resumed["conversation"]["paused"] is None
    after = whatsapp("¿hola?", sender="111")
    assert deliver(after) == []
    assert inbound_row(db, after.platform_message_id)["state"] == "replied"
    assert [r.json["to"] for r in reply_env.meta.sent()][-1] == "111"
    actions = db.execute("SELECT action, actor, role, detail FROM operator_actions ORDER BY id").fetchall()
    assert [(a["action"], a["actor"], a["role"]) for a in actions] == [
        ("takeover", "admin", "operator"),
        ("resume", "admin", "operator"),
    ]
    assert actions[0]["detail"] == {"minutes": 30, "note": "le atiendo yo"}


def test_takeover_until_resumed_and_its_validation(admin, db):
    message = whatsapp("hola")
    deliver(message)
    encoded = quote(message.conversation_id, safe="")  # clients may percent-encode the id
    taken = admin.ok("POST", path_of(encoded, "takeover"), body={"untilResumed": True})
    assert taken["paused"]["untilResumed"] is True and taken["conversationId"] == message.conversation_id
    later = whatsapp("¿alguien?")
    deliver(later)
    assert inbound_row(db, later.platform_message_id)["state_reason"] == "paused"

    both = admin.call("POST", path_of(message.conversation_id, "takeover"), body={"minutes": 5, "untilResumed": True})
    assert both.status == 422 and "either minutes or untilResumed" in both.json["error"]
    zero = admin.call("POST", path_of(message.conversation_id, "takeover"), body={"minutes": 0})
    assert zero.status == 422 and zero.json["detail"][0]["loc"] == ["body", "minutes"]
    extra = admin.call("POST", path_of(message.conversation_id, "takeover"), body={"minuts": 5})
    assert extra.status == 422 and "minuts" in extra.json["error"]
    broken = admin.call("POST", path_of(message.conversation_id, "takeover"), body="{not json")
    assert broken.status == 400 and "not valid JSON" in broken.json["error"]
    missing = admin.call("POST", path_of("wa:nobody", "takeover"), body={"minutes": 5})
    assert missing.status == 404 and "wa:nobody" in missing.json["error"]
    assert admin.call("POST", path_of("wa:nobody", "resume"), body={}).status == 404


def test_the_default_takeover_lasts_the_configured_pause(admin, db):
    message = whatsapp("hola")
    deliver(message)
    before = datetime.now(UTC)
    taken = admin.ok("POST", path_of(message.conversation_id, "takeover"), body={})
    until = datetime.fromisoformat(taken["paused"]["pausedUntil"])
    assert timedelta(minutes=59) < until - before <= timedelta(minutes=60, seconds=5)  # reply_env: 60 minutes


# -- lists and views -------------------------------------------------------------------------------


def test_conversations_filter_and_page_with_a_cursor(admin, db):
    for sender in ("111", "222", "333"):
        deliver(whatsapp(f"hola desde {sender}", sender=sender))
    deliver(messenger("hola por messenger"))
    deliver(whatsapp("quiero hablar con un asesor", sender="444"))
    everyone = admin.ok("GET", "/admin/conversations")["conversations"]
    assert len(everyone) == 5
    activity = [c["lastActivityAt"] for c in everyone]
    assert activity == sorted(activity, reverse=True)

    def ids(**query):
        return [c["conversationId"] for c in admin.ok("GET", "/admin/conversations", query=query)["conversations"]]

    assert ids(channel="messenger") == ["fb:PAGE:psid-9"]
    escalated = admin.ok("GET", "/admin/conversations", query={"escalated": "true"})["conversations"]
    assert [c["customerId"] for c in escalated] == ["444"]
    assert escalated[0]["openEscalation"]["source"] == "customer_request"
    assert escalated[0]["paused"]["reason"] == "escalation"
    assert len(ids(escalated="false")) == 4 and len(ids(paused="false")) == 4
    assert ids(customer="222") == [whatsapp("x", sender="222").conversation_id]
    today = datetime.now(UTC).date()
    assert len(ids(since=str(today - timedelta(days=1)), until=str(today + timedelta(days=1)))) == 5
    assert ids(since=str(today + timedelta(days=1))) == []
    assert ids(until=str(today - timedelta(days=1))) == []

    seen, cursor, pages = [], None, 0
    while True:
        page = admin.ok("GET", "/admin/conversations", query={"limit": 2, **({"cursor": cursor} if cursor else {})})
        seen += [c["conversationId"] for c in page["conversations"]]
        pages += 1
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert pages == 3 and seen == [c["conversationId"] for c in everyone]

    bad = admin.call("GET", "/admin/conversations", query={"cursor": "not-a-cursor"})
    assert bad.status == 400 and "cursor" in bad.json["error"]
    for query in ({"channel": "sms"}, {"limit": "0"}, {"limit": "201"}, {"paused": "maybe"}, {"since": "2026-13-01"}):
        answer = admin.call("GET", "/admin/conversations", query=query)
        assert answer.status == 422, query
        assert answer.json["detail"][0]["loc"] == ["query", next(iter(query))], answer.json
    # A required query field: named once, as the caller sends it (Powertools adds the parameter's name).
    undated = admin.call("GET", "/admin/analytics")
    assert undated.status == 422 and {tuple(d["loc"]) for d in undated.json["detail"]} == {
        ("query", "since"),
        ("query", "until"),
    }, undated.json
    assert "Invalid request: since: " in undated.json["error"], undated.json
    reversed_range = admin.call("GET", "/admin/conversations", query={"since": "2026-02-02", "until": "2026-02-01"})
    assert reversed_range.status == 422 and "since must not be after until" in reversed_range.json["error"]


def test_one_conversation_shows_actors_latency_and_the_products_the_bot_cited(admin, db):
    add_products(
        db,
        product("N-1", "Nevera Samsung RT38", 499.0, 4),
        product("N-2", "Nevera Samsung RT50", 650.0, 2),
    )
    question = whatsapp("¿Tienen nevera Samsung?")
    deliver(question)
    deliver(messenger("hola"))  # another conversation, not shown
    view = admin.ok("GET", path_of(question.conversation_id))
    assert view["conversation"]["customerId"] == question.sender_id and view["conversation"]["language"] == "es"
    inbound, reply = view["messages"]
    assert (inbound["direction"], inbound["actor"], inbound["state"], inbound["text"]) == (
        "inbound",
        "customer",
        "replied",
        question.text,
    )
    assert (reply["direction"], reply["actor"], reply["status"], reply["inReplyTo"]) == (
        "outbound",
        "bot",
        "sent",
        inbound["id"],
    )
    assert isinstance(reply["latencyMs"], int) and reply["latencyMs"] >= 0
    cited = {p["itemCode"]: p for p in reply["citedProducts"]}
    logged = db.execute(
        "SELECT product_ids FROM tool_calls WHERE message_id = %s AND tool_name = 'search_local_products'",
        (inbound["id"],),
    ).fetchone()
    assert set(cited) == set(logged["product_ids"]) and "N-1" in cited
    assert cited["N-1"]["itemName"] == "Nevera Samsung RT38" and cited["N-1"]["tool"] == "search_local_products"
    assert "Nevera Samsung RT38" in reply["text"]

    first = admin.ok("GET", path_of(question.conversation_id), query={"limit": "1"})
    assert [m["id"] for m in first["messages"]] == [inbound["id"]] and first["nextCursor"]
    second = admin.ok("GET", path_of(question.conversation_id), query={"limit": "1", "cursor": first["nextCursor"]})
    assert [m["id"] for m in second["messages"]] == [reply["id"]] and second["nextCursor"] is None
    assert admin.call("GET", path_of("wa:nobody")).status == 404


# -- reset and customer status ---------------------------------------------------------------------


@pytest.fixture
def openai_replies(llm_server, monkeypatch):
    from mostrador.config import reset_settings

    monkeypatch.setenv("LLM_PROVIDER", "openai")
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.setenv("OPENAI_BASE_URL", llm_server.openai_base_url)
    monkeypatch.setenv("EMBEDDING_PROVIDER", "offline")
    reset_settings()
    return llm_server


def _user_turns(request) -> list[str]:
    return [m["content"] for m in request.body["messages"] if m["role"] in ("user", "assistant")]


def test_a_reset_makes_the_next_message_start_fresh(admin, db, openai_replies):
    openai_replies.script_chat(["¡Hola Ana!", "Claro, las neveras.", "¡Hola! ¿En qué te ayudo?"])
    first, second = whatsapp("hola, soy Ana"), whatsapp("me interesan neveras")
    deliver(first)
    deliver(second)
    chats = [r for r in openai_replies.requests if r.kind == "chat"]
    assert _user_turns(chats[1]) == ["hola, soy Ana", "¡Hola Ana!", "me interesan neveras"]

    reset = admin.ok("POST", path_of(first.conversation_id, "reset"), body={})
    last_id = db.execute("SELECT max(id) AS id FROM messages").fetchone()["id"]
    assert reset["historyStartsAfterMessageId"] == last_id and reset["contextResetAt"]
    fresh = whatsapp("hola")
    deliver(fresh)
    chats = [r for r in openai_replies.requests if r.kind == "chat"]
    assert _user_turns(chats[-1]) == ["hola"]  # nothing from before the reset
    assert len(admin.ok("GET", path_of(first.conversation_id))["messages"]) == 6  # the log keeps everything
    assert admin.call("POST", path_of("wa:nobody", "reset"), body={}).status == 404


def test_customer_status_and_reset_cover_each_of_their_conversations(admin, db):
    customer = "584125550199"
    deliver(whatsapp("hello, do you sell fridges?", sender=customer))
    deliver(whatsapp("quiero hablar con un asesor", sender="584125550100"))
    status = admin.ok("GET", f"/admin/customers/{customer}/status")
    assert status["customerId"] == customer and status["language"] == "en"
    assert status["lastMessage"]["direction"] == "outbound" and status["lastMessage"]["actor"] == "bot"
    assert status["pausedUntil"] is None and status["openEscalations"] == []
    assert [c["channel"] for c in status["conversations"]] == ["whatsapp"]

    other = admin.ok("GET", "/admin/customers/584125550100/status")
    assert other["language"] == "es" and other["pausedUntil"] is not None
    [escalation] = other["openEscalations"]
    assert escalation["source"] == "customer_request" and escalation["conversationId"].endswith("584125550100")

    reset = admin.ok("POST", f"/admin/customers/{customer}/reset", body={})
    assert [c["conversationId"] for c in reset["conversations"]] == [status["conversations"][0]["conversationId"]]
    assert admin.ok("GET", f"/admin/customers/{customer}/status")["conversations"][0]["contextResetAt"]
    assert admin.call("GET", "/admin/customers/nobody/status").status == 404
    assert admin.call("POST", "/admin/customers/nobody/reset", body={}).status == 404


# -- escalations -----------------------------------------------------------------------------------


def test_open_escalations_with_transcript_and_resolving_one(admin, db):
    asks = whatsapp("quiero hablar con un asesor", sender="111")
    deliver(whatsapp("hola", sender="111"))
    deliver(asks)
    for text in ("busco un zeppelin", "zeppelin inflable", "un dirigible zeppelin"):
        deliver(whatsapp(text, sender="222"))

    listed = admin.ok("GET", "/admin/escalations")
    first, second = listed["escalations"]
    assert (first["source"], first["reason"], first["status"]) == (
        "customer_request",
        "the customer asked for a person",
        "open",
    )
    assert [(m["actor"], m["direction"]) for m in first["transcript"]] == [
        ("customer", "inbound"),
        ("bot", "outbound"),
        ("customer", "inbound"),
        ("bot", "outbound"),
    ]
    assert first["transcript"][2]["text"] == asks.text and first["customerId"] == "111"
    assert second["source"] == "no_results" and len(second["transcript"]) == 6
    short = admin.ok("GET", "/admin/escalations", query={"transcriptMessages": "2", "limit": "1"})
    assert len(short["escalations"]) == 1 and len(short["escalations"][0]["transcript"]) == 2
    rest = admin.ok("GET", "/admin/escalations", query={"limit": "1", "cursor": short["nextCursor"]})
    assert [e["id"] for e in rest["escalations"]] == [second["id"]] and rest["nextCursor"] is None

    empty_note = admin.call("POST", f"/admin/escalations/{first['id']}/resolve", body={"note": "  "})
    assert empty_note.status == 422 and "note" in empty_note.json["error"]
    resolved = admin.ok(
        "POST", f"/admin/escalations/{first['id']}/resolve", body={"note": "Llamé al cliente", "resumeBot": True}
    )
    assert (resolved["status"], resolved["note"], resolved["botResumed"]) == ("resolved", "Llamé al cliente", True)
    again = admin.call("POST", f"/admin/escalations/{first['id']}/resolve", body={"note": "otra vez"})
    assert again.status == 409
    assert admin.call("POST", "/admin/escalations/999999/resolve", body={"note": "x"}).status == 404
    assert admin.call("POST", "/admin/escalations/abc/resolve", body={"note": "x"}).status == 422

    assert [e["id"] for e in admin.ok("GET", "/admin/escalations")["escalations"]] == [second["id"]]
    closed = admin.ok("GET", "/admin/escalations", query={"status": "resolved"})["escalations"]
    assert [(e["id"], e["note"]) for e in closed] == [(first["id"], "Llamé al cliente")]
    back = whatsapp("gracias, ¿tienen neveras?", sender="111")
    deliver(back)
    assert inbound_row(db, back.platform_message_id)["state"] == "replied"  # the bot answers again
    still = whatsapp("¿y globos?", sender="222")
    deliver(still)
    assert inbound_row(db, still.platform_message_id)["state_reason"] == "paused"
