from __future__ import annotations

import pytest

from mostrador.channels.text_limits import LIMITS, TextLimit, limit_for, split_text


def _words(pieces: list[str]) -> list[str]:
    return " ".join(pieces).split()


def test_short_text_is_one_piece() -> None:
    assert split_text("  Hola, ¿cómo estás?  ", LIMITS["messenger"]) == ["Hola, ¿cómo estás?"]
    assert split_text("   ", LIMITS["messenger"]) == []


def test_splits_at_sentence_ends_when_that_costs_no_extra_piece() -> None:
    text = "Tenemos la nevera. Cuesta 500 dólares. Hay stock en Caracas y Valencia."
    pieces = split_text(text, TextLimit(45, "chars"))
    assert pieces == ["Tenemos la nevera. Cuesta 500 dólares.", "Hay stock en Caracas y Valencia."]


def test_falls_back_to_word_boundaries_and_never_cuts_words() -> None:
    text = " ".join(f"palabra{i}" for i in range(200))
    limit = TextLimit(100, "chars")
    pieces = split_text(text, limit)
    assert all(len(p) <= 100 for p in pieces)
    assert _words(pieces) == text.split()
    # As few pieces as possible: each piece could not take the next word.
    for piece, following in zip(pieces, pieces[1:], strict=False):
        assert len(piece) + 1 + len(following.split()[0]) > 100


def test_sentence_preference_never_adds_pieces() -> None:
    # Cutting at the early sentence end would need three pieces; word cuts manage with two.
    text = "Sí. " + " ".join(["uno dos tres"] * 10)
    limit = TextLimit(70, "chars")
    greedy_words = split_text(text.replace(".", ""), limit)
    pieces = split_text(text, limit)
    assert len(pieces) == len(greedy_words) == 2
    assert _words(pieces) == text.split()


def test_instagram_limit_is_in_utf8_bytes() -> None:
    text = " ".join(["ñandú café"] * 150)  # multi-byte characters: bytes > chars
    pieces = split_text(text, limit_for("instagram"))
    assert all(len(p.encode("utf-8")) <= 1000 for p in pieces)
    assert any(len(p) < 1000 < len(p.encode("utf-8")) + 200 for p in pieces)
    assert _words(pieces) == text.split()


@pytest.mark.parametrize(
    ("channel", "limit", "unit"),
    [
        ("whatsapp", 4096, "chars"),
        ("messenger", 2000, "chars"),
        ("instagram", 1000, "bytes"),
        ("wa", 4096, "chars"),
        ("ig", 1000, "bytes"),
        ("fb", 2000, "chars"),
    ],
)
def test_channel_limits(channel: str, limit: int, unit: str) -> None:
    assert limit_for(channel) == TextLimit(limit, unit)


def test_a_word_longer_than_the_limit_is_the_only_thing_cut() -> None:
    url = "https://example.com/" + "x" * 150
    pieces = split_text(f"Mira {url} gracias", TextLimit(100, "chars"))
    assert all(len(p) <= 100 for p in pieces)
    assert "".join(pieces).replace(" ", "") == f"Mira{url}gracias"
    assert pieces[0] == "Mira"


def test_newlines_count_as_boundaries() -> None:
    text = "Opciones:\n- Nevera A 500$\n- Nevera B 650$\n- Nevera C 700$"
    pieces = split_text(text, TextLimit(32, "chars"))
    assert len(pieces) == 2
    assert all(len(p) <= 32 for p in pieces)
    assert pieces[0] == "Opciones:\n- Nevera A 500$"
