-- Catalog: products, stock per warehouse/branch, sync progress, and LLM usage.
-- Runs on pgvector 0.6 (embedded test server) and newer (RDS): plain `vector`, HNSW, no halfvec.

CREATE EXTENSION IF NOT EXISTS vector;

-- Accent- and case-insensitive folding. `unaccent` is not available everywhere (and is not
-- IMMUTABLE), so the letters of Spanish, Portuguese, French and German are folded by hand.
CREATE OR REPLACE FUNCTION mostrador_fold(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT translate(lower(value),
        'áàâäãåéèêëíìîïóòôöõúùûüñçýÿ',
        'aaaaaaeeeeiiiiooooouuuuncyy')
$$;

-- The document both Spanish and English speakers search: exact words (simple) rank above stems.
CREATE OR REPLACE FUNCTION mostrador_search_vector(title text, body text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT setweight(to_tsvector('simple', mostrador_fold(coalesce(title, ''))), 'A')
        || setweight(to_tsvector('spanish', mostrador_fold(coalesce(title, ''))), 'B')
        || setweight(to_tsvector('english', mostrador_fold(coalesce(title, ''))), 'B')
        || setweight(to_tsvector('spanish', mostrador_fold(coalesce(body, ''))), 'C')
        || setweight(to_tsvector('english', mostrador_fold(coalesce(body, ''))), 'D')
$$;

CREATE TABLE products (
    tenant_id         text        NOT NULL,
    item_code         text        NOT NULL,
    item_name         text        NOT NULL,
    description_html  text,
    description_text  text,
    description_hash  text,
    summary           text,
    summary_model     text,
    category          text,
    sub_category      text,
    brand             text,
    line              text,
    item_group        text,
    price             numeric(14, 2),
    price_bolivar     numeric(18, 2),
    attributes_hash   text        NOT NULL,
    searchable_text   text        NOT NULL,
    search_vector     tsvector    NOT NULL,
    embedding         vector(1536),
    embedding_model   text,
    active            boolean     NOT NULL DEFAULT true,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, item_code)
);

CREATE INDEX products_embedding_hnsw ON products USING hnsw (embedding vector_cosine_ops);
CREATE INDEX products_search_vector ON products USING gin (search_vector);
CREATE INDEX products_code_folded ON products (tenant_id, mostrador_fold(item_code));
CREATE INDEX products_brand_folded ON products (tenant_id, mostrador_fold(brand));

CREATE TABLE product_stock (
    tenant_id    text        NOT NULL,
    item_code    text        NOT NULL,
    warehouse    text        NOT NULL,
    branch       text,
    stock        numeric(14, 3) NOT NULL DEFAULT 0,
    source_data  jsonb       NOT NULL,
    source_hash  text        NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, item_code, warehouse),
    FOREIGN KEY (tenant_id, item_code) REFERENCES products (tenant_id, item_code) ON DELETE CASCADE
);

CREATE INDEX product_stock_branch_folded ON product_stock (tenant_id, mostrador_fold(coalesce(branch, warehouse)));

CREATE TABLE syncs (
    tenant_id     text        NOT NULL,
    sync_id       text        NOT NULL,
    full_sync     boolean     NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    finalized_at  timestamptz,
    deactivated   integer     NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, sync_id)
);

-- One row per accepted ingest request; `received` is their sum. A retried request (same body)
-- has the same batch id and is not counted twice. A sync sent in several requests numbers them
-- (`part` 1..n, the last with final = true); it is complete only when every part has arrived.
CREATE TABLE sync_batches (
    tenant_id    text        NOT NULL,
    sync_id      text        NOT NULL,
    batch_id     text        NOT NULL,
    item_count   integer     NOT NULL,
    part         integer     NOT NULL DEFAULT 1,
    final        boolean     NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, sync_id, batch_id),
    FOREIGN KEY (tenant_id, sync_id) REFERENCES syncs (tenant_id, sync_id) ON DELETE CASCADE
);

CREATE TABLE sync_items (
    tenant_id    text        NOT NULL,
    sync_id      text        NOT NULL,
    batch_id     text        NOT NULL,
    item_index   integer     NOT NULL,
    item_code    text        NOT NULL,
    warehouse    text        NOT NULL,
    outcome      text        NOT NULL CHECK (outcome IN ('processed', 'unchanged', 'failed')),
    attempts     integer     NOT NULL DEFAULT 1,
    final        boolean     NOT NULL DEFAULT true,
    error        text,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, sync_id, batch_id, item_index),
    FOREIGN KEY (tenant_id, sync_id) REFERENCES syncs (tenant_id, sync_id) ON DELETE CASCADE
);

CREATE TABLE llm_usage (
    id          bigserial   PRIMARY KEY,
    tenant_id   text        NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    provider    text        NOT NULL,
    model       text        NOT NULL,
    purpose     text        NOT NULL,
    calls       integer     NOT NULL DEFAULT 1,
    tokens_in   integer     NOT NULL DEFAULT 0,
    tokens_out  integer     NOT NULL DEFAULT 0
);

CREATE INDEX llm_usage_tenant_at ON llm_usage (tenant_id, at);
