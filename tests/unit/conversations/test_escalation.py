import pytest

from mostrador.conversations.escalation import (
    asks_for_human,
    handoff_message,
    no_results_message,
    promises_handoff,
    with_handoff,
)


@pytest.mark.parametrize(
    "text",
    [
        "quiero hablar con un asesor",
        "Quiero hablar con una persona por favor",
        "hablar con una persona",
        "me pueden comunicar con un agente?",
        "necesito un asesor",
        "human please",
        "talk to an agent",
        "Can I speak with a real person?",
        "agent please",
        "quiero que me atienda una persona",
        "me pasas con el encargado?",
        "I want to talk to your manager",
        "quero falar com um atendente",
        "posso conversar com uma pessoa?",
        "preciso de um atendente",
        "je veux parler à un conseiller",
        "Je voudrais parler avec une personne",
        "est-ce que je peux parler à quelqu'un de réel ?",
    ],
)
def test_requests_for_a_person_are_recognised(text):
    assert asks_for_human(text)


@pytest.mark.parametrize(
    "text",
    [
        "cuánto cuesta la nevera?",
        "necesito una lavadora para 5 personas",
        "Quiero saber si una persona puede recoger el pedido",
        "do you have phones for agents of change",
        "hola",
        "I need to speak with my manager before buying",
        "I will chat with someone at home about it",
        "Voy a pasar mañana a retirar la nevera, mi encargado la busca",
        "tengo que hablar con mi esposa antes",
        "vou falar com minha esposa antes",
        "preciso de uma geladeira para 5 pessoas",
        "je dois parler à ma femme avant",
        "je passe à la boutique demain",
    ],
)
def test_product_questions_are_not_requests_for_a_person(text):
    assert not asks_for_human(text)


@pytest.mark.parametrize("language", ["es", "en", "pt", "fr"])
def test_the_handoff_notice_counts_as_telling_the_customer(language):
    assert promises_handoff(handoff_message(language))
    assert with_handoff("", language) == handoff_message(language)
    assert with_handoff(handoff_message(language), language) == handoff_message(language)


def test_a_reply_without_notice_gets_one_appended():
    assert with_handoff("Lo siento, no lo tenemos.", "es") == "Lo siento, no lo tenemos.\n\n" + handoff_message("es")


@pytest.mark.parametrize(
    "text",
    [
        "Te paso con un asesor.",
        "I'll transfer you to an agent now.",
        "Un asesor te contactará pronto.",
        "Vou transferir você para um atendente.",
        "Um atendente vai te responder em instantes.",
        "Je vous transfère à un conseiller.",
        "Un conseiller vous répondra rapidement.",
    ],
)
def test_promises_of_a_person_are_recognised(text):
    assert promises_handoff(text)


def test_the_notices_are_localized_with_english_for_other_languages():
    notices = {language: handoff_message(language) for language in ("es", "en", "pt", "fr", "it", "de")}
    assert len({notices[language] for language in ("es", "en", "pt", "fr")}) == 4
    assert notices["it"] == notices["de"] == notices["en"]
    assert "equipe" in notices["pt"] and "équipe" in notices["fr"]
    assert [no_results_message(language)[:12] for language in ("pt", "fr", "it")] == [
        "Não encontre",
        "Je n'ai pas ",
        "I couldn't f",
    ]
