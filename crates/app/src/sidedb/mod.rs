//! Records that live beside the event log but are not events: API keys (hashed), idempotency
//! records of HTTP commands, and verification tokens (hashed). They are operational state, not
//! facts: losing them loses no history, and none of them holds a usable secret.
//!
//! On PostgreSQL these tables live in the schema of the log; on SQLite in a file of their own
//! beside the log's (`DATA_DIR/side.db`), because SQLite has one writer per file and these
//! small writes (a token per registration) would otherwise queue behind the log's group
//! commits. Tables are created on open with `IF NOT EXISTS`.
//!
//! Architecture invariant: no secret is stored in clear. API keys and verification tokens are
//! 32 random bytes, so a SHA-256 of them is enough to find them and useless to an attacker who
//! copies the table.

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

    /// Stores a new verification token (by hash) for `member_id` and invalidates the member's
    /// older unused tokens.
    pub async fn insert_token(
        &self,
        hash: &str,
        member_id: Uuid,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        match self {
            Self::Sqlite(db) => db.insert_token(hash, member_id, now, expires_at).await,
            Self::Postgres(db) => db.insert_token(hash, member_id, now, expires_at).await,
        }
    }

    /// Uses up the token with this hash if it is unused and unexpired at `now`, returning its
    /// member. Atomic: of two concurrent uses, one wins.
    pub async fn consume_token(
        &self,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Uuid>, StoreError> {
        match self {
            Self::Sqlite(db) => db.consume_token(hash, now).await,
            Self::Postgres(db) => db.consume_token(hash, now).await,
        }
    }

    /// Makes a consumed token usable again: the confirmation it was consumed for failed.
    pub async fn restore_token(&self, hash: &str) -> Result<(), StoreError> {
        match self {
            Self::Sqlite(db) => db.restore_token(hash).await,
            Self::Postgres(db) => db.restore_token(hash).await,
        }
    }
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
