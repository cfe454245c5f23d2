//! Errors of the projection machinery. A projection's own failure on one event is a
//! [`ProjectionError::Event`]: it is retried, then parked or stops the projection per its
//! policy. Everything else is infrastructure and is retried with backoff.

use roster_app::AppError;
use roster_sql::SqlError;
use roster_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    /// The projection cannot apply this event (it cannot be decoded, or breaks an assumption).
    #[error("event at position {position}: {reason}")]
    Event { position: u64, reason: String },
    /// A compare-and-set failed: another writer moved the checkpoint or swapped generations.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A read asked for a position the projection has not reached within the wait.
    #[error("{0}")]
    Behind(crate::read::Lag),
    #[error("unknown projection {0:?}")]
    UnknownProjection(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error(transparent)]
    Sql(SqlError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    App(#[from] AppError),
    #[error("stored read model is corrupt: {0}")]
    Corrupt(String),
    #[error("shutting down: {0}")]
    Closed(String),
}

impl From<SqlError> for ProjectionError {
    /// A statement that did not change the rows it had to is the compare-and-set failing.
    fn from(error: SqlError) -> Self {
        match error {
            SqlError::Conflict(reason) => Self::Conflict(reason),
            other => Self::Sql(other),
        }
    }
}
