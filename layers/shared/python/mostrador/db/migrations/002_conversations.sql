-- Conversations: every inbound and outbound message (the log and the exactly-once record), takeover
-- pauses, escalations to humans, the tool calls behind each reply, and per-tenant reply settings.

CREATE TABLE conversations (
    tenant_id                 text        NOT NULL,
    conversation_id           text        NOT NULL,
    channel                   text        NOT NULL,
    customer_id               text,
    -- ISO 639-1 code of the customer's language, kept once detected.
    language                  text        NOT NULL DEFAULT 'es',
    last_customer_message_at  timestamptz,
    created_at                timestamptz NOT NULL DEFAULT now(),
    updated_at                timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, conversation_id)
);

-- One row per message in either direction. Inbound rows are unique on the platform's message id:
-- that uniqueness is what makes a redelivery do nothing. Inbound `state` tracks the reply:
-- received -> replied | skipped | failed. Outbound `status` follows the platform:
-- pending (generated, not yet sent) -> sent -> delivered -> read, or failed.
CREATE TABLE messages (
    id                    bigserial   PRIMARY KEY,
    tenant_id             text        NOT NULL,
    conversation_id       text        NOT NULL,
    channel               text        NOT NULL,
    direction             text        NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    -- customer, bot, human_agent, comment_bot, page, unknown
    actor                 text        NOT NULL,
    sender_id             text,
    text                  text        NOT NULL DEFAULT '',
    media_kind            text        NOT NULL DEFAULT 'text',
    platform_message_id   text,
    -- Every piece an outbound text was split into (status updates may name any of them).
    platform_message_ids  text[]      NOT NULL DEFAULT '{}',
    in_reply_to           bigint      REFERENCES messages (id) ON DELETE CASCADE,
    state                 text        CHECK (state IN ('received', 'replied', 'skipped', 'failed')),
    state_reason          text,
    status                text        CHECK (status IN ('pending', 'sent', 'delivered', 'read', 'failed')),
    error_code            text,
    error_title           text,
    latency_ms            integer,
    provider              text,
    model                 text,
    tokens_in             integer     NOT NULL DEFAULT 0,
    tokens_out            integer     NOT NULL DEFAULT 0,
    language              text,
    platform_timestamp    timestamptz,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (tenant_id, conversation_id) REFERENCES conversations (tenant_id, conversation_id) ON DELETE CASCADE
);

CREATE UNIQUE INDEX messages_platform_id ON messages (tenant_id, platform_message_id);
-- At most one bot reply per inbound message, whatever the retries.
CREATE UNIQUE INDEX messages_one_reply ON messages (in_reply_to) WHERE direction = 'outbound';
CREATE INDEX messages_conversation ON messages (tenant_id, conversation_id, id);
CREATE INDEX messages_piece_ids ON messages USING gin (platform_message_ids);

-- A human took the conversation over: the bot stays quiet until paused_until.
CREATE TABLE conversation_pauses (
    tenant_id        text        NOT NULL,
    conversation_id  text        NOT NULL,
    paused_until     timestamptz NOT NULL,
    reason           text        NOT NULL,
    -- Who caused it: an agent's user id, 'page_inbox', 'escalation', an admin.
    set_by           text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, conversation_id)
);

CREATE TABLE escalations (
    id                  bigserial   PRIMARY KEY,
    tenant_id           text        NOT NULL,
    conversation_id     text        NOT NULL,
    reason              text        NOT NULL,
    -- tool (the model called escalate_to_human), customer_request, no_results, promised_in_reply
    source              text        NOT NULL,
    status              text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    message_id          bigint      REFERENCES messages (id) ON DELETE SET NULL,
    opened_at           timestamptz NOT NULL DEFAULT now(),
    resolved_at         timestamptz,
    note                text
);

-- One open escalation per conversation: a retried message does not open a second one.
CREATE UNIQUE INDEX escalations_one_open ON escalations (tenant_id, conversation_id) WHERE status = 'open';

CREATE TABLE tool_calls (
    id                  bigserial   PRIMARY KEY,
    tenant_id           text        NOT NULL,
    conversation_id     text        NOT NULL,
    -- The inbound message whose reply made this call.
    message_id          bigint      NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    round               integer     NOT NULL,
    tool_name           text        NOT NULL,
    arguments           jsonb       NOT NULL,
    product_ids         text[]      NOT NULL DEFAULT '{}',
    result_count        integer     NOT NULL DEFAULT 0,
    error               text,
    latency_ms          integer,
    created_at          timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX tool_calls_conversation ON tool_calls (tenant_id, conversation_id, id);

CREATE TABLE tenant_settings (
    tenant_id      text        PRIMARY KEY,
    -- Replaces the shipped default system prompt when set.
    system_prompt  text,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
