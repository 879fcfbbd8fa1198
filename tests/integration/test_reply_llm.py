"""The reply tool loop with the real OpenAI and Gemini SDKs talking to the fake LLM server
(`llm_server`), the real catalog search on Postgres and the fake platforms."""

from __future__ import annotations

import json

import pytest

from mostrador.conversations.escalation import handoff_message
from mostrador.db.conversation_repository import set_tenant_system_prompt
from tests.fakes.platforms import platforms_fixture  # noqa: F401
from tests.integration import test_reply_support as support
from tests.integration.test_reply_support import add_products, deliver, inbound_row, paused, product, replies, whatsapp

reply_env = support.reply_env


@pytest.fixture
def llm_env(reply_env, llm_server, monkeypatch: pytest.MonkeyPatch):
    from mostrador.config import reset_settings

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", llm_server.openai_base_url)
    monkeypatch.setenv("GEMINI_API_KEY", "gm-test")
    monkeypatch.setenv("GEMINI_BASE_URL", llm_server.gemini_base_url)
    monkeypatch.setenv("LLM_MAX_RETRIES", "1")
    monkeypatch.setenv("LLM_TIMEOUT_SECONDS", "10")
    reset_settings()
    return llm_server


def _use(monkeypatch, provider: str) -> None:
    from mostrador.config import reset_settings

    monkeypatch.setenv("LLM_PROVIDER", provider)
    reset_settings()


def _tool_results(request) -> list[dict]:
    """The tool results our side sent back to the model in one chat request, in either API's shape."""
    body = request.body
    if request.api == "openai":
        return [json.loads(m["content"]) for m in body["messages"] if m["role"] == "tool"]
    results = []
    for content in body["contents"]:
        for part in content.get("parts", []):
            response = part.get("functionResponse") or part.get("function_response")
            if response:
                results.append(response["response"])
    return results


@pytest.mark.parametrize("provider", ["openai", "gemini"])
def test_the_tool_loop_ends_in_a_reply_quoting_the_stored_price_and_stock(
    provider, llm_env, reply_env, db, monkeypatch
):
    _use(monkeypatch, provider)
    add_products(
        db,
        product("N-1", "Nevera Samsung RT38", 499.0, 4, branch="Valencia"),
        product("L-7", "Lavadora LG WM12", 650.0, 0),
    )
    set_tenant_system_prompt(db, "default", "Eres el asistente de Tiendas Prueba.")
    llm_env.script_chat(
        [
            {"tool_calls": [{"name": "search_local_products", "arguments": {"query": "nevera samsung"}}]},
            {"tool_calls": [{"name": "get_live_product_details", "arguments": {"item_code": "N-1"}}]},
            "La Nevera Samsung RT38 cuesta USD 499.00 y hay 4 en Valencia.",
        ]
    )
    message = whatsapp("¿Cuánto cuesta la nevera Samsung?")
    assert deliver(message) == []

    chats = [r for r in llm_env.requests if r.kind == "chat" and r.api == provider]
    assert len(chats) == 3
    # What the model was told came from the database: price and per-branch stock of N-1.
    details = _tool_results(chats[2])[-1]["product"]
    assert (details["item_code"], details["price"], details["branches"]) == (
        "N-1",
        499.0,
        [{"branch": "Valencia", "stock": 4.0}],
    )
    searched = _tool_results(chats[1])[0]["products"]
    assert searched[0]["item_code"] == "N-1"
    assert "Tiendas Prueba" in json.dumps(chats[0].body, ensure_ascii=False)

    assert reply_env.meta.sent_texts() == ["La Nevera Samsung RT38 cuesta USD 499.00 y hay 4 en Valencia."]
    [reply] = replies(db, message.conversation_id)
    assert (reply["provider"], reply["status"]) == (provider, "sent")
    assert reply["tokens_in"] > 0 and reply["tokens_out"] > 0
    calls = db.execute("SELECT tool_name, product_ids, round FROM tool_calls ORDER BY id").fetchall()
    assert [(c["tool_name"], c["product_ids"][:1], c["round"]) for c in calls] == [
        ("search_local_products", ["N-1"], 1),
        ("get_live_product_details", ["N-1"], 2),
    ]
    usage = db.execute("SELECT provider, calls FROM llm_usage WHERE purpose = 'chat'").fetchall()
    assert [u["provider"] for u in usage] == [provider] * 3


def test_the_escalate_tool_opens_an_escalation_pauses_and_tells_the_customer(llm_env, reply_env, db, monkeypatch):
    _use(monkeypatch, "openai")
    llm_env.script_chat(
        [
            {"tool_calls": [{"name": "escalate_to_human", "arguments": {"reason": "quiere pagar con Zelle"}}]},
            "Un momento.",
        ]
    )
    message = whatsapp("¿puedo pagar con Zelle?")
    assert deliver(message) == []
    [escalation] = db.execute("SELECT * FROM escalations").fetchall()
    assert (escalation["source"], escalation["reason"], escalation["status"]) == (
        "tool",
        "quiere pagar con Zelle",
        "open",
    )
    assert paused(db, message.conversation_id)["reason"] == "escalation"
    # The model's words alone would not tell the customer; the handoff notice is added.
    assert reply_env.meta.sent_texts() == ["Un momento.\n\n" + handoff_message("es")]


def test_a_reply_promising_a_person_without_the_tool_is_made_true(llm_env, reply_env, db, monkeypatch):
    _use(monkeypatch, "openai")
    llm_env.script_chat(["Claro, te paso con un asesor para tu garantía."])
    message = whatsapp("mi nevera llegó dañada")
    assert deliver(message) == []
    [escalation] = db.execute("SELECT * FROM escalations").fetchall()
    assert escalation["source"] == "promised_in_reply"
    assert paused(db, message.conversation_id)["reason"] == "escalation"
    assert reply_env.meta.sent_texts() == ["Claro, te paso con un asesor para tu garantía."]


def test_the_second_provider_answers_when_the_first_keeps_failing(llm_env, reply_env, db, monkeypatch):
    _use(monkeypatch, "openai")
    llm_env.fail_when("/chat/completions", 500)
    llm_env.script_chat(["Respuesta de Gemini."])
    message = whatsapp("hola, ¿qué venden?")
    assert deliver(message) == []
    assert llm_env.calls("chat", api="openai") >= 1
    assert reply_env.meta.sent_texts() == ["Respuesta de Gemini."]
    [reply] = replies(db, message.conversation_id)
    assert reply["provider"] == "gemini"


def test_when_every_provider_fails_the_item_fails_and_the_message_is_not_lost(llm_env, reply_env, db, monkeypatch):
    _use(monkeypatch, "openai")
    llm_env.fail_when("/chat/completions", 503)
    llm_env.fail_when("generateContent", 503)
    message = whatsapp("hola, ¿tienen neveras?")
    assert deliver(message) == ["0"]
    assert inbound_row(db, message.platform_message_id)["state"] == "received"
    assert replies(db, message.conversation_id) == [] and reply_env.meta.sent() == []

    llm_env.reset()
    llm_env.script_chat(["Sí, tenemos neveras."])
    assert deliver(message) == []
    assert reply_env.meta.sent_texts() == ["Sí, tenemos neveras."]
    assert inbound_row(db, message.platform_message_id)["state"] == "replied"


def test_a_long_reply_interrupted_mid_way_resumes_without_repeating_a_piece(llm_env, reply_env, db, monkeypatch):
    _use(monkeypatch, "openai")
    long_text = " ".join(
        f"Detalle {n}: la nevera tiene dos puertas y un dispensador de agua fría." for n in range(120)
    )  # about 8,700 characters: three WhatsApp pieces
    llm_env.script_chat([long_text])
    message = whatsapp("Cuéntame todo sobre la nevera")
    reply_env.meta.fail_next(http_status=503, after=1)  # piece 1 goes out, piece 2 meets a 503
    assert deliver(message) == ["0"]
    [draft] = replies(db, message.conversation_id)
    assert draft["status"] == "pending" and draft["pieces_sent"] == 1
    assert deliver(message) == []
    texts = reply_env.meta.sent_texts()
    assert len(texts) == 4  # piece 1, the refused piece 2, then pieces 2 and 3
    assert texts[1] == texts[2] and texts[0] != texts[1]
    assert " ".join(texts[0:1] + texts[2:]) == long_text
    [reply] = replies(db, message.conversation_id)
    assert reply["status"] == "sent" and len(reply["platform_message_ids"]) == 3
    assert llm_env.chat_calls == 1  # the retry sent the stored reply; nothing was generated again


def test_a_retry_after_every_model_failed_does_not_count_its_searches_twice(llm_env, reply_env, db, monkeypatch):
    _use(monkeypatch, "openai")
    llm_env.script_chat(
        [{"text": "", "tool_calls": [{"name": "search_local_products", "arguments": {"query": "zzz"}}]}]
    )
    # The model's next turn (carrying the tool result) fails with both providers.
    llm_env.fail_when("tool_call_id", 503)
    llm_env.fail_when("functionResponse", 503)
    message = whatsapp("¿tienen zzz?")
    assert deliver(message) == ["0"]

    def searches() -> int:
        row = db.execute(
            "SELECT count(*) AS n FROM tool_calls WHERE message_id = %s",
            (inbound_row(db, message.platform_message_id)["id"],),
        ).fetchone()
        return row["n"]

    assert searches() == 1
    llm_env.reset()
    llm_env.script_chat(["No tenemos zzz, ¿buscas algo parecido?"])
    assert deliver(message) == []
    assert searches() == 0  # the failed attempt's search is forgotten; the retry searched nothing


def test_a_huge_customer_message_reaches_the_model_cut_but_is_stored_whole(llm_env, reply_env, db, monkeypatch):
    # The webhook keeps what fits one queue message (~256 KB): that much text on every reply while it
    # stays in the history would cost tens of thousands of tokens each time, and two such messages
    # overflow a 128K-token context, so every reply in the conversation would fail.
    from mostrador.llm import CUSTOMER_TEXT_CHARS

    _use(monkeypatch, "openai")
    llm_env.script_chat(["¿Qué producto buscas?", "Con gusto."])
    text = "Hola, busco una nevera. " + "bla " * 60_000
    first = whatsapp(text)
    assert deliver(first) == []
    assert deliver(whatsapp("¿y lavadoras?")) == []

    chats = [r for r in llm_env.requests if r.kind == "chat"]
    for chat in chats:
        [huge] = [
            m["content"] for m in chat.body["messages"] if m["role"] == "user" and m["content"].startswith("Hola")
        ]
        assert len(huge) < CUSTOMER_TEXT_CHARS + 100 and huge.startswith(text[:CUSTOMER_TEXT_CHARS])
        assert huge.endswith(f"\n\n[… {len(text) - CUSTOMER_TEXT_CHARS} more characters not shown]")
    assert len(chats) == 2
    assert inbound_row(db, first.platform_message_id)["text"] == text  # the record keeps every character
