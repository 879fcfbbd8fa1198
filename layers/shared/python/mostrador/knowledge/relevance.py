"""The relevance floor of knowledge search: when is a chunk an answer at all?

A search always has a "nearest" chunk, even for a question the knowledge base knows nothing about;
handing that to the model invites it to answer policy from an unrelated passage. So a chunk is a
result only if it clears at least one of two floors:

* meaning: its embedding's cosine similarity to the question reaches the embedding model's floor.
  This is product search's calibration (llm/calibration.py: the same per-model floor and "sure"
  point, and SEARCH_MIN_SIMILARITY moves both searches' floor), so a deployment calibrates its
  model in one place;
* words: it contains at least half (rounded up) of the question's meaningful words (stop words and
  question filler such as "hacen", "tienen", "how", "can" dropped; stems match, accents ignored),
  counted with product search's `required_matches`.

Where it differs from product search, and why:

* The share is 0.5, not product search's 0.6 (which asks 2 of 2 words). A policy question carries
  words its answer does not repeat: a verb ("¿cuánto dura la garantía?") or a place or product
  ("¿hacen envíos a Barquisimeto?" is answered by "enviamos a toda Venezuela"). A product query is
  nouns and attributes where each word narrows ("iPhone 15" is not "iPhone 14"). At 0.6 both
  example questions find nothing without embeddings.
* No band around the best meaning hit: several passages may each answer part of a question.
* The score fuses words and meaning evenly: a chunk has no title/description split or quality
  words to weigh.

Its score (0..1, shown to the model and kept in the citations) is the share of words matched and,
when vectors are in play, the mean of that and the calibrated meaning (0 at the model's floor, 1 at
its "sure" similarity, as product search scales it), so scores mean the same under every model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mostrador.catalog.query import required_matches as _required_matches
from mostrador.catalog.vocabulary import fold
from mostrador.llm.calibration import DEFAULT_CALIBRATION, VectorCalibration, calibration_for

MIN_SHARE_OF_WORDS = 0.5
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
    calibration: VectorCalibration = DEFAULT_CALIBRATION
    min_share: float = MIN_SHARE_OF_WORDS

    @property
    def min_similarity(self) -> float:
        return self.calibration.floor


def floor_for(model: str | None) -> Floor:
    """The floor for questions embedded with `model` (None: words only)."""
    return Floor(calibration_for(model))


def question_words(question: str) -> list[str]:
    """The words that say what the question is about, folded, in order, without repeats."""
    seen: list[str] = []
    for word in _WORD.findall(fold(question)):
        if word not in FILLER_WORDS and word not in seen and (len(word) > 1 or word.isdigit()):
            seen.append(word)
    return seen[:MAX_WORDS]


def required_matches(meaningful_words: int, share: float = MIN_SHARE_OF_WORDS) -> int:
    return _required_matches(meaningful_words, share)


def relevance(matched: int, meaningful_words: int, similarity: float | None, floor: Floor) -> float | None:
    """The chunk's score, or None when it clears neither floor (it is not an answer)."""
    by_words = bool(meaningful_words) and matched >= required_matches(meaningful_words, floor.min_share)
    lexical = min(1.0, matched / meaningful_words) if by_words else 0.0
    if similarity is None:
        return round(lexical, 4) if by_words else None
    by_meaning = similarity >= floor.calibration.floor
    if not (by_words or by_meaning):
        return None
    return round((lexical + floor.calibration.meaning(similarity)) / 2, 4)
