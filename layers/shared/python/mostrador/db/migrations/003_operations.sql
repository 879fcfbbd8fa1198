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

-- A tenant's own LLM prices in USD per one million tokens, overriding the defaults shipped in
-- mostrador/operations/pricing.py (MOSTRADOR_MODEL_PRICES overrides both).
CREATE TABLE model_prices (
    tenant_id           text           NOT NULL,
    model               text           NOT NULL,
    input_per_million   numeric(12, 6) NOT NULL CHECK (input_per_million >= 0),
    output_per_million  numeric(12, 6) NOT NULL CHECK (output_per_million >= 0),
    updated_at          timestamptz    NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, model)
);

-- Date-range reads (analytics, export, the conversation list's date filter).
CREATE INDEX messages_tenant_created ON messages (tenant_id, created_at, id);
CREATE INDEX escalations_tenant_opened ON escalations (tenant_id, opened_at);
CREATE INDEX syncs_tenant_created ON syncs (tenant_id, created_at);
