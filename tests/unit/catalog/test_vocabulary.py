"""The shipped synonym list as the search reads it (catalog/query.py plans queries with it)."""

from __future__ import annotations

import pytest

from mostrador.catalog.query import analyze
from mostrador.catalog.vocabulary import effective_synonyms


@pytest.mark.parametrize("query", ["hola, do you sell TVs?", "tvs", "¿tienen televisores?", "busco un tv"])
def test_an_english_plural_tvs_is_looked_up_as_televisor(query) -> None:
    """ "tvs" is too short for the plural rule (query._singular keeps three-letter words), so the list has it."""
    plan = analyze(query, effective_synonyms([]))

    assert any(("televisor",) in term.alternatives for term in plan.terms), plan


def test_no_tv_word_expands_to_tele_whose_stem_is_tela_s() -> None:
    """Postgres' Spanish stemmer makes both "tele" and "tela" "tel": "televisores" must not find sofas."""
    synonyms = effective_synonyms([])

    for word in ("televisor", "televisores", "tv", "tvs", "smart tv"):
        assert "tele" not in synonyms[word], word
    assert "televisor" in synonyms["tele"]  # "una tele" still asks for a TV


def _term(query: str, index: int = 0):
    return analyze(query, effective_synonyms([])).terms[index]


def test_a_group_holds_only_words_for_the_same_thing() -> None:
    """A broader word is no two-way synonym: "sofa" must not find every mueble, "split" not the
    "Freidora de Aire", "tostadora" not the sandwich maker, "hair dryer" not the "secadora"."""
    synonyms = effective_synonyms([])

    assert "mueble" not in synonyms["sofa"] and "mueble" not in synonyms["couch"]
    assert "aire" not in synonyms["split"] and "aire" not in synonyms["aire acondicionado"]
    assert "sandwichera" not in synonyms["tostadora"]
    assert "secador" not in synonyms["hair dryer"] and "secador" not in synonyms["secador pelo"]
    assert synonyms["mueble"] == ["furniture", "sofa"]  # one way: in Venezuela "un mueble" is a sofa


def test_the_customer_s_own_words_are_told_apart_from_the_vocabulary_s() -> None:
    sofas = _term("tienen sofas?")
    assert sofas.own_alternatives == (("sofas",), ("sofa",))  # a plural's singular is theirs too
    assert ("couch",) in sofas.alternatives and sofas.from_vocabulary
    assert not _term("licuadora oster", 1).from_vocabulary  # "oster": nothing added


@pytest.mark.parametrize(
    ("query", "alternatives"),
    [
        ("un aire", (("aire", "acondicionado"),)),
        ("secador", (("secador", "pelo"), ("secador", "cabello"))),
    ],
)
def test_a_word_the_vocabulary_narrows_is_replaced_by_what_it_means(query, alternatives) -> None:
    term = _term(query)
    assert term.alternatives == alternatives and term.kind


def test_a_narrowing_is_one_way_and_never_of_what_a_product_is_for() -> None:
    assert ("queen",) in _term("colchon queen", 1).alternatives  # "queen" and "queen size" are one thing
    air = analyze("freidora de aire", {"aire": ["aire acondicionado"]}).terms[1]
    assert air.complement and ("aire",) in air.alternatives  # "(freidora) de aire" is still air


def test_a_multi_word_kind_keeps_its_words_though_one_ends_a_greeting() -> None:
    assert _term("mesa de noche").text == "mesa noche" and _term("mesa de noche").kind
    plan = analyze("buenas noches, tienen neveras?", effective_synonyms([]))
    assert [t.text for t in plan.terms] == ["neveras"]  # "noches" only ranks
