"""The customer's language: py3langid over short chat messages, and when it sets or switches a
conversation's language. Accuracy is measured on labelled sets next to this file."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from mostrador.conversations.language import (
    DEFAULT_LANGUAGE,
    SUPPORTED,
    TEXT_LANGUAGES,
    conversation_language,
    detect,
    detect_language,
    language_name,
    language_words,
    localized,
)
from tests.unit.conversations.brand_openers import UNLISTED_BRANDS, brand_model_openers, unlisted_brand_openers

HERE = Path(__file__).parent
ROOT = HERE.parents[2]


def samples(name: str) -> list[tuple[str, str]]:
    rows = []
    for line in (HERE / name).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            label, text = line.split("\t", 1)
            rows.append((label, text))
    return rows


TUNING = samples("language_samples.tsv")
HOLDOUT = samples("language_holdout.tsv")
# Shopping messages ("busco una nevera samsung", "cerco una lavatrice"): the Spanish of the default
# market and genuine Italian, Portuguese, French, English and German; tuned on / held out like the above.
SHOPPING = samples("language_shopping.tsv")
SHOPPING_HOLDOUT = samples("language_shopping_holdout.tsv")
SPANISH_SHOPPING = [text for label, text in SHOPPING + SHOPPING_HOLDOUT if label == "es"]


def accuracy(rows: list[tuple[str, str]]) -> float:
    """A labelled message is right when detected as its language; an "und" one when nothing is named."""
    return sum((detect_language(text) or "und") == label for label, text in rows) / len(rows)


def test_the_labelled_sets_are_big_enough_and_cover_the_languages():
    counts = Counter(label for label, _ in TUNING)
    assert len(TUNING) >= 120
    assert all(counts[code] >= 30 for code in TEXT_LANGUAGES), counts
    assert counts["it"] >= 5 and counts["de"] >= 5 and counts["und"] >= 20
    assert {label for label, _ in TUNING + HOLDOUT} == {*SUPPORTED, "und"}


def test_accuracy_on_short_messages_is_above_the_floor():
    # Measured 0.989 on the tuning set and 0.944 on the held-out one (docs/conversations.md).
    assert accuracy(TUNING) >= 0.95
    assert accuracy(HOLDOUT) >= 0.9
    for code in SUPPORTED:
        own = [row for row in TUNING if row[0] == code]
        assert accuracy(own) >= 0.85, code


def test_a_wrong_language_is_never_named():
    """A miss may say "don't know" (the conversation keeps its language); naming a wrong language
    would answer the customer in it. Before the shopping words: "faz entrega?" and "dá pra parcelar?"
    were named Spanish."""
    wrong = [
        (label, text, found)
        for label, text in TUNING + HOLDOUT + SHOPPING + SHOPPING_HOLDOUT
        if (found := detect_language(text)) is not None and found != label
    ]
    assert wrong == []


# -- shopping messages: Spanish, the default market's language, stays Spanish ---------------------


def test_the_shopping_sets_are_big_enough_and_hold_other_languages_too():
    tuning, held = Counter(label for label, _ in SHOPPING), Counter(label for label, _ in SHOPPING_HOLDOUT)
    assert len(SPANISH_SHOPPING) >= 250 and tuning["es"] >= 150 and held["es"] >= 75
    assert all(tuning[code] >= 30 and held[code] >= 14 for code in ("en", "pt", "fr", "it")), (tuning, held)
    assert tuning["de"] >= 5 and held["de"] >= 4


def test_accuracy_on_shopping_messages_is_above_the_floor():
    # Measured 0.963 on the tuning set and 0.973 on the held-out one (before: 0.910 and 0.926).
    assert accuracy(SHOPPING) >= 0.95
    assert accuracy(SHOPPING_HOLDOUT) >= 0.9
    for code in ("es", "en", "pt", "fr", "it"):
        own = [row for row in SHOPPING if row[0] == code]
        assert accuracy(own) >= 0.85, code


def test_spanish_shopping_messages_keep_a_new_conversation_in_spanish():
    """270 Spanish shopping messages as a conversation's first: all stay Spanish, and all but bare
    product names ("nevera", "lavadora lg": no language, the default stays) are named Spanish, so they
    do not rest on the default. Before: 0.885 named Spanish, "busco una nevera grande" Italian."""
    kept = [text for text in SPANISH_SHOPPING if conversation_language(text, None, pinned=False) == "es"]
    assert len(kept) / len(SPANISH_SHOPPING) >= 0.98  # measured 1.0
    named = [text for text in SPANISH_SHOPPING if detect_language(text) == "es"]
    assert len(named) / len(SPANISH_SHOPPING) >= 0.93  # measured 0.952


@pytest.mark.parametrize("pinned", ["en", "pt", "fr", "it", "de"])
def test_spanish_shopping_messages_are_never_read_as_another_language(pinned):
    """Whatever the conversation's language, a Spanish shopping message never names a third one, and
    (but for bare product names) switches the conversation to Spanish. Before: "busco una nevera" and
    "me interesa la nevera" named Italian, and 0.75-0.79 switched."""
    third = [
        (text, found)
        for text in SPANISH_SHOPPING
        if (found := detect_language(text, pinned)) not in (None, "es", pinned)
    ]
    assert third == []
    switched = [text for text in SPANISH_SHOPPING if conversation_language(text, pinned) == "es"]
    assert len(switched) / len(SPANISH_SHOPPING) >= 0.88  # measured 0.907-0.926


def test_the_evaluation_queries_in_spanish_stay_spanish():
    """The search evaluation's queries (eval/data/queries.json, written for search, not for this: noun
    phrases, typos, codes, colloquial Venezuelan) as first messages. Before: "aire de 12000 btu en
    maracaibo" was named French."""
    queries = json.loads((ROOT / "eval/data/queries.json").read_text(encoding="utf-8"))
    english_codes = {"price of TV-0412", "is the OST4655 in stock?"}  # two "code" queries are English
    spanish = [q["query"] for q in queries if q["kind"] != "english" and q["query"] not in english_codes]
    assert len(spanish) >= 150
    assert [(text, found) for text in spanish if (found := detect_language(text)) not in (None, "es")] == []
    assert all(conversation_language(text, None, pinned=False) == "es" for text in spanish)


@pytest.mark.parametrize("text", ["busco una nevera samsung", "busco una nevera", "busco un televisor samsung"])
def test_the_reported_spanish_messages_are_spanish(text):
    """n-grams alone rank Italian first (0.79, 0.79, 0.64). Before the fix, as a first message they
    named no language, a hair under the 0.6 threshold (Italian at 0.599 for the first two), so only
    the default kept them Spanish; in an English conversation none switched, and "busco una nevera"
    was named Italian."""
    assert detect_language(text) == "es"
    assert detect_language(text, "en") == "es"
    assert conversation_language(text, None, pinned=False) == "es"
    assert conversation_language(text, "en") == "es"


def test_short_english_messages_are_not_answered_in_spanish():
    english = [text for label, text in TUNING + HOLDOUT if label == "en"]
    spanish = [text for text in english if conversation_language(text, DEFAULT_LANGUAGE, pinned=False) != "en"]
    assert spanish == []


@pytest.mark.parametrize("text", [text for label, text in TUNING + HOLDOUT if label == "und"])
def test_codes_names_emojis_and_ok_name_no_language(text):
    assert detect(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hi", "en"),
        ("do you have tvs?", "en"),
        ("obrigado", "pt"),
        ("bonjour, vous avez des frigos ?", "fr"),
        ("precio?", "es"),
        ("ok gracias", "es"),
        ("Hola, ¿tienen neveras Samsung?", "es"),
        ("Is it available in the Valencia store?", "en"),
    ],
)
def test_the_brief_examples(text, expected):
    assert detect_language(text) == expected


def test_words_that_show_a_language_leave_codes_links_and_emojis_out():
    assert language_words("¿Cuánto vale el XY-0412? 👍 https://x.co/a 10kg c'est l’iPhone") == [
        "cuánto",
        "vale",
        "el",
        "c'est",
        "l'iphone",
    ]


# -- the conversation's language ------------------------------------------------------------------


def test_a_first_message_that_names_a_language_sets_it_even_when_short():
    assert conversation_language("hi", "es", pinned=False) == "en"
    assert conversation_language("obrigado", "es", pinned=False) == "pt"
    assert conversation_language("merci", None, pinned=False) == "fr"


def test_a_first_message_that_names_nothing_keeps_the_default():
    for text in ("ok", "👍", "XY-0412", "Samsung Galaxy S24 Ultra", ""):
        assert conversation_language(text, None, pinned=False) == DEFAULT_LANGUAGE
        assert conversation_language(text, "es", pinned=False) == "es"


@pytest.mark.parametrize(
    "text",
    [
        "ok",
        "👍",
        "RT38K5930SL",
        "iPhone 15 Pro",
        "Samsung Galaxy S24 Ultra",
        "si",
        "",
        "LG ThinQ",
        "Haier Side by Side",
    ],
)
def test_uninformative_messages_never_flip_a_pinned_conversation(text):
    assert conversation_language(text, "en") == "en"
    assert conversation_language(text, "pt") == "pt"


@pytest.mark.parametrize(("text", "pinned"), [("thanks", "es"), ("gracias", "en"), ("merci", "es"), ("hola", "pt")])
def test_a_single_word_does_not_switch_a_pinned_conversation(text, pinned):
    assert conversation_language(text, pinned) == pinned


@pytest.mark.parametrize(
    ("text", "pinned", "expected"),
    [
        ("thanks, and the price?", "es", "en"),
        ("do you have tvs?", "es", "en"),
        ("vocês têm geladeira?", "es", "pt"),
        ("tienen lavadoras samsung", "en", "es"),
        ("je cherche une télé 55 pouces", "en", "fr"),
    ],
)
def test_a_clear_message_in_another_language_switches(text, pinned, expected):
    found = detect(text)
    assert found is not None and found.clear
    assert conversation_language(text, pinned) == expected


# -- a first message that is only a brand and a model -------------------------------------------


def pinned_elsewhere(openers: list[str], brands: list[str] | None = None) -> list[tuple[str, str]]:
    """Openers that would set a conversation to a language other than the deployment's."""
    found = [
        (text, conversation_language(text, None, pinned=False, catalog_brands=(lambda: brands) if brands else None))
        for text in openers
    ]
    return [(text, language) for text, language in found if language != DEFAULT_LANGUAGE]


def test_brand_and_model_openers_keep_the_default_language():
    """2,619 generated "Brand Model" openers (brands x series x model shapes; brand_openers.py). Before
    product names were taken out, 12.4% of them pinned English, German, French, Italian or Portuguese."""
    openers = brand_model_openers()
    assert len(openers) >= 2500
    wrong = pinned_elsewhere(openers)
    assert len(wrong) / len(openers) <= 0.03, wrong[:20]  # measured 0.1%


def test_openers_of_brands_the_shipped_list_does_not_know():
    """Brands only a tenant's catalog names: the rule alone keeps most openers in the default, the
    catalog's brands the rest. Before: 14.7% pinned elsewhere."""
    openers = unlisted_brand_openers()
    assert len(pinned_elsewhere(openers)) / len(openers) <= 0.03  # measured 1.5%
    assert pinned_elsewhere(openers, brands=list(UNLISTED_BRANDS)) == []


def test_the_evaluation_catalogs_product_names_as_first_messages():
    """Product names of another catalog (eval/data/catalog.json, written for search, not for this),
    sent as they are: Spanish product names with brands, English series and model codes."""
    catalog = json.loads((ROOT / "eval/data/catalog.json").read_text(encoding="utf-8"))
    names = sorted({item["itemName"] for item in catalog})
    brands = sorted({item["brand"] for item in catalog if item.get("brand")})
    assert len(names) >= 100
    assert len(pinned_elsewhere(names)) / len(names) <= 0.03  # measured 0 of 180 (15 at first, 1 before catalog words)
    assert len(pinned_elsewhere(names, brands)) / len(names) <= 0.01  # measured 0


@pytest.mark.parametrize(
    "text",
    [
        "Samsung Galaxy",
        "LG OLED55",
        "Oster licuadora",
        "Mabe 17 kg",
        "Xiaomi Redmi Note 13",
        "LG ThinQ",
        "Haier Side by Side",
        "Whirlpool Xpert",
        "Sony PlayStation 2024",
        "Oppo Reno Lite",
        "Bosch Serie X",
    ],
)
def test_the_reviewers_brand_openers_stay_in_the_default_language(text):
    assert conversation_language(text, None, pinned=False) == DEFAULT_LANGUAGE


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hi", "en"),
        ("any samsung phones?", "en"),
        ("do you have tvs?", "en"),
        ("iphone 15 price?", "en"),
        ("samsung phones please", "en"),
        ("hi, do you have the Samsung Galaxy S24 Ultra?", "en"),
        ("vous avez le galaxy s24 ?", "fr"),
        ("preço do iphone 15", "pt"),
        ("quanto costa il 55?", "it"),  # a plain number is a price or a size, not a product name
        ("hola, tienen el iphone 15?", "es"),
    ],
)
def test_messages_with_a_brand_and_words_of_a_language_still_set_it(text, expected):
    assert conversation_language(text, None, pinned=False) == expected


def test_the_catalogs_brands_are_read_only_when_the_language_would_change():
    calls: list[str] = []

    def brands() -> list[str]:
        calls.append("read")
        return ["Sindelen"]

    for text in ("hola", "👍", "Samsung Galaxy", "tienen cocinas Sindelen?"):
        assert conversation_language(text, None, pinned=False, catalog_brands=brands) == "es"
    assert calls == []
    assert conversation_language('Sindelen Flow 65"', None, pinned=False, catalog_brands=brands) == "es"
    assert conversation_language("hi", None, pinned=False, catalog_brands=brands) == "en"
    assert calls == ["read", "read"]


def test_a_brand_named_like_a_chat_word_does_not_hide_it():
    assert conversation_language("hello", None, pinned=False, catalog_brands=lambda: ["Hello", "Bonjour"]) == "en"
    assert conversation_language("bonjour", None, pinned=False, catalog_brands=lambda: ["Bonjour"]) == "fr"


# -- languages outside the six ---------------------------------------------------------------------

# Customers writing a language the restricted identifier cannot name: Latin-script languages py3langid
# names over all its languages, and other scripts. Tuned on / held out like the sets above.
OTHER = samples("language_other.tsv")
OTHER_HOLDOUT = samples("language_other_holdout.tsv")


def test_messages_in_other_languages_are_named_their_language():
    # Measured 59/61 and 26/27 (docs/conversations.md); before, 0: py3langid chose among the six only.
    assert accuracy(OTHER) >= 0.9
    assert accuracy(OTHER_HOLDOUT) >= 0.9
    assert len({label for label, _ in OTHER}) >= 20


def test_a_message_in_another_language_is_never_named_one_of_the_six():
    """Before: "hallo, hebben jullie een koelkast?" was German (0.957), Polish, Swedish and Hungarian
    Spanish; a miss now says "don't know", which keeps the conversation's language."""
    named = [(label, text) for label, text in OTHER + OTHER_HOLDOUT if detect_language(text) in SUPPORTED]
    assert named == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hallo, hebben jullie een koelkast?", "nl"),
        ("dzień dobry, czy macie lodówkę?", "pl"),
        ("hur mycket kostar tvättmaskinen?", "sv"),
        ("merhaba, buzdolabınız var mı?", "tr"),
        ("здравствуйте, у вас есть холодильник?", "ru"),
        ("привет", "ru"),
        ("скільки коштує ця пральна машина?", "uk"),
        ("مرحبا، هل عندكم ثلاجة؟", "ar"),
        ("こんにちは、冷蔵庫はありますか？", "ja"),
        ("这台洗衣机多少钱？", "zh"),
        ("안녕하세요, 냉장고 있어요?", "ko"),
        ("שלום, יש לכם מקרר?", "he"),
        ("γεια σας, έχετε ψυγείο;", "el"),
        ("สวัสดีครับ มีตู้เย็นไหม", "th"),
        ("नमस्ते, क्या आपके पास फ्रिज है?", "hi"),
        ("у вас есть Samsung RT38?", "ru"),  # a brand and a code inside Cyrillic
    ],
)
def test_the_audits_messages_name_their_language(text, expected):
    assert conversation_language(text, None, pinned=False) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hola", "es"),
        ("hi", "en"),
        ("tienen neveras?", "es"),
        ("busco una nevera", "es"),
        ("cuanto vale el televisor de 55", "es"),  # 0.47 Venetian over all of py3langid's languages
        ("busco nevera pequeña para un apartamento", "es"),  # 0.54 Galician
        ("can i pay cash?", "es"),  # names nothing (Somali is its best guess): the default
        ("do you have tvs?", "en"),
        ("il me faut un matelas double", "fr"),  # 0.33 Occitan
    ],
)
def test_short_messages_of_the_six_are_not_read_as_a_neighbour(text, expected):
    assert conversation_language(text, None, pinned=False) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("здравствуйте, у вас есть холодильник?", "ru"),
        ("この洗濯機はいくらですか？", "ja"),  # one token: words are counted in characters
        ("hallo, hebben jullie een koelkast?", "nl"),
    ],
)
def test_a_clear_message_in_another_language_switches_a_pinned_conversation(text, expected):
    assert conversation_language(text, "es") == expected
    # ...and a Spanish message switches it back; "ok" or a code does not.
    assert conversation_language("ok", expected) == expected
    assert conversation_language("XY-0412", expected) == expected
    assert conversation_language("hola, tienen neveras samsung?", expected) == "es"


def test_one_word_in_another_script_does_not_switch_a_pinned_conversation():
    assert conversation_language("спасибо", "es") == "es"
    assert conversation_language("谢谢", "en") == "en"
    assert conversation_language("спасибо", None, pinned=False) == "ru"


def test_a_script_shared_by_several_languages_falls_back_to_its_most_spoken_one():
    # py3langid cannot tell a short Cyrillic message's language apart: Russian.
    found = detect("ищу телевизор 55 дюймов")
    assert found is not None and found.language == "ru"
    found = detect("здравейте, имате ли хладилник?")  # clearly Bulgarian
    assert found is not None and found.language == "bg"


# -- names and texts -----------------------------------------------------------------------------


def test_language_names_and_text_fallback():
    assert [language_name(code) for code in ("es", "en", "pt-BR", "fr", "it", "de")] == [
        "Spanish",
        "English",
        "Portuguese",
        "French",
        "Italian",
        "German",
    ]
    assert [language_name(code) for code in ("nl", "ru", "ar", "ja", "zh-TW")] == [
        "Dutch",
        "Russian",
        "Arabic",
        "Japanese",
        "Chinese",
    ]
    assert language_name("xx") == "xx"
    texts = {"es": "hola", "en": "hello", "pt": "olá", "fr": "bonjour"}
    assert [localized(texts, code) for code in ("pt_BR", "fr", "it", "de", "nl")] == [
        "olá",
        "bonjour",
        "hello",
        "hello",
        "hello",
    ]


def test_the_model_loads_only_when_a_message_has_words_to_detect():
    """The reply function's cold start must not pay for the model before a message needs it."""
    code = (
        "import sys\n"
        "import functions.reply.handler\n"
        "from mostrador.conversations import language\n"
        "assert 'py3langid' not in sys.modules and not language.model_loaded()\n"
        "language.conversation_language('👍 XY-0412 42', 'es', pinned=False)\n"
        "language.conversation_language('thanks', 'es')  # one word cannot switch a pinned language\n"
        "language.conversation_language('Samsung Galaxy S24', 'es')  # nor a brand and a model\n"
        "assert not language.model_loaded()\n"
        "assert language.detect_language('vous avez des frigos ?') == 'fr'\n"
        "assert language.model_loaded()\n"
    )
    env_path = f"{ROOT / 'layers/shared/python'}:{ROOT}"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": env_path, "AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("text", "language"),
    [("nevera " * 50_000, "es"), ("hola gracias " * 20_000, "es"), ("thanks please " * 20_000, "en")],
)
def test_a_long_message_repeating_a_word_still_names_its_language(text, language):
    # Each catalog or chat word multiplies the odds: tens of thousands of them once overflowed exp().
    assert detect_language(text) == language
