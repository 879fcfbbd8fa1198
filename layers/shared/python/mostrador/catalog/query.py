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

from mostrador.catalog.vocabulary import MAX_TERM_WORDS, fold

MAX_TERMS = 8
_CHUNK = re.compile(r"[a-z0-9]+(?:[-_/.,+][a-z0-9]+)*")
_PART = re.compile(r"[a-z0-9]+")
_UNITS = "kg|kgs|g|gr|grs|l|lt|lts|ml|w|kw|v|btu|mah|gb|tb|mb|mp|hz|cm|mm|m|in|pulg|ft|hp|cc"
_NUMBER_UNIT = re.compile(rf"^([0-9]+)({_UNITS})$")

# Function words and the small talk around a product question (Spanish, English, Portuguese): they
# say nothing about which product is meant.
STOP_WORDS = frozenset(
    """
    a al algo alguna algunas alguno algunos algun ante asi aun bajo como con contra cual cuales cuando de del desde
    donde el ella ellas ellos en entre era es esa esas ese eso esos esta estas este esto estos estan esta la las le
    les lo los me mi mis mucho muchos muy nada ni no nos o otra otro otros para pero poco por porque que quien se
    sea ser si sin sobre son su sus tal tambien te ti tu tus un una uno unos unas usted ustedes y ya yo vos
    hola buenas buenos dia dias tarde tardes noche noches saludos gracias favor porfa porfavor pls plis
    quiero quisiera queria quieres busco buscando buscaba necesito necesita necesitaba ocupo gustaria saber
    precio precios cuanto cuanta cuantos cuesta cuestan costo vale valen sale salen disponible disponibles
    disponibilidad hay tienen tiene tienes tendran tendras tendra venden vende vendes manejan manejas existe
    existen existencia existencias stock consigo conseguir comprar compro compra informacion info ver mostrar
    muestrame muestreme dame deme cosa cosas tipo producto productos articulo articulos marca modelo busque
    puedo pueden podria podrian tengo tenga tengan hacer hace sirve sirva algo ahi aqui alla
    a an the and or of for to in on at by with without is are was were be been do does did have has had i me my
    you your we our they it its this that these those what which who how much many price prices cost costs sell
    sells selling available availability hi hello hey please thanks thank looking look want wanted need would
    like buy get show any some there here can could got do item items product products sale
    o os as um uma do da dos das em no na nos nas com voce tem quanto custa preco ola obrigado quero procuro
    """.split()  # noqa: SIM905 (a word list reads better as text)
) - {"dos"}  # "dos puertas": two, not the Portuguese "of the"

# Qualities that order the results but must not decide whether a product is relevant: a shop with
# no "bonita" in its catalog still sells the fridge asked for.
SOFT_WORDS = (
    frozenset(
        """
    grande grandes pequeno pequena pequenos pequenas chico chica mediano mediana barato barata baratos baratas
    economico economica economicos economicas bueno buena buenos buenas mejor mejores nuevo nueva nuevos nuevas
    bonito bonita lindo linda potente moderno moderna original originales excelente calidad recomendado
    recomendable ideal perfecto sencillo sencilla basico basica premium top
    big large small little cheap cheaper cheapest affordable good best better new nice great quality simple
    mini bien
    """.split()  # noqa: SIM905
    )
    | set(_UNITS.split("|"))
    | {"pulgadas", "pulgada", "litros", "litro", "kilos", "kilo", "watts", "vatios", "voltios"}
)


@dataclass(frozen=True)
class Term:
    """One thing the customer said, and each way the catalog may write it (all words of one way must match)."""

    text: str
    alternatives: tuple[tuple[str, ...], ...]

    @property
    def words(self) -> set[str]:
        return {w for alternative in self.alternatives for w in alternative}


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


def required_matches(term_count: int, share: float) -> int:
    """How many of a query's terms a product must match (minimum-should-match)."""
    if term_count <= 0:
        return 0
    return max(1, min(term_count, -int(-(term_count * share - 1e-9) // 1)))


# "nevera o lavadora", "fridge or washer": either will do.
_OR = frozenset({"o", "u", "or", "ou", "oder"})


def analyze(query: str, synonyms: Mapping[str, list[str]]) -> QueryPlan:
    chunks = _CHUNK.findall(fold(query or ""))
    code_keys = _code_keys(chunks)
    # Units for phrase matching: a word, or a compound the customer wrote with separators ("xy-0412").
    units: list[list[str]] = []
    for chunk in chunks:
        parts = [word for part in _PART.findall(chunk) for word in _split_unit(part)]
        units.extend([[word] for word in parts] if len(_PART.findall(chunk)) == 1 else [parts])
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
        own = _own_words(units[i : i + size])
        joined = [(phrase,)] if size == 1 and len(units[i]) > 1 else []  # "xy-0412" is also indexed as xy0412
        i += size
        if not own:
            continue
        if phrase in seen:
            if seen[phrase] >= 0 and seen[phrase] not in segments[-1]:
                segments[-1].append(seen[phrase])
            continue
        alternatives = [own, *joined, *(_content(alternative.split()) for alternative in synonyms.get(phrase, []))]
        term = Term(phrase, tuple(dict.fromkeys(a for a in alternatives if a)))
        if all(word in SOFT_WORDS for word in phrase.split()):
            seen[phrase] = -1
            soft.append(term)
        elif len(terms) < MAX_TERMS:
            seen[phrase] = len(terms)
            segments[-1].append(len(terms))
            terms.append(term)
    return QueryPlan(tuple(terms), tuple(soft[:MAX_TERMS]), code_keys, tuple(tuple(s) for s in segments if s))


def _split_unit(word: str) -> tuple[str, ...]:
    match = _NUMBER_UNIT.match(word)
    return match.groups() if match else (word,)


def _own_words(units: list[list[str]]) -> tuple[str, ...]:
    if len(units) == 1 and len(units[0]) > 1:
        # A compound keeps every part, stop words included: "xy-0412" is not "xy".
        return tuple(units[0])
    return _content([word for unit in units for word in unit])


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
