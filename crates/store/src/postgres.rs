//! The multi-instance backend: PostgreSQL, shared by several api and worker processes.
//!
//! Appends go through an in-process writer task that commits them in batches (see
//! [`crate::batch`]). Each batch transaction first takes a transaction-scoped advisory lock and
//! only then reads the head and assigns positions, so positions commit in order even across
//! processes. The commit sends a notification that a LISTEN task in every process turns into a
//! change on [`EventLog::changes`]; a slow poll covers notifications that get lost.

mod keys;
mod listener;
mod reader;
mod writer;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::PgPool;
use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use crate::apply::EncodedRequest;
use crate::batch::Pending;
use crate::{
    AppendError, AppendOutcome, AppendRequest, ClaimIndex, DynKeys, EventLog, Lag, Position,
    RecordedEvent, SqlStore, StoreError, StreamVersion,
};

/// Connections for reads, key operations and the LISTEN task (the writer has its own).
const POOL_SIZE: u32 = 8;

/// The notification channel. The payload is `<schema>:<head>`, because several stores (one per
/// schema) may share a database and so a channel.
const CHANNEL: &str = "roster_events";

/// The PostgreSQL event store.
pub struct PostgresStore {
    options: PgConnectOptions,
    pool: PgPool,
    writer: mpsc::UnboundedSender<Pending>,
    changes: watch::Receiver<Position>,
    listener: JoinHandle<()>,
    keys: keys::PgKeys,
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user@host:port/db`), migrates it and
    /// starts the writer and listener tasks. Must be called inside a tokio runtime.
    pub async fn connect(url: &str) -> Result<PostgresStore, StoreError> {
        Self::connect_with(PgConnectOptions::from_str(url)?).await
    }

    /// As [`PostgresStore::connect`], with options built by the caller (for example a
    /// `search_path` that selects the schema the store lives in).
    pub async fn connect_with(options: PgConnectOptions) -> Result<PostgresStore, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(POOL_SIZE)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.clone())
            .await?;
        migrator().run(&pool).await?;
        let schema: Option<String> = sqlx::query_scalar("SELECT current_schema()")
            .fetch_one(&pool)
            .await?;
        let schema = schema.ok_or_else(|| {
            StoreError::Config("no schema of the search_path exists in the database".into())
        })?;
        let (head_tx, changes) = watch::channel(reader::head(&pool).await?);
        let head_tx = Arc::new(head_tx);
        let writer = writer::spawn(options.clone(), &schema, Arc::clone(&head_tx));
        let listener = listener::spawn(pool.clone(), schema, head_tx);
        let keys = keys::PgKeys::new(pool.clone());
        Ok(PostgresStore {
            options,
            pool,
            writer,
            changes,
            listener,
            keys,
        })
    }

    /// The options this store connected with (to open the same store again).
    pub fn connect_options(&self) -> &PgConnectOptions {
        &self.options
    }
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        // The writer task ends by itself once its channel closes; the listener would not.
        self.listener.abort();
    }
}

fn migrator() -> Migrator {
    let mut migrator = Migrator::with_migrations(vec![Migration::new(
        1,
        "event store".into(),
        MigrationType::Simple,
        include_str!("../migrations/postgres/0001_event_store.sql").into_sql_str(),
        false,
    )]);
    // Other tables of the database (job queues, read models) have their own migrations.
    migrator.set_ignore_missing(true);
    migrator
}

impl SqlStore for PostgresStore {
    fn key_table(&self) -> DynKeys {
        Arc::new(self.keys.clone())
    }
}

#[async_trait]
impl ClaimIndex for PostgresStore {
    async fn claim_owner(&self, scope: &str, key: &str) -> Result<Option<String>, StoreError> {
        reader::claim_owner(&self.pool, scope, key).await
    }
}

#[async_trait]
impl EventLog for PostgresStore {
    async fn append(&self, req: AppendRequest) -> Result<AppendOutcome, AppendError> {
        let req = EncodedRequest::encode(req)?;
        let (reply, answer) = oneshot::channel();
        self.writer
            .send(Pending { req, reply })
            .map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    async fn read_stream(
        &self,
        stream: &str,
        from: StreamVersion,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        reader::read_stream(&self.pool, stream, from, limit).await
    }

    async fn read_all(
        &self,
        after: Position,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        reader::read_all(&self.pool, after, limit).await
    }

    /// Positions are dense (see the crate's invariants): the lag is `head - position`.
    async fn lag(&self, position: Position) -> Result<Lag, StoreError> {
        crate::dense_lag(self, position).await
    }

    async fn head(&self) -> Result<Position, StoreError> {
        reader::head(&self.pool).await
    }

    fn changes(&self) -> watch::Receiver<Position> {
        self.changes.clone()
    }

    fn backend_name(&self) -> &'static str {
        "postgres"
    }
}
