"""Which products a reply offers, how a pick is recognised, and the per-language notices."""

from __future__ import annotations

from datetime import UTC, datetime

from mostrador.conversations.choices import (
    abilities_for,
    choices_from_json,
    choices_json,
    offered_choices,
    picked_item_code,
    typed_number,
)
from mostrador.conversations.notices import NOTICES, notice
from mostrador.conversations.toolbox import ToolOutcome
from mostrador.llm.base import ToolCall
from mostrador.messaging.model import InboundMessage


def card(code: str, name: str, price: float | None = 10.0, in_stock: bool = True) -> dict:
    return {"item_code": code, "name": name, "price": price, "currency": "USD", "in_stock": in_stock}


def search(*cards: dict, error: str | None = None) -> ToolOutcome:
    call = ToolCall("c1", "search_local_products", {"query": "x"})
    return ToolOutcome(call, {"products": list(cards), "total": len(cards)}, error=error)


CARDS = [card("A-1", "Nevera Samsung"), card("B-2", "Nevera LG", None, False), card("C-3", "Nevera Mabe", 1299.5)]


def test_the_products_the_reply_names_are_offered_with_price_and_stock_in_the_customers_language():
    choices = offered_choices(
        [search(*CARDS)], "Tengo la Nevera Samsung y la Nevera Mabe.", "es", abilities_for("whatsapp")
    )
    assert choices is not None
    assert [c.id for c in choices.items] == ["product:A-1", "product:C-3"]
    assert choices.items[1].description == "USD 1.299,50 · disponible"
    assert choices.prompt == notice("choices_prompt", "es") and choices.button == "Ver productos"
    english = offered_choices([search(*CARDS)], "Here they are", "en", abilities_for("messenger"))
    assert english is not None and [c.description for c in english.items][1] == "price on request · out of stock"


def test_choices_carry_the_brand_that_shortened_titles_keep_and_it_survives_storage():
    tvs = [
        {**card(f"TV-{size}", f"Televisor Samsung Crystal UHD de {size} pulgadas"), "brand": "Samsung"}
        for size in (43, 50, 55)
    ]
    choices = offered_choices([search(*tvs)], "Estos:", "es", abilities_for("whatsapp"))
    assert choices is not None and {c.brand for c in choices.items} == {"Samsung"}
    assert choices_from_json(choices_json(choices)) == choices


def test_one_named_product_is_an_answer_and_fewer_than_two_results_offer_nothing():
    assert offered_choices([search(*CARDS)], "La Nevera LG está agotada.", "es", abilities_for("whatsapp")) is None
    assert offered_choices([search(CARDS[0])], "Tenemos esta", "es", abilities_for("whatsapp")) is None
    assert offered_choices([search(*CARDS, error="bad")], "x", "es", abilities_for("whatsapp")) is None


def test_searches_of_a_burst_are_combined_without_repeats_and_capped_per_channel():
    many = [card(f"P-{n}", f"Producto {n}") for n in range(15)]
    choices = offered_choices([search(*many[:8]), search(*many[5:])], "Opciones:", "es", abilities_for("messenger"))
    assert choices is not None and len(choices.items) == 13 and len({c.id for c in choices.items}) == 13
    numbered = offered_choices([search(*many)], "Opciones:", "es", abilities_for("webchat"))
    assert numbered is not None and len(numbered.items) == 10


def message(text: str = "", kind: str = "text", **metadata: str) -> InboundMessage:
    return InboundMessage(
        tenant_id="t",
        channel="whatsapp",
        conversation_id="wa:1:2",
        sender_id="2",
        sender_role="customer",
        text=text,
        media_kind=kind,  # type: ignore[arg-type]
        platform_message_id="wamid.1",
        timestamp=datetime.now(UTC),
        metadata=metadata,
    )


def test_a_pick_comes_from_a_tap_payload_or_a_typed_number_of_the_last_offer():
    offered = [{"id": "product:A-1"}, {"id": "product:B-2"}]
    assert picked_item_code(message("Nevera", "interactive", reply_id="product:A-1"), None) == "A-1"
    assert picked_item_code(message("x", "interactive", quick_reply_payload="product:B-2"), None) == "B-2"
    assert picked_item_code(message("x", "postback", postback_payload="product:C-3"), None) == "C-3"
    assert picked_item_code(message("x", "postback", postback_payload="GET_STARTED"), None) is None
    assert picked_item_code(message(" 2. "), offered) == "B-2"
    assert picked_item_code(message("#1"), offered) == "A-1"
    assert picked_item_code(message("3"), offered) is None  # no third choice
    assert picked_item_code(message("2"), None) is None  # nothing was offered
    assert picked_item_code(message("quiero 2 neveras"), offered) is None
    assert typed_number("10)") == 10 and typed_number("100") is None


def test_every_notice_exists_in_es_en_pt_fr_and_others_fall_back_to_english():
    keys = set(NOTICES["en"])
    assert all(set(NOTICES[language]) == keys for language in ("es", "pt", "fr"))
    assert notice("unsupported", "de") == NOTICES["en"]["unsupported"]
    assert notice("voice_too_long", "pt-BR", minutes="3").startswith("Seu áudio tem mais de 3 min")
    assert "I can read text, voice notes and photos" in notice("unsupported", "en")


def test_the_unsupported_notice_names_only_what_can_be_read():
    from mostrador.conversations.notices import unsupported_key

    assert unsupported_key(hears=True, sees=True) == "unsupported"
    text_only = {language: notice(unsupported_key(hears=False, sees=False), language) for language in NOTICES}
    assert text_only["en"].startswith("For now I can only read text.")
    assert text_only["es"].startswith("Por ahora solo puedo leer texto.")
    assert text_only["pt"].startswith("Por enquanto só consigo ler texto.")
    assert text_only["fr"].startswith("Pour l'instant, je ne peux lire que le texte.")
    for language in NOTICES:
        hears_only = notice(unsupported_key(hears=True, sees=False), language)
        sees_only = notice(unsupported_key(hears=False, sees=True), language)
        assert hears_only != sees_only != text_only[language] != notice("unsupported", language)
    assert "photos" not in notice(unsupported_key(hears=True, sees=False), "en")
    assert "voice" not in notice(unsupported_key(hears=False, sees=True), "en")
