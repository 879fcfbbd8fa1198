"""The relevance floor of knowledge search: when is a chunk an answer at all?

A search always has a "nearest" chunk, even for a question the knowledge base knows nothing about;
handing that to the model invites it to answer policy from an unrelated passage. So a chunk is a
result only if it clears at least one of two floors:

* words: it contains at least half (rounded up) of the question's meaningful words (stop words and
  question filler such as "hacen", "tienen", "how", "can" dropped; stems match, accents ignored);
* meaning: its embedding's cosine similarity to the question reaches the embedding model's floor
  (`min_similarity`: calibrated per model, KNOWLEDGE_MIN_SIMILARITY overrides).

Its score (0..1, shown to the model and kept in the citations) is the share of words matched and,
when vectors are in play, the mean of that and the similarity (a floor that was not cleared counts
0). The merger of the product-search branch may align this with the catalog's floor; the rule is
kept small and in one place for that reason.
"""

from __future__ import annotations

import math
import os
import re
import unicodedata
from dataclasses import dataclass

MIN_SHARE_OF_WORDS = 0.5
MIN_SIMILARITY_ENV = "KNOWLEDGE_MIN_SIMILARITY"
# Starting points per embedding model (cosine similarity of a question to a passage that answers it
# is lower than to one that merely repeats it); check them against your own data (docs/knowledge.md).
MODEL_MIN_SIMILARITY: dict[str, float] = {
    "text-embedding-3-small": 0.40,
    "text-embedding-3-large": 0.40,
    "gemini-embedding-001": 0.62,
}
DEFAULT_MIN_SIMILARITY = 0.45
MAX_WORDS = 16

# Words of a question that say nothing about what it is about (Spanish and English). Postgres drops
# its own stop words on top of these.
FILLER_WORDS = frozenset(
    """
    hacen hace hacer haces tienen tiene tener tienes hay puedo pueden puede puedes podria podrian
    quiero quisiera queria necesito saber sabe como cuando donde cual cuales cuanto cuanta cuantos
    cuantas que quien quienes porque favor hola buenas buenos dias tardes noches gracias ustedes usted
    ud uds me mi informacion info pregunta consulta ahi alli aqui ok okay si no do does did you your
    can could would should i me my want need know tell how when where what which who why please hello
    hi hey thanks thank is are there have has any about information question
    """.split()  # noqa: SIM905 (a word list reads best as text)
)
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class Floor:
    min_similarity: float = DEFAULT_MIN_SIMILARITY
    min_share: float = MIN_SHARE_OF_WORDS


def floor_for(model: str | None) -> Floor:
    override = os.environ.get(MIN_SIMILARITY_ENV, "").strip()
    if override:
        return Floor(float(override))
    if model:
        for name, value in MODEL_MIN_SIMILARITY.items():
            if model.startswith(name):
                return Floor(value)
    return Floor()


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def question_words(question: str) -> list[str]:
    """The words that say what the question is about, folded, in order, without repeats."""
    seen: list[str] = []
    for word in _WORD.findall(fold(question)):
        if word not in FILLER_WORDS and word not in seen and (len(word) > 1 or word.isdigit()):
            seen.append(word)
    return seen[:MAX_WORDS]


def required_matches(meaningful_words: int, share: float = MIN_SHARE_OF_WORDS) -> int:
    return max(1, math.ceil(meaningful_words * share))


def relevance(matched: int, meaningful_words: int, similarity: float | None, floor: Floor) -> float | None:
    """The chunk's score, or None when it clears neither floor (it is not an answer)."""
    lexical = 0.0
    if meaningful_words and matched >= required_matches(meaningful_words, floor.min_share):
        lexical = min(1.0, matched / meaningful_words)
    if similarity is None:
        return round(lexical, 4) if lexical else None
    meaning = similarity if similarity >= floor.min_similarity else 0.0
    if not lexical and not meaning:
        return None
    return round((lexical + meaning) / 2, 4)
