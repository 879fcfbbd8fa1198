"""SQL for product search (mostrador.catalog.search): candidates, product cards, a tenant's synonyms."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mostrador.db.connection import Connection

# Filters shared by every part of the search, only those asked for: an unused filter written as
# "(%(x)s IS NULL OR ...)" costs nothing, but the stock check written that way makes the planner hash
# every stocked row of the tenant once per search. A branch means "has stock there".
_FILTER_CLAUSES = {
    "brand": "mostrador_fold(p.brand) = mostrador_fold(%(brand)s)",
    "category": """mostrador_fold(coalesce(p.category, '') || ' / ' || coalesce(p.sub_category, '') || ' / '
                   || coalesce(p.item_group, '')) LIKE '%%' || mostrador_fold(%(category)s) || '%%'""",
    "min_price": "p.price >= %(min_price)s",
    "max_price": "p.price <= %(max_price)s",
    # A probe of the product's own stock rows (primary key), never a join over the tenant's whole
    # stock table: written as EXISTS, the planner hashes every stocked row on each search.
    "stock": """(SELECT 1 FROM product_stock s
                  WHERE s.tenant_id = p.tenant_id AND s.item_code = p.item_code AND s.stock > 0
                    AND (%(branch)s::text IS NULL
                         OR mostrador_fold(coalesce(s.branch, '') || ' ' || s.warehouse)
                            LIKE '%%' || mostrador_fold(%(branch)s) || '%%')
                  LIMIT 1) IS NOT NULL""",
}


def _filters_sql(filters: dict[str, Any]) -> str:
    clauses = ["p.tenant_id = %(tenant)s", "p.active"]
    clauses += [
        _FILTER_CLAUSES[name]
        for name in ("brand", "category", "min_price", "max_price")
        if filters.get(name) is not None
    ]
    if filters.get("in_stock") or filters.get("branch") is not None:
        clauses.append(_FILTER_CLAUSES["stock"])
    return " AND ".join(clauses)


# Three ways in, each bounded: products that pass the full-text floor (the GIN index evaluates the
# minimum-should-match query), the nearest embeddings (HNSW), and item codes equal to a chunk of the
# query. Each candidate then gets its per-term match counts; catalog.search scores and cuts.
_CANDIDATES = """
WITH lexical AS (
    SELECT p.item_code FROM products p
     WHERE %(floor)s::text IS NOT NULL AND p.search_vector @@ %(floor)s::tsquery AND {filters}
     ORDER BY ts_rank(p.search_vector, %(floor)s::tsquery) DESC, p.item_code
     LIMIT %(lexical_limit)s
),
-- The HNSW walk first (tenant and active only), the other filters on what it returns: with the
-- filters inside, the planner may judge a filter selective enough to sort the whole catalog by
-- distance instead (a sequential scan, ~20x slower at 10,000 products).
walk AS MATERIALIZED (
    SELECT p.tenant_id, p.item_code, p.active, p.brand, p.category, p.sub_category, p.item_group, p.price,
           p.embedding <=> %(qvec)s::vector AS distance
      FROM products p
     WHERE %(qvec)s::vector IS NOT NULL AND p.embedding IS NOT NULL AND p.tenant_id = %(tenant)s AND p.active
     ORDER BY p.embedding <=> %(qvec)s::vector
     LIMIT %(walk_limit)s
),
nearest AS (  -- the walk carries the columns the filters read ("p"): no second visit to each product
    SELECT p.item_code, 1 - p.distance AS similarity FROM walk p
     WHERE {filters}
     ORDER BY p.distance
     LIMIT %(vector_limit)s
),
by_code AS (
    SELECT p.item_code FROM products p
     WHERE cardinality(%(code_keys)s::text[]) > 0
       AND mostrador_code_key(p.item_code) = ANY(%(code_keys)s::text[]) AND {filters}
),
candidates AS (
    SELECT item_code FROM lexical UNION SELECT item_code FROM nearest UNION SELECT item_code FROM by_code
)
SELECT c.item_code, p.price,
       c.item_code IN (SELECT item_code FROM by_code) AS code_match,
       c.item_code IN (SELECT item_code FROM lexical) AS passes_floor,
       n.similarity,
       ARRAY(SELECT p.search_vector @@ q FROM unnest(%(terms)s::tsquery[]) WITH ORDINALITY AS t(q, i) ORDER BY i)
           AS matched,
       ARRAY(SELECT p.search_vector @@ q FROM unnest(%(title_terms)s::tsquery[]) WITH ORDINALITY AS t(q, i) ORDER BY i)
           AS in_title,
       (SELECT count(*) FROM unnest(%(soft_terms)s::tsquery[]) q WHERE p.search_vector @@ q) AS soft_matched
  FROM candidates c
  JOIN products p ON p.tenant_id = %(tenant)s AND p.item_code = c.item_code
  LEFT JOIN nearest n ON n.item_code = c.item_code
"""

_CARDS = """
SELECT p.item_code, p.item_name, p.brand, p.category, p.price, p.price_bolivar, p.summary, p.description_text,
       coalesce((SELECT json_agg(json_build_object('branch', b.branch, 'stock', b.stock) ORDER BY b.branch)
                   FROM (SELECT coalesce(s.branch, s.warehouse) AS branch, sum(s.stock) AS stock
                           FROM product_stock s WHERE s.tenant_id = p.tenant_id AND s.item_code = p.item_code
                          GROUP BY 1) b), '[]') AS branches
  FROM products p
 WHERE p.tenant_id = %(tenant)s AND p.item_code = ANY(%(codes)s) AND p.active
"""


def walk_length(filters: dict[str, Any], vector_limit: int) -> int:
    """Nearest neighbours to fetch before filtering: a selective filter (a brand, a category, a branch,
    a price range) keeps a tenth of them or so, so it walks further. "Only in stock" alone keeps most."""
    selective = any(filters.get(k) is not None for k in ("brand", "category", "min_price", "max_price", "branch"))
    return 200 if selective else vector_limit


_NEAREST_UNFILTERED = """nearest AS (
    SELECT w.item_code, 1 - w.distance AS similarity FROM walk w ORDER BY w.distance LIMIT %(vector_limit)s
),"""


def candidates_sql(filters: dict[str, Any]) -> str:
    sql = _CANDIDATES.replace("{filters}", _filters_sql(filters))
    if not any(v not in (None, False) for v in filters.values()):
        # No filter beyond tenant and active (the walk has those): no second look at each neighbour.
        start = sql.index("nearest AS (")
        sql = sql[:start] + _NEAREST_UNFILTERED + sql[sql.index("by_code AS (") - 1 :]
    return sql


def search_candidates(
    conn: Connection,
    *,
    tenant_id: str,
    floor: str | None,
    terms: list[str],
    title_terms: list[str],
    soft_terms: list[str],
    code_keys: list[str],
    query_vector: list[float] | None,
    filters: dict[str, Any],
    lexical_limit: int,
    vector_limit: int,
) -> list[dict[str, Any]]:
    """Candidate rows: item_code, code_match, passes_floor, similarity (or None), matched and in_title
    (one boolean per term), soft_matched (a count). Term arguments are tsquery texts (see
    tsquery_fragments); `floor` is true of a product that matches enough of them."""
    walk_limit = walk_length(filters, vector_limit)
    params = {
        "tenant": tenant_id,
        "floor": floor,
        "terms": terms,
        "title_terms": title_terms,
        "soft_terms": soft_terms,
        "code_keys": code_keys,
        "qvec": _vector(query_vector),
        "lexical_limit": lexical_limit,
        "vector_limit": vector_limit,
        "walk_limit": walk_limit,
        **filters,
    }
    # One round trip: BEGIN, SET LOCAL, the query and COMMIT go out together (pipeline mode).
    with conn.pipeline(), conn.transaction():
        if query_vector is not None:
            # HNSW returns at most ef_search rows; a search list wider than the walk keeps its recall.
            conn.execute(f"SET LOCAL hnsw.ef_search = {max(100, walk_limit)}")
        cursor = conn.execute(candidates_sql(filters), params)
    return list(cursor)


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
    rows = {r["item_code"]: r for r in conn.execute(_CARDS, {"tenant": tenant_id, "codes": item_codes})}
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
                "currency": "USD",
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
