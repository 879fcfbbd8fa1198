"""Every interactive field within Meta's documented limits (docs/channels.md cites the pages), and the
senders putting choices and photos on the wire so the fake Graph server (which refuses what Meta
refuses) accepts them."""

from __future__ import annotations

import pytest

from mostrador.channels import interactive as limits
from mostrador.channels.base import Choice, ChoiceSet, OutboundMessage
from mostrador.channels.interactive import (
    distinct_titles,
    item_code_from_payload,
    messenger_quick_replies,
    numbered_lines,
    product_payload,
    shorten,
    whatsapp_interactive,
)
from mostrador.channels.messenger import MessengerSender
from mostrador.channels.whatsapp import WhatsAppSender
from mostrador.config import get_settings
from tests.fakes.platforms import Platforms, messenger_message_problem, platforms_fixture, whatsapp_message_problem  # noqa: F401

LONG = "Nevera Samsung RT38 No Frost de dos puertas con dispensador de agua, 380 litros, color plata"


def choice_set(count: int, *, title: str = LONG, description: str = "USD 1.299,00 · disponible " * 5) -> ChoiceSet:
    return ChoiceSet(
        items=tuple(
            Choice(id=product_payload(f"CODE-{n}"), title=f"{title} {n}", description=description) for n in range(count)
        ),
        prompt="¿Cuál te interesa?",
        button="Ver todos los productos disponibles",  # 35 characters: must be cut to 20
        section="Productos de línea blanca y más",  # 31: cut to 24
    )


def test_shorten_keeps_whole_words_and_never_exceeds_the_limit():
    assert shorten("Nevera Samsung", 24) == "Nevera Samsung"
    cut = shorten(LONG, 24)
    assert len(cut) <= 24 and cut.endswith("…") and LONG.startswith(cut[:-1])
    assert shorten("Supercalifragilisticexpialidocious", 10) == "Supercali…"
    for limit in (1, 2, 5, 20, 24, 72):
        assert len(shorten(LONG, limit)) <= limit


def test_titles_cut_alike_stay_unique():
    titles = distinct_titles([LONG + " A", LONG + " B", LONG + " C"], 20)
    assert len(set(titles)) == 3 and all(len(t) <= 20 for t in titles)
    assert [t[-1] for t in titles] == ["A", "B", "C"]  # the letter that tells them apart, not a position
    assert distinct_titles(["A", "A", "A 2"], 20) == ["A", "A 3", "A 2"]  # a suffix never copies another title
    assert distinct_titles(["", ""], 20) == ["1", "2"]


TVS = [(f"TV-{size}", f"Televisor Samsung Crystal UHD de {size} pulgadas", size) for size in (43, 50, 55, 65)]
WASHERS = [(f"LAV-{kg}", f"Lavadora Samsung {kg} kg carga frontal inverter", kg) for kg in (10, 13, 17)]


def near_duplicates(products: list[tuple[str, str, int]], brand: str = "Samsung") -> ChoiceSet:
    return ChoiceSet(
        tuple(
            Choice(id=product_payload(code), title=name, description=f"USD {300 + n},00 · disponible", brand=brand)
            for code, name, n in products
        ),
        "¿Cuál te interesa?",
        "Ver productos",
        "Productos",
    )


@pytest.mark.parametrize("products", [TVS, WASHERS], ids=["tvs", "washers"])
def test_names_sharing_a_long_start_keep_what_tells_them_apart_on_every_channel(products):
    choices = near_duplicates(products)
    sizes = [f"{n} {'pulgadas' if n > 40 else 'kg'}" for _, _, n in products]
    # WhatsApp list rows (24): brand and size; the row description carries the whole name and price.
    other = [("SEC-7", "Secadora de ropa a gas de 7 kg", 7)]  # a fourth product: a list, not buttons
    listed = whatsapp_interactive(choices if len(products) > 3 else near_duplicates(products + other), "x")
    assert listed is not None and listed["type"] == "list"
    rows = listed["action"]["sections"][0]["rows"][: len(products)]
    for row, size, (_code, name, n) in zip(rows, sizes, products, strict=True):
        assert size in row["title"] and "Samsung" in row["title"] and len(row["title"]) <= 24
        assert row["description"].startswith(name) and f"USD {300 + n},00" in row["description"]
        assert len(row["description"]) <= 72
    # WhatsApp reply buttons (20, no description) and Messenger/Instagram quick replies (20).
    buttons = whatsapp_interactive(ChoiceSet(choices.items[:3], "¿Cuál?", "Ver", "P"), "x")
    assert buttons is not None and buttons["type"] == "button"
    button_titles = [b["reply"]["title"] for b in buttons["action"]["buttons"]]
    quick_titles = [q["title"] for q in messenger_quick_replies(choices)]
    for titles, wanted in ((button_titles, sizes[:3]), (quick_titles, sizes)):
        assert all(len(t) <= 20 for t in titles) and len({t.casefold() for t in titles}) == len(titles)
        assert all(size in title for title, size in zip(titles, wanted, strict=True)), titles
    assert whatsapp_message_problem({"type": "interactive", "interactive": listed}) is None
    assert whatsapp_message_problem({"type": "interactive", "interactive": buttons}) is None
    assert messenger_message_problem({"text": "x", "quick_replies": messenger_quick_replies(choices)}) is None


def test_without_a_known_brand_the_first_words_stay_and_a_cut_that_keeps_the_difference_is_kept():
    tvs = distinct_titles([name for _, name, _ in TVS], 24)
    assert tvs == ["Televisor 43 pulgadas", "Televisor 50 pulgadas", "Televisor 55 pulgadas", "Televisor 65 pulgadas"]
    assert distinct_titles([name for _, name, _ in TVS], 20) == [
        "43 pulgadas",
        "50 pulgadas",
        "55 pulgadas",
        "65 pulgadas",
    ]
    washers = distinct_titles([name for _, name, _ in WASHERS], 24)  # the plain cut already shows "10 kg"
    assert washers == ["Lavadora Samsung 10 kg…", "Lavadora Samsung 13 kg…", "Lavadora Samsung 17 kg…"]
    mixed = distinct_titles(
        [
            "Televisor Samsung Crystal UHD 50 pulgadas",
            "Televisor LG NanoCell 50 pulgadas",
            "Televisor Samsung Crystal UHD 55 pulgadas",
        ],
        20,
        ["Samsung", "LG", "Samsung"],
    )
    assert mixed == ["Samsung 50 pulgadas", "Televisor LG…", "Samsung 55 pulgadas"]


def test_a_row_whose_title_is_the_whole_name_shows_price_and_item_code():
    choices = ChoiceSet(
        (
            Choice(id=product_payload("NEV-RT38"), title="Nevera Samsung RT38", description="USD 499,00 · disponible"),
            Choice(id=product_payload("NEV-LG2"), title="Nevera LG GT32", description="USD 650,00 · agotado"),
            Choice(id=product_payload("NEV-MAB"), title="Nevera Mabe", description="USD 420,00 · disponible"),
            Choice(id=product_payload("NEV-WHR"), title="Nevera Whirlpool", description="USD 380,00 · disponible"),
        ),
        "¿Cuál?",
        "Ver",
        "Productos",
    )
    payload = whatsapp_interactive(choices, "x")
    assert payload is not None
    first = payload["action"]["sections"][0]["rows"][0]
    assert (first["title"], first["description"]) == ("Nevera Samsung RT38", "USD 499,00 · disponible · NEV-RT38")


def test_up_to_three_choices_are_reply_buttons_within_every_limit():
    payload = whatsapp_interactive(choice_set(3), "x" * 1024)
    assert payload is not None and payload["type"] == "button"
    buttons = payload["action"]["buttons"]
    assert len(buttons) == limits.WHATSAPP_BUTTONS_MAX == 3
    assert all(len(b["reply"]["title"]) <= limits.WHATSAPP_BUTTON_TITLE_MAX == 20 for b in buttons)
    assert all(len(b["reply"]["id"]) <= limits.WHATSAPP_BUTTON_ID_MAX == 256 for b in buttons)
    assert len(payload["body"]["text"]) <= limits.WHATSAPP_BODY_MAX == 1024
    assert whatsapp_message_problem({"type": "interactive", "interactive": payload}) is None


def test_four_to_ten_choices_are_a_list_within_every_limit_and_more_are_cut_to_ten():
    payload = whatsapp_interactive(choice_set(14), "¿Cuál?")
    assert payload is not None and payload["type"] == "list"
    action = payload["action"]
    assert len(action["button"]) <= limits.WHATSAPP_LIST_BUTTON_MAX == 20
    [section] = action["sections"]
    assert len(section["title"]) <= limits.WHATSAPP_SECTION_TITLE_MAX == 24
    rows = section["rows"]
    assert len(rows) == limits.WHATSAPP_LIST_ROWS_MAX == 10
    assert all(len(r["title"]) <= limits.WHATSAPP_ROW_TITLE_MAX == 24 for r in rows)
    assert all(len(r["description"]) <= limits.WHATSAPP_ROW_DESCRIPTION_MAX == 72 for r in rows)
    assert all(len(r["id"]) <= limits.WHATSAPP_ROW_ID_MAX == 200 for r in rows)
    assert len({r["title"] for r in rows}) == 10
    assert whatsapp_message_problem({"type": "interactive", "interactive": payload}) is None


def test_a_body_over_1024_is_cut_and_ids_over_the_limit_are_left_out():
    too_long_id = Choice(id="product:" + "X" * 300, title="Producto con código larguísimo")
    good = Choice(id=product_payload("OK-1"), title="Producto bueno")
    other = Choice(id=product_payload("OK-2"), title="Otro producto")
    choices = ChoiceSet((too_long_id, good, other), "¿Cuál?", "Ver", "Productos")
    payload = whatsapp_interactive(choices, "y" * 3000)
    assert payload is not None
    assert len(payload["body"]["text"]) == 1024
    assert [b["reply"]["id"] for b in payload["action"]["buttons"]] == ["product:OK-1", "product:OK-2"]
    only_bad = ChoiceSet((too_long_id,), "¿Cuál?", "Ver", "Productos")
    assert whatsapp_interactive(only_bad, "hola") is None


def test_quick_replies_are_at_most_13_with_titles_of_20_and_payloads_of_1000():
    replies = messenger_quick_replies(choice_set(20))
    assert len(replies) == limits.MESSENGER_QUICK_REPLIES_MAX == 13
    assert all(len(r["title"]) <= limits.MESSENGER_QUICK_REPLY_TITLE_MAX == 20 for r in replies)
    assert all(len(r["payload"]) <= limits.MESSENGER_QUICK_REPLY_PAYLOAD_MAX == 1000 for r in replies)
    assert messenger_message_problem({"text": "¿Cuál?", "quick_replies": replies}) is None
    huge = ChoiceSet((Choice(id="p" * 1001, title="x"),), "", "", "")
    assert messenger_quick_replies(huge) == []


def test_the_fake_refuses_what_meta_refuses():
    # So the round-trip tests that pass through it prove the limits hold on the wire.
    assert whatsapp_message_problem(
        {"type": "interactive", "interactive": {"type": "button", "body": {"text": "x"}, "action": {"buttons": [
            {"type": "reply", "reply": {"id": "a", "title": "t" * 21}}]}}}
    )  # fmt: skip
    assert messenger_message_problem(
        {"text": "x", "quick_replies": [{"content_type": "text", "title": "t", "payload": "p"}] * 14}
    )
    assert whatsapp_message_problem({"type": "image", "image": {"link": "https://x/y.jpg", "caption": "c" * 1025}})


def test_payloads_carry_the_item_code_and_numbered_lines_read_well():
    assert item_code_from_payload(product_payload("NEV-RT38")) == "NEV-RT38"
    assert item_code_from_payload("GET_STARTED") is None and item_code_from_payload("product:") is None
    lines = numbered_lines(choice_set(12, title="Nevera", description="USD 5").items)
    assert lines.splitlines()[0] == "1. Nevera 0 — USD 5" and len(lines.splitlines()) == limits.NUMBERED_MAX


# -- senders ---------------------------------------------------------------------------------------


def _out(channel: str, text: str, **extra: object) -> OutboundMessage:
    recipient = "584125550101" if channel == "whatsapp" else "psid-1"
    conversation = f"wa:106540352242922:{recipient}" if channel == "whatsapp" else f"fb:PAGE:{recipient}"
    return OutboundMessage("t1", channel, conversation, recipient, text, reply_to_message_id="wamid.IN", **extra)  # type: ignore[arg-type]


def test_whatsapp_sender_puts_a_long_reply_before_its_choices(platforms: Platforms):
    sender = WhatsAppSender.from_settings(get_settings())
    result = sender.send(_out("whatsapp", "z" * 1500, choices=choice_set(5)))
    text, listed = (r.json for r in platforms.meta.sent())
    assert text["type"] == "text" and text["context"] == {"message_id": "wamid.IN"}
    assert listed["type"] == "interactive" and listed["interactive"]["body"]["text"] == "¿Cuál te interesa?"
    assert len(result.platform_message_ids) == 2


def test_whatsapp_sender_sends_a_photo_by_link_with_its_caption(platforms: Platforms):
    sender = WhatsAppSender.from_settings(get_settings())
    sender.send(_out("whatsapp", "c" * 2000, image_url="https://cdn.example/a.jpg"))
    [photo] = [r.json for r in platforms.meta.sent()]
    assert photo["image"]["link"] == "https://cdn.example/a.jpg" and len(photo["image"]["caption"]) == 1024


def test_whatsapp_mark_read_shows_the_typing_indicator(platforms: Platforms):
    WhatsAppSender.from_settings(get_settings()).mark_read(_out("whatsapp", ""))
    [receipt] = platforms.meta.read_receipts()
    assert receipt.json == {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": "wamid.IN",
        "typing_indicator": {"type": "text"},
    }
    assert receipt.path == "/v21.0/106540352242922/messages"


@pytest.mark.parametrize("channel", ["messenger", "instagram"])
def test_messenger_sender_quick_replies_ride_on_the_last_piece_only(platforms: Platforms, channel: str):
    sender = MessengerSender.from_settings(get_settings())
    text = ("Una frase bastante larga para partir. " * 60).strip()  # over 2000 characters: two pieces at least
    sender.send(_out(channel, text, choices=choice_set(4)))
    sent = [r.json["message"] for r in platforms.meta.sent()]
    assert len(sent) >= 2 and all("quick_replies" not in m for m in sent[:-1])
    assert len(sent[-1]["quick_replies"]) == 4


def test_messenger_sender_sends_a_photo_as_an_attachment_by_url(platforms: Platforms):
    MessengerSender.from_settings(get_settings()).send(
        _out("messenger", "Nevera", image_url="https://cdn.example/a.jpg")
    )
    [photo] = [r.json for r in platforms.meta.sent()]
    assert photo["message"] == {
        "attachment": {"type": "image", "payload": {"url": "https://cdn.example/a.jpg", "is_reusable": True}}
    }
