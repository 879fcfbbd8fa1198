-- Operations (the admin API): context resets, an audit of what operators did, LLM prices for cost
-- estimates, and indexes for the date-range reads of analytics and export.

-- "Reset the customer's context": the reply side loads history only after this message id, so the
-- next customer message starts a fresh conversation for the model while the log keeps everything.
ALTER TABLE conversations
    ADD COLUMN context_reset_after_id  bigint,
    ADD COLUMN context_reset_at        timestamptz;

-- What operators did through the admin API (takeover, resume, reset, resolve_escalation, set_price).
-- Pauses are deleted on resume, so analytics reads past takeovers from here.
CREATE TABLE operator_actions (
    id               bigserial   PRIMARY KEY,
    tenant_id        text        NOT NULL,
    conversation_id  text,
    action           text        NOT NULL,
    -- The principal's subject and role ("admin" / "admin" with the single admin token).
    actor            text        NOT NULL,
    role             text        NOT NULL,
    detail           jsonb       NOT NULL DEFAULT '{}',
    at               timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX operator_actions_conversation ON operator_actions (tenant_id, conversation_id, at);

-- Prices in USD per one million tokens. tenant_id '*' rows are the shipped defaults for every
-- tenant; a row for a tenant overrides them; MOSTRADOR_MODEL_PRICES (JSON) overrides both.
-- A model matches the longest priced name it starts with ("gpt-4o-mini-2024-07-18" -> "gpt-4o-mini").
CREATE TABLE model_prices (
    tenant_id           text           NOT NULL,
    model               text           NOT NULL,
    input_per_million   numeric(12, 6) NOT NULL CHECK (input_per_million >= 0),
    output_per_million  numeric(12, 6) NOT NULL CHECK (output_per_million >= 0),
    updated_at          timestamptz    NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, model)
);

-- List prices checked 2026-11; change them with PUT /admin/model-prices/{model} or the env override.
INSERT INTO model_prices (tenant_id, model, input_per_million, output_per_million) VALUES
    ('*', 'gpt-4o-mini', 0.15, 0.60),
    ('*', 'gpt-4o', 2.50, 10.00),
    ('*', 'gpt-4.1-mini', 0.40, 1.60),
    ('*', 'gpt-4.1', 2.00, 8.00),
    ('*', 'text-embedding-3-small', 0.02, 0),
    ('*', 'text-embedding-3-large', 0.13, 0),
    ('*', 'gemini-2.5-flash', 0.30, 2.50),
    ('*', 'gemini-2.5-pro', 1.25, 10.00),
    ('*', 'gemini-embedding-001', 0.15, 0),
    ('*', 'offline', 0, 0);

-- Date-range reads (analytics, export, the conversation list's date filter).
CREATE INDEX messages_tenant_created ON messages (tenant_id, created_at, id);
CREATE INDEX escalations_tenant_opened ON escalations (tenant_id, opened_at);
CREATE INDEX syncs_tenant_created ON syncs (tenant_id, created_at);
