-- Search that finds item codes anywhere and knows when nothing matches (docs/search.md).
-- Plain SQL functions only: pg_trgm, unaccent and fuzzystrmatch are not in the embedded server.

-- Folded text as both sides of a search see it: separators inside a word become spaces (Postgres
-- would read `XY-0412` as `xy` and the signed number `-0412`, and `0412` would match nothing) and
-- a number glued to its unit is split (`17kg` -> `17 kg`). mostrador.catalog.query does the same to
-- a customer's words.
CREATE OR REPLACE FUNCTION mostrador_search_text(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT regexp_replace(
        regexp_replace(mostrador_fold(value), '([a-z0-9])[-_/.,+]+(?=[a-z0-9])', '\1 ', 'g'),
        '([0-9])(kg|kgs|g|gr|grs|l|lt|lts|ml|w|kw|v|btu|mah|gb|tb|mb|mp|hz|cm|mm|m|in|pulg|ft|hp|cc)(?![a-z0-9])',
        '\1 \2', 'g')
$$;

-- Words written with separators and a letter, joined: `XY-0412` -> `xy0412`, `Wi-Fi` -> `wifi`,
-- `Galaxy-A55` -> `galaxya55`. Indexed next to their parts, so the whole and each part both match.
CREATE OR REPLACE FUNCTION mostrador_compound_words(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(string_agg(DISTINCT regexp_replace(m[1], '[-_/.,+]', '', 'g'), ' '), '')
      FROM regexp_matches(mostrador_fold(value), '([a-z0-9]+(?:[-_/.,+][a-z0-9]+)+)', 'g') AS m
     WHERE m[1] ~ '[a-z]' AND length(m[1]) <= 40
$$;

-- An item code as customers may type it: case, accents and separators ignored (`xy 0412`,
-- `XY-0412` and `xy0412` are the same code).
CREATE OR REPLACE FUNCTION mostrador_code_key(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT regexp_replace(mostrador_fold(value), '[^a-z0-9]', '', 'g')
$$;

-- Same signature as 001's, so the catalog writes keep calling it. Title (name, brand, code) words
-- carry weights A (exact) and B (stems); description words C (Spanish stems) and D (English).
CREATE OR REPLACE FUNCTION mostrador_search_vector(title text, body text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT setweight(to_tsvector('simple', mostrador_search_text(coalesce(title, ''))), 'A')
        || setweight(to_tsvector('simple', mostrador_compound_words(coalesce(title, ''))), 'A')
        || setweight(to_tsvector('spanish', mostrador_search_text(coalesce(title, ''))), 'B')
        || setweight(to_tsvector('english', mostrador_search_text(coalesce(title, ''))), 'B')
        || setweight(to_tsvector('spanish', mostrador_search_text(coalesce(body, ''))), 'C')
        || setweight(to_tsvector('simple', mostrador_compound_words(coalesce(body, ''))), 'C')
        || setweight(to_tsvector('english', mostrador_search_text(coalesce(body, ''))), 'D')
$$;

-- Rebuild every stored vector with the new function (the title as the catalog writes it).
UPDATE products
   SET search_vector = mostrador_search_vector(concat_ws(' ', item_name, brand, item_code), searchable_text);

CREATE INDEX products_code_key ON products (tenant_id, mostrador_code_key(item_code));

-- A deployment's own words for its products, on top of the shipped list in
-- mostrador/catalog/vocabulary.py: a term (folded, one to three words) and what it may also be
-- written as in the catalog. An empty list switches a shipped entry off.
CREATE TABLE search_synonyms (
    tenant_id     text        NOT NULL,
    term          text        NOT NULL,
    alternatives  text[]      NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, term)
);

-- The catalog's version for the search's word list cache (mostrador/catalog/spelling.py): the
-- newest change, read from the end of this index.
CREATE INDEX products_tenant_updated ON products (tenant_id, updated_at);
