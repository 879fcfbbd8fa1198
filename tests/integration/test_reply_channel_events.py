"""Odd channel events end to end: Meta's JSON (tests/fixtures/channels) signed into the real webhook
handler, over moto's FIFO reply queue, into the real reply handler, the real database and the fake
Meta Graph / Support Board servers. Issue 14 items 7 (WhatsApp coexistence echoes), 13 (Instagram
unsend) and 14 (Messenger standby)."""

from __future__ import annotations

from typing import Any

import pytest

from mostrador.db import conversation_repository as repo
from tests.fakes.platforms import platforms_fixture  # noqa: F401
from tests.integration import test_reply_support as support
from tests.integration.channel_pipeline import ChannelPipeline, channel_pipeline_fixture, fixture  # noqa: F401

reply_env = support.reply_env

PHONE_NUMBER_ID = "106540352242922"
WA_CONVERSATION = f"wa:{PHONE_NUMBER_ID}:584125550101"
IG_CONVERSATION = "ig:17841400000000000:1234567890123456"
FB_CONVERSATION = "fb:1122334455:6543210987654321"


def _rows(db: Any, conversation_id: str) -> list[dict[str, Any]]:
    return db.execute("SELECT * FROM messages WHERE conversation_id = %s ORDER BY id", (conversation_id,)).fetchall()


def _pause(db: Any, conversation_id: str) -> dict[str, Any] | None:
    return db.execute(
        "SELECT * FROM conversation_pauses WHERE conversation_id = %s AND paused_until > now()", (conversation_id,)
    ).fetchone()


# -- item 7: WhatsApp coexistence echoes (smb_message_echoes) ------------------------------------


def test_a_coexistence_echo_is_recorded_as_an_agent_and_pauses_the_bot(
    channel_pipeline: ChannelPipeline, reply_env, db
) -> None:
    pipeline = channel_pipeline
    assert pipeline.post_whatsapp(fixture("whatsapp_customer_text")) == 200
    pipeline.run_replies()
    assert len(reply_env.meta.sent()) == 1  # the bot answered the first question

    # The owner answers from the WhatsApp Business app on the phone: Meta sends the echo.
    echo_payload = fixture("whatsapp_smb_message_echoes")
    assert pipeline.post_whatsapp(echo_payload) == 200
    pipeline.run_replies()
    echo_id = echo_payload["entry"][0]["changes"][0]["value"]["message_echoes"][0]["id"]
    echo = support.inbound_row(db, echo_id)
    assert echo["conversation_id"] == WA_CONVERSATION  # the customer's conversation, not the business's
    assert (echo["actor"], echo["direction"], echo["state"], echo["state_reason"]) == (
        "agent",
        "inbound",
        "skipped",
        "business_app_echo",
    )
    assert echo["text"] == "Hola Ana, soy Carla de la tienda. Te atiendo yo por aquí."
    pause = _pause(db, WA_CONVERSATION)
    assert pause is not None and pause["reason"] == "business_app_echo"

    # The customer writes again: the person on the phone is answering, the bot stays quiet.
    again = fixture("whatsapp_customer_text", {"wamid.HBgLNTg0MTI1NTUwMTAxFQIAEhggQ1VTVE9NRVIxAA==": "wamid.AGAIN"})
    again["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"] = "Perfecto, gracias Carla"
    assert pipeline.post_whatsapp(again) == 200
    pipeline.run_replies()
    assert len(reply_env.meta.sent()) == 1
    assert support.inbound_row(db, "wamid.AGAIN")["state_reason"] == "paused"
    # The echo is the business speaking in the model's history, never the customer.
    history = repo.recent_history(db, "default", WA_CONVERSATION)
    assert [(r["direction"], r["actor"]) for r in history] == [
        ("inbound", "customer"),
        ("outbound", "bot"),
        ("inbound", "agent"),
        ("inbound", "customer"),
    ]
    assert pipeline.dead_lettered() == 0


def test_a_coexistence_echo_redelivered_by_meta_is_recorded_once(
    channel_pipeline: ChannelPipeline, reply_env, db
) -> None:
    echo_payload = fixture("whatsapp_smb_message_echoes")
    for _ in range(3):
        assert channel_pipeline.post_whatsapp(echo_payload) == 200
    channel_pipeline.run_replies()
    assert len(_rows(db, WA_CONVERSATION)) == 1
    assert _pause(db, WA_CONVERSATION) is not None
    assert reply_env.meta.sent() == []


# -- echoes addressed to another form of the customer's number (Brazil, Mexico, Argentina) -------

NUMBER_FORMS = fixture("whatsapp_number_forms")["cases"]
CUSTOMER_WAMID = "wamid.HBgLNTg0MTI1NTUwMTAxFQIAEhggQ1VTVE9NRVIxAA=="


def _customer_text(wa_id: str, wamid: str = CUSTOMER_WAMID, text: str | None = None) -> dict[str, Any]:
    payload = fixture("whatsapp_customer_text", {"584125550101": wa_id, CUSTOMER_WAMID: wamid})
    if text is not None:
        payload["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"] = text
    return payload


def _echo_to(typed: str) -> tuple[dict[str, Any], str]:
    payload = fixture("whatsapp_smb_message_echoes", {"584125550101": typed})
    return payload, payload["entry"][0]["changes"][0]["value"]["message_echoes"][0]["id"]


def _conversation_ids(db: Any) -> list[str]:
    return [r["conversation_id"] for r in db.execute("SELECT conversation_id FROM conversations ORDER BY 1")]


@pytest.mark.parametrize("case", NUMBER_FORMS, ids=[case["name"] for case in NUMBER_FORMS])
def test_an_echo_to_another_form_of_the_number_pauses_the_customers_conversation(
    channel_pipeline: ChannelPipeline, reply_env, db, case: dict[str, str]
) -> None:
    pipeline = channel_pipeline
    conversation = f"wa:{PHONE_NUMBER_ID}:{case['wa_id']}"
    assert pipeline.post_whatsapp(_customer_text(case["wa_id"])) == 200
    pipeline.run_replies()
    assert len(reply_env.meta.sent()) == 1

    # The owner answers from the app; the echo's `to` is the number as the business entered it.
    echo_payload, echo_id = _echo_to(case["typed"])
    assert pipeline.post_whatsapp(echo_payload) == 200
    pipeline.run_replies()
    echo = support.inbound_row(db, echo_id)
    assert echo["conversation_id"] == conversation  # the id the customer's own messages use
    assert (echo["actor"], echo["state_reason"]) == ("agent", "business_app_echo")
    assert _conversation_ids(db) == [conversation]  # no second conversation for the other form
    assert _pause(db, conversation) is not None

    assert pipeline.post_whatsapp(_customer_text(case["wa_id"], "wamid.AGAIN", "gracias")) == 200
    pipeline.run_replies()
    assert len(reply_env.meta.sent()) == 1  # the person is answering: the bot stays quiet
    assert support.inbound_row(db, "wamid.AGAIN")["state_reason"] == "paused"
    history = repo.recent_history(db, "default", conversation)
    assert [r["actor"] for r in history] == ["customer", "bot", "agent", "customer"]
    assert pipeline.dead_lettered() == 0


def test_when_the_owner_writes_first_the_customers_reply_under_their_own_id_is_paused_too(
    channel_pipeline: ChannelPipeline, reply_env, db
) -> None:
    """The business opens from the app (no conversation to match yet): the echo keeps the number as
    typed; the customer's reply opens the conversation of their own id, which takes up the pause."""
    pipeline = channel_pipeline
    echo_payload, echo_id = _echo_to("+55 21 98765-4321")
    assert pipeline.post_whatsapp(echo_payload) == 200
    pipeline.run_replies()
    typed_conversation = f"wa:{PHONE_NUMBER_ID}:5521987654321"
    assert support.inbound_row(db, echo_id)["conversation_id"] == typed_conversation

    assert pipeline.post_whatsapp(_customer_text("552187654321", "wamid.REPLY", "oi, quero sim")) == 200
    pipeline.run_replies()
    conversation = f"wa:{PHONE_NUMBER_ID}:552187654321"
    assert support.inbound_row(db, "wamid.REPLY")["conversation_id"] == conversation
    assert support.inbound_row(db, "wamid.REPLY")["state_reason"] == "paused"
    assert reply_env.meta.sent() == []
    shared = _pause(db, conversation)
    assert shared is not None and shared["reason"] == "business_app_echo"

    # An operator hands the conversation back to the bot: the other form's pause is not taken up again.
    assert repo.resume_conversation(db, "default", conversation)
    assert pipeline.post_whatsapp(_customer_text("552187654321", "wamid.AFTER", "e o preço?")) == 200
    pipeline.run_replies()
    assert support.inbound_row(db, "wamid.AFTER")["state"] == "replied"
    assert len(reply_env.meta.sent()) == 1


# -- item 13: Instagram unsend (is_deleted) --------------------------------------------------------

ORIGINAL_TEXT = "Mi dirección es Av. Libertador 123, apto 4B. ¿Tienen neveras?"


def _export_text(db: Any) -> str:
    from datetime import UTC, datetime

    from mostrador.operations.export import export_page
    from mostrador.operations.ranges import DayRange

    today = datetime.now(UTC).date()
    page = export_page(db, "default", DayRange.of(today, today), file_format="json", customer_id=None, cursor=None)
    return page.body.decode("utf-8")


def _tool_call_arguments(db: Any, conversation_id: str) -> str:
    rows = db.execute("SELECT arguments::text AS a FROM tool_calls WHERE conversation_id = %s", (conversation_id,))
    return " ".join(r["a"] for r in rows)


def _transcript(db: Any, conversation_id: str) -> list[tuple[str, str]]:
    """The admin API's view of the conversation: (direction, text) of each message shown."""
    from datetime import UTC, datetime

    from mostrador.operations.conversations import conversation_view

    view = conversation_view(db, "default", conversation_id, cursor=None, limit=50, now=datetime.now(UTC))
    return [(m["direction"], m["text"]) for m in view["messages"]]


def test_an_unsend_after_the_original_removes_its_text_and_is_never_answered(
    channel_pipeline: ChannelPipeline, reply_env, db
) -> None:
    pipeline = channel_pipeline
    assert pipeline.post_meta(fixture("instagram_customer_text")) == 200
    pipeline.run_replies()
    [answer] = reply_env.meta.sent_texts()
    assert ORIGINAL_TEXT in _export_text(db)

    # The offline model searched with the customer's words: the tool call kept them.
    assert "Libertador" in _tool_call_arguments(db, IG_CONVERSATION)

    assert pipeline.post_meta(fixture("instagram_unsend")) == 200
    pipeline.run_replies()
    assert reply_env.meta.sent_texts() == [answer]  # nothing sent for the unsend
    assert "Libertador" not in _tool_call_arguments(db, IG_CONVERSATION)  # nor what was derived from it
    inbound = [r for r in _rows(db, IG_CONVERSATION) if r["direction"] == "inbound"]
    assert len(inbound) == 1  # no new "empty message" row
    [original] = inbound
    assert original["text"] == "" and original["deleted_at"] is not None
    assert all("Libertador" not in (r["text"] or "") for r in _rows(db, IG_CONVERSATION))
    export = _export_text(db)
    assert "Libertador" not in export and answer.split("\n")[0] in export  # our reply stays
    history = repo.recent_history(db, "default", IG_CONVERSATION)
    assert [(r["direction"], r["actor"]) for r in history] == [("outbound", "bot")]
    assert _transcript(db, IG_CONVERSATION) == [("outbound", answer)]
    assert pipeline.dead_lettered() == 0


def test_an_unsend_before_the_original_means_the_original_is_never_answered_or_shown(
    channel_pipeline: ChannelPipeline, reply_env, db
) -> None:
    pipeline = channel_pipeline
    assert pipeline.post_meta(fixture("instagram_unsend")) == 200
    pipeline.run_replies()
    assert pipeline.post_meta(fixture("instagram_customer_text")) == 200  # the original, late
    pipeline.run_replies()
    assert reply_env.meta.sent() == []
    [row] = _rows(db, IG_CONVERSATION)
    assert row["text"] == "" and row["deleted_at"] is not None
    assert "Libertador" not in _export_text(db)
    assert repo.recent_history(db, "default", IG_CONVERSATION) == []
    assert _transcript(db, IG_CONVERSATION) == []
    assert pipeline.dead_lettered() == 0


def test_an_unsend_naming_a_message_of_another_conversation_leaves_that_message_alone(
    channel_pipeline: ChannelPipeline, reply_env, db
) -> None:
    pipeline = channel_pipeline
    assert pipeline.post_meta(fixture("instagram_customer_text")) == 200
    pipeline.run_replies()
    # Another customer of the same account "unsends" that message id: only its sender can take it back.
    stranger = fixture("instagram_unsend", {"1234567890123456": "9999999999999999"})
    assert pipeline.post_meta(stranger) == 200
    run = pipeline.run_replies()
    assert run.failed == 0 and pipeline.dead_lettered() == 0
    [original] = [r for r in _rows(db, IG_CONVERSATION) if r["direction"] == "inbound"]
    assert original["text"] == ORIGINAL_TEXT and original["deleted_at"] is None
    assert ORIGINAL_TEXT in _export_text(db)
    assert _rows(db, "ig:17841400000000000:9999999999999999") == []


def test_the_conversation_goes_on_after_an_unsend(channel_pipeline: ChannelPipeline, reply_env, db) -> None:
    pipeline = channel_pipeline
    pipeline.post_meta(fixture("instagram_customer_text"))
    pipeline.post_meta(fixture("instagram_unsend"))
    later = fixture("instagram_customer_text")
    event = later["entry"][0]["messaging"][0]
    event["message"] = {"mid": "aWdfZAG1_LATER", "text": "Perdón, ¿tienen lavadoras?"}
    pipeline.post_meta(later)
    pipeline.run_replies()
    assert len(reply_env.meta.sent()) == 2  # the original (answered before its unsend) and the later one
    history = repo.recent_history(db, "default", IG_CONVERSATION)
    assert all("Libertador" not in (r["text"] or "") for r in history)
    assert history[-2]["text"] == "Perdón, ¿tienen lavadoras?"


# -- item 14: Messenger standby (handover protocol) -------------------------------------------------


def test_standby_events_are_recorded_without_a_reply_and_the_transcript_is_whole(
    channel_pipeline: ChannelPipeline, reply_env, db
) -> None:
    pipeline = channel_pipeline
    assert pipeline.post_meta(fixture("messenger_standby")) == 200
    pipeline.run_replies()
    assert reply_env.meta.sent() == []  # another app owns the thread: never answer
    rows = _rows(db, FB_CONVERSATION)
    assert [(r["platform_message_id"], r["actor"], r["state"], r["state_reason"]) for r in rows] == [
        ("m_STANDBY_CUSTOMER_1", "customer", "skipped", "standby"),
        ("m_STANDBY_INBOX_ECHO_1", "agent", "skipped", "standby"),
        ("m_STANDBY_POSTBACK_1", "customer", "skipped", "standby"),
    ]
    assert rows[0]["text"] == "¿Me confirman la dirección de entrega?"
    assert rows[1]["text"] == "Sí, Av. Libertador 123. Llega el lunes."
    assert _pause(db, FB_CONVERSATION) is None  # the thread owner's person answering is not a takeover of ours

    # The thread comes back to the app: the next message is answered, with the standby part in its history.
    assert pipeline.post_meta(fixture("messenger_customer_text")) == 200
    pipeline.run_replies()
    assert len(reply_env.meta.sent()) == 1
    history = repo.recent_history(db, "default", FB_CONVERSATION)
    assert [r["text"] for r in history][:2] == [
        "¿Me confirman la dirección de entrega?",
        "Sí, Av. Libertador 123. Llega el lunes.",
    ]
    assert pipeline.dead_lettered() == 0
