"""The admin console's routes through the real admin handler: /admin/me, the inbox (states, filters,
ETag), a conversation's detail, a person's reply through every channel kind against the fake platform
servers on 127.0.0.1 (and the window refusals), the product lookup, a sync's failures, the seed-003
export alias in each format, and the page's own files. Conversations come from the real reply handler."""

from __future__ import annotations

import base64
import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from openpyxl import load_workbook

from mostrador.messaging.model import InboundMessage
from tests.fakes.platforms import platforms_fixture  # noqa: F401
from tests.integration import test_admin_support as support
from tests.integration.test_admin_support import ADMIN_TOKEN
from tests.integration.test_reply_support import (
    PHONE_ID,
    add_products,
    deliver,
    inbound_row,
    messenger,
    paused,
    product,
    replies,
    support_board,
    whatsapp,
)
from tests.lambda_events import LambdaContextStub, api_event

admin, reply_env = support.admin, support.reply_env


class Answer:
    def __init__(self, response: dict[str, Any]) -> None:
        self.status = response["statusCode"]
        raw = response.get("body") or ""
        self.raw = base64.b64decode(raw) if response.get("isBase64Encoded") else raw.encode()
        self.headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
        for name, values in (response.get("multiValueHeaders") or {}).items():
            self.headers.setdefault(name.lower(), values[-1])

    @property
    def json(self) -> Any:
        return json.loads(self.raw) if self.raw else None


def call(
    method: str,
    path: str,
    *,
    query: dict[str, Any] | None = None,
    body: Any = None,
    headers: dict[str, str] | None = None,
    token: str | None = ADMIN_TOKEN,
) -> Answer:
    """The admin handler as API Gateway invokes it (any path: /admin/*, /console, /api/v1/...)."""
    from functions.admin.handler import handler

    sent = {"Content-Type": "application/json", **(headers or {})}
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    event = api_event(
        method,
        path,
        body=None if body is None else json.dumps(body),
        headers=sent,
        query={k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in query.items()} if query else None,
    )
    return Answer(handler(event, LambdaContextStub()))


def ok(method: str, path: str, **kw: Any) -> Any:
    answer = call(method, path, **kw)
    assert answer.status == 200, (answer.status, answer.raw[:500])
    return answer.json


def reply_path(conversation_id: str) -> str:
    return f"/admin/conversations/{quote(conversation_id, safe='')}/reply"


def detail_path(conversation_id: str) -> str:
    return f"/admin/console/conversations/{quote(conversation_id, safe='')}"


def instagram(text: str, *, customer: str = "igsid-5") -> InboundMessage:
    return InboundMessage(
        tenant_id="default",
        channel="instagram",
        conversation_id=f"ig:IGACC:{customer}",
        sender_id=customer,
        sender_role="customer",
        text=text,
        platform_message_id=f"ig.in.{datetime.now(UTC).timestamp()}.{text[:8]}",
        timestamp=datetime.now(UTC),
        metadata={"page_id": "IGACC"},
    )


def webchat(text: str, conversation: str = "c0ffee00c0ffee00c0ffee01", *, at: datetime | None = None):
    return InboundMessage(
        tenant_id="default",
        channel="webchat",
        conversation_id=f"webchat:{conversation}",
        sender_id=conversation,
        sender_role="customer",
        text=text,
        platform_message_id=f"webchat:{conversation}:{datetime.now(UTC).timestamp()}",
        timestamp=at or datetime.now(UTC),
    )


def agent_rows(db, conversation_id: str) -> list[dict[str, Any]]:
    return [r for r in replies(db, conversation_id) if r["actor"] == "agent"]


@pytest.fixture
def roles(admin) -> dict[str, str]:
    """Tokens of the default tenant made through the API, as a person gets them: an agent's and a viewer's."""
    return {
        role: ok("POST", "/admin/tokens", body={"name": name, "role": role})["secret"]
        for role, name in (("agent", "ana"), ("viewer", "victor"))
    }


# -- who is signed in --------------------------------------------------------------------------------------


def test_me_names_the_principal_its_role_and_permissions(admin, roles):
    me = ok("GET", "/admin/me")
    assert me["subject"] == "admin" and me["role"] == "operator" and me["tenant"] == "default"
    assert {"read_conversations", "steer_conversations", "reply_to_customers", "view_analytics", "export"} <= set(
        me["permissions"]
    )
    assert "view_customer_contact" in me["permissions"]
    agent = ok("GET", "/admin/me", token=roles["agent"])
    assert agent["subject"] == "ana" and agent["role"] == "agent" and agent["tenant"] == "default"
    assert set(agent["permissions"]) == {
        "read_conversations",
        "steer_conversations",
        "reply_to_customers",
        "review_suggestions",
        "view_analytics",
    }
    assert call("GET", "/admin/me", token="wrong").status == 401
    assert call("GET", "/admin/me", token=None).status == 401


def test_what_a_role_may_not_do_is_refused_by_the_api_not_only_hidden(admin, db, roles):
    deliver(whatsapp("hola"))
    export = call(
        "GET",
        "/api/v1/export/conversations",
        query={"start_date": "2026-01-01", "end_date": "2026-01-02"},
        token=roles["agent"],
    )
    assert export.status == 403 and export.json["missingPermission"] == "export", export.raw
    assert call("GET", "/admin/console/syncs/s1/failures", token=roles["viewer"]).status == 200
    refused = call("POST", reply_path(f"wa:{PHONE_ID}:584125550101"), body={"text": "Hola"}, token=roles["viewer"])
    assert refused.status == 403 and refused.json["missingPermission"] == "reply_to_customers"
    [row] = ok("GET", "/admin/console/inbox", token=roles["agent"])["conversations"]
    sent = call("POST", reply_path(row["conversationId"]), body={"text": "Hola"}, token=roles["agent"])
    assert sent.status == 200 and sent.json["message"]["sentBy"] == "ana"


# -- customer numbers: only for view_customer_contact --------------------------------------------------------


def test_viewers_and_agents_get_no_customer_number_and_act_on_conversations_by_handle(admin, db, roles, reply_env):
    """A WhatsApp conversation id holds the customer's phone number: the API itself keeps it (and the
    customer id) from whoever lacks view_customer_contact, in every JSON answer; they address
    conversations by the handle they were given instead."""
    sender = "584140009002"
    conversation_id = f"wa:{PHONE_ID}:{sender}"
    deliver(whatsapp("quiero hablar con una persona", sender=sender))  # escalated
    [escalation] = ok("GET", "/admin/escalations")["escalations"]
    ok("POST", f"/admin/escalations/{escalation['id']}/resolve", body={"note": "La llamamos."})  # a suggestion
    deliver(whatsapp("quiero hablar con una persona otra vez", sender=sender))  # open again
    [full] = ok("GET", "/admin/console/inbox")["conversations"]
    assert (full["conversationId"], full["customerId"]) == (conversation_id, sender)  # the operator sees them
    today = str(datetime.now(UTC).date())

    handles = set()
    for role in ("viewer", "agent"):
        token = roles[role]
        [row] = ok("GET", "/admin/console/inbox", token=token)["conversations"]
        handle = row["conversationId"]
        assert handle.startswith("h.") and row["customerId"] == "••••9002", row
        handles.add(handle)
        answers = {
            "inbox": row,
            "conversations": ok("GET", "/admin/conversations", token=token),
            "detail": ok("GET", detail_path(handle), token=token),
            "messages": ok("GET", f"/admin/conversations/{handle}", token=token),
            "escalations": ok("GET", "/admin/escalations", query={"status": "all"}, token=token),
            "suggestions": ok("GET", "/admin/knowledge/suggestions", token=token),
            "analytics": ok("GET", "/admin/analytics", query={"since": today, "until": today}, token=token),
        }
        for name, answer in answers.items():
            shown = json.dumps(answer, ensure_ascii=False)
            assert sender not in shown and conversation_id not in shown, (role, name, shown[:400])
        assert answers["detail"]["conversation"]["conversationId"] == handle
        assert {e["conversationId"] for e in answers["escalations"]["escalations"]} == {handle}
        assert {e["customerId"] for e in answers["escalations"]["escalations"]} == {"••••9002"}
        [suggestion] = answers["suggestions"]["suggestions"]
        assert suggestion["conversationId"] == handle and suggestion["escalation"]["customerId"] == "••••9002"
        # The handle stands for the conversation only in this tenant, and only as given.
        forged = handle[:-3] + ("AAA" if not handle.endswith("AAA") else "BBB")
        refused = call("GET", detail_path(forged), token=token)
        assert refused.status == 404 and sender not in refused.raw.decode(), refused.raw
    assert len(handles) == 1  # the same conversation, the same handle: the page can compare and keep it
    [handle] = handles

    # An agent acts by handle: the reply reaches the customer's own number.
    agent = roles["agent"]
    before = len(reply_env.meta.sent())
    taken = ok("POST", f"/admin/conversations/{handle}/takeover", body={"minutes": 30}, token=agent)
    assert taken["conversationId"] == handle and taken["paused"]["setBy"] == "ana"
    answer = ok("POST", reply_path(handle), body={"text": "Hola, soy Ana"}, token=agent)
    assert sender not in json.dumps(answer) and answer["conversation"]["conversationId"] == handle
    [sent] = reply_env.meta.sent()[before:]
    assert sent.json["to"] == sender and sent.json["text"]["body"] == "Hola, soy Ana"
    resumed = ok("POST", f"/admin/conversations/{handle}/resume", body={}, token=agent)
    assert resumed["wasPaused"] is True and resumed["conversation"]["conversationId"] == handle
    assert ok("POST", f"/admin/conversations/{handle}/reset", body={}, token=agent)
    # The audit log (owners and operators read it) names the conversation itself.
    audited = ok("GET", "/admin/audit", query={"actor": "ana"})["entries"]
    assert {
        e["targetId"] for e in audited if e["action"] in ("take_over", "resume", "reset_conversation", "reply")
    } == {conversation_id}
    # The operator may use a handle too, and gets the conversation id back.
    assert ok("GET", detail_path(handle))["conversation"]["conversationId"] == conversation_id


def test_a_masked_role_cannot_find_whose_conversation_it_is_by_typing_a_phone_number_or_psid(admin, db, roles):
    """Issue 12: a viewer or agent sees customers masked, so no search, filter or path of the API may match a
    whole phone number or PSID it typed; what it is shown (the last 4 characters) and message text still
    find conversations."""
    sender, psid = "584140009002", "psid-4455"
    conversation_id = f"wa:{PHONE_ID}:{sender}"
    deliver(whatsapp("hola, busco una nevera", sender=sender))
    deliver(whatsapp("hola", sender="584140007777"))
    deliver(messenger("hola por messenger", customer=psid))

    def found(q: str, token: str = ADMIN_TOKEN) -> list[dict[str, Any]]:
        return ok("GET", "/admin/console/inbox", query={"q": q}, token=token)["conversations"]

    # Those who may see customer ids find them by any part of them, as before.
    assert [c["conversationId"] for c in found(sender)] == [conversation_id]
    assert [c["conversationId"] for c in found(psid)] == [f"fb:PAGE:{psid}"]
    by_customer = ok("GET", "/admin/conversations", query={"customer": sender})["conversations"]
    assert [c["customerId"] for c in by_customer] == [sender]

    for role in ("viewer", "agent"):
        token = roles[role]
        for typed in (sender, "+58 414-000-9002", "0009002", psid, PHONE_ID, conversation_id, "fb:PAGE"):
            assert found(typed, token) == [], (role, typed)
        # What the role is shown, and what customers wrote, still find the conversation.
        for shown in ("9002", "••••9002", "nevera"):
            [row] = found(shown, token)
            assert row["customerId"] == "••••9002" and row["conversationId"].startswith("h."), (role, shown)
        assert [c["customerId"] for c in found("4455", token)] == ["••••4455"]

        # A customer id as a filter or in a path: refused, saying what is missing, before anything is looked up.
        for path, query in (
            ("/admin/conversations", {"customer": sender}),
            ("/admin/conversations", {"customer": "584149999999"}),
            (f"/admin/customers/{sender}/status", None),
            ("/admin/customers/584149999999/status", None),
        ):
            refused = call("GET", path, query=query, token=token)
            assert refused.status == 403 and refused.json["missingPermission"] == "view_customer_contact", refused.raw
            assert f"'{role}'" in refused.json["error"] and sender not in refused.raw.decode()
        # A conversation id typed in a path: the same refusal whether that person wrote or not.
        answers = set()
        for typed_id in (conversation_id, f"wa:{PHONE_ID}:584149999999"):
            for path in (detail_path(typed_id), f"/admin/conversations/{quote(typed_id, safe='')}"):
                refused = call("GET", path, token=token)
                assert refused.status == 403 and refused.json["missingPermission"] == "view_customer_contact"
                answers.add(refused.raw.decode().replace(quote(typed_id, safe=""), "").replace(typed_id, ""))
            taken = call("POST", f"/admin/conversations/{quote(typed_id, safe='')}/takeover", body={}, token=token)
            assert taken.status == 403
        assert len(answers) == 2  # one per route, the same for a customer who wrote and one who did not
        assert "handle" in refused.json["error"]
    refused = call("POST", f"/admin/customers/{sender}/reset", body={}, token=roles["agent"])
    assert refused.status == 403 and refused.json["missingPermission"] == "view_customer_contact"
    assert paused(db, conversation_id) is None
    # The export (every customer's messages and ids) stays theirs who may see customer ids.
    for role in ("viewer", "agent"):
        export = call(
            "GET",
            "/admin/export",
            query={"since": "2026-01-01", "until": "2026-12-31", "customer": sender},
            token=roles[role],
        )
        assert export.status == 403 and export.json["missingPermission"] == "export"


def test_a_masked_roles_list_cursors_are_sealed_and_crafted_ones_refused(admin, db, roles):
    """A conversation list's cursor is the last row's (activity, conversation id): given plain to a viewer it
    would show a phone number, and a crafted one would probe ids through the keyset order."""
    from mostrador.operations.paging import encode_cursor

    senders = ["584140001001", "584140001002", "584140001003"]
    for sender in senders:
        deliver(whatsapp("hola", sender=sender))
    everyone = {c["conversationId"] for c in ok("GET", "/admin/console/inbox")["conversations"]}
    plain = ok("GET", "/admin/conversations", query={"limit": 1})["nextCursor"]
    for role in ("viewer", "agent"):
        token = roles[role]
        for path, key in (("/admin/conversations", "conversations"), ("/admin/console/inbox", "conversations")):
            seen, cursor, pages = [], None, 0
            while True:
                query = {"limit": 1, **({"cursor": cursor} if cursor else {})}
                page = ok("GET", path, query=query, token=token)
                seen += [c["conversationId"] for c in page[key]]
                cursor, pages = page["nextCursor"], pages + 1
                if cursor is None:
                    break
                assert cursor.startswith("c."), cursor
                opened = base64.urlsafe_b64decode(cursor[2:] + "=" * (-len(cursor[2:]) % 4))
                assert not any(s.encode() in opened or s[-4:].encode() in opened for s in senders)
            assert pages == 3 and len(set(seen)) == 3 and all(h.startswith("h.") for h in seen), (role, path)
        latest = ok("GET", "/admin/console/inbox", query={"limit": 1})["conversations"][0]
        crafted = encode_cursor(datetime.fromisoformat(latest["lastActivityAt"]), f"wa:{PHONE_ID}:58414")
        for cursor in (crafted, plain):
            refused = call("GET", "/admin/conversations", query={"cursor": cursor}, token=token)
            assert refused.status == 400 and "cursor" in refused.json["error"], refused.raw
    assert len(everyone) == 3


# -- inbox -------------------------------------------------------------------------------------------------


def test_the_inbox_gives_each_conversation_its_state_and_filters_by_channel_state_and_text(admin, db):
    deliver(whatsapp("Hola, busco una NEVERA grande (pedido-7731)", sender="584140000001"))  # answered: bot
    deliver(whatsapp("quiero hablar con una persona", sender="584140000002"))  # escalated
    deliver(messenger("hola por messenger"))
    taken = "fb:PAGE:psid-9"
    ok("POST", f"/admin/conversations/{taken}/takeover", body={"untilResumed": True})  # paused
    deliver(whatsapp("hola", sender="584140000003"))
    answered = f"wa:{PHONE_ID}:584140000003"
    ok("POST", reply_path(answered), body={"text": "Te atiendo yo"})  # a person answered: human

    listed = ok("GET", "/admin/console/inbox")["conversations"]
    states = {c["conversationId"]: c["state"] for c in listed}
    assert states == {
        f"wa:{PHONE_ID}:584140000001": "bot",
        f"wa:{PHONE_ID}:584140000002": "escalated",
        taken: "paused",
        answered: "human",
    }
    assert listed[0]["conversationId"] == answered  # newest activity first
    assert listed[0]["lastMessage"]["actor"] == "agent"

    def ids(**query: Any) -> set[str]:
        return {c["conversationId"] for c in ok("GET", "/admin/console/inbox", query=query)["conversations"]}

    assert ids(channel="messenger") == {taken}
    assert ids(state="escalated") == {f"wa:{PHONE_ID}:584140000002"}
    assert ids(state="human", channel="whatsapp") == {answered}
    assert ids(q="nevéra") == {f"wa:{PHONE_ID}:584140000001"}  # any message, case and accents ignored
    assert ids(q="0000002") == {f"wa:{PHONE_ID}:584140000002"}  # the customer id
    assert ids(q="nada parecido") == set()
    assert ids(q="7731") == ids(q="pedido-7731") == {f"wa:{PHONE_ID}:584140000001"}  # a code with a hyphen
    assert ids(q="busco & | !( NEV") == {f"wa:{PHONE_ID}:584140000001"}  # typed syntax is only words
    bad = call("GET", "/admin/console/inbox", query={"state": "sleeping"})
    assert bad.status == 422 and "state" in bad.json["error"]


def test_the_inbox_answers_304_until_something_changes(admin, db):
    deliver(whatsapp("hola", sender="584140000010"))
    first = call("GET", "/admin/console/inbox")
    etag = first.headers["etag"]
    again = call("GET", "/admin/console/inbox", headers={"If-None-Match": etag})
    assert again.status == 304 and again.raw == b"" and again.headers["etag"] == etag
    deliver(whatsapp("¿siguen ahí?", sender="584140000011"))
    changed = call("GET", "/admin/console/inbox", headers={"If-None-Match": etag})
    assert changed.status == 200 and changed.headers["etag"] != etag
    assert changed.json["conversations"][0]["customerId"] == "584140000011"


# -- a conversation ----------------------------------------------------------------------------------------


def test_the_detail_shows_tool_calls_cited_products_tokens_and_the_reply_window(admin, db):
    add_products(db, product("NEV-1", "Nevera Samsung RT38", 899, 3), product("TV-1", "Televisor LG 55", 650, 2))
    message = whatsapp("¿Tienen neveras Samsung?")
    deliver(message)
    detail = ok("GET", detail_path(message.conversation_id))
    assert detail["conversation"]["state"] == "bot" and detail["earlierMessages"] is False
    customer, bot = detail["messages"]
    assert customer["actor"] == "customer" and customer["text"] == "¿Tienen neveras Samsung?"
    assert bot["actor"] == "bot" and bot["status"] == "sent" and bot["latencyMs"] is not None
    assert bot["model"] and "tokensIn" in bot and bot["sentBy"] is None
    [search] = [c for c in bot["toolCalls"] if c["tool"] == "search_local_products"]
    assert search["resultCount"] >= 1 and search["arguments"]["query"]
    assert "NEV-1" in [p["itemCode"] for p in bot["citedProducts"]]
    window = detail["window"]
    last = datetime.fromisoformat(window["lastCustomerMessageAt"])
    assert window["applies"] and window["open"] and window["tag"] is None
    assert datetime.fromisoformat(window["closesAt"]) == last + timedelta(hours=24)
    assert call("GET", detail_path("wa:nobody:here")).status == 404
    etag = call("GET", detail_path(message.conversation_id)).headers["etag"]
    assert call("GET", detail_path(message.conversation_id), headers={"If-None-Match": etag}).status == 304


# -- replying as a person ----------------------------------------------------------------------------------


def test_a_whatsapp_reply_goes_to_the_customer_is_stored_as_agent_and_pauses_the_bot(admin, db, reply_env):
    message = whatsapp("hola")
    deliver(message)
    before = len(reply_env.meta.sent())
    answer = ok("POST", reply_path(message.conversation_id), body={"text": "Hola, soy Ana. ¿Te ayudo?"})

    sent = reply_env.meta.sent()[before:]
    assert len(sent) == 1 and sent[0].path.endswith(f"/{PHONE_ID}/messages")
    assert sent[0].json["to"] == "584125550101" and sent[0].json["text"]["body"] == "Hola, soy Ana. ¿Te ayudo?"
    assert "context" not in sent[0].json
    [row] = agent_rows(db, message.conversation_id)
    assert (row["direction"], row["actor"], row["sender_id"], row["status"]) == ("outbound", "agent", "admin", "sent")
    assert row["platform_message_id"].startswith("wamid.FAKE")
    assert answer["message"]["id"] == row["id"] and answer["message"]["actor"] == "agent"
    assert answer["conversation"]["paused"]["reason"] == "agent_reply"
    pause = paused(db, message.conversation_id)
    assert pause is not None and pause["set_by"] == "admin"
    audit = db.execute("SELECT action, actor, detail FROM operator_actions WHERE action = 'reply'").fetchone()
    assert audit["actor"] == "admin" and audit["detail"]["messageId"] == row["id"]

    later = whatsapp("¿y el precio?")
    deliver(later)
    assert inbound_row(db, later.platform_message_id)["state_reason"] == "paused"  # the bot stays quiet
    assert len(reply_env.meta.sent()) == before + 1


def test_messenger_and_instagram_replies_go_through_the_send_api(admin, db, reply_env):
    for inbound, recipient in ((messenger("hola"), "psid-9"), (instagram("hola"), "igsid-5")):
        deliver(inbound)
        before = len(reply_env.meta.sent())
        ok("POST", reply_path(inbound.conversation_id), body={"text": f"Respuesta para {recipient}"})
        [sent] = reply_env.meta.sent()[before:]
        assert sent.path.endswith("/me/messages")
        assert sent.json == {
            "recipient": {"id": recipient},
            "messaging_type": "RESPONSE",
            "message": {"text": f"Respuesta para {recipient}"},
        }
        [row] = agent_rows(db, inbound.conversation_id)
        assert row["status"] == "sent" and row["platform_message_id"].startswith("m_FAKE")


def test_support_board_replies_take_the_route_of_the_source_it_relays(admin, db, reply_env):
    board = reply_env.support_board
    board.add_user("77", phone="+58 412-555-0177")
    board.add_conversation("900", user_id="77", source="wa")
    board.add_user("78", **{"facebook-id": "PSID-78"})
    board.add_conversation("901", user_id="78", source="fb", extra="PAGE-1")
    for conversation, customer in (("900", "77"), ("901", "78")):
        deliver(support_board("hola", customer, conversation=conversation, customer=customer))

    before = len(reply_env.meta.sent())
    ok("POST", reply_path("sb:900"), body={"text": "Por WhatsApp"})
    [direct] = reply_env.meta.sent()[before:]
    assert direct.json["to"] == "584125550177" and direct.json["text"]["body"] == "Por WhatsApp"
    ok("POST", reply_path("sb:901"), body={"text": "Por Messenger"})
    [relayed] = board.calls("messenger-send-message")[-1:]
    assert (relayed["psid"], relayed["facebook_page_id"], relayed["message"]) == ("PSID-78", "PAGE-1", "Por Messenger")
    copies = [c["message"] for c in board.calls("send-message")]
    assert "Por WhatsApp" in copies and "Por Messenger" in copies  # agents see it in Support Board too
    assert [r["status"] for r in agent_rows(db, "sb:900") + agent_rows(db, "sb:901")] == ["sent", "sent"]


def test_a_web_chat_reply_reaches_the_browser_as_the_agent(admin, db):
    from functions.webchat.handler import handler as webchat_handler

    message = webchat("hola, ¿hay alguien?")
    deliver(message)
    ok("POST", reply_path(message.conversation_id), body={"text": "Sí, aquí estoy"})
    event = api_event(
        "GET",
        "/webchat/messages",
        query={"conversationId": message.sender_id, "after": "0"},
        resource="/webchat/messages",
    )
    shown = json.loads(webchat_handler(event, LambdaContextStub())["body"])["messages"]
    assert [(m["from"], m["text"]) for m in shown][-1] == ("agent", "Sí, aquí estoy")


# -- the window --------------------------------------------------------------------------------------------


def test_a_closed_window_refuses_with_the_reason_and_nothing_is_sent_or_stored(admin, db, reply_env):
    old = datetime.now(UTC) - timedelta(hours=25)
    message = whatsapp("hola", timestamp=old)
    deliver(message)  # outside the window already: the bot does not answer either
    before = len(reply_env.meta.sent())
    answer = call("POST", reply_path(message.conversation_id), body={"text": "¿Sigues ahí?"})
    assert answer.status == 409
    assert "24 hours" in answer.json["error"] and "template" in answer.json["error"]
    window = answer.json["window"]
    assert (window["applies"], window["open"], window["reason"]) == (True, False, "closed")
    assert datetime.fromisoformat(window["closesAt"]) < datetime.now(UTC)
    assert len(reply_env.meta.sent()) == before
    assert agent_rows(db, message.conversation_id) == [] and paused(db, message.conversation_id) is None
    detail = ok("GET", detail_path(message.conversation_id))
    assert detail["window"]["open"] is False and detail["window"]["reason"] == "closed"


def test_support_board_relaying_whatsapp_keeps_the_24_hour_window(admin, db, reply_env):
    reply_env.support_board.add_user("79", phone="+58 412 555 0179")
    reply_env.support_board.add_conversation("902", user_id="79", source="wa")
    inbound = support_board("hola", "79", conversation="902", customer="79")
    deliver(inbound.model_copy(update={"timestamp": datetime.now(UTC) - timedelta(hours=30)}))
    answer = call("POST", reply_path("sb:902"), body={"text": "hola"})
    assert answer.status == 409 and answer.json["window"]["reason"] == "closed"


def test_messenger_after_24_hours_sends_with_the_human_agent_tag_and_refuses_after_7_days(admin, db, reply_env):
    three_days = messenger("hola", customer="psid-3d").model_copy(
        update={"timestamp": datetime.now(UTC) - timedelta(days=3)}
    )
    deliver(three_days)
    before = len(reply_env.meta.sent())
    answer = ok("POST", reply_path(three_days.conversation_id), body={"text": "Te escribe una persona"})
    [sent] = reply_env.meta.sent()[before:]
    assert sent.json["messaging_type"] == "MESSAGE_TAG" and sent.json["tag"] == "HUMAN_AGENT"
    assert answer["window"]["tag"] == "HUMAN_AGENT" and answer["window"]["reason"] == "human_agent_tag"

    eight_days = messenger("hola", customer="psid-8d").model_copy(
        update={"timestamp": datetime.now(UTC) - timedelta(days=8)}
    )
    deliver(eight_days)
    refused = call("POST", reply_path(eight_days.conversation_id), body={"text": "hola"})
    assert refused.status == 409 and refused.json["window"]["reason"] == "closed_human_agent"
    assert "7 days" in refused.json["error"]
    assert len(reply_env.meta.sent()) == before + 1


def test_web_chat_has_no_window(admin, db):
    message = webchat("hola", "c0ffee00c0ffee00c0ffee02", at=datetime.now(UTC) - timedelta(days=3))
    deliver(message)
    answer = ok("POST", reply_path(message.conversation_id), body={"text": "Hola de nuevo"})
    assert answer["window"]["applies"] is False and answer["window"]["open"] is True


# -- failures and bad input ---------------------------------------------------------------------------------


def test_a_platform_refusal_is_stored_as_failed_and_answered_with_its_words(admin, db, reply_env):
    message = whatsapp("hola")
    deliver(message)
    reply_env.meta.fail_next(code=131047)
    refused = call("POST", reply_path(message.conversation_id), body={"text": "primer intento"})
    assert refused.status == 502 and refused.json["code"] == "131047" and refused.json["transient"] is False
    reply_env.meta.fail_next(http_status=503)
    busy = call("POST", reply_path(message.conversation_id), body={"text": "segundo intento"})
    assert busy.status == 503 and busy.json["transient"] is True
    rows = agent_rows(db, message.conversation_id)
    assert [(r["text"], r["status"]) for r in rows] == [("primer intento", "failed"), ("segundo intento", "failed")]
    assert rows[0]["error_code"] == "131047" and refused.json["messageId"] == rows[0]["id"]
    detail = ok("GET", detail_path(message.conversation_id))
    failed = [m for m in detail["messages"] if m["actor"] == "agent"]
    assert failed[0]["error"]["code"] == "131047"


def test_bad_replies_get_a_4xx_saying_what_to_fix(admin, db):
    message = whatsapp("hola")
    deliver(message)
    path = reply_path(message.conversation_id)
    for body, fragment in (({}, "text"), ({"text": "   "}, "text"), ({"text": "x" * 4097}, "text")):
        answer = call("POST", path, body=body)
        assert answer.status == 422 and fragment in answer.json["error"], answer.raw
    assert call("POST", reply_path("wa:nobody:here"), body={"text": "hola"}).status == 404
    nul = call("POST", path, body={"text": "hola\u0000"})
    assert nul.status == 400 and "NUL" in nul.json["error"]
    assert agent_rows(db, message.conversation_id) == []


def test_a_reply_from_the_console_counts_as_a_human_in_the_automation_rate(admin, db):
    automated, helped = whatsapp("hola", sender="584140000021"), whatsapp("hola", sender="584140000022")
    deliver(automated)
    deliver(helped)
    ok("POST", reply_path(helped.conversation_id), body={"text": "Te atiendo yo"})
    today = str(datetime.now(UTC).date())
    figures = ok("GET", "/admin/analytics", query={"since": today, "until": today})["conversations"]
    assert (figures["withCustomerMessages"], figures["automated"], figures["withHuman"]) == (2, 1, 1)


# -- catalog -----------------------------------------------------------------------------------------------


def test_the_product_lookup_is_the_bots_own_search(admin, db):
    from mostrador.conversations.toolbox import DatabaseCatalog

    add_products(
        db,
        product("NEV-1", "Nevera Samsung RT38", 899, 3),
        product("NEV-2", "Nevera Mabe 300", 500, 0),
        product("TV-1", "Televisor LG 55", 650, 2),
    )
    found = ok("GET", "/admin/console/products", query={"q": "nevera samsung"})
    bot = DatabaseCatalog(db, lambda: None).search(
        "default", "nevera samsung", brand=None, category=None, min_price=None, max_price=None,
        in_stock=False, branch=None, limit=10,
    )  # fmt: skip
    assert [p["item_code"] for p in found["products"]] == [card["item_code"] for card in bot]
    assert found["products"][0]["item_code"] == "NEV-1" and found["products"][0]["rank"] == 1
    # The search scores every product it finds (catalog/search.py: relevance 0..1, best first).
    assert found["scoreField"] == "relevance"
    scores = [p["score"] for p in found["products"]]
    assert scores == [card["relevance"] for card in bot] and all(0 < score <= 1 for score in scores)
    assert scores == sorted(scores, reverse=True)
    in_stock = ok("GET", "/admin/console/products", query={"q": "nevera", "inStock": True})
    assert "NEV-2" not in [p["item_code"] for p in in_stock["products"]]
    assert call("GET", "/admin/console/products").status == 422


def test_a_syncs_failed_items_are_listed_with_their_error(admin, db, pipeline):
    from tests.integration.catalog_support import product as catalog_item

    # The database refuses this one product (a trigger): a per-item failure that validation did not foresee.
    db.execute(
        "CREATE OR REPLACE FUNCTION console_test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$"
        " BEGIN IF NEW.item_code = 'BAD' THEN RAISE EXCEPTION 'refused for this test' USING ERRCODE = 'data_exception';"
        " END IF; RETURN NEW; END $$"
    )
    db.execute(
        "CREATE OR REPLACE TRIGGER console_test_refuse BEFORE INSERT OR UPDATE ON products"
        " FOR EACH ROW EXECUTE FUNCTION console_test_refuse()"
    )
    try:
        pipeline.push({"products": [catalog_item("OK1"), catalog_item("BAD")], "syncId": "with-failure"})
        pipeline.enrich_once()
    finally:
        db.execute("DROP TRIGGER IF EXISTS console_test_refuse ON products")
        db.execute("DROP FUNCTION IF EXISTS console_test_refuse()")
    failures = ok("GET", "/admin/console/syncs/with-failure/failures")
    [failure] = failures["failures"]
    assert failure["itemCode"] == "BAD" and failure["warehouse"] == "ALMACEN CARACAS"
    assert failure["error"] and failure["attempts"] >= 1
    assert ok("GET", "/admin/console/syncs/no-such-sync/failures")["failures"] == []


# -- the export route of seed 003 ---------------------------------------------------------------------------


def _export_days() -> tuple[str, str]:
    today = datetime.now(UTC).date()
    return str(today - timedelta(days=1)), str(today + timedelta(days=1))


@pytest.mark.parametrize(("alias", "native"), [("csv", "csv"), ("json", "json"), ("excel", "xlsx")])
def test_the_seed_003_export_route_answers_the_same_files_as_admin_export(admin, db, alias, native):
    deliver(whatsapp("¿Tienen café? Ñandú", sender="111"))
    deliver(whatsapp("=1+1", sender="222"))
    since, until = _export_days()
    seed = call("GET", "/api/v1/export/conversations", query={"start_date": since, "end_date": until, "format": alias})
    mine = call("GET", "/admin/export", query={"since": since, "until": until, "format": native})
    assert seed.status == mine.status == 200
    assert seed.headers["content-type"] == mine.headers["content-type"]
    assert seed.headers["content-disposition"] == mine.headers["content-disposition"]
    if native == "xlsx":
        assert seed.headers["content-type"].startswith("application/vnd.openxmlformats")

        def cells(raw: bytes) -> list[tuple]:
            return list(load_workbook(io.BytesIO(raw), read_only=True).active.iter_rows(values_only=True))

        assert cells(seed.raw) == cells(mine.raw) and len(cells(seed.raw)) == 5  # header + 4 messages
    else:
        assert seed.raw == mine.raw
    if native == "csv":
        assert len(list(csv.DictReader(io.StringIO(seed.raw.decode("utf-8-sig"))))) == 4


def test_the_seed_003_export_route_filters_by_user_pages_and_checks_its_input(admin, db):
    deliver(whatsapp("uno", sender="111"))
    deliver(whatsapp("dos", sender="222"))
    since, until = _export_days()
    query = {"start_date": since, "end_date": until, "format": "json"}
    only = ok("GET", "/api/v1/export/conversations", query={**query, "user_id": "222"})
    assert {row["customer_id"] for row in only["rows"]} == {"222"}
    # Seed 003's tooling writes phone numbers as people do (+country code, spaces, hyphens, parentheses);
    # WhatsApp's ids are the digits alone.
    deliver(whatsapp("tres", sender="584140009001"))
    for written in ("+584140009001", "+58 414-000-9001", "+58 (414) 000 9001", "584140009001"):
        rows = ok("GET", "/api/v1/export/conversations", query={**query, "user_id": written})["rows"]
        assert len(rows) == 2 and {row["customer_id"] for row in rows} == {"584140009001"}, written  # in and out
    assert ok("GET", "/api/v1/export/conversations", query={**query, "user_id": "+58 414-000-9999"})["rows"] == []
    first = call("GET", "/api/v1/export/conversations", query={**query, "limit": 1})
    cursor = first.headers["x-next-cursor"]
    second = ok("GET", "/api/v1/export/conversations", query={**query, "limit": 1, "cursor": cursor})
    assert second["rows"][0]["message_id"] > first.json["rows"][0]["message_id"]
    assert call("GET", "/api/v1/export/conversations", query=query, token=None).status == 401
    assert call("GET", "/api/v1/export/conversations", query=query, token="wrong").status == 401
    for bad, fragment in (
        ({**query, "format": "pdf"}, "format"),
        ({**query, "start_date": until, "end_date": since}, "start_date must not be after end_date"),
        ({"end_date": until}, "start_date"),
    ):
        answer = call("GET", "/api/v1/export/conversations", query=bad)
        assert answer.status == 422 and fragment in answer.json["error"], answer.raw


# -- the page ----------------------------------------------------------------------------------------------


def test_the_page_is_served_without_a_token_with_a_strict_content_policy(admin):
    page = call("GET", "/console", token=None)
    assert page.status == 200 and page.headers["content-type"].startswith("text/html")
    assert b'src="console/app.js"' in page.raw and b'type="module"' in page.raw
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    script = call("GET", "/console/app.js", token=None)
    assert script.status == 200 and script.headers["content-type"].startswith("text/javascript")
    assert call("GET", "/console/console.css", token=None).headers["content-type"].startswith("text/css")
    assert call("GET", "/console/app.js", token=None, headers={"If-None-Match": script.headers["etag"]}).status == 304
    for missing in ("/console/nothing.js", "/console/..%2Fhandler.py", "/console/console_routes.py"):
        assert call("GET", missing, token=None).status == 404, missing
    # A trailing slash (typed, bookmarked) leads to the page: its files are named relative to /console.
    folder = call("GET", "/console/", token=None)
    assert folder.status == 308 and folder.headers["location"] == "../console", (folder.status, folder.raw[:200])
    # Only the page is public: its data needs the token.
    assert call("GET", "/admin/console/inbox", token=None).status == 401
    assert call("POST", "/console", token=None).status == 401


def test_the_openapi_document_lists_the_console_routes_but_not_the_page(admin):
    document = json.loads(call("GET", "/admin/openapi.json", token=None).raw)
    operations = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    assert {
        ("GET", "/admin/me"),
        ("GET", "/admin/console/inbox"),
        ("GET", "/admin/console/conversations/{conversation_id}"),
        ("POST", "/admin/conversations/{conversation_id}/reply"),
        ("GET", "/admin/console/products"),
        ("GET", "/admin/console/syncs/{sync_id}/failures"),
        ("GET", "/api/v1/export/conversations"),
    } <= operations
    assert not any(path.startswith("/console") for _, path in operations)
