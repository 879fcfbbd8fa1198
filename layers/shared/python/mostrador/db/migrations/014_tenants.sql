-- Tenants as data (docs/tenants.md): one deployment serves several businesses. Every table already
-- carries tenant_id; this adds who the tenants are, which channel ids and keys route to each, and
-- their settings. The database is the source of truth; the webhook and ingest functions read a
-- routing document published from these tables (mostrador/tenancy/routing.py), never the database.

CREATE TABLE tenants (
    tenant_id               text        PRIMARY KEY,
    display_name            text        NOT NULL,
    -- An inactive tenant's channel ids and keys leave the routing document: its events are dropped.
    active                  boolean     NOT NULL DEFAULT true,
    time_zone               text        NOT NULL DEFAULT 'UTC',
    -- A conversation whose messages never name a language is answered in this one.
    default_language        text        NOT NULL DEFAULT 'es',
    -- How prices are shown to customers (ISO 4217 code): the model is told to use it.
    currency                text        NOT NULL DEFAULT 'USD',
    -- Replaces the shipped default system prompt (voice, store facts); the ground rules always follow.
    system_prompt           text,
    -- {"mon": ["09:00-18:00"], ...} in time_zone; {} means always open.
    business_hours          jsonb       NOT NULL DEFAULT '{}',
    -- Told to the customer instead of the usual handoff notice when a person is asked for outside hours.
    after_hours_message     text,
    -- Who hears of an escalation: Support Board agents it is assigned to, an e-mail, a webhook.
    escalation_agent_ids    text[]      NOT NULL DEFAULT '{}',
    escalation_email        text,
    escalation_webhook_url  text,
    -- NULL: the deployment's HUMAN_TAKEOVER_PAUSE_MINUTES.
    takeover_pause_minutes  integer     CHECK (takeover_pause_minutes > 0),
    -- NULL: the deployment's LLM_PROVIDER and chat model.
    llm_provider            text        CHECK (llm_provider IN ('openai', 'gemini', 'offline')),
    chat_model              text,
    -- Soft monthly limit on LLM tokens (every purpose). Past it: a cheaper model, or escalation.
    monthly_token_budget    bigint      CHECK (monthly_token_budget > 0),
    over_budget             text        NOT NULL DEFAULT 'cheaper_model'
                                        CHECK (over_budget IN ('cheaper_model', 'escalate')),
    budget_model            text,
    -- The tenant's Support Board installation (its token lives in the tenant's secret).
    support_board_api_url           text,
    support_board_dm_bot_user_id    text,
    support_board_agent_ids         text[]  NOT NULL DEFAULT '{}',
    comment_bot_proxy_user_id       text,
    comment_bot_initiation_tag      text,
    -- An upgraded single-tenant deployment answered every channel id; its tenant keeps doing so for
    -- ids nobody claims until an operator switches this off (at most one tenant, and only while alone).
    claims_unrouted         boolean     NOT NULL DEFAULT false,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX tenants_one_claiming_unrouted ON tenants ((true)) WHERE claims_unrouted;
-- One Support Board bot answers for one tenant.
CREATE UNIQUE INDEX tenants_support_board_bot ON tenants (lower(support_board_api_url), support_board_dm_bot_user_id)
    WHERE support_board_api_url IS NOT NULL AND support_board_dm_bot_user_id IS NOT NULL;

-- Channel ids an inbound event is routed by: WhatsApp phone_number_id, Messenger Page id, Instagram
-- account id, web chat widget key (public, in the shop's page). One id belongs to one tenant.
CREATE TABLE tenant_channels (
    channel      text        NOT NULL CHECK (channel IN ('whatsapp', 'messenger', 'instagram', 'webchat')),
    channel_key  text        NOT NULL,
    tenant_id    text        NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (channel, channel_key)
);

CREATE INDEX tenant_channels_tenant ON tenant_channels (tenant_id);

-- Secret keys that both authenticate a caller and name its tenant: catalog ingest keys (X-API-KEY)
-- and Support Board webhook secrets (the body's `key`). Only a SHA-256 is stored; several per tenant
-- so that a key can be rotated without downtime; a revoked key stays listed.
CREATE TABLE tenant_keys (
    key_id      text        PRIMARY KEY,
    tenant_id   text        NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    kind        text        NOT NULL CHECK (kind IN ('ingest', 'support_board')),
    key_hash    text        NOT NULL UNIQUE,
    -- The key's last characters, so a person can tell keys apart.
    hint        text        NOT NULL,
    label       text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

CREATE INDEX tenant_keys_tenant ON tenant_keys (tenant_id, kind);

-- Upgrade from one tenant per deployment: every tenant id found in the data becomes a tenant, with
-- the prompt it had in tenant_settings. A lone tenant (the usual upgrade) keeps answering ids nobody
-- claims, so nothing it answered before goes unanswered now.
INSERT INTO tenants (tenant_id, display_name)
SELECT DISTINCT tenant_id, tenant_id FROM (
    SELECT tenant_id FROM conversations
    UNION SELECT tenant_id FROM products
    UNION SELECT tenant_id FROM syncs
    UNION SELECT tenant_id FROM llm_usage
    UNION SELECT tenant_id FROM tenant_settings
    UNION SELECT tenant_id FROM operator_actions
    UNION SELECT tenant_id FROM model_prices
    UNION SELECT tenant_id FROM search_synonyms
) AS seen
ON CONFLICT DO NOTHING;

UPDATE tenants t SET system_prompt = s.system_prompt, updated_at = now()
  FROM tenant_settings s
 WHERE s.tenant_id = t.tenant_id AND s.system_prompt IS NOT NULL;

UPDATE tenants SET claims_unrouted = true WHERE (SELECT count(*) FROM tenants) = 1;

-- The channel ids each tenant's conversations were with (conversation ids name them:
-- "wa:<phone_number_id>:…", "fb:<page id>:…", "ig:<account id>:…"): claimed for that tenant.
INSERT INTO tenant_channels (channel, channel_key, tenant_id)
SELECT DISTINCT ON (channel, channel_key) channel, channel_key, tenant_id FROM (
    SELECT CASE split_part(conversation_id, ':', 1)
               WHEN 'wa' THEN 'whatsapp' WHEN 'fb' THEN 'messenger' WHEN 'ig' THEN 'instagram' END AS channel,
           split_part(conversation_id, ':', 2) AS channel_key,
           tenant_id, created_at
      FROM conversations
     WHERE split_part(conversation_id, ':', 1) IN ('wa', 'fb', 'ig') AND split_part(conversation_id, ':', 2) <> ''
) AS seen
ORDER BY channel, channel_key, created_at
ON CONFLICT DO NOTHING;

-- The prompt now lives with the tenant's other settings.
DROP TABLE tenant_settings;
