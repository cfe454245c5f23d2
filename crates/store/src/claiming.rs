//! Uniqueness claims for a log that shares no transaction with the SQL side (KurrentDB): the
//! claims table lives on the SQL side and every append with claims follows the protocol of
//! ARCHITECTURE.md ("Claims when the log is KurrentDB"):
//!
//! 1. the append's event ids are fixed by the caller (a retried command has the same ones);
//! 2. **reserve**: every claim and release is written as *pending* (`claiming`, `releasing`),
//!    naming the append's stream, the version its first event will have, and that event's id,
//!    in one SQL transaction; a value another owner holds, or is claiming, or is still
//!    releasing, refuses the append before anything reaches the log;
//! 3. **append** to the log with the expected version;
//! 4. **confirm**: claims become `held`, releases delete their row.
//!
//! A crash between the steps leaves pending rows, which [`ClaimingLog::recover`] settles from
//! the log itself: the named event is in the named stream -> the append happened, confirm; it is
//! not there and the row is older than the grace period (longer than any append takes) -> the
//! append never happened and never will (its expected version is gone or its process is), undo.
//! Recovery runs when the log is opened and whenever a reservation meets another append's
//! pending row. `claim_owner` answers a pending claim's new owner and a pending release's old
//! owner, so a value is never held by two owners at once and never lost.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use roster_sql::{Col, Db, SqlError, Stmt, Val, int_at, text_at};
use uuid::Uuid;

use crate::{
    AppendError, AppendOutcome, AppendRequest, ClaimIndex, ClaimOp, DynLog, EventLog,
    ExpectedVersion, Position, RecordedEvent, StoreError, StreamVersion,
};

/// The parameters of a reservation: PostgreSQL prepares a statement once per connection, so a
/// NULL version must go as the BIGINT a number goes as.
const TYPES: [Col; 7] = [
    Col::Text,
    Col::Text,
    Col::Text,
    Col::Text,
    Col::Int,
    Col::Text,
    Col::Int,
];

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS split_claims (
    scope      TEXT NOT NULL,
    claim_key  TEXT NOT NULL,
    owner      TEXT NOT NULL,
    state      TEXT NOT NULL,
    prev_owner TEXT,
    stream     TEXT,
    version    BIGINT,
    event_id   TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (scope, claim_key)
)";

/// A log with its claims kept on the SQL side. Cheap to clone.
#[derive(Clone)]
pub struct ClaimingLog {
    inner: DynLog,
    db: Db,
    /// How old a pending row must be before an event missing from the log means "never".
    grace: chrono::Duration,
    /// Test hook: fail the append after the log wrote it and before the confirmation.
    crash_after_append: Arc<AtomicBool>,
}

/// What a pending row of `split_claims` says.
#[derive(Debug, Clone)]
struct Pending {
    stream: String,
    version: Option<StreamVersion>,
    event_id: Uuid,
    created_at: DateTime<Utc>,
}

impl ClaimingLog {
    /// Wraps `inner`, keeping claims in `db` (made if missing), and settles what a crash left.
    pub async fn open(inner: DynLog, db: Db, grace: chrono::Duration) -> Result<Self, StoreError> {
        db.script(SCHEMA).await.map_err(sql)?;
        let log = Self {
            inner,
            db,
            grace,
            crash_after_append: Arc::new(AtomicBool::new(false)),
        };
        log.recover(None).await?;
        Ok(log)
    }

    /// The claim index over the same table.
    pub fn claims(&self) -> Arc<dyn ClaimIndex> {
        Arc::new(self.clone())
    }

    /// Makes the next append with claims stop after the log wrote its events and before the
    /// claims are confirmed, as a process killed at that instant would (for crash tests).
    pub fn crash_after_next_append(&self) {
        self.crash_after_append.store(true, Ordering::SeqCst);
    }

    /// Settles pending rows (all of them, or those of one value): confirmed if their event is
    /// in the log, undone if it is not and the row is older than the grace period.
    pub async fn recover(&self, only: Option<(&str, &str)>) -> Result<(), StoreError> {
        let (sql_text, params) = match only {
            Some((scope, key)) => (
                "SELECT stream, version, event_id, created_at \
                 FROM split_claims WHERE state <> 'held' AND scope = $1 AND claim_key = $2",
                vec![Val::text(scope), Val::text(key)],
            ),
            None => (
                "SELECT stream, version, event_id, created_at \
                 FROM split_claims WHERE state <> 'held'",
                Vec::new(),
            ),
        };
        let rows = self.db.query(sql_text, params).await.map_err(sql)?;
        for row in rows {
            let Some(pending) = pending(&row) else {
                continue;
            };
            if self.appended(&pending).await? {
                self.settle(pending.event_id, true).await?;
            } else if Utc::now() - pending.created_at >= self.grace {
                self.settle(pending.event_id, false).await?;
            }
        }
        Ok(())
    }

    /// Whether the pending row's event is in its stream.
    async fn appended(&self, pending: &Pending) -> Result<bool, StoreError> {
        let from = pending.version.unwrap_or(0);
        let events = self
            .inner
            .read_stream(&pending.stream, from, usize::MAX >> 1)
            .await?;
        Ok(events.iter().any(|e| e.event_id == pending.event_id))
    }

    /// Confirms (`appended`) or undoes every pending row of the append whose first event is
    /// `event_id`.
    async fn settle(&self, event_id: Uuid, appended: bool) -> Result<(), StoreError> {
        let id = Val::id(event_id);
        let statements = match appended {
            true => vec![
                Stmt::new(
                    "UPDATE split_claims SET state = 'held', prev_owner = NULL, stream = NULL, \
                     version = NULL, event_id = NULL WHERE event_id = $1 AND state = 'claiming'",
                    vec![id.clone()],
                ),
                Stmt::new(
                    "DELETE FROM split_claims WHERE event_id = $1 AND state = 'releasing'",
                    vec![id],
                ),
            ],
            false => vec![
                // A handover undone: the value goes back to the owner who released it.
                Stmt::new(
                    "UPDATE split_claims SET owner = prev_owner, prev_owner = NULL, \
                     state = 'held', stream = NULL, version = NULL, event_id = NULL \
                     WHERE event_id = $1 AND state = 'claiming' AND prev_owner IS NOT NULL",
                    vec![id.clone()],
                ),
                Stmt::new(
                    "DELETE FROM split_claims WHERE event_id = $1 AND state = 'claiming'",
                    vec![id.clone()],
                ),
                Stmt::new(
                    "UPDATE split_claims SET state = 'held', stream = NULL, version = NULL, \
                     event_id = NULL WHERE event_id = $1 AND state = 'releasing'",
                    vec![id],
                ),
            ],
        };
        self.db.transaction(statements).await.map_err(sql)
    }

    /// Step 2: the claims and releases of `req` as pending rows of the append whose first
    /// event is `event_id`. A value held or pending for another owner refuses it.
    async fn reserve(
        &self,
        req: &AppendRequest,
        event_id: Uuid,
        version: Option<StreamVersion>,
    ) -> Result<(), AppendError> {
        let now = Val::Int(Utc::now().timestamp_millis());
        let version = version.map_or(Val::Null, |v| {
            Val::Int(i64::try_from(v).unwrap_or(i64::MAX))
        });
        let mut statements = Vec::new();
        for op in &req.claims {
            let row = |scope: &str, key: &str, owner: &str| {
                vec![
                    Val::text(scope),
                    Val::text(key),
                    Val::text(owner),
                    Val::text(req.stream.clone()),
                    version.clone(),
                    Val::id(event_id),
                    now.clone(),
                ]
            };
            statements.push(match op {
                // New, or the owner's own (held stays held; a pending one of the owner's is
                // taken over by this append, the owner's retry), or handed over by a release
                // earlier in this same append (the old owner is kept, should it be undone).
                ClaimOp::Claim { scope, key, owner } => Stmt::new(
                    "INSERT INTO split_claims \
                     (scope, claim_key, owner, state, stream, version, event_id, created_at) \
                     VALUES ($1, $2, $3, 'claiming', $4, CAST($5 AS BIGINT), $6, $7) \
                     ON CONFLICT (scope, claim_key) DO UPDATE SET \
                     owner = $3, \
                     prev_owner = CASE WHEN split_claims.state = 'releasing' \
                     THEN split_claims.owner ELSE split_claims.prev_owner END, \
                     state = CASE WHEN split_claims.state = 'releasing' THEN 'claiming' \
                     ELSE split_claims.state END, \
                     stream = CASE WHEN split_claims.state = 'held' THEN NULL ELSE $4 END, \
                     version = CASE WHEN split_claims.state = 'held' THEN NULL \
                     ELSE CAST($5 AS BIGINT) END, \
                     event_id = CASE WHEN split_claims.state = 'held' THEN NULL ELSE $6 END \
                     WHERE (split_claims.owner = $3 AND split_claims.state <> 'releasing') \
                     OR (split_claims.state = 'releasing' AND split_claims.event_id = $6)",
                    row(scope, key, owner),
                )
                .typed(TYPES.to_vec())
                .expect(1),
                ClaimOp::Release { scope, key, owner } => Stmt::new(
                    "UPDATE split_claims SET state = 'releasing', stream = $4, \
                     version = CAST($5 AS BIGINT), event_id = $6, created_at = $7 \
                     WHERE scope = $1 AND claim_key = $2 AND owner = $3 AND state = 'held'",
                    row(scope, key, owner),
                )
                .typed(TYPES.to_vec()),
            });
        }
        match self.db.transaction(statements).await {
            Ok(()) => Ok(()),
            Err(SqlError::Conflict(_)) => Err(self.taken(req).await),
            Err(e) => Err(AppendError::Backend(sql(e))),
        }
    }

    /// The refusal of a reservation: the first of the append's values another owner holds or
    /// is claiming (a pending row of another append is settled first, and the append refused
    /// all the same: the caller retries on the new state).
    async fn taken(&self, req: &AppendRequest) -> AppendError {
        for op in &req.claims {
            let ClaimOp::Claim { scope, key, owner } = op else {
                continue;
            };
            if let Err(e) = self.recover(Some((scope, key))).await {
                return AppendError::Backend(e);
            }
            match self.claim_owner(scope, key).await {
                // Another owner's, or the owner's own release still pending: taken for now.
                Ok(Some(holder)) if holder != *owner || self.releasing(scope, key).await => {
                    return AppendError::Claimed {
                        scope: scope.clone(),
                        owner: holder,
                    };
                }
                Ok(_) => {}
                Err(e) => return AppendError::Backend(e),
            }
        }
        // The row that conflicted was settled meanwhile: the caller's retry will tell.
        AppendError::Backend(StoreError::Closed)
    }
}

impl ClaimingLog {
    async fn releasing(&self, scope: &str, key: &str) -> bool {
        let row = self
            .db
            .query_opt(
                "SELECT state FROM split_claims WHERE scope = $1 AND claim_key = $2",
                vec![Val::text(scope), Val::text(key)],
            )
            .await;
        matches!(row, Ok(Some(row)) if text_at(&row, 0) == Some("releasing"))
    }
}

fn pending(row: &[Val]) -> Option<Pending> {
    Some(Pending {
        stream: text_at(row, 0)?.to_owned(),
        version: int_at(row, 1).and_then(|v| u64::try_from(v).ok()),
        event_id: text_at(row, 2)?.parse().ok()?,
        created_at: DateTime::from_timestamp_millis(int_at(row, 3)?)?,
    })
}

fn sql(e: SqlError) -> StoreError {
    StoreError::Sql {
        table: "claims table",
        source: e,
    }
}

/// The version the first event of an append will have, when the expected version says.
fn first_version(expected: ExpectedVersion) -> Option<StreamVersion> {
    match expected {
        ExpectedVersion::NoStream => Some(0),
        ExpectedVersion::Exact(v) => Some(v + 1),
        ExpectedVersion::Any => None,
    }
}

#[async_trait]
impl EventLog for ClaimingLog {
    async fn append(&self, mut req: AppendRequest) -> Result<AppendOutcome, AppendError> {
        if req.claims.is_empty() {
            return self.inner.append(req).await;
        }
        let Some(first) = req.events.first().map(|e| e.event_id) else {
            // Claims alone: nothing reaches the log, so nothing can be half done.
            let id = Uuid::now_v7();
            self.reserve(&req, id, None).await?;
            self.settle(id, true).await?;
            let head = self.inner.head().await?;
            return Ok(AppendOutcome {
                last_version: 0,
                first_position: head,
                last_position: head,
            });
        };
        self.reserve(&req, first, first_version(req.expected))
            .await?;
        let claims = std::mem::take(&mut req.claims);
        let appended = self.inner.append(req).await;
        match appended {
            Ok(outcome) => {
                if self.crash_after_append.swap(false, Ordering::SeqCst) {
                    return Err(AppendError::Backend(StoreError::Closed));
                }
                self.settle(first, true).await?;
                Ok(outcome)
            }
            // Refused by the log for certain: nothing was appended.
            Err(
                e @ (AppendError::WrongExpectedVersion { .. }
                | AppendError::DuplicateEventId { .. }
                | AppendError::Claimed { .. }),
            ) => {
                self.settle(first, false).await?;
                Err(e)
            }
            // Unknown outcome: the pending rows stay until recovery reads the log.
            Err(e) => {
                tracing::warn!(claims = claims.len(), error = %e,
                    "append outcome unknown; its claims stay pending until recovery");
                Err(e)
            }
        }
    }

    async fn read_stream(
        &self,
        stream: &str,
        from: StreamVersion,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        self.inner.read_stream(stream, from, limit).await
    }

    async fn read_all(
        &self,
        after: Position,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        self.inner.read_all(after, limit).await
    }

    async fn head(&self) -> Result<Position, StoreError> {
        self.inner.head().await
    }

    async fn lag(&self, position: Position) -> Result<crate::Lag, StoreError> {
        self.inner.lag(position).await
    }

    fn changes(&self) -> tokio::sync::watch::Receiver<Position> {
        self.inner.changes()
    }

    fn backend_name(&self) -> &'static str {
        self.inner.backend_name()
    }
}

#[async_trait]
impl ClaimIndex for ClaimingLog {
    /// The holder, counting a pending claim's new owner and a pending release's old one.
    async fn claim_owner(&self, scope: &str, key: &str) -> Result<Option<String>, StoreError> {
        let row = self
            .db
            .query_opt(
                "SELECT owner FROM split_claims WHERE scope = $1 AND claim_key = $2",
                vec![Val::text(scope), Val::text(key)],
            )
            .await
            .map_err(sql)?;
        Ok(row.and_then(|row| text_at(&row, 0).map(str::to_owned)))
    }
}
