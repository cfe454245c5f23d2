//! Records that live beside the event log but are not events: API keys (hashed), idempotency
//! records of HTTP commands, reactor checkpoints and counters of failed attempts. They are
//! operational state, not facts: losing them loses no history, and none of them holds a usable
//! secret.
//!
//! On PostgreSQL these tables live in the schema of the log; on SQLite in a file of their own
//! beside the log's (`DATA_DIR/side.db`), because SQLite has one writer per file and these
//! small writes would otherwise queue behind the log's group commits. Tables are created on open with `IF NOT EXISTS`.
//!
//! Architecture invariant: no secret is stored in clear. API keys are 32 random bytes, so a
//! SHA-256 of them is enough to find them and useless to an attacker who copies the table.

mod postgres;
mod sqlite;

use std::str::FromStr;

use chrono::{DateTime, Utc};
use roster_store::StoreError;
use sqlx::postgres::PgConnectOptions;
use uuid::Uuid;

use crate::StorageConfig;

/// The SQLite file of the side tables, in the data dir.
pub const SQLITE_FILE: &str = "side.db";

/// A reservation whose request never answered (the process died mid-request) is abandoned
/// after this long, and the next request with the same key runs instead of waiting forever.
pub const ABANDONED_AFTER: chrono::Duration = chrono::Duration::seconds(60);

/// An API key as stored: everything but the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    pub id: Uuid,
    pub name: String,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// The first answer recorded for an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub body: Vec<u8>,
}

/// What reserving an idempotency key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reservation {
    /// The key is new: the caller runs the request, then completes or releases the key.
    Reserved,
    /// The key was used before; `request_hash` tells whether it was for the same request.
    Completed {
        request_hash: String,
        response: StoredResponse,
    },
    /// Another request with this key is running right now (for less than [`ABANDONED_AFTER`]).
    InProgress,
}

/// The side tables, on the backend the storage configuration selects.
#[derive(Clone)]
pub enum SideDb {
    Sqlite(sqlite::SqliteSide),
    Postgres(postgres::PgSide),
}

impl SideDb {
    /// Opens the side tables of the configured store (creating them when needed).
    pub async fn open(config: &StorageConfig) -> Result<Self, StoreError> {
        match config.database_url.as_deref() {
            Some(url) => Self::postgres(PgConnectOptions::from_str(url)?).await,
            None => Self::sqlite(&config.data_dir.join(SQLITE_FILE)).await,
        }
    }

    pub async fn sqlite(path: &std::path::Path) -> Result<Self, StoreError> {
        Ok(Self::Sqlite(sqlite::SqliteSide::open(path).await?))
    }

    pub async fn postgres(options: PgConnectOptions) -> Result<Self, StoreError> {
        Ok(Self::Postgres(postgres::PgSide::open(options).await?))
    }

    /// Whether the database answers (readiness).
    pub async fn ping(&self) -> Result<(), StoreError> {
        match self {
            Self::Sqlite(db) => db.ping().await,
            Self::Postgres(db) => db.ping().await,
        }
    }

    pub async fn insert_api_key(&self, key: &ApiKeyRecord, hash: &str) -> Result<(), StoreError> {
        match self {
            Self::Sqlite(db) => db.insert_api_key(key, hash).await,
            Self::Postgres(db) => db.insert_api_key(key, hash).await,
        }
    }

    /// The live (not revoked) key with this hash.
    pub async fn find_api_key(&self, hash: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        match self {
            Self::Sqlite(db) => db.find_api_key(hash).await,
            Self::Postgres(db) => db.find_api_key(hash).await,
        }
    }

    pub async fn list_api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError> {
        match self {
            Self::Sqlite(db) => db.list_api_keys().await,
            Self::Postgres(db) => db.list_api_keys().await,
        }
    }

    /// Revokes the live keys whose id or name is `id_or_name`; returns how many.
    pub async fn revoke_api_key(
        &self,
        id_or_name: &str,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        match self {
            Self::Sqlite(db) => db.revoke_api_key(id_or_name, now).await,
            Self::Postgres(db) => db.revoke_api_key(id_or_name, now).await,
        }
    }

    /// Claims `(owner, key)` for a request with `request_hash`, or reports its earlier use.
    pub async fn reserve_idempotency_key(
        &self,
        owner: &str,
        key: &str,
        request_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Reservation, StoreError> {
        match self {
            Self::Sqlite(db) => db.reserve(owner, key, request_hash, now).await,
            Self::Postgres(db) => db.reserve(owner, key, request_hash, now).await,
        }
    }

    /// Records the answer to replay for `(owner, key)`, if the reservation made at `since` is
    /// still this request's: one taken over as abandoned belongs to the newer request, whose
    /// answer must not be overwritten by a late first one.
    pub async fn complete_idempotency_key(
        &self,
        owner: &str,
        key: &str,
        since: DateTime<Utc>,
        response: &StoredResponse,
    ) -> Result<(), StoreError> {
        match self {
            Self::Sqlite(db) => db.complete(owner, key, millis(since), response).await,
            Self::Postgres(db) => db.complete(owner, key, millis(since), response).await,
        }
    }

    /// Forgets the reservation made at `since` (a request that failed for a technical reason),
    /// so a retry can run.
    pub async fn release_idempotency_key(
        &self,
        owner: &str,
        key: &str,
        since: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        match self {
            Self::Sqlite(db) => db.release(owner, key, millis(since)).await,
            Self::Postgres(db) => db.release(owner, key, millis(since)).await,
        }
    }

    /// Where reactor `name` has got to. The first call for a name records `head` and returns
    /// it: a new reactor starts at the head of the log and never acts on history.
    pub async fn start_reactor(
        &self,
        name: &str,
        head: u64,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        match self {
            Self::Sqlite(db) => db.start_reactor(name, head, now).await,
            Self::Postgres(db) => db.start_reactor(name, head, now).await,
        }
    }

    /// Moves reactor `name` on to `position` (never back: two processes may run it).
    pub async fn advance_reactor(
        &self,
        name: &str,
        position: u64,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        match self {
            Self::Sqlite(db) => db.advance_reactor(name, position, now).await,
            Self::Postgres(db) => db.advance_reactor(name, position, now).await,
        }
    }

    /// Every reactor's position, by name.
    pub async fn reactor_positions(&self) -> Result<Vec<(String, u64)>, StoreError> {
        match self {
            Self::Sqlite(db) => db.reactor_positions().await,
            Self::Postgres(db) => db.reactor_positions().await,
        }
    }

    /// Takes one attempt from `bucket`'s allowance of `limit` per fixed window of `window`:
    /// [`Throttle::Limited`] once the window's attempts exceed it. Counting before the attempt
    /// runs keeps concurrent attempts from slipping past the limit together; an attempt that
    /// turns out well gives its count back ([`SideDb::give_back`]), so what is limited is
    /// failures. Windows that are over are forgotten on the way.
    pub async fn take_attempt(
        &self,
        bucket: &str,
        limit: u32,
        window: chrono::Duration,
        now: DateTime<Utc>,
    ) -> Result<Throttle, StoreError> {
        let (now_ms, over_before) = (millis(now), millis(now - window));
        let (start, hits) = match self {
            Self::Sqlite(db) => db.throttle_take(bucket, now_ms, over_before).await?,
            Self::Postgres(db) => db.throttle_take(bucket, now_ms, over_before).await?,
        };
        Ok(if hits > i64::from(limit) {
            Throttle::Limited {
                until: from_millis(start) + window,
            }
        } else {
            Throttle::Allowed
        })
    }

    /// Returns the attempt [`SideDb::take_attempt`] counted in `bucket`.
    pub async fn give_back(&self, bucket: &str) -> Result<(), StoreError> {
        match self {
            Self::Sqlite(db) => db.throttle_give_back(bucket).await,
            Self::Postgres(db) => db.throttle_give_back(bucket).await,
        }
    }
}

/// What [`SideDb::take_attempt`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throttle {
    Allowed,
    /// Over the limit until this instant.
    Limited {
        until: DateTime<Utc>,
    },
}

fn to_i64(position: u64) -> Result<i64, StoreError> {
    i64::try_from(position).map_err(|_| corrupt("position"))
}

fn to_position(stored: i64) -> Result<u64, StoreError> {
    u64::try_from(stored).map_err(|_| corrupt("reactor position"))
}

fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

fn from_millis(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

fn split_scopes(text: &str) -> Vec<String> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("side table holds an invalid {what}"))
}
