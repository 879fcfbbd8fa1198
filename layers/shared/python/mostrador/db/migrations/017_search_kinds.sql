-- What a product IS, weighted apart from what it is FOR (docs/search.md, "Weights of the index").
--
-- Before this, only the name, brand and code carried title weights; the category counted like a
-- description word, so "celular xiaomi" tied a power bank ("carga tu celular") with the phones, and
-- "tv de 65 pulgadas" tied "Mueble para TV hasta 65 pulgadas" with the televisions.
--
-- Weights of a product's vector:
--   A  its name's words before "para"/"for" (what it is), its brand and code: every configuration
--   B  its category, sub-category and item group, each cut before " de "/" para "/" for "
--      ("Accesorios de Telefonía" is an accessory, not a phone): every configuration
--   C  the searchable text (name again, categories, description): Spanish stems, compounds
--   D  the same text: English stems
-- A search term "in the title" matches A or B; "in the name" only A (catalog.search, search_repository).
-- The knowledge base keeps mostrador_search_vector(title, body) of 006.

-- A name or category cut where what the thing is for begins: "Mueble para TV hasta 65 pulgadas" ->
-- "Mueble"; "Accesorios de Telefonía" -> "Accesorios" when `at_de`. The rest stays in the body.
CREATE OR REPLACE FUNCTION mostrador_kind_part(value text, at_de boolean) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT (regexp_split_to_array(
        mostrador_fold(value),
        CASE WHEN at_de THEN '\s+(para|for|de|del)\s+' ELSE '\s+(para|for)\s+' END))[1]
$$;

CREATE OR REPLACE FUNCTION mostrador_product_search_vector(
    name text, brand text, code text, category text, sub_category text, item_group text, body text
) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    WITH parts AS (
        SELECT mostrador_search_text(concat_ws(' ', mostrador_kind_part(coalesce(name, ''), false), brand, code))
                   AS title,
               mostrador_compound_words(concat_ws(' ', mostrador_kind_part(coalesce(name, ''), false), brand, code))
                   AS title_compounds,
               mostrador_search_text(concat_ws(' ', mostrador_kind_part(category, true),
                                               mostrador_kind_part(sub_category, true),
                                               mostrador_kind_part(item_group, true))) AS kinds,
               mostrador_search_text(coalesce(body, '')) AS body,
               mostrador_compound_words(coalesce(body, '')) AS body_compounds
    )
    SELECT setweight(to_tsvector('simple', title), 'A')
        || setweight(to_tsvector('simple', title_compounds), 'A')
        || setweight(to_tsvector('spanish', title), 'A')
        || setweight(to_tsvector('english', title), 'A')
        || setweight(to_tsvector('simple', kinds), 'B')
        || setweight(to_tsvector('spanish', kinds), 'B')
        || setweight(to_tsvector('english', kinds), 'B')
        || setweight(to_tsvector('spanish', body), 'C')
        || setweight(to_tsvector('simple', body_compounds), 'C')
        || setweight(to_tsvector('english', body), 'D')
      FROM parts
$$;

-- Every stored product indexed again with the new weights (the GIN index follows the column).
UPDATE products
   SET search_vector = mostrador_product_search_vector(item_name, brand, item_code, category, sub_category,
                                                       item_group, searchable_text);
