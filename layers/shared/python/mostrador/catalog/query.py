"""What a search query asks for: its meaningful terms (with the ways the catalog may write each), the
qualities that only rank ("grande", "barato"), and the item codes it may contain.

Pure functions: the database turns the words into full-text queries (db/search_repository.py).
The text is cut the way the database cuts catalog text (migration 006, mostrador_search_text):
accents and case folded, separators inside a word split (`XY-0412` -> `xy` `0412`, also kept whole
as `xy0412`), a number glued to its unit split (`17kg` -> `17 kg`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from mostrador.catalog.vocabulary import KIND_WORDS, MAX_TERM_WORDS, SOFT_WORDS, STOP_WORDS, UNITS, fold

MAX_TERMS = 8
_CHUNK = re.compile(r"[a-z0-9]+(?:[-_/.,+][a-z0-9]+)*")
_PART = re.compile(r"[a-z0-9]+")
_NUMBER_UNIT = re.compile(rf"^([0-9]+)({UNITS})$")


@dataclass(frozen=True)
class Term:
    """One thing the customer said, and each way the catalog may write it (all words of one way must match)."""

    text: str
    alternatives: tuple[tuple[str, ...], ...]
    # Names a kind of product ("nevera", "cargador", "repuestos", "carro"; vocabulary.KIND_WORDS): what a
    # product is or what it is for, never a quality. A kind term must be matched, never left out.
    kind: bool = False
    # Follows "para"/"de" ("laptop" in "cargador para laptop"): a kind term there must be matched.
    complement: bool = False
    listed: bool = False  # the vocabulary has it: spelt right, never "corrected" to a catalog word
    # How many of the first `alternatives` are the customer's own words (as written, joined, spelt
    # right); the rest come from the vocabulary and count less (catalog.search: SearchTuning.synonym_match).
    # None: all of them.
    own: int | None = None

    @property
    def own_alternatives(self) -> tuple[tuple[str, ...], ...]:
        return self.alternatives if self.own is None else self.alternatives[: self.own]

    @property
    def from_vocabulary(self) -> bool:
        """Some of its alternatives are the vocabulary's, not the customer's."""
        return self.own is not None and self.own < len(self.alternatives)

    @property
    def words(self) -> set[str]:
        return {w for alternative in self.alternatives for w in alternative}

    @property
    def numeric(self) -> bool:
        """A bare number or a code's digits ("65", "0412"): never evidence of a product by itself."""
        return self.text.replace(" ", "").isdigit()

    @property
    def model_number(self) -> bool:
        """Letters and digits in one word ("rt38", "a15", "ue55"): a model the customer copied from a
        product's name, evidence of that product whatever language the rest of the message is in."""
        text = self.text.replace(" ", "")
        return not text.isdigit() and not text.isalpha() and text.isalnum()


@dataclass(frozen=True)
class QueryPlan:
    terms: tuple[Term, ...]  # meaningful: each counts toward the relevance floor
    soft: tuple[Term, ...]  # qualities: they only rank
    code_keys: tuple[str, ...]  # the query's chunks joined, compared with item codes
    # Indexes into `terms` of each alternative the customer gave ("nevera o lavadora": two); a
    # product is judged against the alternative it matches best.
    segments: tuple[tuple[int, ...], ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.terms or self.soft or self.code_keys)

    @property
    def words(self) -> set[str]:
        return {w for term in (*self.terms, *self.soft) for w in term.words}

    def head(self, segment: tuple[int, ...]) -> int | None:
        """The term naming what the customer asks for in one alternative: its first kind term
        ("repuestos" in "repuestos de nevera", "fridge" in "stainless steel fridge"), else its first
        term that is not a bare number ("samsung" in "samsung galaxy a15"; "filtro" in "filtro de agua
        para la nevera": what follows "para"/"de" is what it is for); None for numbers only."""
        naming = [i for i in segment if not self.terms[i].numeric]
        main = [i for i in naming if not self.terms[i].complement] or naming
        return next((i for i in main if self.terms[i].kind), main[0] if main else None)


def required_matches(term_count: int, share: float) -> int:
    """How many of a query's terms a product must match (minimum-should-match)."""
    if term_count <= 0:
        return 0
    return max(1, min(term_count, -int(-(term_count * share - 1e-9) // 1)))


# "nevera o lavadora", "fridge or washer": either will do.
_OR = frozenset({"o", "u", "or", "ou", "oder"})
# "cargador para laptop", "repuestos de nevera": what follows names what the product is for.
_FOR = frozenset({"para", "pa", "pal", "de", "del", "for", "of"})
# "más de 500 W", "menos de 1000", "under 300": the number after these is a limit (a filter's job).
_BOUND = frozenset({"mas", "menos", "hasta", "maximo", "minimo", "max", "min", "over", "under", "above", "below"})


def analyze(query: str, synonyms: Mapping[str, list[str]], *, ignore: frozenset[str] = frozenset()) -> QueryPlan:
    """`ignore`: words a filter already covers (a branch name, a price limit), not search words."""
    chunks = _CHUNK.findall(fold(query or ""))
    code_keys = _code_keys(chunks)
    # Units: a word, or a compound the customer wrote with separators ("xy-0412"). Stop words stay
    # out of phrases ("olla de arroz" is looked up as "olla arroz"), but "o" splits alternatives.
    units: list[list[str]] = []
    # Whether each unit follows "para"/"de" (articles between allowed): what the product is for.
    complements: list[bool] = []
    after = bound = False
    for chunk in chunks:
        parts = [word for part in _PART.findall(chunk) for word in _split_unit(part)]
        if len(_PART.findall(chunk)) > 1:
            units.append(parts)
            complements.append(after)
            after = False
            continue
        for w in parts:
            if bound and w.isdigit():
                bound = False  # "más de 500 W", "por menos de 1000": a limit, not a size to match
            elif w in _BOUND:
                bound = True
            elif w in _OR or (w not in STOP_WORDS and w not in ignore):
                units.append([w])
                complements.append(after)
                # "comedor de 4 sillas": a number after "de" is a count, and what it counts follows too
                after = after and w.isdigit()
                bound = False
            elif w in _FOR and units:  # a leading "para calentar la comida" is the purpose asked for
                after = True
    keys = ["".join(unit) for unit in units]
    terms: list[Term] = []
    soft: list[Term] = []
    segments: list[list[int]] = [[]]
    seen: dict[str, int] = {}
    i = 0
    while i < len(units):
        if keys[i] in _OR and len(units[i]) == 1:
            if segments[-1]:
                segments.append([])
            i += 1
            continue
        size = next(
            (n for n in range(min(MAX_TERM_WORDS, len(units) - i), 1, -1) if " ".join(keys[i : i + n]) in synonyms), 1
        )
        phrase = " ".join(keys[i : i + size])
        lookup = phrase if size > 1 or len(units[i]) > 1 else _singular(phrase, synonyms)
        own = tuple(word for unit in units[i : i + size] for word in unit)
        complement = complements[i]
        joined = [(phrase,)] if size == 1 and len(units[i]) > 1 else []  # "xy-0412" is also indexed as xy0412
        i += size
        if phrase in seen:
            if seen[phrase] >= 0 and seen[phrase] not in segments[-1]:
                segments[-1].append(seen[phrase])
            continue
        listed = [_content(alternative.split()) for alternative in synonyms.get(lookup, [])]
        # The customer's word, as written and joined; a plural's singular ("sofas" -> "sofa") is theirs too.
        mine = [own, *joined, *([tuple(lookup.split())] if lookup != phrase else [])]
        if not complement and listed and all(_narrows(alternative, own, lookup, synonyms) for alternative in listed):
            # "un aire" asks for an "aire acondicionado"; "(freidora) de aire" is still air.
            mine = []
        unique = tuple(dict.fromkeys(a for a in [*mine, *listed] if a))
        kind = lookup in KIND_WORDS or any(" ".join(a) in KIND_WORDS for a in unique)
        theirs = len(dict.fromkeys(a for a in mine if a))
        term = Term(phrase, unique, kind, complement, listed=lookup in synonyms, own=theirs if mine else None)
        if all(word in SOFT_WORDS for word in phrase.split()):
            seen[phrase] = -1
            soft.append(term)
        elif len(terms) < MAX_TERMS:
            seen[phrase] = len(terms)
            segments[-1].append(len(terms))
            terms.append(term)
    return QueryPlan(tuple(terms), tuple(soft[:MAX_TERMS]), code_keys, tuple(tuple(s) for s in segments if s))


def _singular(word: str, synonyms: Mapping[str, list[str]]) -> str:
    """The vocabulary entry of a plural the list does not have ("teles" -> "tele", "licuas" -> "licua")."""
    if word in synonyms:
        return word
    for cut in (1, 2):
        if len(word) > cut + 2 and word.endswith("es"[2 - cut :]) and word[:-cut] in synonyms:
            return word[:-cut]
    return word


def _narrows(
    alternative: tuple[str, ...], own: tuple[str, ...], lookup: str, synonyms: Mapping[str, list[str]]
) -> bool:
    """The alternative says the customer's words and more ("aire acondicionado" for "aire"), one way:
    "queen" and "queen size", each the other's alternative, are two ways of saying the same."""
    return (
        len(alternative) > len(own)
        and all(alternative.count(w) >= own.count(w) for w in own)
        and lookup not in synonyms.get(" ".join(alternative), [])
    )


def _split_unit(word: str) -> tuple[str, ...]:
    match = _NUMBER_UNIT.match(word)
    return match.groups() if match else (word,)


def _content(words: list[str]) -> tuple[str, ...]:
    return tuple(w for w in words if w not in STOP_WORDS)


def _code_keys(chunks: list[str]) -> tuple[str, ...]:
    """Every run of one to three adjacent chunks joined: "xy 0412", "XY-0412" and "xy0412" all give xy0412."""
    keys: list[str] = []
    for start in range(len(chunks)):
        joined = ""
        for chunk in chunks[start : start + 3]:
            joined += "".join(_PART.findall(chunk))
            if 2 <= len(joined) <= 40 and (any(c.isdigit() for c in joined) or len(joined) >= 4):
                keys.append(joined)
    return tuple(dict.fromkeys(keys))
