//! Job queues in apalis storage, on the backend the log uses: apalis-sqlite in
//! `DATA_DIR/jobs.db` for the embedded default, apalis-postgres (its `apalis` schema) beside a
//! PostgreSQL log.
//!
//! Every job has an id derived from the event that caused it ([`Cause::task_id`]) and an
//! idempotency key, so pushing it twice stores it once ([`Queues::push`] answers `false` the
//! second time). Queue names are explicit; on PostgreSQL they carry the log's schema, because
//! every Roster sharing a database shares the one `apalis` schema.
//!
//! apalis 1.0 runs a failed job again as soon as a worker polls; the wait between attempts is
//! ours: before failing a run for now, the handler moves the job's `run_at`
//! ([`Queues::postpone`]). That `UPDATE` is the only write to apalis's tables that bypasses
//! apalis; the other direct statements only read them (status counts, job rows, whether a
//! job id is stored).

mod postgres;
mod sqlite;

use std::str::FromStr;

use apalis_core::task::builder::TaskBuilder;
use apalis_core::task::task_id::TaskId;
use chrono::{DateTime, Utc};
use roster_app::StorageConfig;
use sqlx::postgres::PgConnectOptions;

use crate::config::WorkerConfig;
use crate::job::Job;

pub use postgres::PgQueues;
pub use sqlite::SqliteQueues;

/// The SQLite file of the job queues, in the data dir.
pub const SQLITE_FILE: &str = "jobs.db";

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("job queue database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("job queue migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot enqueue a job: {0}")]
    Push(String),
}

/// One job as stored, for status output and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRow {
    pub id: String,
    pub status: String,
    pub attempts: i64,
    pub max_attempts: i64,
}

impl<N: Into<i64>> From<(String, String, N, N)> for JobRow {
    fn from((id, status, attempts, max_attempts): (String, String, N, N)) -> Self {
        Self {
            id,
            status,
            attempts: attempts.into(),
            max_attempts: max_attempts.into(),
        }
    }
}

/// The queues of one Roster deployment.
#[derive(Clone)]
pub enum Queues {
    Sqlite(SqliteQueues),
    Postgres(PgQueues),
}

/// How the storages of every queue are configured.
#[derive(Debug, Clone, Copy)]
pub struct Liveness {
    pub heartbeat: std::time::Duration,
    pub missed: usize,
}

impl Queues {
    /// Opens (and migrates) the queues of the configured store.
    pub async fn open(storage: &StorageConfig, config: &WorkerConfig) -> Result<Self, QueueError> {
        let liveness = Liveness {
            heartbeat: config.heartbeat,
            missed: crate::config::MISSED_HEARTBEATS,
        };
        match storage.database_url.as_deref() {
            Some(url) => Self::postgres(PgConnectOptions::from_str(url)?, liveness).await,
            None => Self::sqlite(&storage.data_dir.join(SQLITE_FILE), liveness).await,
        }
    }

    pub async fn sqlite(path: &std::path::Path, liveness: Liveness) -> Result<Self, QueueError> {
        Ok(Self::Sqlite(SqliteQueues::open(path, liveness).await?))
    }

    /// `options` are the log's: the queue names carry the schema they select.
    pub async fn postgres(
        options: PgConnectOptions,
        liveness: Liveness,
    ) -> Result<Self, QueueError> {
        Ok(Self::Postgres(PgQueues::open(options, liveness).await?))
    }

    /// Stores `job` unless the job its cause makes is there already; `true` if it was new.
    pub async fn push<J: Job>(&self, job: J, max_attempts: usize) -> Result<bool, QueueError> {
        let cause = *job.cause();
        let task = TaskBuilder::new(job)
            .task_id(TaskId::from_ulid(cause.task_id(J::QUEUE)))
            .idempotency_key(cause.idempotency_key(J::QUEUE))
            .max_attempts(max_attempts.max(1))
            .build();
        match self {
            Self::Sqlite(q) => q.push(task).await,
            Self::Postgres(q) => q.push(task).await,
        }
    }

    /// Makes job `task_id` of `queue` (the name before the namespace, as [`Job::QUEUE`]) wait
    /// until `until` before its next run.
    pub async fn postpone(
        &self,
        queue: &str,
        task_id: &str,
        until: DateTime<Utc>,
    ) -> Result<(), QueueError> {
        match self {
            Self::Sqlite(q) => q.postpone(queue, task_id, until).await,
            Self::Postgres(q) => q.postpone(queue, task_id, until).await,
        }
    }

    /// How many jobs of `queue` (as [`Job::QUEUE`]) are in each apalis status (`Pending`,
    /// `Queued`, `Running`, `Done`, `Failed`: waiting for a retry or out of attempts, `Killed`:
    /// failed for good).
    pub async fn counts(&self, queue: &str) -> Result<Vec<(String, i64)>, QueueError> {
        match self {
            Self::Sqlite(q) => q.counts(queue).await,
            Self::Postgres(q) => q.counts(queue).await,
        }
    }

    /// Every job of `queue` (as [`Job::QUEUE`]), oldest first.
    pub async fn jobs(&self, queue: &str) -> Result<Vec<JobRow>, QueueError> {
        match self {
            Self::Sqlite(q) => q.jobs(queue).await,
            Self::Postgres(q) => q.jobs(queue).await,
        }
    }
}
