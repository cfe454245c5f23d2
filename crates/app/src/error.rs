//! Application errors: a business rejection ([`DomainError`]) is kept apart from an
//! infrastructure failure ([`StoreError`]), so the API can map each in one table.

use roster_domain::DomainError;
use roster_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The domain refused the command.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// A unique value (an email) is held by someone else.
    #[error("{scope} is already taken")]
    Taken { scope: String },
    /// The aggregate kept changing under us for every retry.
    #[error("{stream} kept changing concurrently; gave up after {attempts} attempts")]
    Contended { stream: String, attempts: usize },
    /// The thing named does not exist.
    #[error("{what} not found")]
    NotFound { what: String },
    /// Too many attempts of this kind from this caller (failed confirmations); the same
    /// request may succeed after `retry_after_seconds`.
    #[error("{reason}; retry in {retry_after_seconds} s")]
    Throttled {
        retry_after_seconds: u64,
        reason: String,
    },
    #[error("event at position {position} ({event_type}) cannot be decoded: {reason}")]
    Decode {
        position: u64,
        event_type: String,
        reason: String,
    },
    #[error("event cannot be encoded: {0}")]
    Encode(String),
    /// A webhook whose signature is missing, wrong or outside the tolerance.
    #[error("webhook signature: {0}")]
    InvalidSignature(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("SQL side: {0}")]
    Sql(#[from] roster_sql::SqlError),
}

impl From<serde_json::Error> for AppError {
    fn from(e: serde_json::Error) -> Self {
        AppError::Encode(e.to_string())
    }
}
