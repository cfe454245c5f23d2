//! apalis-sqlite in a file of its own (`jobs.db`): the log's file has one writer thread, and
//! job traffic (fetches, heartbeats, acknowledgements) would queue behind its group commits.

use std::path::Path;
use std::time::Duration;

use apalis_core::backend::TaskSink;
use apalis_core::task::Task;
use apalis_sqlite::{Config, SqliteStorage};
use chrono::{DateTime, Utc};
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::{JobRow, Liveness, QueueError};
use crate::job::Job;

#[derive(Clone)]
pub struct SqliteQueues {
    pool: SqlitePool,
    liveness: Liveness,
}

impl SqliteQueues {
    pub(super) async fn open(path: &Path, liveness: Liveness) -> Result<Self, QueueError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // A job is pushed before the reactor's checkpoint moves past its event, so the job
            // must be on disk first: FULL, not the `synchronous = OFF` apalis sets up with.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(5));
        // apalis's setup sets pragmas of its own on the connection it runs on; it gets a
        // connection of its own, closed afterwards.
        let setup = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        SqliteStorage::setup(&setup)
            .await
            .map_err(|e| QueueError::Push(format!("apalis-sqlite setup: {e}")))?;
        setup.close().await;
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        Ok(Self { pool, liveness })
    }

    /// The storage of one queue, for a worker or a push.
    pub fn storage<J: Job>(&self) -> SqliteStorage<J> {
        let config = Config::default()
            .queue(J::QUEUE)
            .heartbeat_interval(self.liveness.heartbeat)
            .missed_heartbeats(self.liveness.missed);
        SqliteStorage::new(&self.pool).with_config(config)
    }

    pub(super) async fn push<J: Job>(&self, task: Task<J>) -> Result<bool, QueueError> {
        let id = task.ctx().task_id().map(ToString::to_string);
        let before = self.exists(id.as_deref()).await?;
        if before {
            return Ok(false);
        }
        // The id check above answers "already there" in the common case. A racing push of the
        // same job loses either to the idempotency key (apalis-sqlite skips the insert, and this
        // answers `true` for it: the count of new jobs may then be one too high) or to the task
        // id (a unique violation): either way the job is stored once.
        match self.storage::<J>().push_task(task).await {
            Ok(()) => Ok(true),
            Err(e) if is_unique_violation(&e.to_string()) => Ok(false),
            Err(e) => Err(QueueError::Push(e.to_string())),
        }
    }

    async fn exists(&self, id: Option<&str>) -> Result<bool, QueueError> {
        let Some(id) = id else { return Ok(false) };
        let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM Jobs WHERE id = ?1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(found.is_some())
    }

    pub(super) async fn postpone(
        &self,
        queue: &str,
        task_id: &str,
        until: DateTime<Utc>,
    ) -> Result<(), QueueError> {
        sqlx::query("UPDATE Jobs SET run_at = ?1 WHERE id = ?2 AND job_type = ?3")
            .bind(until.timestamp())
            .bind(task_id)
            .bind(queue)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(super) async fn counts(&self, queue: &str) -> Result<Vec<(String, i64)>, QueueError> {
        Ok(sqlx::query_as(
            "SELECT status, COUNT(*) FROM Jobs WHERE job_type = ?1 GROUP BY status ORDER BY status",
        )
        .bind(queue)
        .fetch_all(&self.pool)
        .await?)
    }

    pub(super) async fn jobs(&self, queue: &str) -> Result<Vec<JobRow>, QueueError> {
        let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
            "SELECT id, status, attempts, max_attempts FROM Jobs WHERE job_type = ?1 ORDER BY id",
        )
        .bind(queue)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(JobRow::from).collect())
    }
}

fn is_unique_violation(message: &str) -> bool {
    message.contains("UNIQUE constraint failed")
}
