-- Side tables of the HTTP API (see sidedb/mod.rs). Idempotent: run on every open.
CREATE TABLE IF NOT EXISTS api_keys (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    scopes     TEXT NOT NULL,
    key_hash   TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);

-- One row per (API key, Idempotency-Key); `status` and `body` stay NULL while the first
-- request runs.
CREATE TABLE IF NOT EXISTS api_idempotency (
    owner        TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       INTEGER,
    body         BLOB,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (owner, key)
);

CREATE TABLE IF NOT EXISTS api_verification_tokens (
    token_hash TEXT PRIMARY KEY,
    member_id  TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX IF NOT EXISTS api_verification_tokens_member ON api_verification_tokens (member_id);
