"""What a query asks for (catalog.query): its head, its kind terms, what follows "para"/"de", and limits
that are not sizes. Pure Python, on the shipped vocabulary."""

from __future__ import annotations

import pytest

from mostrador.catalog.query import analyze
from mostrador.catalog.vocabulary import SHIPPED_SYNONYMS


def _plan(query: str):
    return analyze(query, SHIPPED_SYNONYMS)


def _head(query: str) -> str | None:
    plan = _plan(query)
    head = plan.head(plan.segments[0])
    return None if head is None else plan.terms[head].text


@pytest.mark.parametrize(
    ("query", "head"),
    [
        ("tienen bicicleta electrica?", "bicicleta"),
        ("venden repuestos de nevera?", "repuestos"),
        ("cargador para laptop dell", "cargador"),
        ("control remoto para tv sony", "control remoto"),
        ("filtro de agua para la nevera", "filtro"),  # what follows "para"/"de" is what it is for
        ("cuanto cuesta el seguro de carro", "seguro"),
        ("stainless steel fridge", "fridge"),  # a kind word after a quality (English order)
        ("samsung galaxy a15", "samsung"),  # no kind word: the first one that is not a number
        ("un televisor de 100 pulgadas", "televisor"),  # never the number
        ("para calentar la comida rapido", "calentar comida"),  # a leading "para": the purpose asked for
        ("el 0412", None),  # numbers only
        ("comedor de 4 sillas", "comedor"),  # a count after "de" is followed by what it counts
    ],
)
def test_the_head_is_what_the_customer_asks_for(query, head):
    assert _head(query) == head


def test_kind_words_and_complements():
    terms = {t.text: t for t in _plan("cargador para laptop dell").terms}
    assert terms["cargador"].kind and not terms["cargador"].complement
    assert terms["laptop"].kind and terms["laptop"].complement
    assert not terms["dell"].kind
    # "carro" is a kind (what a part is for), no longer a quality that only ranks.
    assert [t.text for t in _plan("aire acondicionado para carro").terms] == ["aire acondicionado", "carro"]
    # A tenant's own word is a kind when it stands for one ("perol" -> olla).
    assert analyze("un perol", {**SHIPPED_SYNONYMS, "perol": ["olla"]}).terms[0].kind


def test_a_number_after_mas_or_menos_de_is_a_limit_not_a_size():
    assert [t.text for t in _plan("tv de 65 pulgadas por menos de 1000").terms] == ["tv", "65"]
    assert [t.text for t in _plan("taladro de más de 500 W").terms] == ["taladro"]
    assert [t.text for t in _plan("laptop under 600 dollars").terms] == ["laptop", "dollars"]
    assert [t.text for t in _plan("nevera de 300 litros").terms] == ["nevera", "300"]


def test_portatil_alone_is_a_laptop_but_a_laptop_is_not_any_portable_thing():
    assert ("laptop",) in _plan("un portatil").terms[0].alternatives
    assert ("portatil",) not in _plan("laptop").terms[0].alternatives


def test_a_model_number_is_letters_and_digits_in_one_word():
    terms = {t.text: t for t in _plan("hebben jullie de nevera samsung rt38 van 300 liter").terms}
    assert terms["rt38"].model_number
    assert not terms["300"].model_number  # a bare number is a size or a code's digits
    assert not terms["samsung"].model_number
