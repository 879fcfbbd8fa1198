"""Typo tolerance without pg_trgm (the embedded PostgreSQL has no contrib extensions): the words of a
tenant's catalog, and for a query word the catalog does not know, the catalog words one or two edits
away ("refirgerador" -> "refrigerador", "samgsung" -> "samsung", "licudora" -> "licuadora").

Candidates come from a symmetric-delete index (every word with one letter dropped points to it), so a
lookup costs a few dictionary reads instead of a distance to every catalog word.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

MIN_LENGTH = 4  # shorter words have too many neighbours to guess from
TWO_EDITS_FROM = 8  # words this long may be two edits off
LEXICON_TTL_SECONDS = 300.0


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def edit_distance(a: str, b: str, limit: int = 2) -> int:
    """Damerau-Levenshtein (optimal string alignment) distance; anything above `limit` is limit + 1."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


@dataclass
class Lexicon:
    """A catalog's words and how many products use each."""

    counts: dict[str, int]
    _index: dict[str, list[str]]

    @classmethod
    def of(cls, words: Iterable[tuple[str, int]]) -> Lexicon:
        counts = {w: n for w, n in words if len(w) >= 3 and not w.isdigit()}
        index: dict[str, list[str]] = {}
        for word in counts:
            for key in {word, *_deletes(word)}:
                index.setdefault(key, []).append(word)
        return cls(counts, index)

    def __contains__(self, word: str) -> bool:
        return word in self.counts

    def corrections(self, word: str) -> list[str]:
        """Catalog words closest to an unknown `word`, most used first; none for known or short words."""
        if len(word) < MIN_LENGTH or word in self.counts or word.isdigit():
            return []
        limit = 1 if len(word) < TWO_EDITS_FROM else 2
        candidates = {c for key in {word, *_deletes(word)} for c in self._index.get(key, ())}
        scored = [(edit_distance(word, c, limit), -self.counts[c], c) for c in candidates]
        scored = [s for s in scored if s[0] <= limit]
        if not scored:
            return []
        best = min(s[0] for s in scored)
        return [c for d, _, c in sorted(scored) if d == best][:2]


class LexiconCache:
    """One lexicon per tenant, rebuilt after LEXICON_TTL_SECONDS: a product added a moment ago is found
    at once, only its words' misspellings wait for the next rebuild."""

    def __init__(self, ttl: float = LEXICON_TTL_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._entries: dict[tuple[str, str], tuple[float, Lexicon]] = {}

    def get(self, key: tuple[str, str], load: Callable[[], Iterable[tuple[str, int]]]) -> Lexicon:
        now = self.clock()
        entry = self._entries.get(key)
        if entry is None or now - entry[0] > self.ttl:
            entry = (now, Lexicon.of(load()))
            self._entries[key] = entry
        return entry[1]

    def clear(self) -> None:
        self._entries.clear()
