//! Roster's event log.
//!
//! Two seams, so that a log which is not a SQL database (KurrentDB) can take the log's place:
//!
//! - [`EventLog`]: append with an expected version, read a stream, read the global log from a
//!   position, head, lag, change notifications (subscriptions are written once over it, in
//!   [`subscription`]).
//! - The SQL side's part of the store: [`ClaimIndex`] (who holds a unique value) and
//!   [`KeyStore`] (the data keys of crypto-shredding).
//!
//! Two backends implement all three in one database, [`sqlite::SqliteStore`] (the embedded
//! default) and [`postgres::PostgresStore`]; `into_parts` hands each out as the three seams
//! ([`LogParts`]). Both pass the same conformance suite (`tests/conformance`).
//!
//! Architecture invariants:
//! - Global positions are gap-safe: an event never becomes visible at a position lower than
//!   one a reader has already seen. Both backends serialise commits (one writer; on PostgreSQL
//!   also a transaction-scoped advisory lock) and take the position inside that critical section.
//! - Appends are idempotent by event id.
//! - Uniqueness claims ride on the append ([`AppendRequest::claims`]) and commit in its
//!   transaction: a log that shares no transaction with the SQL side must not accept them
//!   (ARCHITECTURE.md: "Claims when the log is KurrentDB").
//! - The store never sees plaintext personal data: [`pii`] seals it before the append.

mod apply;
mod batch;
pub mod claiming;
pub mod error;
pub mod keys;
pub mod pii;
pub mod postgres;
pub mod split_keys;
mod sql;
pub mod sqlite;
pub mod subscription;
#[cfg(feature = "testing")]
pub mod testing;
pub mod types;

use std::sync::Arc;

use async_trait::async_trait;

pub use error::{AppendError, StoreError};
pub use keys::KeyStore;
pub use types::*;

/// The event log. Implementations are cheap to clone behind an `Arc` and safe to share.
#[async_trait]
pub trait EventLog: Send + Sync + 'static {
    /// Appends `req.events` to `req.stream` atomically, if the stream is at `req.expected`,
    /// and applies `req.claims` in the same transaction (a log that cannot answers
    /// [`AppendError::Backend`] for an append with claims).
    ///
    /// An append whose event ids are all already in the log, in the same stream and order,
    /// writes nothing and returns the original outcome (a retried append succeeds).
    async fn append(&self, req: AppendRequest) -> Result<AppendOutcome, AppendError>;

    /// Events of one stream with `version >= from`, in version order, at most `limit`.
    async fn read_stream(
        &self,
        stream: &str,
        from: StreamVersion,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError>;

    /// Events of the global log with `position > after`, in position order, at most `limit`.
    async fn read_all(
        &self,
        after: Position,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError>;

    /// Position of the last committed event (0 for an empty log).
    async fn head(&self) -> Result<Position, StoreError>;

    /// How far a reader that has handled everything up to `position` is behind the head.
    ///
    /// Positions need not be dense (KurrentDB's are byte offsets), so this default counts the
    /// events after `position`, up to [`LAG_COUNT_LIMIT`]. A log whose positions are dense
    /// answers `head - position` instead.
    async fn lag(&self, position: Position) -> Result<Lag, StoreError> {
        let mut lag = Lag::default();
        let mut after = position;
        loop {
            let page = self.read_all(after, 500).await?;
            if lag.oldest_at.is_none() {
                lag.oldest_at = page.first().map(|e| e.metadata.recorded_at);
            }
            lag.events += page.len() as u64;
            match page.last() {
                Some(last) if lag.events < LAG_COUNT_LIMIT => after = last.position,
                Some(_) => {
                    lag.at_least = true;
                    return Ok(lag);
                }
                None => return Ok(lag),
            }
        }
    }

    /// A receiver that changes whenever new events commit (carrying the new head). Subscribers
    /// wait on it instead of polling; on PostgreSQL it is fed by LISTEN/NOTIFY so that appends
    /// from other processes wake it too.
    fn changes(&self) -> tokio::sync::watch::Receiver<Position>;

    /// Short name of the backend, for logs and `roster events` output.
    fn backend_name(&self) -> &'static str;
}

/// Shared handle to any log.
pub type DynLog = Arc<dyn EventLog>;

/// Events [`EventLog::lag`] counts one by one before it answers "at least".
pub const LAG_COUNT_LIMIT: u64 = 100_000;

/// Who holds which unique value: the claims written with appends ([`ClaimOp`]).
#[async_trait]
pub trait ClaimIndex: Send + Sync + 'static {
    /// Who holds `key` in `scope` (a committed [`ClaimOp::Claim`] not released since), if
    /// anyone: a claim doubles as a unique index from a value to its owner.
    async fn claim_owner(&self, scope: &str, key: &str) -> Result<Option<String>, StoreError>;
}

pub type DynClaims = Arc<dyn ClaimIndex>;
pub type DynKeys = Arc<dyn KeyStore>;

/// A log together with the claim index and the data keys kept beside it
/// ([`SqlStore::into_parts`]).
#[derive(Clone)]
pub struct LogParts {
    pub log: DynLog,
    pub claims: DynClaims,
    pub keys: DynKeys,
}

/// A store that keeps the log, the claim index and the key table in one database (both SQL
/// backends).
pub trait SqlStore: EventLog + ClaimIndex + Sized {
    /// The key table beside the log.
    fn key_table(&self) -> DynKeys;

    /// The three seams, as the rest of Roster holds them.
    fn into_parts(self) -> LogParts {
        let keys = self.key_table();
        let store = Arc::new(self);
        LogParts {
            log: store.clone(),
            claims: store,
            keys,
        }
    }
}

/// The lag of a log whose positions are dense (both SQL backends: positions are taken without
/// holes in commit order): `head - position` events, no count needed.
async fn dense_lag(log: &dyn EventLog, position: Position) -> Result<Lag, StoreError> {
    let head = log.head().await?;
    let oldest_at = match head > position {
        true => log
            .read_all(position, 1)
            .await?
            .first()
            .map(|e| e.metadata.recorded_at),
        false => None,
    };
    Ok(Lag {
        events: head.saturating_sub(position),
        at_least: false,
        oldest_at,
    })
}
