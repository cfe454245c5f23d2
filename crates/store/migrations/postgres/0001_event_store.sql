-- The PostgreSQL event store, version 1. Tables live in the connection's current schema
-- (the first schema of search_path), so one database can hold several stores.

-- The log. Positions are assigned by the single writer under a transaction-scoped advisory
-- lock, never by a sequence: sequence values commit out of order, these commit in order.
CREATE TABLE events (
    position   BIGINT PRIMARY KEY,
    event_id   UUID   NOT NULL UNIQUE,
    stream     TEXT   NOT NULL,
    version    BIGINT NOT NULL,
    event_type TEXT   NOT NULL,
    payload    JSONB  NOT NULL,
    metadata   JSONB  NOT NULL,
    UNIQUE (stream, version)
);

-- Uniqueness claims, written in the same transaction as the events that rely on them.
CREATE TABLE unique_claims (
    scope TEXT NOT NULL,
    key   TEXT NOT NULL,
    owner TEXT NOT NULL,
    PRIMARY KEY (scope, key)
);

-- Data keys for crypto-shredding. A destroyed key keeps its row (wrapped NULL, destroyed_at
-- set) so that it is never created again.
CREATE TABLE data_keys (
    subject      UUID PRIMARY KEY,
    wrapped      BYTEA,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    destroyed_at TIMESTAMPTZ
);
