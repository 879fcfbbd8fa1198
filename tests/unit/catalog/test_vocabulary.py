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
