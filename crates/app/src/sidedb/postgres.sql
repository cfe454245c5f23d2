-- Side tables of the HTTP API (see sidedb/mod.rs), in the schema of the event store.
-- Idempotent: run on every open, under an advisory lock.
CREATE TABLE IF NOT EXISTS api_keys (
    id         UUID PRIMARY KEY,
    name       TEXT NOT NULL,
    scopes     TEXT NOT NULL,
    key_hash   TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE IF NOT EXISTS api_idempotency (
    owner        TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       INTEGER,
    body         BYTEA,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (owner, key)
);

CREATE TABLE IF NOT EXISTS api_verification_tokens (
    token_hash TEXT PRIMARY KEY,
    member_id  UUID NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX IF NOT EXISTS api_verification_tokens_member ON api_verification_tokens (member_id);
