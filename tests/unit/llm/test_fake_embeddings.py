"""The fake LLM server's embeddings carry meaning, so search tests elsewhere can rely on them."""

from __future__ import annotations

import math

from tests.fakes.llm_server import FakeLLMServer


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))  # the vectors are unit length


def test_synonyms_across_languages_point_the_same_way() -> None:
    server = FakeLLMServer()
    fridge = server.vector_for("fridge", 256)

    assert cosine(fridge, server.vector_for("Nevera", 256)) == 1.0
    assert cosine(fridge, server.vector_for("refrigeradoras", 256)) == 1.0  # plural folded
    assert cosine(server.vector_for("televisión", 256), server.vector_for("TV", 256)) == 1.0  # accent folded


def test_a_question_is_closer_to_its_product_than_to_others() -> None:
    server = FakeLLMServer()
    question = server.vector_for("do you have a cheap fridge?", 256)
    fridge = server.vector_for("Nevera Samsung de dos puertas, económica", 256)
    washer = server.vector_for("Lavadora LG de carga frontal", 256)

    assert cosine(question, fridge) > 0.5 > cosine(question, washer)


def test_vectors_are_unit_length_deterministic_and_sized() -> None:
    server = FakeLLMServer()
    vector = server.vector_for("Aire acondicionado split 12000 BTU", 32)

    assert len(vector) == 32
    assert math.isclose(sum(v * v for v in vector), 1.0)
    assert vector == FakeLLMServer().vector_for("Aire acondicionado split 12000 BTU", 32)
    assert math.isclose(sum(v * v for v in server.vector_for("", 8)), 1.0)


def test_the_concept_table_can_be_extended() -> None:
    server = FakeLLMServer()
    assert cosine(server.vector_for("sofa", 256), server.vector_for("mueble", 256)) < 1.0

    server.concepts.update({"sofa": "couch", "mueble": "couch"})

    assert cosine(server.vector_for("sofa", 256), server.vector_for("mueble", 256)) == 1.0
