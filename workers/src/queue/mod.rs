//! Job queues in apalis storage, on the SQL side Roster opened: apalis-sqlite in
//! `DATA_DIR/jobs.db` for the embedded default, apalis-postgres (its `apalis` schema) beside a
//! PostgreSQL log ([`apalis`]). The statements Roster runs on apalis's table itself are written
//! once for both ([`table`]).
//!
//! Every job has an id derived from the event that caused it ([`crate::job::Cause::task_id`])
//! and an idempotency key, so pushing it twice stores it once ([`Queues::push`] answers
//! `false` the second time). Queue names are explicit; on PostgreSQL they carry the log's
//! schema, because every Roster sharing a database shares the one `apalis` schema.
//!
//! apalis 1.0 runs a failed job again as soon as a worker polls; the wait between attempts is
//! Roster's: before failing a run for now, the handler moves the job's `run_at`
//! ([`Queues::postpone`]).

pub mod apalis;
pub mod table;

use apalis_core::task::builder::TaskBuilder;
use apalis_core::task::task_id::TaskId;
use chrono::{DateTime, Utc};
use roster_app::{Roster, SqlPlace};
use roster_sql::{Db, SqlError};

pub use self::apalis::Apalis;
use crate::config::{MISSED_HEARTBEATS, WorkerConfig};
use crate::job::Enqueue;
pub use table::{DueJob, Finished, JobTable};

/// The SQLite file of the job queues, in the data dir.
pub const SQLITE_FILE: &str = "jobs.db";

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("job queue database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("job queue database: {0}")]
    Sql(#[from] SqlError),
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

/// How the storages of every queue watch their workers.
#[derive(Debug, Clone, Copy)]
pub struct Liveness {
    pub heartbeat: std::time::Duration,
    pub missed: usize,
}

impl Liveness {
    pub fn of(config: &WorkerConfig) -> Self {
        Self {
            heartbeat: config.heartbeat,
            missed: MISSED_HEARTBEATS,
        }
    }
}

/// The queues of one Roster deployment. Cheap to clone.
#[derive(Clone)]
pub struct Queues {
    apalis: Apalis,
    table: JobTable,
}

impl Queues {
    /// Opens (and migrates) the queues beside `roster`'s SQL side.
    pub async fn open(roster: &Roster, liveness: Liveness) -> Result<Self, QueueError> {
        match &roster.sql_place {
            SqlPlace::Sqlite { dir } => {
                let path = dir.join(SQLITE_FILE);
                let apalis = Apalis::sqlite(&path, liveness).await?;
                let table = JobTable::new(Db::sqlite(&path)?);
                Ok(Self { apalis, table })
            }
            SqlPlace::Postgres { options } => {
                let (apalis, pool) = Apalis::postgres(options, liveness).await?;
                let table = JobTable::new(Db::postgres_pool(pool));
                Ok(Self { apalis, table })
            }
        }
    }

    pub fn apalis(&self) -> &Apalis {
        &self.apalis
    }

    /// The stored name of `queue` (as [`crate::job::Job::QUEUE`]).
    pub fn queue_name(&self, queue: &str) -> String {
        self.apalis.queue_name(queue)
    }

    /// Stores the job unless the one its cause makes is there already; `true` if it was new.
    /// It is due at `now`, and may run as often as its schedule allows.
    pub async fn push(
        &self,
        job: &Enqueue,
        config: &WorkerConfig,
        now: DateTime<Utc>,
    ) -> Result<bool, QueueError> {
        let task_id = job.cause.task_id(job.queue);
        // The id check answers "already there" in the common case; a racing push loses to the
        // unique id or idempotency key inside apalis's insert.
        if self.table.exists(&task_id.to_string()).await? {
            return Ok(false);
        }
        let task = TaskBuilder::new(job.payload.clone())
            .task_id(TaskId::from_ulid(task_id))
            .idempotency_key(job.cause.idempotency_key(job.queue))
            .max_attempts(job.max_attempts(config))
            .run_at_timestamp(u64::try_from(job.run_at.unwrap_or(now).timestamp()).unwrap_or(0))
            .build();
        self.apalis.push(job.queue, task).await
    }

    /// Makes job `task_id` of `queue` wait until `until` before its next run.
    pub async fn postpone(
        &self,
        queue: &str,
        task_id: &str,
        until: DateTime<Utc>,
    ) -> Result<(), QueueError> {
        Ok(self
            .table
            .postpone(&self.queue_name(queue), task_id, until)
            .await?)
    }

    /// How many jobs of `queue` are in each apalis status (`Pending`, `Queued`, `Running`,
    /// `Done`, `Failed`: waiting for a retry or out of attempts, `Killed`: failed for good).
    pub async fn counts(&self, queue: &str) -> Result<Vec<(String, i64)>, QueueError> {
        Ok(self.table.counts(&self.queue_name(queue)).await?)
    }

    /// Every job of `queue`, oldest first.
    pub async fn jobs(&self, queue: &str) -> Result<Vec<JobRow>, QueueError> {
        Ok(self.table.jobs(&self.queue_name(queue)).await?)
    }

    /// See [`JobTable::take_due`].
    pub async fn take_due(
        &self,
        queue: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<DueJob>, QueueError> {
        Ok(self.table.take_due(&self.queue_name(queue), now).await?)
    }

    /// See [`JobTable::finish`].
    pub async fn finish(
        &self,
        job: &DueJob,
        finished: Finished,
        now: DateTime<Utc>,
    ) -> Result<(), QueueError> {
        Ok(self.table.finish(&job.id, finished, now).await?)
    }
}
