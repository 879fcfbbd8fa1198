"""The offline provider: extractive summaries and deterministic, grounded tool use."""

from __future__ import annotations

import json

import pytest

from mostrador.llm.base import ChatMessage, ChatResult, Summarizer, ToolCall
from mostrador.llm.offline_provider import OfflineProvider, extractive_summary, format_amount
from mostrador.llm.tools import REPLY_TOOLS

FRIDGE = {
    "item_code": "NEV-300",
    "name": "Nevera Dos Puertas 300L",
    "brand": "Samsung",
    "category": "Línea blanca",
    "price": 1299.5,
    "price_bolivar": 47432.75,
    "currency": "USD",
    "in_stock": True,
    "stock_total": 7.0,
    "branches": [{"branch": "Sucursal Centro", "stock": 4.0}, {"branch": "Valencia", "stock": 3.0}],
    "summary": None,
}
WASHER = {
    **FRIDGE,
    "item_code": "LAV-12",
    "name": "Lavadora 12kg",
    "brand": "LG",
    "price": 649.0,
    "price_bolivar": None,
    "stock_total": 2.5,
    "branches": [{"branch": "Maracay", "stock": 2.5}],
}
PHONE = {**FRIDGE, "item_code": "TEL-1", "name": "Galaxy A15", "price": None, "price_bolivar": None, "branches": []}
FOURTH = {**FRIDGE, "item_code": "TV-55", "name": "Televisor 55 pulgadas", "price": 999.0}
# A document chunk as search_knowledge returns it (llm/tools.py, Passage).
POLICY = {
    "document_id": 2,
    "document": "Políticas",
    "kind": "file",
    "chunk": 2,
    "section": "Garantía",
    "page": 2,
    "text": "Todos los productos tienen garantía de 12 meses.",
    "score": 0.5,
}


def after_tool(tool: str, result: object, language: str, *, tools: bool = True) -> ChatResult:
    call = ToolCall("offline-2", tool, {})
    messages = [
        ChatMessage("system", "Eres el asistente."),
        ChatMessage("user", "¿Tienen neveras?"),
        ChatMessage("assistant", "", tool_calls=(call,)),
        ChatMessage("tool", json.dumps(result), tool_call_id=call.id, name=tool),
    ]
    return OfflineProvider().chat(messages, REPLY_TOOLS if tools else [], language=language)


# summaries


def test_summary_keeps_whole_leading_sentences_within_75_words() -> None:
    sentences = [f"Frase número {n} con varias palabras de relleno para contar bien." for n in range(1, 20)]
    text = " ".join(sentences)  # 11 words per sentence: 6 fit in 75 words, 7 would not

    summary = OfflineProvider().summarize(text, product_name="X").text

    assert summary == " ".join(sentences[:6])
    assert len(summary.split()) == 66


def test_summary_of_short_text_is_the_text_with_whitespace_collapsed() -> None:
    assert extractive_summary("  Nevera  de dos\npuertas.   Color gris. ") == "Nevera de dos puertas. Color gris."


def test_summary_never_cuts_a_word_when_the_first_sentence_is_too_long() -> None:
    words = [f"palabra{n}" for n in range(120)]

    summary = extractive_summary(" ".join(words))

    assert summary.split() == words[:75]


def test_summary_of_empty_text_is_empty() -> None:
    completion = OfflineProvider().summarize("  \n ", product_name="Nevera")

    assert completion.text == ""
    assert completion.usage.provider == "offline"


def test_summaries_are_deterministic() -> None:
    text = "Televisor de 55 pulgadas. Resolución 4K. Tres puertos HDMI. " * 10
    provider = OfflineProvider()

    assert provider.summarize(text, product_name="TV") == provider.summarize(text, product_name="TV")
    assert isinstance(provider, Summarizer)


# chat: the customer's turn becomes a search


def test_customer_turn_becomes_a_knowledge_search_with_their_words() -> None:
    messages = [ChatMessage("system", "Eres el asistente."), ChatMessage("user", "  busco una nevera barata ")]

    result = OfflineProvider().chat(messages, REPLY_TOOLS, language="es")

    assert result.text == ""
    assert len(result.tool_calls) == 1
    call = result.tool_calls[0]
    assert call.name == "search_knowledge"
    assert call.arguments == {"question": "busco una nevera barata"}
    assert result == OfflineProvider().chat(messages, REPLY_TOOLS, language="es")  # deterministic, ids included


def test_nothing_in_the_knowledge_base_becomes_a_product_search_with_the_same_words() -> None:
    result = after_tool("search_knowledge", {"passages": [], "total": 0}, "es")

    assert result.text == ""
    assert [(c.name, c.arguments) for c in result.tool_calls] == [
        ("search_local_products", {"query": "¿Tienen neveras?"})
    ]


def test_passages_matched_through_product_words_lose_to_products_found_with_the_same_words() -> None:
    """ "¿Tienen neveras?" finds the delivery policy that mentions neveras (match "product_mention"):
    the catalog is searched too, and its products answer; when it finds none, the passage does."""
    mention = {
        **POLICY,
        "section": "Plazos de entrega",
        "text": "Las neveras se entregan con dos personas.",
        "match": "product_mention",
    }
    knowledge_call = ToolCall("offline-2", "search_knowledge", {"question": "¿Tienen neveras?"})
    messages = [
        ChatMessage("user", "¿Tienen neveras?"),
        ChatMessage("assistant", "", tool_calls=(knowledge_call,)),
        ChatMessage(
            "tool", json.dumps({"passages": [mention], "total": 1}), tool_call_id="offline-2", name="search_knowledge"
        ),
    ]
    then = OfflineProvider().chat(messages, REPLY_TOOLS, language="es")
    assert [(c.name, c.arguments) for c in then.tool_calls] == [
        ("search_local_products", {"query": "¿Tienen neveras?"})
    ]

    def answer(products: list[dict]) -> str:
        result = {"products": products, "total": len(products)}
        return (
            OfflineProvider()
            .chat(
                [
                    *messages,
                    ChatMessage("assistant", "", tool_calls=then.tool_calls),
                    ChatMessage(
                        "tool", json.dumps(result), tool_call_id=then.tool_calls[0].id, name="search_local_products"
                    ),
                ],
                REPLY_TOOLS,
                language="es",
            )
            .text
        )

    with_products = answer([FRIDGE])
    assert "Nevera Dos Puertas 300L" in with_products and "dos personas" not in with_products
    without = answer([])
    assert "Las neveras se entregan con dos personas." in without and "Plazos de entrega" in without
    # A passage that matched in its heading, by meaning or by other words answers by itself.
    for match in ("heading", "meaning", "text"):
        alone = after_tool("search_knowledge", {"passages": [{**mention, "match": match}], "total": 1}, "es")
        assert alone.tool_calls == () and "dos personas" in alone.text


def test_without_the_knowledge_tool_the_customer_turn_is_a_product_search() -> None:
    tools = [spec for spec in REPLY_TOOLS if spec.name != "search_knowledge"]
    result = OfflineProvider().chat([ChatMessage("user", "busco una nevera")], tools, language="es")

    assert [(c.name, c.arguments) for c in result.tool_calls] == [
        ("search_local_products", {"query": "busco una nevera"})
    ]


def test_a_knowledge_passage_is_answered_with_the_store_s_own_words() -> None:
    faq = {
        "document_id": 1,
        "document": "¿Hacen envíos?",
        "kind": "faq",
        "chunk": 0,
        "section": None,
        "page": None,
        "text": "¿Hacen envíos?\nSí, enviamos a toda Venezuela en 24 a 48 horas.",
        "score": 0.9,
    }

    spanish = after_tool("search_knowledge", {"passages": [faq, POLICY], "total": 2}, "es")
    english = after_tool("search_knowledge", {"passages": [POLICY], "total": 1}, "en")

    assert spanish.tool_calls == ()
    assert spanish.text == "Sí, enviamos a toda Venezuela en 24 a 48 horas.\n¿Te ayudo con algo más?"
    assert english.text == (
        "From the store's information (Garantía):\nTodos los productos tienen garantía de 12 meses.\n"
        "Can I help you with anything else?"
    )


@pytest.mark.parametrize(
    ("language", "intro", "more"),
    [
        ("es", "Según la información de la tienda (Garantía):", "¿Te ayudo con algo más?"),
        ("pt", "Segundo as informações da loja (Garantía):", "Posso ajudar com mais alguma coisa?"),
        ("fr", "D'après les informations du magasin (Garantía) :", "Puis-je vous aider pour autre chose ?"),
        ("it", "From the store's information (Garantía):", "Can I help you with anything else?"),
    ],
)
def test_a_knowledge_answer_is_framed_in_the_conversation_language_and_quotes_the_passage(
    language, intro, more
) -> None:

    result = after_tool("search_knowledge", {"passages": [POLICY], "total": 1}, language)

    # The framing follows the conversation; the store's text is quoted as written, never translated.
    assert result.text == f"{intro}\nTodos los productos tienen garantía de 12 meses.\n{more}"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("es", "No encontré eso en la información de la tienda."),
        ("en", "I couldn't find that in the store's information."),
        ("pt", "Não encontrei isso nas informações da loja."),
        ("fr", "Je n'ai pas trouvé cela dans les informations du magasin."),
    ],
)
def test_no_passages_and_no_product_search_says_the_store_has_not_written_it_down(language, expected) -> None:
    result = after_tool("search_knowledge", {"passages": [], "total": 0}, language, tools=False)

    assert result.tool_calls == ()
    assert result.text.startswith(expected)


def test_customer_turn_without_the_search_tool_gets_a_text_answer() -> None:
    result = OfflineProvider().chat([ChatMessage("user", "busco una nevera")], [], language="en")

    assert result.tool_calls == ()
    assert result.text.startswith("How can I help you?")


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("hola", "es", "¡Hola! ¿En qué puedo ayudarte?"),
        ("Hi!", "en", "Hi! How can I help you?"),
        ("oi, bom dia", "pt", "Olá! Como posso ajudar?"),
        ("Bonjour 👋", "fr", "Bonjour ! Comment puis-je vous aider ?"),
        ("ok gracias", "es", "¡Con gusto!"),
        ("thanks a lot", "en", "You're welcome!"),
        ("muito obrigado", "pt", "De nada!"),
        ("merci beaucoup", "fr", "Avec plaisir !"),
        ("👍", "fr", "Comment puis-je vous aider ?"),
        ("[audio]", "es", "Por aquí solo puedo leer mensajes de texto."),
        ("[image]", "en", "I can only read text messages here."),
        ("[audio]", "pt", "Por aqui só consigo ler mensagens de texto."),
        ("[sticker]", "fr", "Ici, je ne peux lire que les messages écrits."),
    ],
)
def test_greetings_thanks_and_media_get_a_canned_answer_without_a_search(text, language, expected) -> None:
    result = OfflineProvider().chat([ChatMessage("user", text)], REPLY_TOOLS, language=language)

    assert result.tool_calls == ()
    assert result.text.startswith(expected)


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("hola, ¿tienen neveras?", "search_knowledge"),  # the store's information first
        ("hi 55", "search_local_products"),  # a number may be an item code: the catalog first
        ("XY-0412", "search_local_products"),
        ("bonjour, vous avez des frigos ?", "search_knowledge"),
    ],
)
def test_a_greeting_with_a_question_still_searches(text, first) -> None:
    products_only = [spec for spec in REPLY_TOOLS if spec.name != "search_knowledge"]

    result = OfflineProvider().chat([ChatMessage("user", text)], REPLY_TOOLS, language="es")
    without_knowledge = OfflineProvider().chat([ChatMessage("user", text)], products_only, language="es")

    assert [call.name for call in result.tool_calls] == [first]
    assert [call.name for call in without_knowledge.tool_calls] == ["search_local_products"]


# chat: templated answers from tool results


def test_search_results_in_spanish_list_three_products_with_their_numbers() -> None:
    result = after_tool(
        "search_local_products", {"products": [FRIDGE, WASHER, PHONE, FOURTH], "total": 4}, "es", tools=False
    )

    text = result.text
    assert result.tool_calls == ()
    assert text.startswith("Encontré estos productos:")
    assert "Nevera Dos Puertas 300L (Samsung) — precio USD 1.299,50 (Bs. 47.432,75)" in text
    assert "Existencias: Sucursal Centro: 4, Valencia: 3." in text
    assert "Lavadora 12kg (LG) — precio USD 649,00. Existencias: Maracay: 2.5." in text
    assert "Galaxy A15 (Samsung) — precio no disponible. Existencias: 7." in text
    assert "Televisor" not in text  # at most three products
    assert text.endswith("¿Quieres más detalles de alguno?")


def test_search_results_in_english_use_english_words_and_separators() -> None:
    result = after_tool("search_local_products", {"products": [FRIDGE], "total": 1}, "en")

    assert result.text == (
        "I found these products:\n"
        "• Nevera Dos Puertas 300L (Samsung) — price USD 1,299.50 (Bs. 47,432.75). "
        "Stock: Sucursal Centro: 4, Valencia: 3.\n"
        "Would you like more details on any of them?"
    )


def test_every_number_in_the_answer_comes_from_the_tool_result() -> None:
    odd = {**FRIDGE, "price": 123.45, "price_bolivar": None, "branches": [{"branch": "Norte", "stock": 17.0}]}

    text = after_tool("search_local_products", {"products": [odd], "total": 1}, "en").text

    assert "123.45" in text and "Norte: 17" in text
    assert "1,299.50" not in text and "4" not in text.replace("123.45", "")


def test_empty_search_asks_to_describe_it_differently() -> None:
    es = after_tool("search_local_products", {"products": [], "total": 0}, "es").text
    en = after_tool("search_local_products", {"products": [], "total": 0}, "en").text
    pt = after_tool("search_local_products", {"products": [], "total": 0}, "pt").text
    fr = after_tool("search_local_products", {"products": [], "total": 0}, "fr").text

    assert "No encontré productos" in es and "de otra forma" in es
    assert "couldn't find any products" in en and "describe it differently" in en
    assert "Não encontrei produtos" in pt and "de outra forma" in pt
    assert "aucun produit" in fr and "autrement" in fr


def test_search_results_in_portuguese_and_french() -> None:
    pt = after_tool("search_local_products", {"products": [FRIDGE], "total": 1}, "pt").text
    fr = after_tool("search_local_products", {"products": [FRIDGE], "total": 1}, "fr").text

    assert pt == (
        "Encontrei estes produtos:\n"
        "• Nevera Dos Puertas 300L (Samsung) — preço USD 1.299,50 (Bs. 47.432,75). "
        "Estoque: Sucursal Centro: 4, Valencia: 3.\n"
        "Quer mais detalhes de algum deles?"
    )
    assert fr == (
        "J'ai trouvé ces produits :\n"
        "• Nevera Dos Puertas 300L (Samsung) — prix USD 1\u00a0299,50 (Bs. 47\u00a0432,75). "
        "Stock : Sucursal Centro: 4, Valencia: 3.\n"
        "Voulez-vous plus de détails sur l'un d'eux ?"
    )


@pytest.mark.parametrize("language", ["it", "de", "nl", ""])
def test_a_language_without_texts_falls_back_to_english(language) -> None:
    result = after_tool("search_local_products", {"products": [WASHER], "total": 1}, language)

    assert result.text.startswith("I found these products:")
    assert "USD 649.00" in result.text


@pytest.mark.parametrize("language", ["es", "en", "pt", "fr"])
def test_every_text_exists_in_every_template_language(language) -> None:
    from mostrador.conversations.language import TEXT_LANGUAGES
    from mostrador.llm.offline_provider import _TEXTS

    assert set(_TEXTS) == set(TEXT_LANGUAGES)
    assert set(_TEXTS[language]) == set(_TEXTS["en"])
    others = [_TEXTS[other] for other in TEXT_LANGUAGES if other != language]
    # Translated, not copied: no sentence is shared with another language (short labels may be).
    for key, text in _TEXTS[language].items():
        if len(text) > 20:
            assert all(text != other[key] for other in others), (language, key)


def test_regional_language_tags_pick_their_language() -> None:
    assert after_tool("search_local_products", {"products": [], "total": 0}, "en-US").text.startswith("I couldn't")


def test_live_details_give_price_and_stock_per_branch() -> None:
    es = after_tool("get_live_product_details", {"product": FRIDGE}, "es").text
    en = after_tool("get_live_product_details", {"product": WASHER}, "en").text

    assert es == (
        "Nevera Dos Puertas 300L (Samsung): precio USD 1.299,50 (Bs. 47.432,75). "
        "Existencias por sucursal: Sucursal Centro: 4, Valencia: 3."
    )
    assert en == "Lavadora 12kg (LG): price USD 649.00. Stock per branch: Maracay: 2.5."


def test_live_details_of_an_unknown_product() -> None:
    assert after_tool("get_live_product_details", {"product": None}, "es").text.startswith("No encontré ese producto")


def test_escalation_says_a_person_will_follow_up() -> None:
    from mostrador.conversations.escalation import promises_handoff

    texts = {
        language: after_tool("escalate_to_human", {"escalated": True, "escalation_id": 9}, language).text
        for language in ("es", "en", "pt", "fr")
    }

    assert "persona" in texts["es"] and "pronto" in texts["es"]
    assert "person" in texts["en"] and "soon" in texts["en"]
    assert "pessoa" in texts["pt"] and "em breve" in texts["pt"]
    assert "personne" in texts["fr"] and "bientôt" in texts["fr"]
    # The reply use case recognises each as telling the customer, so no second notice is appended.
    assert all(promises_handoff(text) for text in texts.values())


def test_tool_name_is_found_from_the_call_when_the_result_has_none() -> None:
    call = ToolCall("c1", "get_live_product_details", {"item_code": "LAV-12"})
    messages = [
        ChatMessage("user", "LAV-12?"),
        ChatMessage("assistant", "", tool_calls=(call,)),
        ChatMessage("tool", json.dumps({"product": WASHER}), tool_call_id="c1"),
    ]

    assert "Maracay: 2.5" in OfflineProvider().chat(messages, [], language="en").text


def test_malformed_tool_result_gets_a_polite_text_not_a_crash() -> None:
    call = ToolCall("c1", "search_local_products", {"query": "x"})
    messages = [
        ChatMessage("user", "x"),
        ChatMessage("assistant", "", tool_calls=(call,)),
        ChatMessage("tool", "not json", tool_call_id="c1", name="search_local_products"),
    ]

    result = OfflineProvider().chat(messages, [], language="es")

    assert result.text and result.tool_calls == ()


@pytest.mark.parametrize(
    ("value", "language", "expected"),
    [
        (1234567.891, "es", "1.234.567,89"),
        (0, "en", "0.00"),
        (1299.5, "pt-BR", "1.299,50"),
        (1299.5, "fr", "1\u00a0299,50"),
        (1299.5, "de", "1,299.50"),
    ],
)
def test_amount_formatting(value: float, language: str, expected: str) -> None:
    assert format_amount(value, language) == expected


def test_several_customer_messages_in_a_row_get_one_search_each_without_kind_labels() -> None:
    messages = [
        ChatMessage("system", "s"),
        ChatMessage("assistant", "¡Hola!"),
        ChatMessage("user", "[reaction] 👍"),
        ChatMessage("user", "¿tienen neveras?"),
        ChatMessage("user", "[voice note] y también lavadoras"),
        ChatMessage("user", "[photo] Una licuadora Oster\n¿y esta?"),
    ]
    asked = ["¿tienen neveras?", "y también lavadoras", "Una licuadora Oster ¿y esta?"]
    result = OfflineProvider().chat(messages, REPLY_TOOLS, language="es")
    # The store's information first, one question per message...
    assert [(call.name, call.arguments) for call in result.tool_calls] == [
        ("search_knowledge", {"question": question}) for question in asked
    ]
    assert len({call.id for call in result.tool_calls}) == 3

    # ...and the catalog for each the knowledge base did not answer, with the same words.
    messages.append(ChatMessage("assistant", "", tool_calls=result.tool_calls))
    empty = json.dumps({"passages": [], "total": 0})
    messages += [ChatMessage("tool", empty, tool_call_id=c.id, name=c.name) for c in result.tool_calls]
    then = OfflineProvider().chat(messages, REPLY_TOOLS, language="es")
    assert [(call.name, call.arguments) for call in then.tool_calls] == [
        ("search_local_products", {"query": query}) for query in asked
    ]
    assert len({call.id for call in then.tool_calls}) == 3


def test_an_emoji_only_turn_is_not_searched() -> None:
    result = OfflineProvider().chat([ChatMessage("user", "[reaction] 👍")], REPLY_TOOLS, language="es")
    assert result.tool_calls == () and result.text


@pytest.mark.parametrize(
    ("text", "then"),
    [
        ("hola, ¿cuánto cuesta la NEV-300 y hay en Valencia?", []),  # price and branch: the card answers
        ("¿la NEV-300 tiene garantía?", [("search_knowledge", {"question": "garantia"})]),
    ],
)
def test_an_item_code_searches_the_catalog_first_and_the_store_s_information_only_for_what_is_left(text, then) -> None:
    first = OfflineProvider().chat([ChatMessage("user", text)], REPLY_TOOLS, language="es")
    assert [(c.name, c.arguments) for c in first.tool_calls] == [("search_local_products", {"query": text})]

    found = {"products": [{**FRIDGE, "match": "item_code", "relevance": 1.0}], "total": 1}
    messages = [
        ChatMessage("user", text),
        ChatMessage("assistant", "", tool_calls=first.tool_calls),
        ChatMessage("tool", json.dumps(found), tool_call_id=first.tool_calls[0].id, name="search_local_products"),
    ]
    second = OfflineProvider().chat(messages, REPLY_TOOLS, language="es")

    assert [(c.name, c.arguments) for c in second.tool_calls] == then
    if not then:
        assert "Nevera Dos Puertas 300L" in second.text and "Valencia: 3" in second.text
