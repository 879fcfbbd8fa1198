"""Structural chunking with overlap, and the relevance floor (pure logic)."""

from __future__ import annotations

from mostrador.catalog.query import required_matches as catalog_required_matches
from mostrador.catalog.search import calibration_for
from mostrador.knowledge.chunking import MAX_CHARS, chunk_blocks, faq_chunk, overlap_tail, split_long
from mostrador.knowledge.extract import Block
from mostrador.knowledge.relevance import (
    Floor,
    Judgement,
    WordMatch,
    floor_for,
    question_words,
    relevance,
    required_matches,
)
from mostrador.llm.calibration import CALIBRATIONS, VectorCalibration


def sentence(n: int, words: int = 14) -> str:
    return f"Frase {n} " + " ".join(f"palabra{n}x{i}" for i in range(words)) + "."


def test_each_heading_starts_a_chunk_that_knows_its_heading_path() -> None:
    blocks = [
        Block("Envíos", 1),
        Block("Zonas", 2),
        Block("Enviamos a todo el país."),
        Block("Costos", 2),
        Block("Cuesta 10 USD."),
        Block("Garantía", 1),
        Block("Un año."),
    ]

    chunks = chunk_blocks(blocks)

    assert [(c.section, c.content) for c in chunks] == [
        ("Envíos > Zonas", "Enviamos a todo el país."),
        ("Envíos > Costos", "Cuesta 10 USD."),
        ("Garantía", "Un año."),
    ]
    assert [c.index for c in chunks] == [0, 1, 2]


def test_paragraphs_of_a_section_are_packed_up_to_the_target_and_continue_with_overlap() -> None:
    paragraphs = [" ".join(sentence(n * 10 + k) for k in range(3)) for n in range(8)]
    chunks = chunk_blocks([Block("Manual", 1)] + [Block(p, page=1 + n // 4) for n, p in enumerate(paragraphs)])

    assert len(chunks) > 1
    assert all(len(c.content) <= MAX_CHARS for c in chunks)
    for previous, following in zip(chunks, chunks[1:], strict=False):
        tail = overlap_tail(previous.content)
        assert tail and following.content.startswith(tail)  # the cut is covered
    joined = " ".join(c.content for c in chunks)
    assert all(p.split(". ")[0] in joined for p in paragraphs)  # nothing lost
    assert chunks[0].page == 1 and chunks[-1].page == 2


def test_a_new_section_starts_without_overlap() -> None:
    chunks = chunk_blocks([Block("A", 1), Block(sentence(1)), Block("B", 1), Block(sentence(2))])

    assert chunks[1].content == sentence(2)


def test_a_huge_paragraph_is_split_at_sentences_and_a_monster_sentence_at_words() -> None:
    text = " ".join(sentence(n) for n in range(40))
    pieces = split_long(text, 500)
    assert all(len(p) <= 500 for p in pieces) and " ".join(pieces) == text
    assert all(p.endswith(".") for p in pieces)

    monster = " ".join(["palabra"] * 400)
    assert all(len(p) <= 500 for p in split_long(monster, 500))


def test_an_faq_entry_is_one_chunk_whatever_its_length() -> None:
    chunk = faq_chunk("  ¿Hacen envíos? ", "Sí. " * 600)

    assert chunk.content.startswith("¿Hacen envíos?\nSí.") and chunk.index == 0


def test_question_words_drop_filler_and_fold_accents() -> None:
    # "por" stays here: Postgres drops its own stop words when it searches.
    assert question_words("¿Hacen ENVÍOS a Maracaibo, por favor?") == ["envios", "maracaibo", "por"]
    assert question_words("how can I pay?") == ["pay"]
    assert question_words("¿?") == []


def test_the_floor_needs_half_the_words_or_a_calibrated_meaning() -> None:
    floor = Floor(VectorCalibration(0.4, 0.6))
    # Product search's rounding (its required_matches), with knowledge's share: half the words.
    assert [required_matches(n) for n in (1, 2, 3, 4, 5)] == [1, 1, 2, 2, 3]
    assert [required_matches(n) for n in (1, 2, 3, 4, 5)] == [catalog_required_matches(n, 0.5) for n in (1, 2, 3, 4, 5)]

    def score(matched: int, meaningful: int, similarity: float | None, in_heading: int = 1) -> float | None:
        judged = relevance(WordMatch(meaningful, matched, in_heading), similarity, floor)
        return None if judged is None else judged.score

    assert score(1, 2, None) == 0.5  # "¿hacen envíos a Barquisimeto?" answered by "toda Venezuela"
    assert score(1, 3, None) is None  # one word of three: not an answer
    assert score(2, 3, None) == round(2 / 3, 4)
    assert score(0, 3, 0.39) is None  # neither floor
    assert score(0, 3, 0.4, in_heading=0) == 0.0  # meaning alone, just at the floor: admitted, scored 0
    assert score(0, 3, 0.5, in_heading=0) == 0.25  # meaning alone: half-way from floor to sure, halved
    assert score(3, 3, 0.8) == 1.0  # past "sure" counts 1
    assert score(0, 0, None, in_heading=0) is None


def test_words_found_only_in_a_chunk_s_text_need_more_and_with_vectors_the_meaning_floor_too() -> None:
    floor = Floor(VectorCalibration(0.4, 0.6))
    # "¿tienen neveras?": one word, in the text of the delivery policy, not in its heading.
    assert relevance(WordMatch(1, 1, in_heading=0), None, floor) is None
    assert relevance(WordMatch(1, 1, in_heading=1), None, floor) == Judgement(1.0, "heading")
    # With vectors a text-only match must clear the meaning floor (docs: "embeddings score it low").
    assert relevance(WordMatch(1, 1, in_heading=0), 0.05, floor) is None
    assert relevance(WordMatch(1, 1, in_heading=0), 0.5, floor) == Judgement(0.75, "meaning")
    # Offline: two words of three only in the text ("¿cuánto tarda el envío a Maracaibo?") answer...
    assert relevance(WordMatch(3, 2, in_heading=0), None, floor) == Judgement(round(2 / 3, 4), "text")
    # A question with one word besides product names ("¿tienen lavadoras con instalación?"): a mere
    # product mention, which the offline provider checks against the catalog...
    mention = WordMatch(2, 2, in_heading=0, outside_catalog=1, question_outside_catalog=1)
    assert relevance(mention, None, floor) == Judgement(1.0, "product_mention")
    # ...unlike "¿cuánto cuesta instalar un aire acondicionado?" (cuesta and instalar are its own words).
    service = WordMatch(4, 3, in_heading=0, outside_catalog=1, question_outside_catalog=2)
    assert relevance(service, None, floor) == Judgement(0.75, "text")
    # ...but not with vectors below the floor, nor when one word of two ("¿tienen neveras samsung?").
    assert relevance(WordMatch(3, 2, in_heading=0), 0.1, floor) is None
    assert relevance(WordMatch(2, 1, in_heading=0), None, floor) is None
    # Words naming a product in the catalog do not make a text match a policy answer
    # ("¿tienen aires acondicionados?" against the warranty text).
    assert relevance(WordMatch(2, 2, in_heading=0, outside_catalog=0), None, floor) is None
    assert relevance(WordMatch(2, 2, in_heading=0, outside_catalog=2), None, floor) == Judgement(1.0, "text")
    # ...but with a word that is not a product's, they may: "¿cuánto cuesta instalar un aire acondicionado?"
    # against the service prices (instalar and cuesta are not products; aire and acondicionado are).
    assert relevance(WordMatch(4, 4, in_heading=0, outside_catalog=2), None, floor) == Judgement(1.0, "text")
    assert relevance(WordMatch(4, 2, in_heading=0, outside_catalog=2), None, floor) is None  # 2 of 4 < two thirds


def test_the_similarity_floor_is_product_search_s_calibration_per_model(monkeypatch) -> None:
    monkeypatch.delenv("SEARCH_MIN_SIMILARITY", raising=False)
    assert floor_for("text-embedding-3-small").min_similarity == 0.40
    assert floor_for("gemini-embedding-001").min_similarity == 0.62
    assert floor_for("multilingual-e5-small").min_similarity == 0.86
    assert floor_for("something-else").min_similarity == 0.45
    for model, calibration in CALIBRATIONS.items():
        assert floor_for(model).calibration == calibration_for(model) == calibration
    # One setting moves both searches' floor.
    monkeypatch.setenv("SEARCH_MIN_SIMILARITY", "0.3")
    assert floor_for("text-embedding-3-small").min_similarity == 0.3
    assert calibration_for("text-embedding-3-small").floor == 0.3
