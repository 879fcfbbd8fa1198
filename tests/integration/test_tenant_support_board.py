"""A second tenant's own Support Board installation, end to end: its events (carrying its key) through the
real webhook handler, moto's FIFO reply queue, the real reply handler and database, a second fake Support
Board on 127.0.0.1 (its own URL, bot user, agents and API token) beside the deployment's, and the fake
Graph API. Conversations Support Board relays from WhatsApp (source "wa", seed 000's setup) are answered
on WhatsApp from the tenant's own number with its own token; the others through its Support Board."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fakes.platforms import FakeSupportBoard, platforms_fixture  # noqa: F401
from tests.integration import test_admin_support as support
from tests.integration.channel_pipeline import ChannelPipeline, channel_pipeline_fixture  # noqa: F401
from tests.integration.tenant_support import add_tenant, tenancy_fixture  # noqa: F401
from tests.integration.test_reply_support import inbound_row, paused
from tests.lambda_events import LambdaContextStub, api_event
from tests.unit.channels.payloads import support_board_event

admin, reply_env = support.admin, support.reply_env

BOT, AGENT, CUSTOMER, FB_CUSTOMER = "9", "11", "77", "78"


@pytest.fixture
def board() -> Iterator[FakeSupportBoard]:
    """Acme's own Support Board (the deployment's is reply_env.support_board)."""
    server = FakeSupportBoard(token="acme-sb-token")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def acme(admin, tenancy, channel_pipeline, reply_env, board) -> dict[str, Any]:
    reply_env.meta.other_tokens = {"acme-wa-token"}
    keys = add_tenant(
        admin,
        "acme",
        channels={"whatsapp": "1001", "messenger": "2001"},
        secrets={"WHATSAPP_TOKEN": "acme-wa-token", "SUPPORT_BOARD_API_TOKEN": "acme-sb-token"},
        supportBoardApiUrl=board.url,
        supportBoardDmBotUserId=BOT,
        supportBoardAgentIds=[AGENT],
    )
    board.add_user(CUSTOMER, phone="+58 412 555 0101")
    board.add_conversation("900", user_id=CUSTOMER, source="wa")
    board.add_user(FB_CUSTOMER, **{"facebook-id": "PSID-78"})
    board.add_conversation("901", user_id=FB_CUSTOMER, source="fb", extra="2001")
    return keys


_ids = iter(range(5000, 10**9))


def says(key: str, board: FakeSupportBoard, sender: str, text: str, *, conversation: str = "900") -> str:
    """`sender` writes in Support Board (stored there, as get-conversation will show it), which posts its
    webhook with the installation's key; the message's platform id."""
    details = board.conversations[conversation]["details"]
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    board.add_message(conversation, sender, text, stamp)
    message_id = str(next(_ids))
    event = support_board_event(
        key=key,
        user_id=sender,
        message_id=message_id,
        message=text,
        conversation_id=conversation,
        conversation_user_id=details["user_id"],
        conversation_source=details["source"],
    )
    from functions.webhook.handler import handler

    answer = handler(api_event("POST", "/webhooks/support-board", body=json.dumps(event)), LambdaContextStub())
    assert answer["statusCode"] == 200, answer
    return f"sb:{message_id}"


def test_a_second_tenants_support_board_is_answered_with_its_own_installation_and_number(
    acme, board, channel_pipeline: ChannelPipeline, reply_env, db
):
    key = acme["support_board"]

    # A conversation relayed from WhatsApp: answered on WhatsApp from acme's number with acme's token.
    first = says(key, board, CUSTOMER, "hola, ¿tienen neveras?")
    assert channel_pipeline.run_replies().failed == 0
    row = inbound_row(db, first)
    assert (row["tenant_id"], row["state"], row["actor"]) == ("acme", "replied", "customer")
    [sent] = reply_env.meta.sent()
    assert sent.path.endswith("/1001/messages") and sent.headers["authorization"] == "Bearer acme-wa-token"
    assert sent.json["to"] == "584125550101"
    [copy] = board.calls("send-message")  # the reply copied into acme's Support Board by acme's bot
    assert (copy["user_id"], copy["conversation_id"], copy["token"]) == (BOT, "900", "acme-sb-token")
    assert board.calls("get-conversation") and board.calls("get-user")
    assert reply_env.support_board.requests == []  # the deployment's installation is never asked

    # A conversation relayed from the Page: sent through acme's Support Board.
    page = says(key, board, FB_CUSTOMER, "¿hacen envíos?", conversation="901")
    assert channel_pipeline.run_replies().failed == 0
    assert inbound_row(db, page)["state"] == "replied"
    [relayed] = board.calls("messenger-send-message")
    assert (relayed["psid"], relayed["facebook_page_id"], relayed["token"]) == ("PSID-78", "2001", "acme-sb-token")

    # Support Board posts acme's bot copy back: recognised as the bot's echo, not a person.
    echo = says(key, board, BOT, copy["message"])
    channel_pipeline.run_replies()
    row = inbound_row(db, echo)
    assert (row["actor"], row["state_reason"]) == ("bot", "dm_bot_echo")
    assert paused(db, "sb:900") is None

    # Acme's agent answers: the bot steps aside for acme's pause, and the customer's next message waits.
    agent = says(key, board, AGENT, "Hola, soy Ana, te ayudo yo")
    channel_pipeline.run_replies()
    assert inbound_row(db, agent)["actor"] == "agent"
    pause = paused(db, "sb:900")
    assert (pause["tenant_id"], pause["reason"], pause["set_by"]) == ("acme", "human_agent", AGENT)
    later = says(key, board, CUSTOMER, "gracias Ana")
    channel_pipeline.run_replies()
    assert inbound_row(db, later)["state_reason"] == "paused"
    assert len(reply_env.meta.sent()) == 1
    assert channel_pipeline.dead_lettered() == 0


def test_a_tenant_with_several_numbers_replies_from_the_one_support_boards_conversation_is_on(
    acme, admin, board, channel_pipeline: ChannelPipeline, reply_env, db
):
    """Issue 11: Support Board keeps the phone_number_id a WhatsApp Cloud conversation arrived on as the
    conversation's `extra` (as the Page id for Messenger). With several numbers the reply goes from that one
    when the tenant claims it; a conversation naming none, or another's, gets nothing sent from a guess."""
    assert admin.call("POST", "/admin/tenants/acme/channels", body={"channel": "whatsapp", "id": "1009"}).status == 201
    key = acme["support_board"]

    # On the second number: answered from it, with acme's token, to the customer's phone.
    board.add_user("79", phone="+58 412 555 0202")
    board.add_conversation("902", user_id="79", source="wa", extra="1009")
    second = says(key, board, "79", "hola, ¿tienen neveras?", conversation="902")
    assert channel_pipeline.run_replies().failed == 0
    assert inbound_row(db, second)["state"] == "replied"
    [sent] = reply_env.meta.sent()
    assert sent.path.endswith("/1009/messages") and sent.headers["authorization"] == "Bearer acme-wa-token"
    assert sent.json["to"] == "584125550202"
    # On the first: from the first.
    board.conversations["900"]["details"]["extra"] = "1001"
    first = says(key, board, CUSTOMER, "hola")
    channel_pipeline.run_replies()
    assert inbound_row(db, first)["state"] == "replied"
    assert reply_env.meta.sent()[-1].path.endswith("/1001/messages")

    # Naming no number (an installation that keeps none) or one acme does not claim: failed, nothing sent.
    board.conversations["900"]["details"]["extra"] = ""
    unnamed = says(key, board, CUSTOMER, "¿siguen ahí?")
    board.add_user("80", phone="+58 412 555 0303")
    board.add_conversation("903", user_id="80", source="wa", extra="7777")
    foreign = says(key, board, "80", "hola", conversation="903")
    channel_pipeline.run_replies()
    assert inbound_row(db, unnamed)["state_reason"] == "send_failed:config"
    assert inbound_row(db, foreign)["state_reason"] == "send_failed:config"
    assert len(reply_env.meta.sent()) == 2


def _escalation_agents(admin, *agents: str) -> None:
    from tests.integration.tenant_support import forget_tenancy_caches

    admin.ok("PATCH", "/admin/tenants/acme", body={"escalationAgentIds": list(agents)})
    forget_tenancy_caches()


def test_an_escalated_conversation_is_assigned_to_an_escalation_agent_in_the_tenants_support_board(
    acme, admin, board, channel_pipeline: ChannelPipeline, reply_env, db
):
    """Support Board's documented `update-conversation-agent` (conversation_id, agent_id, message) on acme's
    own installation with acme's token; the escalation id picks the agent in turn."""
    _escalation_agents(admin, "31", "32")
    asked = says(acme["support_board"], board, FB_CUSTOMER, "quiero hablar con un asesor", conversation="901")
    assert channel_pipeline.run_replies().failed == 0

    [escalation] = db.execute("SELECT id, source FROM escalations WHERE tenant_id = 'acme'").fetchall()
    [assigned] = board.calls("update-conversation-agent")
    assert (assigned["conversation_id"], assigned["token"]) == ("901", "acme-sb-token")
    assert assigned["agent_id"] == ("31", "32")[escalation["id"] % 2]
    assert f"#{escalation['id']}" in assigned["message"] and "asked for a person" in assigned["message"]
    assert board.conversations["901"]["details"]["agent_id"] == assigned["agent_id"]
    assert inbound_row(db, asked)["state"] == "replied" and board.calls("messenger-send-message")
    assert reply_env.support_board.requests == []  # never the deployment's installation

    # The escalation is still open: the customer's next message assigns nobody again.
    says(acme["support_board"], board, FB_CUSTOMER, "¿hay alguien?", conversation="901")
    channel_pipeline.run_replies()
    assert len(board.calls("update-conversation-agent")) == 1


@pytest.mark.parametrize("failure", ["refused", "server_error"])
def test_a_failed_assignment_never_costs_the_customer_the_reply_and_is_logged_without_ids(
    failure, acme, admin, board, channel_pipeline: ChannelPipeline, reply_env, db, capsys, caplog
):
    _escalation_agents(admin, "31")
    if failure == "refused":
        board.answer_next("update-conversation-agent", {"success": False, "response": "invalid-token"})
    else:
        board.fail_next("update-conversation-agent", http_status=500)
    capsys.readouterr()
    asked = says(acme["support_board"], board, FB_CUSTOMER, "quiero hablar con un asesor", conversation="901")
    run = channel_pipeline.run_replies()

    assert run.failed == 0 and inbound_row(db, asked)["state"] == "replied"
    [handoff] = board.calls("messenger-send-message")
    assert handoff["psid"] == "PSID-78"
    assert board.conversations["901"]["details"].get("agent_id") is None
    [line] = [r for r in caplog.records if r.getMessage() == "escalation notice not delivered"]
    assert (line.tenant, line.recipient) == ("acme", "support_board")  # type: ignore[attr-defined]
    assert line.error == ("support_board:invalid-token" if failure == "refused" else "http_500")  # type: ignore[attr-defined]
    assert '"EscalationNoticesFailed":[1.0]' in capsys.readouterr().out.replace(" ", "")
    logged = json.dumps([r.__dict__ for r in caplog.records], default=str)
    for customer_id in ("PSID-78", "sb:901", f'"{FB_CUSTOMER}"'):
        assert customer_id not in logged
