//! apalis-postgres in its `apalis` schema of the log's database. The schema is shared by every
//! Roster in the database (one per schema of the log, as tests make them), so queue names carry
//! the log's schema, and apalis's migrations are recorded once, in the `apalis` schema.

use std::time::Duration;

use apalis_core::backend::TaskSink;
use apalis_core::task::Task;
use apalis_postgres::{Config, PostgresStorage};
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};

use super::{JobRow, Liveness, QueueError};
use crate::job::Job;

/// Serialises the queue schema's creation by several processes.
const SETUP_LOCK: i64 = 0x526f_7374_6572_4a51;

#[derive(Clone)]
pub struct PgQueues {
    pool: PgPool,
    namespace: String,
    liveness: Liveness,
}

impl PgQueues {
    pub(super) async fn open(
        options: PgConnectOptions,
        liveness: Liveness,
    ) -> Result<Self, QueueError> {
        let namespace = log_schema(&options).await?;
        // apalis qualifies its tables with `apalis.`, but its `hstore` type must resolve too,
        // whatever schema the log's URL selects.
        let options = options.options([("search_path", "apalis, public")]);
        setup(&options).await?;
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(Self {
            pool,
            namespace,
            liveness,
        })
    }

    pub(super) fn queue_name(&self, queue: &str) -> String {
        format!("{}:{queue}", self.namespace)
    }

    pub fn storage<J: Job>(&self) -> PostgresStorage<J> {
        let config = Config::default()
            .queue(self.queue_name(J::QUEUE))
            .heartbeat_interval(self.liveness.heartbeat)
            .missed_heartbeats(self.liveness.missed);
        PostgresStorage::new(&self.pool).with_config(config)
    }

    pub(super) async fn push<J: Job>(&self, task: Task<J>) -> Result<bool, QueueError> {
        match self.storage::<J>().push_task(task).await {
            Ok(()) => Ok(true),
            Err(apalis_core::backend::TaskSinkError::PushError(
                apalis_postgres::Error::Database(e),
            )) if e
                .as_database_error()
                .is_some_and(|d| d.is_unique_violation()) =>
            {
                Ok(false)
            }
            Err(e) => Err(QueueError::Push(e.to_string())),
        }
    }

    pub(super) async fn postpone(
        &self,
        queue: &str,
        task_id: &str,
        until: DateTime<Utc>,
    ) -> Result<(), QueueError> {
        sqlx::query("UPDATE apalis.jobs SET run_at = $1 WHERE id = $2 AND job_type = $3")
            .bind(until)
            .bind(task_id)
            .bind(self.queue_name(queue))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(super) async fn counts(&self, queue: &str) -> Result<Vec<(String, i64)>, QueueError> {
        Ok(sqlx::query_as(
            "SELECT status, COUNT(*) FROM apalis.jobs WHERE job_type = $1
             GROUP BY status ORDER BY status",
        )
        .bind(self.queue_name(queue))
        .fetch_all(&self.pool)
        .await?)
    }

    pub(super) async fn jobs(&self, queue: &str) -> Result<Vec<JobRow>, QueueError> {
        let rows: Vec<(String, String, i32, i32)> = sqlx::query_as(
            "SELECT id, status, attempts, max_attempts FROM apalis.jobs
             WHERE job_type = $1 ORDER BY id",
        )
        .bind(self.queue_name(queue))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(JobRow::from).collect())
    }
}

/// The schema the log's options select (the first of their `search_path` that exists).
async fn log_schema(options: &PgConnectOptions) -> Result<String, QueueError> {
    let mut conn = PgConnection::connect_with(options).await?;
    let schema: Option<String> = sqlx::query_scalar("SELECT current_schema()")
        .fetch_one(&mut conn)
        .await?;
    conn.close().await?;
    Ok(schema.unwrap_or_else(|| "public".to_owned()))
}

/// Creates the `apalis` schema and the extensions its migrations ask for, under a lock, then
/// runs the migrations with their history kept in the `apalis` schema (not in the log's: a
/// second Roster schema in the same database must not run them again).
async fn setup(options: &PgConnectOptions) -> Result<(), QueueError> {
    let mut conn = PgConnection::connect_with(options).await?;
    let mut tx = conn.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(SETUP_LOCK)
        .execute(&mut *tx)
        .await?;
    sqlx::raw_sql(
        "CREATE SCHEMA IF NOT EXISTS apalis;
         CREATE EXTENSION IF NOT EXISTS hstore WITH SCHEMA public;
         CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA public;",
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    PostgresStorage::migrations().run(&mut conn).await?;
    conn.close().await?;
    Ok(())
}
