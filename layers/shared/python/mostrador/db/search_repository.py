"""SQL for product search (mostrador.catalog.search): candidates, product cards, a tenant's synonyms."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mostrador.db.connection import Connection

# Filters shared by every part of the search, only those asked for: an unused filter written as
# "(%(x)s IS NULL OR ...)" costs nothing, but the stock check written that way makes the planner hash
# every stocked row of the tenant once per search. A branch means "has stock there". Category, brand
# and branch are compared folded, as stored by migration 011 (folding them per search cost more than
# the rest of a category-filtered search). The asked-for value is folded once per search (a scalar
# subquery): the prepared statement's plan would otherwise fold it again for every row. A category or
# branch is "contains": its LIKE wildcards are escaped (`_like_escaped`), so "%" is a percent sign,
# not every category.
_FILTER_CLAUSES = {
    "brand": "p.search_brand = (SELECT mostrador_fold(%(brand)s))",
    "category": "p.search_category LIKE (SELECT '%%' || mostrador_fold(%(category_like)s) || '%%')",
    "min_price": "p.price >= %(min_price)s",
    "max_price": "p.price <= %(max_price)s",
}

# A probe of the product's own stock rows (primary key), never a join over the tenant's whole stock
# table: written as EXISTS, the planner hashes every stocked row on each search.
_STOCK = """(SELECT 1 FROM product_stock s
              WHERE s.tenant_id = p.tenant_id AND s.item_code = p.item_code AND s.stock > 0{branch}
              LIMIT 1) IS NOT NULL"""
_BRANCH = " AND s.search_branch LIKE (SELECT '%%' || mostrador_fold(%(branch_like)s) || '%%')"


def _like_escaped(value: Any) -> Any:
    """A value matched literally inside a LIKE pattern (backslash is LIKE's default escape)."""
    if not isinstance(value, str):
        return value
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _stock_sql(filters: dict[str, Any]) -> str | None:
    if filters.get("branch") is not None:
        return _STOCK.format(branch=_BRANCH)
    return _STOCK.format(branch="") if filters.get("in_stock") else None


def _filters_sql(filters: dict[str, Any], *, stock: bool = True) -> str:
    clauses = ["p.tenant_id = %(tenant)s", "p.active"]
    clauses += [
        _FILTER_CLAUSES[name]
        for name in ("brand", "category", "min_price", "max_price")
        if filters.get(name) is not None
    ]
    if stock and (stock_clause := _stock_sql(filters)):
        clauses.append(stock_clause)
    return " AND ".join(clauses)


# Three ways in, each bounded: products that pass the full-text floor (the GIN index evaluates the
# minimum-should-match query), the nearest embeddings (HNSW), and item codes equal to a chunk of the
# query. Each source describes its own rows (how each term matches, the qualities matched), so no
# candidate is looked up a second time; catalog.search scores and cuts. Only the parts a query needs
# are written into the statement.
#
# The statement is prepared once per connection and always runs its generic plan (planning it cost
# as much as running it). The generic plan is also the right one: it takes the floor's matches from
# the GIN index whatever the words. Planned with the words, a broad floor ("cafetera" in a catalog of
# coffee makers) is estimated at a fifth of the catalog, and the planner then reads every product and
# evaluates the floor on each (20-40 ms at 10,000 products) instead of taking the matches from the
# index (1-2 ms: GIN answers an unweighted query exactly, no product is read to check it). Limits are
# written into the statement, so the plan knows how few rows each part wants.
# set_config(..., true) lasts until the end of the pipeline's implicit transaction: these settings
# never reach the connection's other statements.
_SETTINGS = """SELECT set_config('plan_cache_mode', 'force_generic_plan', true),
                      set_config('hnsw.ef_search', %(ef_search)s, true)"""

# Floor matches ranked by the same lexical score catalog.search gives them (terms matched in the title
# or the text, per alternative, qualities), ties by code, then the stock probe on them in that order
# until enough pass: probing every match's stock first cost ~10 us each, 1,000 probes for a broad
# floor. OFFSET 0 keeps each step a list of its own (nothing is pushed below the sort).
_LEXICAL = """lexical AS (
    SELECT p.item_code, p.price, p.hits, p.own, p.soft FROM (
        SELECT p.*, {score} AS score FROM (
            SELECT p.tenant_id, p.item_code, p.price, {hits} AS hits, {own} AS own, {soft} AS soft
              FROM products p
             WHERE p.search_vector @@ %(floor)s::tsquery AND {scan_filters}
            OFFSET 0) p
         ORDER BY score DESC, p.item_code
        OFFSET 0) p
     WHERE {late_filters}
     ORDER BY p.score DESC, p.item_code
     LIMIT {lexical_limit}
)"""

# The HNSW walk (tenant and active only) in a subquery of its own, the other filters on what it
# returns: with the filters beside the ORDER BY, the planner may judge a filter selective enough to
# sort the whole catalog by distance instead (~20x slower at 10,000 products). The walk carries the
# columns the filters and the description read, so no neighbour is visited twice.
_NEAREST = """nearest AS (
    SELECT p.item_code, p.price, {hits} AS hits, {own} AS own, {soft} AS soft, {passes_floor} AS passes_floor,
           1 - p.distance AS similarity FROM (
        SELECT p.tenant_id, p.item_code, p.active, p.search_brand, p.search_category, p.price, p.search_vector,
               p.embedding <=> %(qvec)s AS distance
          FROM products p
         WHERE p.tenant_id = %(tenant)s AND p.active AND p.embedding IS NOT NULL
         ORDER BY distance
         LIMIT {walk_limit}) p
     WHERE {filters}
     ORDER BY p.distance
     LIMIT {vector_limit}
)"""

_BY_CODE = """by_code AS (
    SELECT p.item_code, p.price, {hits} AS hits, {own} AS own, {soft} AS soft, {passes_floor} AS passes_floor
      FROM products p
     WHERE mostrador_code_key(p.item_code) = ANY(%(code_keys)s::text[]) AND {filters}
)"""

# The first pass's neighbours, judged again against the spell-checked query (catalog.search).
_KNOWN = """known AS (
    SELECT p.item_code, p.price, {hits} AS hits, {own} AS own, {soft} AS soft, {passes_floor} AS passes_floor
      FROM products p
     WHERE p.tenant_id = %(tenant)s AND p.item_code = ANY(%(known_codes)s::text[]) AND p.active
)"""

# One row per candidate, whichever ways it came in by (a product's description is the same in each).
_FOUND = """found AS (
    SELECT item_code, max(price) AS price, bool_or(code_match) AS code_match,
           bool_or(passes_floor) AS passes_floor, max(similarity) AS similarity, max(hits) AS hits,
           max(own) AS own, max(soft) AS soft_matched
      FROM ({sources}) c
     GROUP BY item_code
)"""

# Whether anything passed the floor, whether each term matches any product at all (the spell check's
# question, and the words the result reports as unmatched: a term some candidate matches is known
# without looking further) and, when nothing passed, the catalog's version, in the same round trip.
# One row even without candidates.
_WITH_PRESENCE = """, presence AS (
    SELECT {passed} AS passed,
           ARRAY(SELECT CASE WHEN EXISTS (SELECT 1 FROM found f
                                           WHERE CASE WHEN t.named THEN f.hits[t.i] IN (2, 4) ELSE f.hits[t.i] > 0 END)
                             THEN true
                             ELSE EXISTS (SELECT 1 FROM products p
                                           WHERE p.tenant_id = %(tenant)s AND p.active AND p.search_vector @@ t.q) END
                   FROM unnest(%(presence_terms)s::tsquery[], %(named)s::boolean[]) WITH ORDINALITY AS t(q, named, i)
                  ORDER BY t.i) AS present,
           CASE WHEN NOT {passed} THEN
               (SELECT max(updated_at) FROM products WHERE tenant_id = %(tenant)s)::text END AS version
)
SELECT r.*, s.passed, s.present, s.version FROM presence s LEFT JOIN found r ON true"""


_NO_SIMILARITY = "NULL::float8 AS similarity"


@dataclass(frozen=True)
class CandidateQuery:
    """One search statement and its parameters (also what the benchmark EXPLAINs)."""

    sql: str
    params: dict[str, Any]
    ef_search: int


def candidate_query(
    *,
    tenant_id: str,
    floor: str | None,
    terms: list[str],
    title_terms: list[str],
    name_terms: list[str],
    kind_terms: list[str],
    naming_terms: list[str],
    named: list[bool],
    own_terms: list[str | None],
    own_title_terms: list[str | None],
    own_name_terms: list[str | None],
    soft_terms: list[str],
    segments: list[tuple[int, ...]],
    body_match: float,
    category_match: float,
    soft_bonus: float,
    synonym_match: float,
    code_keys: list[str],
    query_vector: list[float] | None,
    filters: dict[str, Any],
    lexical_limit: int,
    vector_limit: int,
    known_codes: list[str] | None = None,
    presence: bool = False,
) -> CandidateQuery:
    """The candidate statement. Term arguments are tsquery texts (see tsquery_fragments); `floor` is
    true of a product that matches enough of them. Each row says per term 4 (in the name's kind words,
    so also its category weight B), 3 (elsewhere in the name, brand or code), 2 (in the category), 1 (in
    the text only) or 0 (`hits`), and how many qualities it matches
    (`soft`), and per term the vocabulary widened the same for the customer's own words alone (`own`:
    `own_terms`, NULL for a term the vocabulary did not widen). `title_terms` match a name or a category
    (weights A, B), `name_terms` a name (A), `kind_terms` a category or the name's kind words (B). With
    `presence`, whether each term matches any product: where `named`, as its `naming_terms` query (named
    as that kind)."""
    walk_limit = walk_length(filters, vector_limit)
    everything = _filters_sql(filters)
    described = {
        "hits": _hits_sql(len(terms)),
        "own": _own_sql(own_terms),
        "soft": " + ".join(f"(p.search_vector @@ %(soft_{i})s::tsquery)::int" for i in range(len(soft_terms))) or "0",
        "passes_floor": "p.search_vector @@ %(floor)s::tsquery" if floor is not None else "false",
    }
    parts, sources = [], []
    if floor is not None:
        widened = {i for i, own in enumerate(own_terms) if own is not None}
        score = _score_sql(segments, body_match, category_match, soft_bonus, synonym_match, widened)
        late = _stock_sql(filters) or "true"
        parts.append(
            _LEXICAL.format(
                score=score,
                hits=described["hits"],
                own=described["own"],
                soft=described["soft"],
                scan_filters=_filters_sql(filters, stock=False),
                late_filters=late,
                lexical_limit=int(lexical_limit),
            )
        )
        sources.append(
            f"SELECT item_code, price, hits, own, soft, true AS passes_floor, false AS code_match, {_NO_SIMILARITY} "
            "FROM lexical"
        )
    if query_vector is not None:
        filtered = any(v not in (None, False) for v in filters.values())
        parts.append(
            _NEAREST.format(
                filters=everything if filtered else "true",
                walk_limit=int(walk_limit),
                vector_limit=int(vector_limit),
                **described,
            )
        )
        sources.append(
            "SELECT item_code, price, hits, own, soft, passes_floor, false AS code_match, similarity FROM nearest"
        )
    if code_keys:
        parts.append(_BY_CODE.format(filters=everything, **described))
        sources.append(
            f"SELECT item_code, price, hits, own, soft, passes_floor, true AS code_match, {_NO_SIMILARITY} FROM by_code"
        )
    if known_codes:
        parts.append(_KNOWN.format(**described))
        sources.append(
            f"SELECT item_code, price, hits, own, soft, passes_floor, false AS code_match, {_NO_SIMILARITY} FROM known"
        )
    if not sources:
        sources.append(
            "SELECT NULL::text AS item_code, NULL::numeric AS price, NULL::int[] AS hits, NULL::int[] AS own, "
            "0 AS soft, false AS passes_floor, false AS code_match, NULL::float8 AS similarity WHERE false"
        )
    parts.append(_FOUND.format(sources=" UNION ALL ".join(sources)))
    sql = "WITH " + ",\n".join(parts)
    if presence:
        passed = "EXISTS (SELECT 1 FROM lexical)" if floor is not None else "false"
        sql += _WITH_PRESENCE.format(passed=passed)
    else:
        sql += "\nSELECT * FROM found"
    params: dict[str, Any] = {
        "tenant": tenant_id,
        "floor": floor,
        "terms": terms,
        "presence_terms": [
            naming if is_named else term for term, naming, is_named in zip(terms, naming_terms, named, strict=True)
        ],
        "named": named,
        "code_keys": code_keys,
        "qvec": _vector(query_vector),
        "known_codes": known_codes or [],
        **filters,
        "category_like": _like_escaped(filters.get("category")),
        "branch_like": _like_escaped(filters.get("branch")),
    }
    for i, (term, title, name, kind) in enumerate(zip(terms, title_terms, name_terms, kind_terms, strict=True)):
        params[f"term_{i}"], params[f"title_{i}"], params[f"name_{i}"], params[f"kind_{i}"] = term, title, name, kind
    for i, (own, own_title, own_name) in enumerate(zip(own_terms, own_title_terms, own_name_terms, strict=True)):
        if own is not None:
            params[f"own_{i}"], params[f"own_title_{i}"], params[f"own_name_{i}"] = own, own_title, own_name
    for i, soft in enumerate(soft_terms):
        params[f"soft_{i}"] = soft
    # HNSW returns at most ef_search rows; a search list wider than the walk keeps its recall.
    return CandidateQuery(sql, params, max(100, walk_limit))


def _hits_sql(count: int) -> str:
    if not count:
        return "'{}'::int[]"
    return (
        "ARRAY["
        + ", ".join(
            f"CASE WHEN p.search_vector @@ %(name_{i})s::tsquery THEN"
            f" (CASE WHEN p.search_vector @@ %(kind_{i})s::tsquery THEN 4 ELSE 3 END)"
            f" WHEN p.search_vector @@ %(title_{i})s::tsquery THEN 2"
            f" WHEN p.search_vector @@ %(term_{i})s::tsquery THEN 1 ELSE 0 END"
            for i in range(count)
        )
        + "]"
    )


def _own_sql(own_terms: list[str | None]) -> str:
    """Per term, where the customer's own words match (as `hits`; NULL where the vocabulary added nothing).
    A product that does not have them at all costs one test per term."""
    if not own_terms:
        return "'{}'::int[]"
    return (
        "ARRAY["
        + ", ".join(
            "NULL::int"
            if own is None
            else f"CASE WHEN NOT p.search_vector @@ %(own_{i})s::tsquery THEN 0"
            f" WHEN p.search_vector @@ %(own_name_{i})s::tsquery THEN 3"
            f" WHEN p.search_vector @@ %(own_title_{i})s::tsquery THEN 2 ELSE 1 END"
            for i, own in enumerate(own_terms)
        )
        + "]"
    )


def _score_sql(
    segments: list[tuple[int, ...]],
    body_match: float,
    category_match: float,
    soft_bonus: float,
    synonym_match: float = 1.0,
    widened: set[int] | frozenset[int] = frozenset(),
) -> str:
    """catalog.search's lexical score of a floor match, from its hits: per alternative the mean of its
    terms (1 in the name, `category_match` in the category, `body_match` in the text; for a term in
    `widened`, the better of its own words' match and `synonym_match` times any alternative's), the best
    alternative, plus the qualities."""

    def level(column: str, i: int) -> str:
        return (
            f"(CASE p.{column}[{i + 1}] WHEN 4 THEN 1.0 WHEN 3 THEN 1.0 WHEN 2 THEN {float(category_match)!r}"
            f" WHEN 1 THEN {float(body_match)!r} ELSE 0.0 END)"
        )

    def term(i: int) -> str:
        if i not in widened:
            return level("hits", i)
        return f"GREATEST({level('own', i)}, {float(synonym_match)!r} * {level('hits', i)})"

    means = [f"({' + '.join(term(i) for i in segment)}) / {len(segment)}" for segment in segments if segment]
    best = f"GREATEST({', '.join(means)})" if means else "0.0"
    return f"LEAST({best} + {float(soft_bonus)!r} * LEAST(p.soft, 2), 1.0)"


def walk_length(filters: dict[str, Any], vector_limit: int) -> int:
    """Nearest neighbours to fetch before filtering: a selective filter (a brand, a category, a branch,
    a price range) keeps a tenth of them or so, so it walks further. "Only in stock" alone keeps most."""
    selective = any(filters.get(k) is not None for k in ("brand", "category", "min_price", "max_price", "branch"))
    return 200 if selective else vector_limit


@dataclass(frozen=True)
class Candidates:
    rows: list[dict[str, Any]]
    passed: bool  # some product passed the floor
    present: list[bool] | None  # when asked for: does each term match any product at all
    version: str | None  # when nothing passed: the catalog's version (its newest change)


def search_candidates(conn: Connection, query: CandidateQuery) -> Candidates:
    """Candidate rows: item_code, price, code_match, passes_floor, similarity (or None), hits (per
    term 2, 1 or 0), soft_matched. One round trip: the settings and the statement go out together in
    one pipeline, and so share its implicit transaction."""
    result = run_with_settings(conn, query, query.sql)
    first = result[0] if result else {}
    rows = [r for r in result if r["item_code"] is not None]
    return Candidates(rows, bool(first.get("passed")), first.get("present"), first.get("version"))


def run_with_settings(conn: Connection, query: CandidateQuery, sql: str) -> list[dict[str, Any]]:
    """Run `sql` (the statement, or an EXPLAIN EXECUTE of it) with the search's settings, prepared."""
    from psycopg import pq

    settings = {"ef_search": str(query.ef_search)}
    with _preparing(conn):
        if conn.info.transaction_status == pq.TransactionStatus.IDLE:
            with conn.pipeline():
                conn.execute(_SETTINGS, settings, prepare=True)
                cursor = conn.execute(sql, query.params, prepare=True)
            return cursor.fetchall()
        # Inside a caller's transaction the settings would last until its end: put them back after.
        previous = conn.execute(_CURRENT).fetchone()
        conn.execute(_SETTINGS, settings, prepare=True)
        rows = conn.execute(sql, query.params, prepare=True).fetchall()
        conn.execute(_RESTORE, previous)
        return rows


_CURRENT = """SELECT current_setting('plan_cache_mode') AS mode,
                     coalesce(current_setting('hnsw.ef_search', true),
                              (SELECT reset_val FROM pg_settings WHERE name = 'hnsw.ef_search'), '40') AS ef"""
_RESTORE = """SELECT set_config('plan_cache_mode', %(mode)s, true), set_config('hnsw.ef_search', %(ef)s, true)"""


@contextmanager
def _preparing(conn: Connection) -> Iterator[None]:
    """Let psycopg prepare the search's statements on this connection (parsed and planned once per
    connection), whatever the connection does for other statements (db/connection.py prepares none:
    psycopg neither prepares nor reuses a prepared statement while the threshold is None)."""
    threshold = conn.prepare_threshold
    if threshold is None:
        conn.prepare_threshold = 1_000_000  # only the statements executed with prepare=True
    try:
        yield
    finally:
        conn.prepare_threshold = threshold


_CARDS = """
SELECT p.item_code, p.item_name, p.brand, p.category, p.price, p.price_bolivar, p.summary, p.description_text,
       coalesce((SELECT json_agg(json_build_object('branch', b.branch, 'stock', b.stock) ORDER BY b.branch)
                   FROM (SELECT coalesce(s.branch, s.warehouse) AS branch, sum(s.stock) AS stock
                           FROM product_stock s WHERE s.tenant_id = p.tenant_id AND s.item_code = p.item_code
                          GROUP BY 1) b), '[]') AS branches
  FROM products p
 WHERE p.tenant_id = %(tenant)s AND p.item_code = ANY(%(codes)s) AND p.active
"""


def tsquery_fragments(conn: Connection, words: list[str]) -> dict[str, str]:
    """For each word, the tsquery text matching it as written, as a Spanish stem or as an English
    stem: `neveras` -> `'neveras' | 'never'`."""
    if not words:
        return {}
    rows = conn.execute(
        """SELECT w.word, string_agg(DISTINCT q.part, ' | ') AS fragment
             FROM unnest(%s::text[]) AS w(word),
                  LATERAL (VALUES (to_tsquery('simple', w.word)::text), (to_tsquery('spanish', w.word)::text),
                                  (to_tsquery('english', w.word)::text)) AS q(part)
            WHERE q.part <> ''
            GROUP BY w.word""",
        (words,),
    )
    return {row["word"]: row["fragment"] for row in rows}


def term_presence(conn: Connection, tenant_id: str, term_queries: list[str]) -> tuple[list[bool], str]:
    """Whether any active product matches each term query, and the catalog's version (its newest change)."""
    row = conn.execute(
        """SELECT ARRAY(SELECT EXISTS (SELECT 1 FROM products p
                                         WHERE p.tenant_id = %(tenant)s AND p.active AND p.search_vector @@ q)
                          FROM unnest(%(terms)s::tsquery[]) WITH ORDINALITY AS t(q, i) ORDER BY i) AS present,
                  (SELECT max(updated_at) FROM products WHERE tenant_id = %(tenant)s)::text AS version""",
        {"tenant": tenant_id, "terms": term_queries},
    ).fetchone()
    if row is None:
        return [False] * len(term_queries), ""
    return list(row["present"]), row["version"] or ""


def catalog_words(conn: Connection, tenant_id: str) -> list[tuple[str, int]]:
    """Every word of the tenant's active products (names, brands, codes, searchable text) and in how
    many products it appears."""
    rows = conn.execute(
        """SELECT word, ndoc FROM ts_stat(format(
               'SELECT to_tsvector(''simple'', mostrador_search_text(concat_ws('' '', item_name, brand, item_code,
                                                                          searchable_text)))
                  FROM products WHERE tenant_id = %%L AND active', %s::text))""",
        (tenant_id,),
    )
    return [(r["word"], r["ndoc"]) for r in rows]


def catalog_brands(conn: Connection, tenant_id: str) -> list[str]:
    """The tenant's brands as its catalog spells them (inactive products' too: customers still name them)."""
    rows = conn.execute(
        "SELECT DISTINCT brand FROM products WHERE tenant_id = %s AND brand IS NOT NULL AND brand <> ''", (tenant_id,)
    )
    return [r["brand"] for r in rows]


def product_cards(conn: Connection, tenant_id: str, item_codes: list[str]) -> list[dict[str, Any]]:
    """Products in the tool-result shape of llm/tools.py, in the order of `item_codes`."""
    if not item_codes:
        return []
    with _preparing(conn):  # every search ends with this statement: planned once per connection
        found = conn.execute(_CARDS, {"tenant": tenant_id, "codes": item_codes}, prepare=True).fetchall()
    rows = {r["item_code"]: r for r in found}
    cards = []
    for code in item_codes:
        row = rows.get(code)
        if row is None:
            continue
        branches = [
            {"branch": b["branch"], "stock": float(b["stock"])} for b in row["branches"] if b["branch"] is not None
        ]
        total = sum(b["stock"] for b in branches if b["stock"] > 0)
        cards.append(
            {
                "item_code": row["item_code"],
                "name": row["item_name"],
                "brand": row["brand"],
                "category": row["category"],
                "price": float(row["price"]) if row["price"] is not None else None,
                "price_bolivar": float(row["price_bolivar"]) if row["price_bolivar"] is not None else None,
                "in_stock": total > 0,
                "stock_total": total,
                "branches": branches,
                "catalog_description": row["summary"] or _first_words(row["description_text"], 60),
            }
        )
    return cards


def tenant_synonyms(conn: Connection, tenant_id: str) -> list[dict[str, Any]]:
    return list(
        conn.execute(
            "SELECT term, alternatives, updated_at FROM search_synonyms WHERE tenant_id = %s ORDER BY term",
            (tenant_id,),
        )
    )


def set_synonym(conn: Connection, tenant_id: str, term: str, alternatives: list[str]) -> None:
    conn.execute(
        """INSERT INTO search_synonyms (tenant_id, term, alternatives) VALUES (%s, %s, %s)
           ON CONFLICT (tenant_id, term) DO UPDATE SET alternatives = EXCLUDED.alternatives, updated_at = now()""",
        (tenant_id, term, alternatives),
    )


def delete_synonym(conn: Connection, tenant_id: str, term: str) -> bool:
    cursor = conn.execute("DELETE FROM search_synonyms WHERE tenant_id = %s AND term = %s", (tenant_id, term))
    return cursor.rowcount > 0


def _vector(values: list[float] | None) -> Any:
    if values is None:
        return None
    import numpy as np

    return np.asarray(values, dtype=np.float32)


def _first_words(text: str | None, count: int) -> str | None:
    if not text:
        return None
    words = text.split()
    return " ".join(words[:count]) + ("…" if len(words) > count else "")
