import pytest

from mostrador.conversations.language import conversation_language, detect_language


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hola, ¿tienen neveras Samsung?", "es"),
        ("cuanto cuesta el televisor de 55", "es"),
        ("quiero una lavadora", "es"),
        ("Hi, do you have Samsung fridges?", "en"),
        ("how much is the 55 inch tv", "en"),
        ("Is it available in the Valencia store?", "en"),
    ],
)
def test_detects_spanish_and_english(text, expected):
    assert detect_language(text) == expected


@pytest.mark.parametrize("text", ["ok", "42", "👍", "", "Samsung RT38"])
def test_says_nothing_when_the_text_does_not_tell(text):
    assert detect_language(text) is None


def test_conversation_keeps_its_language_on_uninformative_messages():
    assert conversation_language("ok", "en") == "en"
    assert conversation_language("ok", None) == "es"
    assert conversation_language("thanks, and the price?", "es") == "en"
