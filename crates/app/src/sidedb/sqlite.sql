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

-- Where each reactor (a log subscriber that enqueues jobs) has got to. A reactor starts at
-- the head of the log the first time it is known, so it never acts on history.
CREATE TABLE IF NOT EXISTS reactor_checkpoints (
    name       TEXT PRIMARY KEY,
    position   INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Fixed-window counters of attempts (confirmations; one that succeeds is given back), per
-- client and per API key.
CREATE TABLE IF NOT EXISTS api_throttle (
    bucket       TEXT PRIMARY KEY,
    window_start INTEGER NOT NULL,
    hits         INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS api_throttle_window ON api_throttle (window_start);

-- The payment gateway's customer of each member: one, created once and then reused.
CREATE TABLE IF NOT EXISTS gateway_customers (
    member_id   TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

-- Payment methods as given (`pm_…`) and as attached to the member's customer: attached once.
CREATE TABLE IF NOT EXISTS gateway_methods (
    member_id   TEXT NOT NULL,
    given_id    TEXT NOT NULL,
    attached_id TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (member_id, given_id)
);

-- Webhook deliveries already applied, by the gateway's event id: a redelivery is ignored.
CREATE TABLE IF NOT EXISTS webhook_events (
    id          TEXT PRIMARY KEY,
    event_type  TEXT NOT NULL,
    received_at INTEGER NOT NULL
);

-- Access codes, by the SHA-256 of the code (the code itself is shown once and kept nowhere):
-- the plan they grant, how often they may be used and have been, until when.
CREATE TABLE IF NOT EXISTS access_codes (
    code_hash  TEXT PRIMARY KEY,
    plan       TEXT NOT NULL,
    batch_id   TEXT NOT NULL,
    max_uses   INTEGER NOT NULL,
    uses       INTEGER NOT NULL,
    expires_at INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS access_codes_batch ON access_codes (batch_id);

-- Referral codes: each member's code (derived from their id with a key of Roster's) and whose
-- it is, so that a registration can name its referrer by the code.
CREATE TABLE IF NOT EXISTS referral_codes (
    code       TEXT PRIMARY KEY,
    member_id  TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- Every membership a member opened (written before the join's first append), so that erasure
-- can end them all without waiting for a read model.
CREATE TABLE IF NOT EXISTS member_memberships (
    member_id     TEXT NOT NULL,
    membership_id TEXT NOT NULL,
    PRIMARY KEY (member_id, membership_id)
);
