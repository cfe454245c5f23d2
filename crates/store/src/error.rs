//! Store errors. A conflict or a taken claim is an expected outcome the caller handles;
//! `Backend` is an infrastructure failure.

use crate::types::{ExpectedVersion, StreamVersion};

#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// The stream was not at the expected version. `actual` is `None` when the stream does not exist.
    #[error("stream {stream} expected at {expected:?} but is at {actual:?}")]
    WrongExpectedVersion {
        stream: String,
        expected: ExpectedVersion,
        actual: Option<StreamVersion>,
    },
    /// A uniqueness claim is held by another owner.
    #[error("{scope} is already claimed by {owner}")]
    Claimed { scope: String, owner: String },
    /// Some but not all of the event ids are already in the log, or they are in another stream:
    /// this is not a retry of an earlier append.
    #[error("event {event_id} is already in the log and this append is not a retry of that one")]
    DuplicateEventId { event_id: uuid::Uuid },
    #[error(transparent)]
    Backend(#[from] StoreError),
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("postgres: {0}")]
    Postgres(#[from] sqlx::Error),
    #[error("postgres migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("the store is closed")]
    Closed,
    #[error("cryptography: {0}")]
    Crypto(String),
    #[error("configuration: {0}")]
    Config(String),
    /// A table of the SQL side (claims, data keys) kept for a log that has none of its own.
    #[error("{table}: {source}")]
    Sql {
        table: &'static str,
        source: roster_sql::SqlError,
    },
    /// The log's server (KurrentDB) failed or could not be reached.
    #[error("{server}: {message}")]
    Server {
        server: &'static str,
        message: String,
    },
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}
