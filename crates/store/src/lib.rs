//! Roster's event log.
//!
//! The [`EventStore`] trait is what the rest of Roster sees: append with an expected version,
//! read a stream, read the global log from a position, subscribe (catch-up, then live). Two
//! backends implement it: [`sqlite::SqliteStore`] (the embedded default) and
//! [`postgres::PostgresStore`]. Both pass the same conformance suite (`tests/conformance`).
//!
//! Architecture invariants:
//! - Global positions are gap-safe: an event never becomes visible at a position lower than
//!   one a reader has already seen. Both backends serialise commits (one writer; on PostgreSQL
//!   also a transaction-scoped advisory lock) and take the position inside that critical section.
//! - Appends are idempotent by event id.
//! - The store never sees plaintext personal data: [`pii`] seals it before the append.

mod apply;
mod batch;
pub mod error;
pub mod keys;
pub mod pii;
pub mod postgres;
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
pub trait EventStore: Send + Sync + 'static {
    /// Appends `req.events` to `req.stream` atomically, if the stream is at `req.expected`,
    /// and applies `req.claims` in the same transaction.
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

    /// Who holds `key` in `scope` (a committed [`ClaimOp::Claim`] not released since), if
    /// anyone: a claim doubles as a unique index from a value to its owner.
    async fn claim_owner(&self, scope: &str, key: &str) -> Result<Option<String>, StoreError>;

    /// A receiver that changes whenever new events commit (carrying the new head). Subscribers
    /// wait on it instead of polling; on PostgreSQL it is fed by LISTEN/NOTIFY so that appends
    /// from other processes wake it too.
    fn changes(&self) -> tokio::sync::watch::Receiver<Position>;

    /// The data-key table that lives beside the log (crypto-shredding).
    fn keys(&self) -> &dyn KeyStore;

    /// Short name of the backend, for logs and `roster events` output.
    fn backend_name(&self) -> &'static str;
}

/// Shared handle to any store.
pub type DynStore = Arc<dyn EventStore>;
