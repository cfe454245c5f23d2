-- The SQLite event store, version 1. Applied once, when PRAGMA user_version is 0.

-- The log. `position` is the rowid, so the global order is the table's own order; the writer
-- assigns it from the head it reads after taking the write lock, so positions commit in order.
CREATE TABLE events (
    position   INTEGER PRIMARY KEY,
    event_id   BLOB    NOT NULL UNIQUE,
    stream     TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    event_type TEXT    NOT NULL,
    payload    TEXT    NOT NULL,
    metadata   TEXT    NOT NULL,
    UNIQUE (stream, version)
);

-- Uniqueness claims (one account per email, one code per plan), written in the same
-- transaction as the events that rely on them.
CREATE TABLE unique_claims (
    scope TEXT NOT NULL,
    key   TEXT NOT NULL,
    owner TEXT NOT NULL,
    PRIMARY KEY (scope, key)
) WITHOUT ROWID;

-- Data keys for crypto-shredding. A destroyed key keeps its row (wrapped NULL, destroyed_at
-- set) so that it is never created again.
CREATE TABLE data_keys (
    subject      BLOB PRIMARY KEY,
    wrapped      BLOB,
    created_at   TEXT NOT NULL,
    destroyed_at TEXT
) WITHOUT ROWID;
