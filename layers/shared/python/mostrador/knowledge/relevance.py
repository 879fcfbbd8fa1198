"""The relevance floor of knowledge search: when is a chunk an answer at all?

A search always has a "nearest" chunk, even for a question the knowledge base knows nothing about;
handing that to the model invites it to answer policy from an unrelated passage. So a chunk is a
result only if it clears one of these floors:

* words in its heading: it contains at least half (rounded up) of the question's meaningful words
  (stop words and question filler such as "hacen", "tienen", "how", "can" dropped; stems match,
  accents ignored; counted with product search's `required_matches`) AND at least one of them is in
  its heading: the document title, the section heading path, or an FAQ entry's question;
* meaning (when vectors are in play): its embedding's cosine similarity to the question reaches the
  embedding model's floor. This is product search's calibration (llm/calibration.py: the same
  per-model floor and "sure" point, and SEARCH_MIN_SIMILARITY moves both searches' floor);
* words in its text only (offline, no vectors): at least two meaningful words and two thirds of
  them, at least one of which names nothing in the catalog (a product name or brand): "¿tienen
  aires acondicionados?" is a product question even though the warranty text mentions them, while
  "¿cuánto cuesta instalar un aire acondicionado?" is a question about a service's price. With
  vectors this is not enough by itself: such a chunk must clear the meaning floor.

Where it differs from product search, and why:

* The share is 0.5, not product search's 0.6 (which asks 2 of 2 words). A policy question carries
  words its answer does not repeat: a verb ("¿cuánto dura la garantía?") or a place or product
  ("¿hacen envíos a Barquisimeto?" is answered by "enviamos a toda Venezuela"). A product query is
  nouns and attributes where each word narrows ("iPhone 15" is not "iPhone 14"). At 0.6 both
  example questions find nothing without embeddings. The heading requirement is what keeps a
  one-word product question from matching any passage that mentions the product.
* No band around the best meaning hit: several passages may each answer part of a question.
* The score fuses words and meaning evenly: a chunk has no title/description split or quality
  words to weigh.

Its score (0..1, shown to the model and kept in the citations) is the share of words matched (when
at least half matched) and, when vectors are in play, the mean of that and the calibrated meaning (0
at the model's floor, 1 at its "sure" similarity, as product search scales it), so scores mean the
same under every model. `Judgement.match` says which floor admitted it: "heading", "meaning", "text",
or "product_mention" (words in its text only, for a question with fewer than two words besides
product names: "¿tienen lavadoras con instalación?"): for those the offline provider tries the
catalog too, and products it finds win.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mostrador.catalog.query import required_matches as _required_matches
from mostrador.catalog.vocabulary import fold
from mostrador.llm.calibration import DEFAULT_CALIBRATION, VectorCalibration, calibration_for

MIN_SHARE_OF_WORDS = 0.5
# Words found only in a chunk's text (no heading word, no vectors): at least this many and this share.
MIN_TEXT_WORDS = 2
MIN_SHARE_OF_TEXT_WORDS = 2 / 3
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
    venden vende vendes busco buscando buscaba consigo consiguen
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


@dataclass(frozen=True)
class WordMatch:
    """How a chunk matches the question's meaningful words."""

    meaningful: int  # the question's meaningful words (as Postgres searches them)
    matched: int  # of them, found anywhere in the chunk
    in_heading: int = 0  # of them, found in its document title, section heading or FAQ question
    outside_catalog: int | None = None  # of the matched, those naming nothing in the catalog (None: all)
    question_outside_catalog: int | None = None  # the question's words naming nothing in the catalog (None: all)


@dataclass(frozen=True)
class Judgement:
    score: float
    match: str  # heading, meaning, text or product_mention: the floor that admitted the chunk


def relevance(words: WordMatch, similarity: float | None, floor: Floor) -> Judgement | None:
    """The chunk's score and how it matched, or None when it clears no floor (it is not an answer)."""
    meaningful, matched = words.meaningful, words.matched
    enough = bool(meaningful) and matched >= required_matches(meaningful, floor.min_share)
    lexical = min(1.0, matched / meaningful) if enough else 0.0
    by_heading = enough and words.in_heading >= 1
    policy_words = matched if words.outside_catalog is None else min(matched, words.outside_catalog)
    by_text = (
        enough
        and matched >= MIN_TEXT_WORDS
        and matched >= required_matches(meaningful, MIN_SHARE_OF_TEXT_WORDS)
        and policy_words >= 1
    )
    if similarity is None:
        if by_heading:
            return Judgement(round(lexical, 4), "heading")
        if by_text:
            # A question with fewer than two words of its own besides product names ("¿tienen lavadoras con
            # instalación?", "¿cuánto cuesta un aire acondicionado?") may be a product question after all.
            own = meaningful if words.question_outside_catalog is None else words.question_outside_catalog
            return Judgement(round(lexical, 4), "text" if own >= MIN_TEXT_WORDS else "product_mention")
        return None
    # Vectors in play: words found only in the text must clear the meaning floor too.
    by_meaning = similarity >= floor.calibration.floor
    if not (by_heading or by_meaning):
        return None
    score = round((lexical + floor.calibration.meaning(similarity)) / 2, 4)
    return Judgement(score, "heading" if by_heading else "meaning")
