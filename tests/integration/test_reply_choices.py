"""Choices as interactive messages and product photos (issue 13), end to end: the real reply handler
offers the products its search found as WhatsApp reply buttons or a list, Messenger quick replies or
numbered text; the customer's tap (parsed from a real webhook body) comes back with the item code and
is answered with that product's live details and photo. The fake Graph server refuses anything over
Meta's documented limits, as the real one does."""

from __future__ import annotations

import json

import pytest

from mostrador.conversations.notices import notice
from tests.fakes.platforms import platforms_fixture  # noqa: F401
from tests.integration import rich_support
from tests.integration import test_reply_support as support
from tests.integration.rich_support import fb_in, message_row, sb_in, wa_in, wa_text
from tests.integration.test_reply_support import add_products, deliver, product, replies

reply_env, no_burst = support.reply_env, rich_support.no_burst
pytestmark = pytest.mark.usefixtures("no_burst")

PHOTO = "https://cdn.tienda.example/fotos/nevera-rt38.jpg"


def _fridges(db, *, price: float = 499.0) -> None:
    add_products(
        db,
        product("NEV-RT38", "Nevera Samsung RT38 No Frost de dos puertas", price, 4, branch="Caracas",
                imageUrl=PHOTO, images=["https://cdn.tienda.example/fotos/nevera-rt38-b.jpg"]),
        product("NEV-LG2", "Nevera LG GT32 Inverter", 650.0, 0, branch="Valencia"),
        product("NEV-MAB", "Nevera Mabe RMA250 Blanca", 420.0, 3, branch="Maracay"),
    )  # fmt: skip


def _sent(reply_env) -> list[dict]:
    return [r.json for r in reply_env.meta.sent()]


def test_whatsapp_reply_buttons_round_trip_to_the_products_live_details_and_photo(reply_env, db):
    _fridges(db)
    question = wa_text("¿Tienen neveras?")
    assert deliver(question) == []
    [offer] = _sent(reply_env)
    assert offer["type"] == "interactive" and offer["interactive"]["type"] == "button"
    assert offer["context"] == {"message_id": question.platform_message_id}
    buttons = offer["interactive"]["action"]["buttons"]
    assert {b["reply"]["id"] for b in buttons} == {"product:NEV-MAB", "product:NEV-RT38", "product:NEV-LG2"}
    assert all(len(b["reply"]["title"]) <= 20 for b in buttons)
    body = offer["interactive"]["body"]["text"]
    assert "Nevera Samsung RT38" in body and len(body) <= 1024
    assert reply_env.meta.read_receipts() == []  # the offline model answers at once: nothing to show typing for
    [stored] = replies(db, question.conversation_id)
    assert stored["text"] == body
    assert {c["id"] for c in stored["choices"]["items"]} == {b["reply"]["id"] for b in buttons}

    # The price changes after the offer: the tap must answer with the live price.
    _fridges(db, price=459.0)
    [rt38] = [b for b in buttons if b["reply"]["id"] == "product:NEV-RT38"]
    tap = wa_in("interactive", {"type": "button_reply", "button_reply": rt38["reply"]})
    assert tap.metadata["reply_id"] == "product:NEV-RT38"
    assert deliver(tap) == []

    photo, details = _sent(reply_env)[1:]
    assert photo["type"] == "image" and photo["image"]["link"] == PHOTO  # WhatsApp image by link
    assert photo["image"]["caption"] == "Nevera Samsung RT38 No Frost de dos puertas"
    assert photo["context"] == {"message_id": tap.platform_message_id}
    text = details["text"]["body"]
    assert "459,00" in text and "499" not in text and "Caracas: 4" in text
    [call] = db.execute(
        "SELECT tool_name, arguments, round FROM tool_calls WHERE message_id = %s",
        (message_row(db, tap.platform_message_id)["id"],),
    ).fetchall()
    assert (call["tool_name"], call["arguments"], call["round"]) == (
        "get_live_product_details",
        {"item_code": "NEV-RT38"},
        0,
    )
    reply = replies(db, question.conversation_id)[-1]
    assert (reply["image_url"], reply["status"], len(reply["platform_message_ids"])) == (PHOTO, "sent", 2)


def test_whatsapp_list_round_trip_with_a_real_model(reply_env, db, llm_server, monkeypatch):
    from mostrador.config import reset_settings

    add_products(
        db,
        *(product(f"TV-{n}", f"Televisor Samsung Crystal UHD de {40 + n} pulgadas", 300.0 + n, n) for n in range(1, 7)),
    )
    monkeypatch.setenv("LLM_PROVIDER", "openai")
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.setenv("OPENAI_BASE_URL", llm_server.openai_base_url)
    monkeypatch.setenv("EMBEDDING_PROVIDER", "offline")
    reset_settings()
    llm_server.script_chat(
        [
            {
                "text": "",
                "tool_calls": [{"name": "search_local_products", "arguments": {"query": "televisor", "limit": 6}}],
            },
            "Tenemos varios televisores Samsung disponibles; elige uno para ver sus detalles.",
        ]
    )
    question = wa_text("¿qué televisores tienen?")
    assert deliver(question) == []
    [offer] = _sent(reply_env)
    # Read receipt + typing indicator while the real model wrote the reply, and before the reply.
    [receipt] = reply_env.meta.read_receipts()
    assert receipt.json["message_id"] == question.platform_message_id and receipt.json["typing_indicator"]
    posts = [r for r in reply_env.meta.requests if r.method == "POST"]
    assert posts.index(receipt) < posts.index(reply_env.meta.sent()[0])
    interactive = offer["interactive"]
    assert interactive["type"] == "list"
    assert interactive["action"]["button"] == notice("choices_button", "es")
    rows = interactive["action"]["sections"][0]["rows"]
    assert len(rows) == 6 and all(len(r["title"]) <= 24 and len(r["description"]) <= 72 for r in rows)
    assert len({r["title"] for r in rows}) == 6  # titles cut to 24 stay distinct
    for row in rows:  # each title keeps the size that tells it apart; its description the whole name
        size = 40 + int(row["id"].removeprefix("product:TV-"))
        assert row["title"] == f"Samsung {size} pulgadas"  # the brand (from the catalog) and the size
        assert row["description"].startswith(f"Televisor Samsung Crystal UHD de {size} pulgadas · USD ")

    picked = next(r for r in rows if r["id"] == "product:TV-4")
    tap = wa_in("interactive", {"type": "list_reply", "list_reply": picked})
    llm_server.script_chat(["El televisor de 44 pulgadas cuesta USD 304,00 y hay 4 en Caracas."])
    assert deliver(tap) == []
    # The model got the product's live details as a tool result, before answering.
    request = [r for r in llm_server.requests if r.kind == "chat"][-1]
    tool_turns = [m for m in request.body["messages"] if m["role"] == "tool"]
    assert json.loads(tool_turns[-1]["content"])["product"]["item_code"] == "TV-4"
    assert json.loads(tool_turns[-1]["content"])["product"]["price"] == 304.0
    assert _sent(reply_env)[-1]["text"]["body"].startswith("El televisor de 44 pulgadas")


def test_a_tapped_title_in_another_language_never_switches_the_conversations_language(reply_env, db):
    """A row's title is our catalog's words: "Nevera de dos puertas" would clearly be Spanish if the
    customer had typed it, yet the English conversation stays English."""
    add_products(
        db, product("NEV-2P", "Nevera de dos puertas", 520.0, 3), product("NEV-1P", "Nevera compacta", 300.0, 2)
    )
    question = wa_text("hi, do you have any fridges?")
    assert deliver(question) == []
    tap = wa_in(
        "interactive", {"type": "list_reply", "list_reply": {"id": "product:NEV-2P", "title": "Nevera de dos puertas"}}
    )
    assert tap.text == "Nevera de dos puertas"
    assert deliver(tap) == []
    conversation = db.execute("SELECT language FROM conversations WHERE conversation_id = %s", (tap.conversation_id,))
    assert conversation.fetchone()["language"] == "en"
    assert "Stock per branch" in reply_env.meta.sent_texts()[-1]
    assert message_row(db, tap.platform_message_id)["language"] == "en"


def test_messenger_quick_replies_round_trip_with_the_photo_as_an_attachment(reply_env, db):
    _fridges(db)
    assert deliver(fb_in(message={"text": "hi, do you have any nevera?"})) == []
    [offer] = _sent(reply_env)
    quick_replies = offer["message"]["quick_replies"]
    assert 2 <= len(quick_replies) <= 13 and all(len(q["title"]) <= 20 for q in quick_replies)
    assert offer["message"]["text"].startswith("I found these products")
    [rt38] = [q for q in quick_replies if q["payload"] == "product:NEV-RT38"]

    tap = fb_in(message={"text": rt38["title"], "quick_reply": {"payload": rt38["payload"]}})
    assert deliver(tap) == []
    photo, details = _sent(reply_env)[1:]
    assert photo["message"] == {"attachment": {"type": "image", "payload": {"url": PHOTO, "is_reusable": True}}}
    assert "499.00" in details["message"]["text"] and "quick_replies" not in details["message"]


def test_a_photo_link_messenger_cannot_fetch_is_left_out_and_the_details_still_go(reply_env, db, caplog):
    """Messenger fetches an attachment's URL during the send and refuses a dead one ((#100)): the
    customer who tapped still gets the product's details, and the reply is recorded sent, noting the photo."""
    from mostrador.operations.conversations import conversation_view
    from tests.integration.rich_support import CUSTOMER_PSID

    _fridges(db)
    reply_env.meta.unreachable_links.add(PHOTO)
    assert deliver(fb_in(message={"text": "hi, do you have any nevera?"})) == []
    tap = fb_in(message={"text": "Nevera Samsung", "quick_reply": {"payload": "product:NEV-RT38"}})
    reply_env.meta.fail_next(http_status=503, after=1)  # and the details' first attempt meets a 5xx
    caplog.clear()
    assert deliver(tap) == ["0"]  # retried by the queue...
    assert deliver(tap) == []  # ...which resumes with the details, never the photo again
    refused, failed_once, details = _sent(reply_env)[1:]
    assert refused["message"]["attachment"]["payload"]["url"] == PHOTO
    assert failed_once == details and "499.00" in details["message"]["text"]
    reply = replies(db, tap.conversation_id)[-1]
    assert (reply["status"], reply["error_code"], reply["image_url"]) == ("sent", "photo_failed:100", PHOTO)
    assert len(reply["platform_message_ids"]) == 1
    assert message_row(db, tap.platform_message_id)["state"] == "replied"
    [logged] = [r for r in caplog.records if r.getMessage().startswith("product photo refused")]
    assert logged.code == "100" and all(CUSTOMER_PSID not in str(r.__dict__) for r in caplog.records)
    from datetime import UTC, datetime

    view = conversation_view(db, "default", tap.conversation_id, cursor=None, limit=50, now=datetime.now(UTC))
    [shown] = [m for m in view["messages"] if m["id"] == reply["id"]]
    assert shown["error"]["code"] == "photo_failed:100" and shown["status"] == "sent"


def test_a_whatsapp_photo_whose_link_dies_after_the_send_fails_alone_and_the_details_stay_delivered(
    reply_env, db, caplog
):
    """WhatsApp accepts an image by link and fetches it afterwards: a dead link comes back as a `failed`
    status (Meta's webhook JSON, error 131053) naming the photo's message. Only the photo failed: the
    reply keeps its text's status, notes the photo, and nothing more is sent to the customer."""
    from datetime import UTC, datetime

    from mostrador.channels import whatsapp
    from mostrador.operations.conversations import conversation_view
    from tests.integration.channel_pipeline import fixture

    _fridges(db)
    assert deliver(wa_text("¿Tienen neveras?")) == []
    tap = wa_in("interactive", {"type": "button_reply", "button_reply": {"id": "product:NEV-RT38", "title": "RT38"}})
    assert deliver(tap) == []
    reply = replies(db, tap.conversation_id)[-1]
    photo_id, text_id = reply["platform_message_ids"]
    assert reply["image_message_id"] == photo_id and reply["status"] == "sent"
    sent = len(reply_env.meta.sent())

    body = fixture("whatsapp_statuses_photo_failed", {"PHOTO_WAMID": photo_id, "TEXT_WAMID": text_id})
    statuses = whatsapp.parse_delivery(body, "default").items
    assert [s.status.status for s in statuses] == ["delivered", "failed"]  # type: ignore[union-attr]
    caplog.clear()
    assert deliver(*statuses) == []  # type: ignore[arg-type]

    reply = replies(db, tap.conversation_id)[-1]
    assert (reply["status"], reply["error_code"]) == ("delivered", "photo_failed:131053")
    assert reply["error_title"] == "product photo not sent: Media upload error"
    assert message_row(db, tap.platform_message_id)["state"] == "replied"
    assert len(reply_env.meta.sent()) == sent  # no fallback text (docs/conversations.md)
    [logged] = [r for r in caplog.records if r.getMessage() == "product photo failed after it was sent"]
    assert logged.code == "131053" and all(tap.sender_id not in str(r.__dict__) for r in caplog.records)
    view = conversation_view(db, "default", tap.conversation_id, cursor=None, limit=50, now=datetime.now(UTC))
    [shown] = [m for m in view["messages"] if m["id"] == reply["id"]]
    assert shown["status"] == "delivered" and shown["imageUrl"] == PHOTO
    assert shown["error"] == {"code": "photo_failed:131053", "title": "product photo not sent: Media upload error"}

    # The text's own statuses still count: read, then (were it to fail) failed with its own error.
    assert deliver(support.status(text_id, "read", tap.conversation_id)) == []
    assert replies(db, tap.conversation_id)[-1]["status"] == "read"
    assert deliver(support.status(text_id, "failed", tap.conversation_id, error_code="131026")) == []
    reply = replies(db, tap.conversation_id)[-1]
    assert (reply["status"], reply["error_code"]) == ("failed", "131026")
    assert deliver(support.status(photo_id, "failed", tap.conversation_id, error_code="131053")) == []
    assert replies(db, tap.conversation_id)[-1]["error_code"] == "131026"  # a failed reply keeps its error


def test_a_messenger_postback_with_a_product_payload_is_a_pick_too(reply_env, db):
    _fridges(db)
    deliver(fb_in(message={"text": "hola"}))
    assert deliver(fb_in(postback={"title": "Nevera Mabe", "payload": "product:NEV-MAB"})) == []
    assert "420,00" in _sent(reply_env)[-1]["message"]["text"]


def test_instagram_gets_quick_replies_and_no_photo_without_one(reply_env, db):
    add_products(
        db, product("FAN-1", "Ventilador Taurus de pie", 35.0, 3), product("FAN-2", "Ventilador Oster de mesa", 25.0, 1)
    )
    assert deliver(fb_in(instagram=True, message={"text": "¿tienen ventiladores?"})) == []
    [offer] = _sent(reply_env)
    assert {q["payload"] for q in offer["message"]["quick_replies"]} == {"product:FAN-1", "product:FAN-2"}
    tap = fb_in(instagram=True, message={"text": "Ventilador Oster", "quick_reply": {"payload": "product:FAN-2"}})
    assert deliver(tap) == []
    [details] = _sent(reply_env)[1:]  # no photo in the catalog: text only
    assert "25,00" in details["message"]["text"]


def test_instagram_quick_replies_round_trip_with_the_photo_as_an_attachment(reply_env, db):
    """Instagram's Send API takes a photo by URL like Messenger's (PNG or JPEG, at most 8 MB)."""
    _fridges(db)
    assert deliver(fb_in(instagram=True, message={"text": "¿tienen neveras?"})) == []
    [offer] = _sent(reply_env)
    [rt38] = [q for q in offer["message"]["quick_replies"] if q["payload"] == "product:NEV-RT38"]

    tap = fb_in(instagram=True, message={"text": rt38["title"], "quick_reply": {"payload": rt38["payload"]}})
    assert tap.channel == "instagram"
    assert deliver(tap) == []
    photo, details = _sent(reply_env)[1:]
    assert photo["recipient"] == {"id": tap.sender_id} == details["recipient"]
    assert photo["message"] == {"attachment": {"type": "image", "payload": {"url": PHOTO, "is_reusable": True}}}
    assert "Nevera Samsung RT38" in details["message"]["text"] and "499,00" in details["message"]["text"]
    reply = replies(db, tap.conversation_id)[-1]
    assert (reply["image_url"], reply["status"]) == (PHOTO, "sent")


def test_support_board_gets_numbered_text_and_a_typed_number_picks_the_product(reply_env, db):
    _fridges(db)
    board = reply_env.support_board
    board.add_user("45", phone="+58 412 555 0101")
    board.add_conversation("321", user_id="45", source="wa")
    assert deliver(sb_in(message="¿tienen neveras?", conversation_source="wa")) == []
    [offer] = _sent(reply_env)
    text = offer["text"]["body"]  # relayed as plain text, never an interactive message
    assert offer["type"] == "text" and notice("choices_numbered", "es") in text
    lines = [line for line in text.splitlines() if line[:2] in ("1.", "2.", "3.")]
    assert len(lines) == 3
    second = lines[1]
    name = next(n for n in ("Nevera Samsung RT38", "Nevera LG GT32", "Nevera Mabe RMA250") if n in second)

    assert deliver(sb_in(message="2", conversation_source="wa")) == []
    details = _sent(reply_env)[-1]
    assert details["type"] == "text" and name in details["text"]["body"]  # text only: no photo on Support Board
    assert all(r["type"] == "text" for r in _sent(reply_env))


def test_web_chat_gets_numbered_text_and_a_number_picks_the_product(reply_env, db):
    from datetime import UTC, datetime

    from mostrador.channels.webchat import parse_post
    from mostrador.db.conversation_repository import messages_after

    _fridges(db)

    def say(text: str, message_id: str):
        body = json.dumps({"conversationId": "chat-0123456789abcdef", "text": text, "clientMessageId": message_id})
        return parse_post(body, "default", datetime.now(UTC))

    assert deliver(say("¿tienen neveras?", "m-000000000000000001")) == []
    [_, offer] = messages_after(db, "default", "webchat:chat-0123456789abcdef", 0)
    assert "1. " in offer["text"] and notice("choices_numbered", "es") in offer["text"]
    assert deliver(say("1", "m-000000000000000002")) == []
    answer = messages_after(db, "default", "webchat:chat-0123456789abcdef", 0)[-1]
    first_line = next(line for line in offer["text"].splitlines() if line.startswith("1. "))
    assert first_line[3:].split(" — ")[0] in answer["text"]


def test_a_single_product_is_an_answer_not_a_choice(reply_env, db):
    add_products(db, product("NEV-RT38", "Nevera Samsung RT38", 499.0, 4))
    deliver(wa_text("¿tienen la nevera Samsung RT38?"))
    [sent] = _sent(reply_env)
    assert sent["type"] == "text"
