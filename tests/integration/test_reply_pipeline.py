"""The reply function end to end: reply-queue events -> real handler -> Postgres -> channel senders
over HTTP to the fake platforms, offline LLM (scripted OpenAI/Gemini in test_reply_llm.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mostrador.conversations.escalation import handoff_message
from mostrador.db.conversation_repository import messages_after
from tests.fakes.platforms import platforms_fixture  # noqa: F401
from tests.integration import test_reply_support as support
from tests.integration.test_reply_support import (
    AGENT,
    DM_BOT,
    META_APP_ID,
    PROXY,
    add_products,
    deliver,
    inbound_row,
    messenger,
    paused,
    product,
    replies,
    status,
    support_board,
    whatsapp,
)

reply_env = support.reply_env


def test_a_customer_question_gets_one_reply_with_the_stored_price_and_stock(reply_env, db):
    add_products(db, product("N-1", "Nevera Samsung RT38", 499.0, 4, branch="Valencia"))
    message = whatsapp("¿Tienen nevera Samsung?")
    assert deliver(message) == []

    [sent] = reply_env.meta.sent()
    assert sent.path.endswith(f"/{support.PHONE_ID}/messages")
    assert sent.json["context"] == {"message_id": message.platform_message_id}
    text = sent.json["text"]["body"]
    assert "Nevera Samsung RT38" in text and "499,00" in text and "Valencia: 4" in text

    inbound = inbound_row(db, message.platform_message_id)
    assert (inbound["state"], inbound["actor"], inbound["direction"]) == ("replied", "customer", "inbound")
    [reply] = replies(db, message.conversation_id)
    assert (reply["status"], reply["in_reply_to"], reply["text"]) == ("sent", inbound["id"], text)
    assert reply["platform_message_id"].startswith("wamid.FAKE") and reply["latency_ms"] >= 0
    assert (reply["provider"], reply["model"]) == ("offline", "offline-template")
    # The offline model asks the (empty) knowledge base first, then the catalog.
    knowledge, call = db.execute("SELECT * FROM tool_calls ORDER BY id").fetchall()
    assert (knowledge["tool_name"], knowledge["result_count"]) == ("search_knowledge", 0)
    assert (call["tool_name"], call["product_ids"], call["message_id"]) == (
        "search_local_products",
        ["N-1"],
        inbound["id"],
    )
    usage = db.execute("SELECT provider, model, calls FROM llm_usage WHERE purpose = 'chat'").fetchall()
    assert [(u["provider"], u["calls"]) for u in usage] == [("offline", 1)] * 3  # two searches, then the answer
    conversation = db.execute("SELECT * FROM conversations").fetchone()
    assert conversation["language"] == "es" and conversation["customer_id"] == message.sender_id

    polled = messages_after(db, "default", message.conversation_id, 0)
    assert [m["direction"] for m in polled] == ["inbound", "outbound"]
    assert messages_after(db, "default", message.conversation_id, polled[0]["id"])[0]["text"] == text


def test_english_customers_get_english_and_the_language_is_kept(reply_env, db):
    add_products(db, product("N-1", "Nevera Samsung RT38", 1299.5, 2))
    deliver(whatsapp("Hi, do you have a Samsung fridge? Nevera Samsung RT38"))
    deliver(whatsapp("ok"))
    first, second = reply_env.meta.sent_texts()
    assert first.startswith("I found these products") and "1,299.50" in first
    assert db.execute("SELECT language FROM conversations").fetchone()["language"] == "en"
    assert second.isascii()


def test_the_same_message_delivered_five_times_gets_one_reply(reply_env, db):
    message = whatsapp("hola, ¿tienen lavadoras?")
    for _ in range(4):
        assert deliver(message) == []
    assert deliver(message) == []
    assert len(reply_env.meta.sent()) == 1
    assert db.execute("SELECT count(*) AS n FROM messages WHERE direction = 'inbound'").fetchone()["n"] == 1


def test_interleaved_conversations_keep_their_own_order_even_when_one_fails(reply_env, db):
    a1, a2 = whatsapp("a uno", sender="111"), whatsapp("a dos", sender="111")
    b1, b2 = whatsapp("b uno", sender="222"), whatsapp("b dos", sender="222")
    reply_env.meta.fail_next(http_status=503)  # a1's send fails: a2 must wait for it
    assert deliver(a1, b1, a2, b2) == ["0", "2"]
    # Requests: a1 (refused), b1, b2; a2 was never tried.
    assert [r.json["to"] for r in reply_env.meta.sent()] == ["111", "222", "222"]
    assert (
        db.execute("SELECT 1 FROM messages WHERE platform_message_id = %s", (a2.platform_message_id,)).fetchone()
        is None
    )
    assert deliver(a1, a2) == []
    to_a = [r.json["context"]["message_id"] for r in reply_env.meta.sent()[3:]]
    assert to_a == [a1.platform_message_id, a2.platform_message_id]
    to_b = [r.json["context"]["message_id"] for r in reply_env.meta.sent() if r.json["to"] == "222"]
    assert to_b == [b1.platform_message_id, b2.platform_message_id]


def test_a_meta_5xx_is_retried_and_the_same_reply_is_sent_once(reply_env, db):
    message = whatsapp("¿Tienen televisores?")
    reply_env.meta.fail_next(http_status=500)
    assert deliver(message) == ["0"]
    [draft] = replies(db, message.conversation_id)
    assert draft["status"] == "pending" and inbound_row(db, message.platform_message_id)["state"] == "received"
    assert deliver(message) == []
    assert deliver(message) == []
    assert reply_env.meta.sent_texts() == [draft["text"], draft["text"]]  # the refused attempt, then the send
    [reply] = replies(db, message.conversation_id)
    assert reply["id"] == draft["id"] and reply["status"] == "sent"


def test_a_rate_limit_is_retried_too(reply_env, db):
    message = whatsapp("¿Tienen televisores?")
    reply_env.meta.fail_next(code=131056)
    assert deliver(message) == ["0"]
    assert deliver(message) == []
    assert deliver(message) == []
    assert len(reply_env.meta.sent()) == 2  # refused, then sent once


def test_a_permanent_error_is_recorded_alarmed_and_not_retried(reply_env, db, capsys):
    message = whatsapp("¿Tienen televisores?")
    reply_env.meta.fail_next(code=131047)
    assert deliver(message) == []
    [reply] = replies(db, message.conversation_id)
    assert (reply["status"], reply["error_code"]) == ("failed", "131047")
    inbound = inbound_row(db, message.platform_message_id)
    assert (inbound["state"], inbound["state_reason"]) == ("failed", "send_failed:131047")
    assert "PermanentSendFailures" in capsys.readouterr().out
    assert deliver(message) == []
    assert len(reply_env.meta.sent()) == 1  # only the refused attempt


def test_a_messenger_read_watermark_marks_everything_sent_before_it_read(reply_env, db):
    import time

    first = messenger("¿Tienen televisores?")
    deliver(first)
    [reply] = replies(db, first.conversation_id)
    assert reply["status"] == "sent"
    before = int(time.time() * 1000) - 60_000  # a watermark older than the reply moves nothing
    assert deliver(status(f"watermark:{before}", "read", first.conversation_id)) == []
    assert replies(db, first.conversation_id)[0]["status"] == "sent"
    now = int(time.time() * 1000) + 1_000
    assert deliver(status(f"watermark:{now}", "read", first.conversation_id)) == []
    assert replies(db, first.conversation_id)[0]["status"] == "read"
    other = messenger("hola", customer="psid-other")
    deliver(other)
    assert replies(db, other.conversation_id)[0]["status"] == "sent"  # another conversation is untouched


def test_status_updates_move_the_sent_message_forward_and_never_reply(reply_env, db):
    message = whatsapp("¿Tienen televisores?")
    deliver(message)
    [reply] = replies(db, message.conversation_id)
    mid = reply["platform_message_id"]
    assert (
        deliver(status(mid, "delivered", message.conversation_id), status(mid, "read", message.conversation_id)) == []
    )
    assert deliver(status(mid, "delivered", message.conversation_id)) == []  # late: read stays
    assert replies(db, message.conversation_id)[0]["status"] == "read"
    deliver(status(mid, "failed", message.conversation_id, error_code="131026", error_title="Undeliverable"))
    [reply] = replies(db, message.conversation_id)
    assert (reply["status"], reply["error_code"], reply["error_title"]) == ("failed", "131026", "Undeliverable")
    assert deliver(status("wamid.unknown", "read", message.conversation_id)) == []
    assert len(reply_env.meta.sent()) == 1


def test_outside_the_24_hour_window_nothing_is_sent(reply_env, db):
    old = whatsapp("¿siguen abiertos?", timestamp=datetime.now(UTC) - timedelta(hours=25))
    assert deliver(old) == []
    assert reply_env.meta.sent() == []
    row = inbound_row(db, old.platform_message_id)
    assert (row["state"], row["state_reason"]) == ("skipped", "outside_window")


# -- Support Board actor rules (seeds/000 section 5 and its "Test Thoroughly" scenarios) -----------


def _sb_conversation(reply_env, conversation: str = "900", customer: str = "77") -> None:
    board = reply_env.support_board
    board.add_user(customer, phone="+58 412 555 0101")
    board.add_conversation(conversation, user_id=customer, source="wa")


def _sb_says(reply_env, message) -> None:
    """The message as Support Board stores it (what get-conversation will show)."""
    reply_env.support_board.add_message(
        message.metadata["sb_conversation_id"], message.sender_id, message.text, _sb_time(minutes_ago=0)
    )


def test_comment_bot_initiates_then_the_customer_replies_and_the_bot_answers(reply_env, db):
    _sb_conversation(reply_env)
    comment_bot = support_board("¡Hola! Vimos tu comentario sobre la nevera", PROXY)
    _sb_says(reply_env, comment_bot)
    assert deliver(comment_bot) == []
    row = inbound_row(db, comment_bot.platform_message_id)
    assert (row["actor"], row["state"], row["state_reason"]) == ("comment_bot", "skipped", "comment_bot")
    assert reply_env.meta.sent() == [] and paused(db, comment_bot.conversation_id) is None

    customer = support_board("sí, ¿cuánto cuesta?", "77")
    _sb_says(reply_env, customer)
    assert deliver(customer) == []
    assert inbound_row(db, customer.platform_message_id)["state"] == "replied"
    [sent] = reply_env.meta.sent()
    assert sent.json["to"] == "584125550101"  # WhatsApp directly, with the phone from get-user
    [copy] = reply_env.support_board.calls("send-message")
    assert (copy["user_id"], copy["conversation_id"], copy["message"]) == (DM_BOT, "900", sent.json["text"]["body"])

    # Support Board then posts the bot's own copy back: the DM bot's echo is ignored.
    echo = support_board(copy["message"], DM_BOT)
    assert deliver(echo) == []
    assert inbound_row(db, echo.platform_message_id)["state_reason"] == "dm_bot_echo"
    assert len(reply_env.meta.sent()) == 1 and paused(db, echo.conversation_id) is None


def test_a_dedicated_agent_pauses_the_bot_and_the_customer_gets_no_reply(reply_env, db):
    _sb_conversation(reply_env)
    agent = support_board("Hola, soy Ana, te ayudo yo", AGENT)
    _sb_says(reply_env, agent)
    assert deliver(agent) == []
    pause = paused(db, agent.conversation_id)
    assert (pause["reason"], pause["set_by"]) == ("human_agent", AGENT)
    assert timedelta(minutes=59) < pause["paused_until"] - datetime.now(UTC) <= timedelta(minutes=60)

    customer = support_board("gracias Ana", "77")
    assert deliver(customer) == []
    assert inbound_row(db, customer.platform_message_id)["state_reason"] == "paused"
    assert reply_env.meta.sent() == []


def test_proxy_account_without_the_tag_is_a_human_when_a_tag_is_configured(reply_env, db, monkeypatch):
    from mostrador.config import reset_settings

    monkeypatch.setenv("COMMENT_BOT_INITIATION_TAG", "[cb]")
    reset_settings()
    _sb_conversation(reply_env)
    tagged = support_board("[cb] ¡Hola! Vimos tu comentario", PROXY)
    assert deliver(tagged) == []
    assert paused(db, tagged.conversation_id) is None
    admin = support_board("Soy la administradora, ¿en qué te ayudo?", PROXY)
    assert deliver(admin) == []
    assert paused(db, admin.conversation_id)["reason"] == "proxy_account_without_tag"
    assert inbound_row(db, admin.platform_message_id)["actor"] == "agent"


def test_proxy_account_without_a_tag_configured_is_taken_for_the_comment_bot(reply_env, db):
    _sb_conversation(reply_env)
    admin = support_board("Soy la administradora", PROXY)
    assert deliver(admin) == []
    assert paused(db, admin.conversation_id) is None
    assert inbound_row(db, admin.platform_message_id)["actor"] == "comment_bot"


def test_dm_then_bot_then_human_then_customer_gets_no_bot_reply_from_history_alone(reply_env, db):
    """The agent's webhook never reached us (Support Board sends once): the history shows the takeover."""
    _sb_conversation(reply_env)
    first = support_board("hola, ¿tienen cocinas?", "77")
    _sb_says(reply_env, first)
    deliver(first)
    bot_reply = reply_env.support_board.calls("send-message")[0]["message"]
    assert bot_reply  # the bot answered and its copy is in the conversation
    reply_env.support_board.add_message("900", AGENT, "Te atiendo yo", _sb_time(minutes_ago=5))
    again = support_board("ok, ¿y el precio?", "77")
    _sb_says(reply_env, again)
    assert deliver(again) == []
    assert inbound_row(db, again.platform_message_id)["state_reason"] == "human_takeover"
    assert len(reply_env.meta.sent()) == 1


def test_an_agent_message_older_than_the_pause_no_longer_silences_the_bot(reply_env, db):
    _sb_conversation(reply_env)
    reply_env.support_board.add_message("900", AGENT, "Te atendí ayer", _sb_time(minutes_ago=24 * 60))
    later = support_board("hola de nuevo, ¿tienen cocinas?", "77")
    _sb_says(reply_env, later)
    assert deliver(later) == []
    assert inbound_row(db, later.platform_message_id)["state"] == "replied"


def _sb_time(*, minutes_ago: int) -> str:
    from datetime import UTC, datetime, timedelta

    return (datetime.now(UTC) - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%d %H:%M:%S")


def test_any_other_sender_pauses(reply_env, db):
    _sb_conversation(reply_env)
    stranger = support_board("mensaje de un usuario desconocido", "999")
    assert deliver(stranger) == []
    assert paused(db, stranger.conversation_id)["reason"] == "unclassified_sender"


# -- Messenger / Instagram echoes ------------------------------------------------------------------


def test_our_own_echo_is_ignored_and_a_page_inbox_echo_pauses(reply_env, db):
    first = messenger("hola, ¿tienen aires acondicionados?")
    assert deliver(first) == []
    [sent] = reply_env.meta.sent()
    assert sent.path.endswith("/me/messages") and sent.json["recipient"] == {"id": "psid-9"}
    [reply] = replies(db, first.conversation_id)

    assert deliver(messenger(reply["text"], echo_app=META_APP_ID, mid=reply["platform_message_id"])) == []
    assert deliver(messenger("otro eco nuestro", echo_app=META_APP_ID)) == []
    assert paused(db, first.conversation_id) is None

    person = messenger("Hola, soy Luis de la tienda", echo_app="263902037430900")
    assert deliver(person) == []
    assert paused(db, first.conversation_id)["reason"] == "page_inbox_echo"
    later = messenger("gracias Luis")
    assert deliver(later) == []
    assert inbound_row(db, later.platform_message_id)["state_reason"] == "paused"
    assert len(reply_env.meta.sent()) == 1


# -- escalation ------------------------------------------------------------------------------------


def test_asking_for_a_person_escalates_pauses_and_tells_the_customer(reply_env, db):
    message = whatsapp("quiero hablar con un asesor")
    assert deliver(message) == []
    [escalation] = db.execute("SELECT * FROM escalations").fetchall()
    assert (escalation["source"], escalation["status"]) == ("customer_request", "open")
    assert escalation["message_id"] == inbound_row(db, message.platform_message_id)["id"]
    assert paused(db, message.conversation_id)["reason"] == "escalation"
    assert reply_env.meta.sent_texts() == [handoff_message("es")]
    assert db.execute("SELECT count(*) AS n FROM llm_usage").fetchone()["n"] == 0

    deliver(whatsapp("¿hola?"))
    assert len(reply_env.meta.sent()) == 1


def test_repeated_searches_that_find_nothing_escalate(reply_env, db):
    for text in ("busco un zeppelin", "zeppelin inflable", "un dirigible zeppelin"):
        deliver(whatsapp(text))
    texts = reply_env.meta.sent_texts()
    assert len(texts) == 3 and handoff_message("es") not in texts[0] and handoff_message("es") not in texts[1]
    assert texts[2].endswith(handoff_message("es"))
    [escalation] = db.execute("SELECT * FROM escalations").fetchall()
    assert escalation["source"] == "no_results"
    assert paused(db, whatsapp("x").conversation_id)["reason"] == "escalation"
