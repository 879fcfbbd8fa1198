-- What a product's NAME says it is, weighted with its categories (docs/search.md, "Weights of the index").
--
-- A kind the customer asks for ("moto", "mesa", "aire") must name the product, and until now a word
-- anywhere in the name did: "Motorola Moto G54" was a moto (its model), "Ventilador de Mesa" and
-- "Cocina Eléctrica de Mesa" were tables, "Freidora de Aire" an air conditioner. Now the name's leading
-- words, up to what it is for or made of, its brand, or its model, are indexed with weight B too, next
-- to the category: "Ventilador", "Cocina Eléctrica", "Freidora", "Aire Acondicionado Split"; a name that
-- starts with its brand or model ("Motorola Moto G54", "Samsung Galaxy A15") leaves its kind to the
-- category ("Celulares"). The name keeps weight A as before, so "in the name" and its scores do not change.
-- catalog.search asks a kind for weight B ("named as a kind"); the knowledge base is untouched.

-- The name's kind words: a leading "Juego de"/"Set de"/"Kit de"/"Combo" skipped ("Juego de Ollas" is
-- pots), cut before " para / de / del / con / en / for / with / of / in " and before the brand, without
-- the words that hold a digit (sizes, counts, models: "Juego de Comedor 4 Sillas en Madera" -> "comedor
-- sillas"). A name that starts with its brand ("Oster Licuadora 10 Velocidades") keeps the words after
-- it, but a word right before a model number ("Moto G54", "Galaxy A15": letters and digits in one
-- word) is the model's name, not a kind: "Motorola Moto G54 5G" -> "".
CREATE OR REPLACE FUNCTION mostrador_name_kind(name text, brand text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    WITH n AS (
        SELECT btrim((regexp_split_to_array(
                   regexp_replace(mostrador_fold(coalesce(name, '')), '^\s*(juego|set|kit|combo|pack)\s+((de|of)\s+)?', ''),
                   '\s+(para|de|del|con|en|for|with|of|in)\s+'))[1]) AS head,
               nullif(btrim(mostrador_fold(coalesce(brand, ''))), '') AS brand
    ), b AS (
        SELECT CASE
                   WHEN brand IS NULL OR strpos(' ' || head || ' ', ' ' || brand || ' ') = 0 THEN head
                   WHEN strpos(' ' || head || ' ', ' ' || brand || ' ') = 1 THEN
                       regexp_replace(btrim(substr(head, length(brand) + 1)),
                                      '(^|\s)\S+\s+\S*([a-z][0-9]|[0-9][a-z]).*$', '')
                   ELSE substr(head, 1, strpos(' ' || head || ' ', ' ' || brand || ' ') - 1)
               END AS head
          FROM n
    )
    SELECT btrim(regexp_replace(regexp_replace(head, '\S*[0-9]\S*', ' ', 'g'), '\s+', ' ', 'g')) FROM b
$$;

-- 017's vector with the name's kind words added under B.
CREATE OR REPLACE FUNCTION mostrador_product_search_vector(
    name text, brand text, code text, category text, sub_category text, item_group text, body text
) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    WITH parts AS (
        SELECT mostrador_search_text(concat_ws(' ', mostrador_kind_part(coalesce(name, ''), false), brand, code))
                   AS title,
               mostrador_compound_words(concat_ws(' ', mostrador_kind_part(coalesce(name, ''), false), brand, code))
                   AS title_compounds,
               mostrador_search_text(concat_ws(' ', mostrador_name_kind(name, brand),
                                               mostrador_kind_part(category, true),
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

-- Every stored product indexed again (the GIN index follows the column).
UPDATE products
   SET search_vector = mostrador_product_search_vector(item_name, brand, item_code, category, sub_category,
                                                       item_group, searchable_text);
