"""Customers answered in their language, end to end: reply-queue events -> the real reply handler ->
Postgres -> the fake Meta server. The offline model shows the templates; a scripted model behind the
real OpenAI and Gemini SDKs (tests/fakes/llm_server.py) shows what the model is told."""

from __future__ import annotations

import json

import pytest

from mostrador.conversations.escalation import handoff_message
from tests.fakes.platforms import platforms_fixture  # noqa: F401
from tests.integration import test_reply_llm as llm_support
from tests.integration import test_reply_support as support
from tests.integration.test_reply_support import add_products, deliver, inbound_row, product, replies, whatsapp

reply_env = support.reply_env
# The scripted OpenAI/Gemini environment and provider switch of the reply LLM tests.
llm_env, _use = llm_support.llm_env, llm_support._use

FRIDGE = product("N-1", "Nevera Samsung RT38", 1299.5, 4, branch="Valencia")


def conversation_language(db, message) -> str:
    row = db.execute("SELECT language FROM conversations WHERE conversation_id = %s", (message.conversation_id,))
    return row.fetchone()["language"]


@pytest.mark.parametrize(
    ("text", "language", "opening", "amount"),
    [
        ("do you have the Nevera Samsung RT38?", "en", "I found these products:", "USD 1,299.50"),
        ("vocês têm a Nevera Samsung RT38?", "pt", "Encontrei estes produtos:", "USD 1.299,50"),
        ("bonjour, vous avez la Nevera Samsung RT38 ?", "fr", "J'ai trouvé ces produits :", "USD 1\u00a0299,50"),
        ("hola, ¿tienen la Nevera Samsung RT38?", "es", "Encontré estos productos:", "USD 1.299,50"),
    ],
)
def test_a_customer_is_answered_in_their_language(reply_env, db, text, language, opening, amount):
    add_products(db, FRIDGE)
    message = whatsapp(text)
    assert deliver(message) == []

    [sent] = reply_env.meta.sent_texts()
    assert sent.startswith(opening) and amount in sent and "Valencia: 4" in sent
    assert conversation_language(db, message) == language
    assert inbound_row(db, message.platform_message_id)["language"] == language
    [reply] = replies(db, message.conversation_id)
    assert reply["language"] == language and reply["text"] == sent


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("hi", "en", "Hi! How can I help you?"),
        ("obrigado!", "pt", "De nada!"),
        ("bonsoir", "fr", "Bonjour ! Comment puis-je vous aider ?"),
        ("👍", "es", "¿En qué puedo ayudarte?"),  # says nothing: the deployment's language
        ("XY-0412", "es", "No encontré productos"),
    ],
)
def test_a_first_short_message_sets_the_language_when_it_names_one(reply_env, db, text, language, expected):
    message = whatsapp(text)
    assert deliver(message) == []

    assert reply_env.meta.sent_texts()[0].startswith(expected)
    assert conversation_language(db, message) == language


@pytest.mark.parametrize(
    ("text", "language", "opening"),
    [
        ("Samsung Galaxy", "es", "Encontré estos productos:"),
        ("LG ThinQ", "es", "No encontré productos"),
        ('Sindelen Flow 65"', "es", "Encontré estos productos:"),  # a brand only the tenant's catalog knows
        ("any samsung phones?", "en", "I couldn't find any products"),  # phones: not in this catalog
    ],
)
def test_a_first_message_that_is_a_brand_and_a_model_keeps_the_default_language(reply_env, db, text, language, opening):
    add_products(db, FRIDGE, product("C-7", "Cocina Sindelen Flow 4 hornillas", 310.0, 2))
    message = whatsapp(text)
    assert deliver(message) == []

    assert conversation_language(db, message) == language
    [reply] = replies(db, message.conversation_id)
    assert reply["language"] == language
    assert reply_env.meta.sent_texts()[0].startswith(opening)


TV = product("T-55", "Televisor Samsung Crystal UHD 55", 499.0, 3, branch="Valencia")


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("busco una nevera samsung", "USD 1.299,50"),
        ("busco una nevera", "USD 1.299,50"),
        ("busco un televisor samsung", "USD 499,00"),
        ("busco una nevera grande", "USD 1.299,50"),  # was named Italian: answered in English
        ("me interesa la nevera", "USD 1.299,50"),
    ],
)
def test_a_spanish_shopping_message_is_answered_in_spanish(reply_env, db, text, amount):
    """n-grams read "busco una nevera" as Italian; Spanish is the default market's language."""
    add_products(db, FRIDGE, TV)
    message = whatsapp(text)
    assert deliver(message) == []

    [sent] = reply_env.meta.sent_texts()
    assert sent.startswith("Encontré estos productos:") and amount in sent
    assert conversation_language(db, message) == "es"
    [reply] = replies(db, message.conversation_id)
    assert reply["language"] == "es" and reply["text"] == sent


def test_a_spanish_shopping_message_switches_a_conversation_that_began_in_english(reply_env, db):
    """A customer who greets with "hi" and then asks in Spanish is answered in Spanish (before: the
    message was not clear enough to switch, and the answer stayed English)."""
    add_products(db, FRIDGE)
    greeting = whatsapp("hi")
    deliver(greeting)
    assert conversation_language(db, greeting) == "en"

    message = whatsapp("busco una nevera samsung")
    assert deliver(message) == []
    assert conversation_language(db, message) == "es"
    assert inbound_row(db, message.platform_message_id)["language"] == "es"
    sent = reply_env.meta.sent_texts()[-1]
    assert sent.startswith("Encontré estos productos:") and "USD 1.299,50" in sent


def test_ok_a_code_an_emoji_or_a_product_name_never_flip_a_pinned_conversation(reply_env, db):
    add_products(db, FRIDGE)
    deliver(whatsapp("do you have the Nevera Samsung RT38?"))
    for text in ("ok", "👍", "RT38", "Samsung Galaxy S24 Ultra", "gracias"):
        message = whatsapp(text)
        assert deliver(message) == []
        assert conversation_language(db, message) == "en", text
        assert inbound_row(db, message.platform_message_id)["language"] == "en"
    texts = reply_env.meta.sent_texts()
    assert len(texts) == 6
    assert texts[1] == "How can I help you? Tell me which product you are looking for."  # "ok"
    assert all(not text.startswith(("Encontré", "No encontré", "¿En qué")) for text in texts)

    # A clear message in another language switches it, and the replies follow.
    switched = whatsapp("vocês têm geladeira Samsung?")
    assert deliver(switched) == []
    assert conversation_language(db, switched) == "pt"
    assert reply_env.meta.sent_texts()[-1].startswith("Encontrei estes produtos:")


def test_a_language_without_templates_is_answered_in_english_offline(reply_env, db):
    add_products(db, FRIDGE)
    message = whatsapp("buongiorno, avete la Nevera Samsung RT38?")
    assert deliver(message) == []

    assert conversation_language(db, message) == "it"  # a real model is told Italian
    assert reply_env.meta.sent_texts()[0].startswith("I found these products:")


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("здравствуйте, у вас есть Nevera Samsung RT38?", "ru"),
        ("hallo, hebben jullie de Nevera Samsung RT38?", "nl"),
    ],
)
def test_a_language_outside_the_six_is_pinned_and_answered_in_english_offline(reply_env, db, text, language):
    add_products(db, FRIDGE)
    message = whatsapp(text)
    assert deliver(message) == []

    assert conversation_language(db, message) == language  # a real model is told this language
    assert inbound_row(db, message.platform_message_id)["language"] == language
    assert reply_env.meta.sent_texts()[0].startswith("I found these products:")
    assert "USD 1,299.50" in reply_env.meta.sent_texts()[0]


@pytest.mark.parametrize(
    ("text", "language"),
    [("quero falar com um atendente", "pt"), ("je veux parler à un conseiller", "fr")],
)
def test_asking_for_a_person_is_escalated_and_told_in_the_customers_language(reply_env, db, text, language):
    message = whatsapp(text)
    assert deliver(message) == []

    [escalation] = db.execute("SELECT source FROM escalations").fetchall()
    assert escalation["source"] == "customer_request"
    assert reply_env.meta.sent_texts() == [handoff_message(language)]
    assert conversation_language(db, message) == language


# -- a real model: what it is told ----------------------------------------------------------------


def _system_prompt(request) -> str:
    body = request.body
    if request.api == "openai":
        [system] = [m["content"] for m in body["messages"] if m["role"] == "system"]
        return system
    instruction = body.get("systemInstruction") or body.get("system_instruction")
    return " ".join(part["text"] for part in instruction["parts"])


@pytest.mark.parametrize(
    ("provider", "text", "code", "name", "answer"),
    [
        ("openai", "vocês têm geladeira Samsung?", "pt", "Portuguese", "Temos a Nevera Samsung RT38 por USD 1.299,50."),
        ("gemini", "bonjour, vous avez des frigos ?", "fr", "French", "Oui : la Nevera Samsung RT38, USD 1 299,50."),
        ("openai", "do you have tvs?", "en", "English", "We have no TVs right now."),
        ("gemini", "busco una nevera samsung", "es", "Spanish", "Tenemos la Nevera Samsung RT38 por USD 1.299,50."),
        # Outside the six the identifier chooses among: was "Answer in German" and "Answer in Spanish".
        ("openai", "hallo, hebben jullie een koelkast?", "nl", "Dutch", "Ja, de Nevera Samsung RT38."),
        ("gemini", "здравствуйте, у вас есть холодильник?", "ru", "Russian", "Да, Nevera Samsung RT38."),
        ("openai", "مرحبا، هل عندكم ثلاجة؟", "ar", "Arabic", "نعم، Nevera Samsung RT38."),
        ("gemini", "こんにちは、冷蔵庫はありますか？", "ja", "Japanese", "はい、Nevera Samsung RT38 があります。"),
    ],
)
def test_the_model_is_told_the_conversation_language(
    provider, text, code, name, answer, llm_env, reply_env, db, monkeypatch
):
    _use(monkeypatch, provider)
    add_products(db, FRIDGE)
    llm_env.script_chat(
        [{"tool_calls": [{"name": "search_local_products", "arguments": {"query": "nevera samsung"}}]}, answer]
    )
    message = whatsapp(text)
    assert deliver(message) == []

    chats = [r for r in llm_env.requests if r.kind == "chat" and r.api == provider]
    assert len(chats) == 2
    for chat in chats:
        prompt = _system_prompt(chat)
        assert f"Conversation language: {name} ({code}). Answer in {name}." in prompt
        assert f"ISO 639-1 code '{code}'" in prompt
        assert "Write in the conversation language" in prompt  # the ground rule
    assert text in json.dumps(chats[0].body, ensure_ascii=False)
    assert reply_env.meta.sent_texts() == [answer]
    [reply] = replies(db, message.conversation_id)
    assert reply["language"] == code


def test_a_pinned_language_reaches_the_model_on_an_ok(llm_env, reply_env, db, monkeypatch):
    _use(monkeypatch, "openai")
    llm_env.script_chat(["Bonjour ! Que cherchez-vous ?", "Très bien."])
    deliver(whatsapp("bonjour, vous avez des frigos ?"))
    deliver(whatsapp("ok"))

    first, second = (r for r in llm_env.requests if r.kind == "chat")
    assert "Conversation language: French (fr)." in _system_prompt(first)
    assert "Conversation language: French (fr)." in _system_prompt(second)


def test_a_french_promise_of_a_person_gets_no_second_notice(llm_env, reply_env, db, monkeypatch):
    _use(monkeypatch, "openai")
    llm_env.script_chat(
        [
            {"tool_calls": [{"name": "escalate_to_human", "arguments": {"reason": "paiement"}}]},
            "Je vous mets en relation avec un conseiller, il vous répondra ici.",
        ]
    )
    message = whatsapp("je voudrais payer en plusieurs fois, c'est possible ?")
    assert deliver(message) == []

    assert reply_env.meta.sent_texts() == ["Je vous mets en relation avec un conseiller, il vous répondra ici."]
    assert db.execute("SELECT count(*) AS n FROM escalations").fetchone()["n"] == 1
