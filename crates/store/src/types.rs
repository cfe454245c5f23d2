//! The shapes that cross the store boundary: what an append takes, what a read returns.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A position in the global log. The first event ever appended has position 1, so
/// `0` means "before everything" when reading or subscribing.
pub type Position = u64;

/// A stream's version: the first event of a stream has version 0 (as in KurrentDB).
pub type StreamVersion = u64;

/// The optimistic-concurrency condition of an append.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExpectedVersion {
    /// Append whatever the stream holds.
    Any,
    /// The stream must not exist yet.
    NoStream,
    /// The stream's last event must have exactly this version.
    Exact(StreamVersion),
}

/// Who caused an event. Stored in the metadata so the audit log can say who acted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum ActorRef {
    /// A member acting through an upstream app (`X-Roster-Actor`).
    Member(Uuid),
    /// An upstream app acting with its API key, named by the key's id.
    App(String),
    /// An operator using the CLI or operator endpoints.
    Operator(String),
    /// A background worker reporting back, named by its job queue.
    Worker(String),
    /// Roster itself (migrations, tests, process managers).
    System,
}

/// Metadata recorded with every event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    pub actor: ActorRef,
    pub correlation_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub causation_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

/// An event as handed to `append`: already serialised, personal data already sealed.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// UUIDv7. Appending an event id that is already in the log is a no-op (see `append`).
    pub event_id: Uuid,
    /// Versioned type name, e.g. `MemberRegistered.v1`.
    pub event_type: String,
    pub payload: serde_json::Value,
    pub metadata: Metadata,
}

/// An event as read back from the log.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedEvent {
    pub event_id: Uuid,
    pub stream: String,
    pub version: StreamVersion,
    pub position: Position,
    pub event_type: String,
    pub payload: serde_json::Value,
    pub metadata: Metadata,
}

/// A uniqueness claim written in the same transaction as the events, so that two racing
/// appends can never both claim the same value (no read-then-write race).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimOp {
    /// Claim `key` in `scope` for `owner`. Fails the whole append with
    /// [`AppendError::Claimed`] when another owner holds it; re-claiming one's own key is fine.
    Claim {
        scope: String,
        key: String,
        owner: String,
    },
    /// Release `key` in `scope` if `owner` holds it (no-op otherwise).
    Release {
        scope: String,
        key: String,
        owner: String,
    },
}

/// One atomic append to one stream.
#[derive(Debug, Clone, PartialEq)]
pub struct AppendRequest {
    pub stream: String,
    pub expected: ExpectedVersion,
    pub events: Vec<NewEvent>,
    pub claims: Vec<ClaimOp>,
}

impl AppendRequest {
    pub fn new(
        stream: impl Into<String>,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Self {
        Self {
            stream: stream.into(),
            expected,
            events,
            claims: Vec::new(),
        }
    }

    pub fn with_claims(mut self, claims: Vec<ClaimOp>) -> Self {
        self.claims = claims;
        self
    }
}

/// What a successful append wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendOutcome {
    /// Version of the stream's last event after the append.
    pub last_version: StreamVersion,
    /// Global position of the first and last event written (or found, for an idempotent retry).
    pub first_position: Position,
    pub last_position: Position,
}

/// How far a reader is behind the log ([`crate::EventLog::lag`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Lag {
    /// Events after the reader's position.
    pub events: u64,
    /// The count stopped at [`crate::LAG_COUNT_LIMIT`]: there are at least `events`.
    pub at_least: bool,
    /// When the oldest of them was recorded (`None` when caught up).
    pub oldest_at: Option<DateTime<Utc>>,
}

impl Lag {
    /// Age of the oldest event not handled yet, at `now` (0 when caught up).
    pub fn seconds(&self, now: DateTime<Utc>) -> f64 {
        self.oldest_at
            .map_or(0.0, |at| (now - at).as_seconds_f64().max(0.0))
    }
}
