//! The apalis storages, one backend each: apalis-sqlite in a file of its own (`jobs.db`: the
//! log's file has one writer thread, and job traffic would queue behind its group commits), or
//! apalis-postgres in the `apalis` schema of the log's database. That schema is shared by every
//! Roster in the database (one per schema of the log, as tests make them), so queue names carry
//! the log's schema, and apalis's migrations are recorded once, in the `apalis` schema.

use std::path::Path;
use std::time::Duration;

use apalis_core::backend::{TaskSink, TaskSinkError};
use apalis_core::task::Task;
use apalis_postgres::PostgresStorage;
use apalis_sqlite::SqliteStorage;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, PgConnection, PgPool, SqlitePool};

use super::{Liveness, QueueError};

/// Serialises the queue schema's creation by several processes.
const SETUP_LOCK: i64 = 0x526f_7374_6572_4a51;

/// The pool apalis works on, per backend.
#[derive(Clone)]
pub enum Apalis {
    Sqlite {
        pool: SqlitePool,
        liveness: Liveness,
    },
    Postgres {
        pool: PgPool,
        liveness: Liveness,
        /// The log's schema, which prefixes every queue name.
        namespace: String,
    },
}

impl Apalis {
    pub(super) async fn sqlite(path: &Path, liveness: Liveness) -> Result<Self, QueueError> {
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
        SqliteStorage::<()>::setup(&setup)
            .await
            .map_err(|e| QueueError::Push(format!("apalis-sqlite setup: {e}")))?;
        setup.close().await;
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        Ok(Self::Sqlite { pool, liveness })
    }

    /// `options` are the log's: the queue names carry the schema they select. Also returns
    /// the pool, for Roster's own statements on the job table.
    pub(super) async fn postgres(
        options: &PgConnectOptions,
        liveness: Liveness,
    ) -> Result<(Self, PgPool), QueueError> {
        let namespace = log_schema(options).await?;
        // apalis qualifies its tables with `apalis.`, but its `hstore` type must resolve too,
        // whatever schema the log's URL selects.
        let options = options.clone().options([("search_path", "apalis, public")]);
        setup(&options).await?;
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        let apalis = Self::Postgres {
            pool: pool.clone(),
            liveness,
            namespace,
        };
        Ok((apalis, pool))
    }

    /// The stored name of `queue`.
    pub fn queue_name(&self, queue: &str) -> String {
        match self {
            Self::Sqlite { .. } => queue.to_owned(),
            Self::Postgres { namespace, .. } => format!("{namespace}:{queue}"),
        }
    }

    /// The SQLite storage of `queue` with payloads `A`.
    pub fn sqlite_storage<A>(
        pool: &SqlitePool,
        liveness: Liveness,
        queue: &str,
    ) -> SqliteStorage<A> {
        let config = apalis_sqlite::Config::default()
            .queue(queue)
            .heartbeat_interval(liveness.heartbeat)
            .missed_heartbeats(liveness.missed);
        SqliteStorage::new(pool).with_config(config)
    }

    /// The PostgreSQL storage of `queue` (its stored name) with payloads `A`.
    pub fn postgres_storage<A>(
        pool: &PgPool,
        liveness: Liveness,
        queue: &str,
    ) -> PostgresStorage<A> {
        let config = apalis_postgres::Config::default()
            .queue(queue)
            .heartbeat_interval(liveness.heartbeat)
            .missed_heartbeats(liveness.missed);
        PostgresStorage::new(pool).with_config(config)
    }

    /// Stores `task` in `queue`; `false` when a job with its id or idempotency key is there.
    pub(super) async fn push(
        &self,
        queue: &str,
        task: Task<serde_json::Value>,
    ) -> Result<bool, QueueError> {
        match self {
            Self::Sqlite { pool, liveness } => {
                let pushed = Self::sqlite_storage(pool, *liveness, queue)
                    .push_task(task)
                    .await;
                // A racing push of the same job loses either to the idempotency key
                // (apalis-sqlite skips the insert) or to the task id (a unique violation):
                // either way the job is stored once.
                match pushed {
                    Ok(()) => Ok(true),
                    Err(e) if e.to_string().contains("UNIQUE constraint failed") => Ok(false),
                    Err(e) => Err(QueueError::Push(e.to_string())),
                }
            }
            Self::Postgres { pool, liveness, .. } => {
                let name = self.queue_name(queue);
                match Self::postgres_storage(pool, *liveness, &name)
                    .push_task(task)
                    .await
                {
                    Ok(()) => Ok(true),
                    Err(TaskSinkError::PushError(apalis_postgres::Error::Database(e)))
                        if e.as_database_error()
                            .is_some_and(|d| d.is_unique_violation()) =>
                    {
                        Ok(false)
                    }
                    Err(e) => Err(QueueError::Push(e.to_string())),
                }
            }
        }
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
    PostgresStorage::<()>::migrations().run(&mut conn).await?;
    conn.close().await?;
    Ok(())
}
