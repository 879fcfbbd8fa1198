-- Search speed (docs/search.md, "Speed"): the category, brand and branch filters compare folded text.
-- Folding (mostrador_fold: lower + translate of 27 accented letters) costs a few microseconds a value,
-- and a broad search filtered by category folded ~1,000 categories per search. Stored folded once
-- per write instead. Generated columns: the catalog's writes stay as they are.

ALTER TABLE products
    ADD COLUMN search_category text GENERATED ALWAYS AS (
        mostrador_fold(coalesce(category, '') || ' / ' || coalesce(sub_category, '') || ' / '
                       || coalesce(item_group, ''))) STORED,
    ADD COLUMN search_brand text GENERATED ALWAYS AS (mostrador_fold(brand)) STORED;

-- What a branch filter matches: the branch's name and the warehouse's code.
ALTER TABLE product_stock
    ADD COLUMN search_branch text GENERATED ALWAYS AS (
        mostrador_fold(coalesce(branch, '') || ' ' || warehouse)) STORED;
