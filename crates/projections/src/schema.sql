-- Projection bookkeeping, shared by SQLite and PostgreSQL (one dialect: TEXT and BIGINT).

-- Which generation of each projection's tables is live (the views point at it).
CREATE TABLE IF NOT EXISTS projection_live (
    name       TEXT   NOT NULL PRIMARY KEY,
    generation BIGINT NOT NULL
);

-- One checkpoint per projection generation: the live one and any shadow being built.
-- `position` is written in the same transaction as the rows it accounts for.
CREATE TABLE IF NOT EXISTS projection_checkpoints (
    name       TEXT   NOT NULL,
    generation BIGINT NOT NULL,
    position   BIGINT NOT NULL,
    -- running | rebuilding | stopped
    state      TEXT   NOT NULL,
    error      TEXT,
    -- What built the tables (catalog::fingerprint): a different one means a newer build
    -- changed the projection, and the generation is rebuilt in the background.
    fingerprint TEXT,
    PRIMARY KEY (name, generation)
);

-- Events a projection could not apply, with the error. Resolved rows stay as history.
CREATE TABLE IF NOT EXISTS projection_parked (
    name       TEXT   NOT NULL,
    generation BIGINT NOT NULL,
    position   BIGINT NOT NULL,
    stream     TEXT   NOT NULL,
    event_type TEXT   NOT NULL,
    error      TEXT   NOT NULL,
    attempts   BIGINT NOT NULL,
    parked_at  TEXT   NOT NULL,
    -- NULL while parked, else retried | skipped once an operator acted
    resolution TEXT,
    PRIMARY KEY (name, generation, position)
);

-- Every operator action on projections (retry, skip, replay), for the audit trail.
CREATE TABLE IF NOT EXISTS projection_operator_log (
    at       TEXT   NOT NULL,
    operator TEXT   NOT NULL,
    action   TEXT   NOT NULL,
    name     TEXT   NOT NULL,
    position BIGINT,
    note     TEXT   NOT NULL
)
