"""Product search for the reply tools: item codes first, full text with a relevance floor, embeddings
held to a calibrated threshold, fused by weighted scores. Returns nothing when nothing is relevant,
so the bot can say "we don't carry that" and repeated empty searches reach a person.

How it decides (docs/search.md has the reasoning and the measurements):

* Item code: any one to three adjacent chunks of the query equal to a product's code (case,
  accents and separators ignored) put that product first, relevance 1.
* Full text: the query's meaningful terms (stop words and small talk dropped, qualities such as
  "grande" only rank, synonyms expanded) must be matched `required_matches(n, MIN_SHOULD_MATCH)`
  times by a product, and what it asks for (its head, a kind of product) must name the product; a
  term counts fully in the name (brand, code), CATEGORY_MATCH in the category, BODY_MATCH in the text,
  and SYNONYM_MATCH times that when only a vocabulary alternative matches, not the customer's own word.
* Embeddings: a product admitted by meaning alone must be at least the model's floor similar to the
  query and within VECTOR_BAND of the best hit; its meaning score rises from the floor to the
  model's "sure" similarity.
* Fusion: LEXICAL_WEIGHT * lexical + (1 - LEXICAL_WEIGHT) * meaning; without embeddings, the lexical
  score alone (so a full-text relevance reaches 1).
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from mostrador.catalog.query import QueryPlan, Term, analyze, required_matches
from mostrador.catalog.spelling import LexiconCache
from mostrador.catalog.vocabulary import AS_WRITTEN, CHEAP_WORDS, effective_synonyms, normalize_term
from mostrador.db import search_repository as repo
from mostrador.llm.base import Embedder

# The per-model similarity calibration is shared with knowledge search (llm/calibration.py).
from mostrador.llm.calibration import DEFAULT_CALIBRATION, VectorCalibration, calibration_for

if TYPE_CHECKING:
    from mostrador.db.connection import Connection


@dataclass(frozen=True)
class SearchTuning:
    """The knobs, tuned on the evaluation set's tune split (eval/, docs/search.md)."""

    min_should_match: float = 0.6  # share of meaningful terms a product must match (2 of 2, 2 of 3, 3 of 4)
    body_match: float = 0.8  # a term found in the description only, against 1 in the name
    category_match: float = 0.9  # a term found in the category (not the name)
    soft_bonus: float = 0.1  # per quality word ("grande") matched, two at most
    # A term matched only by a vocabulary alternative ("couch" -> sofa), not by the customer's own word
    # (or its stem): its match counts this much (the named "Sofá" before a "Mueble" the vocabulary reached).
    synonym_match: float = 0.95
    lexical_weight: float = 0.6  # fusion: lexical vs meaning
    vector_band: float = 0.04  # meaning-only results within this similarity of the best hit
    vector_limit: int = 40  # nearest neighbours considered
    lexical_limit: int = 100  # floor-passing products considered (best lexical score first)
    title_evidence: bool = False  # a product passes only if a (non-numeric) term names it in its title
    calibration: VectorCalibration | None = None  # None: by the embedder's model


@dataclass(frozen=True)
class SearchFilters:
    brand: str | None = None
    category: str | None = None
    min_price: float | None = None
    max_price: float | None = None
    in_stock: bool = False
    branch: str | None = None


@dataclass(frozen=True)
class ScoredProduct:
    item_code: str
    relevance: float  # 0..1, shown to the model
    match: str  # "item_code", "keywords", "keywords+meaning" or "meaning"


class ProductSearch(list[dict[str, Any]]):
    """ProductCards (llm/tools.py) best first, each with its `relevance` and `match`; a list, so callers
    that only want the cards use it as one. `unmatched`: the query's words the catalog has nothing for
    ("bicicleta" in "tienen bicicleta eléctrica?"), so the model can say what the shop does not sell:
    all of them when nothing was found, else only the kinds of product ("nevera o bicicleta" finds the
    fridges and says "bicicleta"; a branch name or "interesa" next to a code found is no news)."""

    def __init__(self, cards: list[dict[str, Any]], unmatched: list[str]) -> None:
        super().__init__(cards)
        self.unmatched = unmatched


def search_products(
    conn: Connection,
    tenant_id: str,
    query: str,
    filters: SearchFilters = SearchFilters(),  # noqa: B008  (frozen, so a shared default is safe)
    *,
    embedder: Embedder | None = None,
    limit: int = 5,
    tuning: SearchTuning = SearchTuning(),  # noqa: B008
    query_vector: list[float] | None = None,
) -> ProductSearch:
    """The search the reply tools run. `query_vector` skips embedding the query (the evaluation passes
    the vectors it already has)."""
    limit = max(1, min(limit, 25))
    found = search_candidates(
        conn, tenant_id, query, filters, embedder=embedder, tuning=tuning, query_vector=query_vector
    )
    if found is None:
        return ProductSearch([], [])
    calibration = tuning.calibration or (calibration_for(embedder.model) if embedder else DEFAULT_CALIBRATION)
    ranked = score_candidates(found.rows, found.plan, tuning, calibration, vector_side=found.vector_side)[:limit]
    cards = repo.product_cards(conn, tenant_id, [r.item_code for r in ranked])
    by_code = {r.item_code: r for r in ranked}
    for card in cards:
        card["relevance"] = by_code[card["item_code"]].relevance
        card["match"] = by_code[card["item_code"]].match
    unmatched = [term.text for term in found.unmatched if term.kind or not cards]
    return ProductSearch(cards, unmatched)


def rank_products(
    conn: Connection,
    tenant_id: str,
    query: str,
    filters: SearchFilters = SearchFilters(),  # noqa: B008
    *,
    embedder: Embedder | None = None,
    limit: int = 5,
    tuning: SearchTuning = SearchTuning(),  # noqa: B008
    query_vector: list[float] | None = None,
) -> list[ScoredProduct]:
    """Item codes best first with their relevance, without the product cards (the benchmark)."""
    limit = max(1, min(limit, 25))
    found = search_candidates(
        conn, tenant_id, query, filters, embedder=embedder, tuning=tuning, query_vector=query_vector
    )
    if found is None:
        return []
    calibration = tuning.calibration or (calibration_for(embedder.model) if embedder else DEFAULT_CALIBRATION)
    return score_candidates(found.rows, found.plan, tuning, calibration, vector_side=found.vector_side)[:limit]


@dataclass(frozen=True)
class CandidateSet:
    rows: list[dict[str, Any]]
    plan: QueryPlan  # as the rows were judged (spell-checked when the first pass found nothing)
    unmatched: tuple[Term, ...]  # terms no product matches (a kind head: no product named as that kind)
    vector_side: bool = False  # the query had an embedding: meaning takes part in the fusion


def search_candidates(
    conn: Connection,
    tenant_id: str,
    query: str,
    filters: SearchFilters,
    *,
    embedder: Embedder | None,
    tuning: SearchTuning,
    query_vector: list[float] | None = None,
) -> CandidateSet | None:
    """The database's candidates for a query and the query's plan (None: the query says nothing)."""
    query = (query or "").strip()[:500]
    plan = analyze(query, _synonyms(conn, tenant_id), ignore=_filter_words(filters))
    if plan.empty:
        return None
    if query_vector is None and embedder is not None:
        query_vector = embedder.embed([query]).vectors[0]
    # First as asked, every term counted. Only when no product passes that floor (a word the catalog
    # lacks, a typo) is the query spell-checked and relaxed: most searches cost one round trip, and the
    # first one already says which terms match nothing.
    everything = [True] * len(plan.terms)
    first = _candidates(conn, tenant_id, plan, everything, filters, tuning, query_vector, presence=bool(plan.terms))
    rows, present = first.rows, list(first.present or everything)
    vector_side = query_vector is not None
    if first.passed or all(present):
        return CandidateSet(rows, plan, _unmatched(plan, present), vector_side)
    checked, present = _spell_checked(conn, tenant_id, plan, present, first.version or "")
    if unknown_kind(checked, present):
        # What the customer asks for is not in the catalog: nothing is relevant, not even by meaning
        # (an item code the message names still is).
        codes = [r for r in rows if r["code_match"]]
        return CandidateSet(codes, checked, _unmatched(checked, present), vector_side)
    # The nearest neighbours do not depend on the words: the first pass's are judged again against the
    # relaxed query (no second walk of the index).
    similarity = {r["item_code"]: r["similarity"] for r in rows if r["similarity"] is not None}
    second = _candidates(conn, tenant_id, checked, present, filters, tuning, None, known_codes=list(similarity)).rows
    for row in second:
        row["similarity"] = similarity.get(row["item_code"])
    return CandidateSet(second, checked, _unmatched(checked, present), vector_side)


def _unmatched(plan: QueryPlan, present: list[bool]) -> tuple[Term, ...]:
    return tuple(term for term, found in zip(plan.terms, present, strict=True) if not found)


def _candidates(
    conn: Connection,
    tenant_id: str,
    plan: QueryPlan,
    present: list[bool],
    filters: SearchFilters,
    tuning: SearchTuning,
    query_vector: list[float] | None,
    *,
    known_codes: list[str] | None = None,
    presence: bool = False,
) -> repo.Candidates:
    fragments = _fragments(conn, plan)
    terms = [_term_query(t, fragments) for t in plan.terms]
    title_terms = [_term_query(t, fragments, weights="AB") for t in plan.terms]
    name_terms = [_term_query(t, fragments, weights="A") for t in plan.terms]
    # B: the category, or the kind words of the name ("Ventilador" of "Ventilador de Mesa", not the
    # "Moto" of "Motorola Moto G54"; migration 020): what names a product as a kind.
    kind_terms = [_term_query(t, fragments, weights="B") for t in plan.terms]
    heads = kind_heads(plan)
    # What names a product as the kind a head asks for: B, or the name with a model number of the
    # query's ("moto g54" names the phone "Motorola Moto G54"; "una moto" does not).
    naming = list(kind_terms)
    for head, models in heads.items():
        if models:
            named_by_model = " | ".join(name_terms[m] for m in models)
            naming[head] = f"({kind_terms[head]} | ({name_terms[head]} & ({named_by_model})))"
    # The customer's own words of a term the vocabulary widened, matched apart (None: nothing widened).
    own = [(t.own_alternatives if t.from_vocabulary else None) for t in plan.terms]
    own_terms = [_term_query(t, fragments, alternatives=a) if a else None for t, a in zip(plan.terms, own, strict=True)]
    own_title_terms = [
        _term_query(t, fragments, weights="AB", alternatives=a) if a else None
        for t, a in zip(plan.terms, own, strict=True)
    ]
    own_name_terms = [
        _term_query(t, fragments, weights="A", alternatives=a) if a else None
        for t, a in zip(plan.terms, own, strict=True)
    ]
    statement = repo.candidate_query(
        tenant_id=tenant_id,
        floor=_floor_query(terms, title_terms, plan, present, tuning.min_should_match, tuning.title_evidence, naming),
        terms=terms,
        title_terms=title_terms,
        name_terms=name_terms,
        kind_terms=kind_terms,
        naming_terms=naming,
        # A kind asked for is in the catalog when some product is named as that kind: "motos" is not,
        # though the phone "Moto G54" says it.
        named=[i in heads for i in range(len(plan.terms))],
        own_terms=own_terms,
        own_title_terms=own_title_terms,
        own_name_terms=own_name_terms,
        soft_terms=[_term_query(t, fragments) for t in plan.soft],
        segments=list(plan.segments),
        body_match=tuning.body_match,
        category_match=tuning.category_match,
        soft_bonus=tuning.soft_bonus,
        synonym_match=tuning.synonym_match,
        code_keys=list(plan.code_keys),
        query_vector=query_vector,
        filters=dict(vars(filters)),
        lexical_limit=tuning.lexical_limit,
        vector_limit=tuning.vector_limit,
        known_codes=known_codes,
        presence=presence,
    )
    return repo.search_candidates(conn, statement)


# A tenant's synonyms, re-read at most every SYNONYMS_TTL_SECONDS (an edit through the admin API
# clears this process's copy at once; another process sees it within that time).
SYNONYMS_TTL_SECONDS = 30.0
_SYNONYMS: dict[str, tuple[float, dict[str, list[str]]]] = {}


def _synonyms(conn: Connection, tenant_id: str) -> dict[str, list[str]]:
    now = time.monotonic()
    entry = _SYNONYMS.get(tenant_id)
    if entry is None or now - entry[0] > SYNONYMS_TTL_SECONDS:
        entry = (now, effective_synonyms(repo.tenant_synonyms(conn, tenant_id)))
        _SYNONYMS[tenant_id] = entry
    return entry[1]


def forget_synonyms(tenant_id: str | None = None) -> None:
    """Drop the cached synonyms (of one tenant, or all): the next search reads them again."""
    if tenant_id is None:
        _SYNONYMS.clear()
    else:
        _SYNONYMS.pop(tenant_id, None)


def _filter_words(filters: SearchFilters) -> frozenset[str]:
    """Query words a filter already enforces: the branch's name, the price limits."""
    words = set(normalize_term(filters.branch or "").split())
    for price in (filters.min_price, filters.max_price):
        if price is not None:
            words.add(f"{price:.2f}".rstrip("0").rstrip("."))
    return frozenset(words)


_LEXICONS = LexiconCache()


def _spell_checked(
    conn: Connection, tenant_id: str, plan: QueryPlan, present: list[bool], version: str
) -> tuple[QueryPlan, list[bool]]:
    """The plan with catalog spellings added to misspelt words, and whether each term matches anything
    (`present`: as the first pass found it)."""
    if not plan.terms or all(present):
        return plan, present
    lexicon = _LEXICONS.get((tenant_id, version), lambda: repo.catalog_words(conn, tenant_id))
    terms = list(plan.terms)
    changed = []
    for i, term in enumerate(terms):
        if present[i] or term.kind or term.listed:
            continue  # a word the vocabulary knows is spelt right ("repuestos" is not "puestos")
        own = term.alternatives[0]
        spelled = tuple(_first(lexicon.corrections(w)) or w for w in own)
        if spelled != own:
            # The catalog's spelling of the customer's word is still their word, not the vocabulary's.
            mine = len(term.own_alternatives)
            alternatives = (*term.alternatives[:mine], spelled, *term.alternatives[mine:])
            terms[i] = replace(term, alternatives=alternatives, own=None if term.own is None else mine + 1)
            changed.append(i)
    if not changed:
        return plan, present
    plan = replace(plan, terms=tuple(terms))
    rechecked, _ = repo.term_presence(
        conn, tenant_id, [_term_query(plan.terms[i], _fragments(conn, plan)) for i in changed]
    )
    for i, found in zip(changed, rechecked, strict=True):
        present[i] = found
    return plan, present


def _first(words: list[str]) -> str:
    return words[0] if words else ""


def lexical_score(
    hits: list[int],
    soft: int,
    segments: tuple[tuple[int, ...], ...],
    tuning: SearchTuning,
    own: list[int | None] | None = None,
) -> float:
    """0..1: per alternative the mean of its terms (1 in the name, `category_match` in the category,
    `body_match` in the text only; `synonym_match` times that when only the vocabulary's alternatives
    match, `own` saying where the customer's own words match, None when the vocabulary added none), the
    best alternative, plus `soft_bonus` per quality matched (two at most). The candidate statement
    ranks floor matches by the same figure (db/search_repository.py, _score_sql)."""
    # by `hits` value: absent, in the text, in the category, in the name, in the name's kind words
    weight = (0.0, tuning.body_match, tuning.category_match, 1.0, 1.0)

    def term(i: int) -> float:
        mine = own[i] if own is not None and i < len(own) else None
        if mine is None:
            return weight[hits[i]]
        return max(weight[mine], tuning.synonym_match * weight[hits[i]])

    best = max((sum(term(i) for i in segment) / len(segment) for segment in segments if segment), default=0.0)
    return min(best + tuning.soft_bonus * min(soft, 2), 1.0)


def score_candidates(
    rows: list[dict[str, Any]],
    plan: QueryPlan,
    tuning: SearchTuning,
    calibration: VectorCalibration,
    *,
    vector_side: bool | None = None,
) -> list[ScoredProduct]:
    """Admitted candidates best first with their relevance. `vector_side`: the query had an embedding
    (None: as the rows say)."""
    similarities = [r["similarity"] for r in rows if r["similarity"] is not None]
    best = max(similarities, default=None)
    # below this a product is not admitted by meaning (the model's floor, and the band under the best hit)
    admit = max(calibration.floor, best - tuning.vector_band) if best is not None else math.inf
    if vector_side is None:
        vector_side = best is not None
    # Without a meaning side there is nothing to fuse: the lexical score is the relevance (it used to
    # be multiplied by the lexical weight, so full-text results never showed more than 0.6). The cheap
    # nudge below is scaled alike, so the order is the one the weights were tuned with.
    lexical_weight = tuning.lexical_weight if vector_side else 1.0
    prices: dict[str, Any] = {}
    scored: list[tuple[float, str, ScoredProduct]] = []
    for row in rows:
        similarity, code_match, keywords = row["similarity"], row["code_match"], row["passes_floor"]
        by_meaning = similarity is not None and similarity >= admit and _meaning_admissible(row, plan)
        if not (code_match or keywords or by_meaning):
            continue
        code = row["item_code"]
        prices[code] = row["price"]
        lexical = lexical_score(row["hits"], row["soft_matched"], plan.segments, tuning, row["own"])
        meaning = calibration.meaning(similarity) if similarity is not None else 0.0
        if not keywords and not code_match:
            lexical *= 0.5  # partial keyword evidence supports a meaning match, never outranks a full one
        score = lexical_weight * lexical + (1 - lexical_weight) * meaning
        if code_match:
            match, relevance, score = "item_code", 1.0, 2.0 + score
        else:
            match = "keywords+meaning" if keywords and meaning > 0 else ("keywords" if keywords else "meaning")
            relevance = round(min(1.0, score), 2)
        scored.append((score, code, ScoredProduct(code, relevance, match)))
    if any(word in CHEAP_WORDS for term in plan.soft for word in term.text.split()):
        # "barato": among the admitted, the cheaper the higher (a nudge worth one quality word).
        by_price = sorted(scored, key=lambda s: float(prices.get(s[1]) or "inf"))
        worth = tuning.soft_bonus * lexical_weight / tuning.lexical_weight
        nudge = {code: worth * (1 - rank / max(len(by_price) - 1, 1)) for rank, (_, code, _) in enumerate(by_price)}
        scored = [(score + nudge[code], code, product) for score, code, product in scored]
    scored.sort(key=lambda s: (-s[0], s[1]))
    return [s[2] for s in scored]


def kind_heads(plan: QueryPlan) -> dict[int, list[int]]:
    """The terms that ask for a kind of product as the head of an alternative ("nevera" in "nevera
    samsung"; not "laptop" in "cargador para laptop"): they must name a product as that kind. Each
    with the model numbers of its alternative ("g54" in "moto g54"): a product whose name has the
    head and the model is named by them, whatever its kind words."""
    heads: dict[int, list[int]] = {}
    for segment in plan.segments:
        head = plan.head(segment)
        if head is not None and plan.terms[head].kind:
            models = heads.setdefault(head, [])
            models += [i for i in segment if i != head and plan.terms[i].model_number and i not in models]
    return heads


def named_as_kind(level: int) -> bool:
    """A term's `hits` level says it names the product's kind: in its category or the kind words of its name."""
    return level in (2, 4)


def _meaning_admissible(row: dict[str, Any], plan: QueryPlan) -> bool:
    """A product admitted by meaning alone is still of the kind asked for, in one of the query's
    alternatives: a kind head named as the product's kind (its category or its name's kind words),
    another head next to a kind in its name or category, a kind it is for ("para carro") and every
    number anywhere.
    "celular xiaomi" does not admit a Xiaomi power bank, "aire acondicionado para carro" a home air
    conditioner, "televisor de 100 pulgadas" a 65" (an embedding barely reads numbers)."""
    hits = row["hits"]
    for segment in plan.segments:
        head = plan.head(segment)
        kinds = [i for i in segment if plan.terms[i].kind]
        needed = [i for i in kinds if plan.terms[i].complement and i != head]
        needed += [i for i in segment if plan.terms[i].numeric]
        if head is not None and kinds:
            needed.append(head)
        models = [i for i in segment if i != head and plan.terms[i].model_number]
        # a kind head: named as that kind, or in the name with a model number of the query
        by_model = head is not None and hits[head] >= 3 and any(hits[i] >= 3 for i in models)
        if head is not None and plan.terms[head].kind:
            named = named_as_kind(hits[head]) or by_model
        else:
            named = head is None or hits[head] >= 2
        if all(named if i == head else hits[i] >= 1 for i in needed):
            return True
    return not plan.segments


# Stems per word never change: one process asks the database once per word.
_FRAGMENT_CACHE: dict[str, str] = {}
_FRAGMENT_CACHE_MAX = 20_000


def _fragments(conn: Connection, plan: QueryPlan) -> dict[str, str]:
    words = sorted(plan.words)
    missing = [w for w in words if w not in _FRAGMENT_CACHE]
    if missing:
        if len(_FRAGMENT_CACHE) > _FRAGMENT_CACHE_MAX:
            _FRAGMENT_CACHE.clear()
        _FRAGMENT_CACHE.update(repo.tsquery_fragments(conn, missing))
    return {w: AS_WRITTEN[w] if w in AS_WRITTEN else _FRAGMENT_CACHE.get(w, f"'{w}'") for w in words}


def _term_query(
    term: Term, fragments: dict[str, str], weights: str = "", alternatives: tuple[tuple[str, ...], ...] | None = None
) -> str:
    """The term as a tsquery: any alternative (of `alternatives` when given), all its words. With
    `weights`, the alternative's first word must carry one of them ("aire acondicionado": "aire" in the
    title, "acondicionado" anywhere)."""

    def word(w: str, weighted: bool) -> str:
        fragment = fragments[w]
        if weighted:
            # a prefix ('secadora':*) takes its weights after the star
            fragment = " | ".join(
                f"{lexeme}{weights}" if lexeme.endswith(":*") else f"{lexeme}:{weights}"
                for lexeme in fragment.split(" | ")
            )
        return f"({fragment})"

    return (
        "("
        + " | ".join(
            "(" + " & ".join(word(w, bool(weights) and n == 0) for n, w in enumerate(alt)) + ")"
            for alt in (term.alternatives if alternatives is None else alternatives)
        )
        + ")"
    )


def _floor_query(
    terms: list[str],
    title_terms: list[str],
    plan: QueryPlan,
    present: list[bool],
    share: float,
    title_evidence: bool = False,
    kind_terms: list[str] | None = None,
) -> str | None:
    """A tsquery true when a product matches enough of one alternative's terms (GIN evaluates it).

    Per alternative the customer gave:
    * Its head (QueryPlan.head: the first kind term not after "para"/"de", else the first term that is
      not a bare number) must be in the catalog: "bicicleta eléctrica", "repuestos de nevera", "seguro
      de carro" find nothing, whatever the other words ("eléctrica", "nevera") match. So must every
      other kind term ("aire acondicionado para carro"). A head that is no kind and unknown to the
      catalog gives way to a model number of the catalog's ("rt38") in the same alternative.
    * A kind head must name the product as that kind (`kind_terms`): its category, or its name's kind
      words (weight B: "Ventilador de Mesa" is no table, "Motorola Moto G54" no moto), or its name
      together with a model number of the query ("moto g54" is the phone), never only its
      description ("control remoto para tv" is not a television). Any head next to a kind must be in
      the name or the category ("filtro de agua para la nevera" is not a fridge whose description
      mentions its water filter).
      A kind term after "para"/"de" must match anywhere ("cargador para laptop": a charger that says
      laptop).
    * `required_matches` of the terms the catalog has, counted together. A bare number never carries
      a query by itself: it only ever counts next to the head.
    * Terms the catalog does not have at all ("cuarto" in "un aire pa el cuarto") are left out, but then
      a remaining term that is not a bare number must be in a product's title: "comida para gatos" does
      not find a fryer whose description says "comida". A query of numbers only ("el 0412") must find
      them in a title (a code's parts).
    """
    clauses = []
    for segment in plan.segments:
        head = plan.head(segment)
        if head is not None and not present[head]:
            # A word neither the vocabulary nor the catalog knows ("hebben" in Dutch "hebben jullie de
            # nevera samsung rt38?", where "de" is an article) leaves the naming to a model number the
            # catalog has; an unknown kind ("repuestos", "bicicleta") still finds nothing.
            if plan.terms[head].kind:
                continue
            head = next((i for i in segment if present[i] and plan.terms[i].model_number), None)
            if head is None:
                continue
        if any(plan.terms[i].kind and not present[i] for i in segment):
            continue
        # A number the catalog has nowhere ("98 pulgadas") still counts: it is a size no product has.
        known = [i for i in segment if present[i] or plan.terms[i].numeric]
        if not known:
            continue
        required = required_matches(len(known), share)
        groups = itertools.combinations(known, required)
        musts = ["(" + " | ".join("(" + " & ".join(terms[i] for i in group) + ")" for group in groups) + ")"]
        if head is not None and any(plan.terms[i].kind for i in segment):
            # a kind is in play: what is asked for must name the product
            named = kind_terms if kind_terms is not None and plan.terms[head].kind else title_terms
            musts.append(named[head])
        elif head is None or len(known) < len(segment) or title_evidence:
            naming = [i for i in known if not plan.terms[i].numeric] or known
            musts.append("(" + " | ".join(title_terms[i] for i in naming) + ")")
        musts += [terms[i] for i in known if plan.terms[i].kind and plan.terms[i].complement and i != head]
        clauses.append("(" + " & ".join(musts) + ")")
    return " | ".join(dict.fromkeys(clauses)) or None


def unknown_kind(plan: QueryPlan, present: list[bool]) -> bool:
    """Every alternative asks for a kind of product the vocabulary knows and the catalog does not have
    ("bicicleta", "repuestos", "para carro"): then nothing is relevant, by keywords or by meaning. A word
    neither knows ("icebox") is left to the embedding, held to its calibrated threshold."""
    return bool(plan.segments) and all(
        any(plan.terms[i].kind and not present[i] for i in segment) for segment in plan.segments
    )


def get_product_details(conn: Connection, tenant_id: str, item_code: str) -> dict[str, Any] | None:
    """One product's current price and per-branch stock, straight from the database."""
    cards = repo.product_cards(conn, tenant_id, [item_code.strip()])
    return cards[0] if cards else None
