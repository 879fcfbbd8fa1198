-- Admin access (docs/admin.md, "Roles and tokens"): per-person tokens with a tenant and a role, and the
-- audit log of every admin mutation. Tenants are referenced by id without a foreign key: the tenants
-- table is another migration's, and an audit entry must outlive whatever it names.

-- Only a keyed hash of each token is kept: HMAC-SHA256 under ADMIN_TOKEN_HASH_KEY (a deployment secret,
-- never in the database). Tokens are 256 random bits, so a fast hash loses nothing to guessing (bcrypt's
-- slowness protects low-entropy passwords), the lookup is one index probe, and a leaked or writable
-- table is useless without the key: hashes cannot be reversed or forged.
CREATE TABLE admin_tokens (
    id            bigserial   PRIMARY KEY,
    token_hash    bytea       NOT NULL UNIQUE,
    -- The first characters of the token, shown in lists so a person can tell theirs apart.
    token_prefix  text        NOT NULL,
    -- NULL for a deployment operator, set for everyone else.
    tenant_id     text,
    role          text        NOT NULL CHECK (role IN ('operator', 'owner', 'agent', 'viewer')),
    -- Who holds it ("ana@tienda", "inventory dashboard"): the actor named in the audit log.
    name          text        NOT NULL,
    created_by    text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz,
    -- Refreshed when a function looks the token up (about once per cache period per environment).
    last_used_at  timestamptz,
    revoked_at    timestamptz,
    revoked_by    text,
    CHECK ((role = 'operator') = (tenant_id IS NULL))
);

CREATE INDEX admin_tokens_tenant ON admin_tokens (tenant_id, id);

-- One row per admin mutation that succeeded, written in the same transaction as the change itself.
-- No request bodies: they may hold customer text or secrets.
CREATE TABLE audit_log (
    id              bigserial   PRIMARY KEY,
    -- The tenant acted on; NULL for deployment-level actions (tenants, operator tokens).
    tenant_id       text,
    actor           text        NOT NULL,
    actor_role      text        NOT NULL,
    -- NULL when the actor used the deployment's ADMIN_TOKEN.
    actor_token_id  bigint,
    action          text        NOT NULL,
    method          text        NOT NULL,
    route           text        NOT NULL,
    target_id       text,
    status          smallint    NOT NULL,
    at              timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE INDEX audit_log_tenant_at ON audit_log (tenant_id, at DESC, id DESC);
CREATE INDEX audit_log_at ON audit_log (at DESC, id DESC);
