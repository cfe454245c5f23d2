//! The writer task: one dedicated connection that runs every append of this process.

use crate::sql;
use std::sync::Arc;

use sqlx::postgres::{PgConnectOptions, PgRow};
use sqlx::{AssertSqlSafe, Connection, PgConnection, Row};
use tokio::sync::{mpsc, watch};
use uuid::Uuid;

use super::CHANNEL;
use super::reader::{to_i64, to_u64};
use crate::apply::{EncodedEvent, StoredId};
use crate::batch::{self, Pending, WriteTx};
use crate::{Position, StoreError, StreamVersion};

/// Advisory-lock key of the appenders of one schema: a fixed number mixed with the schema
/// name, so that stores in different schemas of one database do not wait for each other.
fn lock_key(schema: &str) -> i64 {
    // FNV-1a: stable across builds and platforms, unlike the standard library's hasher.
    let hash = schema.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    i64::from_ne_bytes((hash ^ 0x526f_7374_6572_4c6f).to_ne_bytes())
}

/// Quotes a string as an SQL literal.
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

pub(super) fn spawn(
    options: PgConnectOptions,
    schema: &str,
    head: Arc<watch::Sender<Position>>,
) -> mpsc::UnboundedSender<Pending> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut writer = PgWriter {
        options,
        conn: None,
        // Taking the lock before reading the head is what makes positions commit in order:
        // each statement of the transaction sees every commit made before the lock was granted.
        begin_sql: format!(
            "BEGIN; SELECT pg_advisory_xact_lock({}); SELECT COALESCE(MAX(position), 0)::BIGINT FROM events",
            lock_key(schema)
        ),
        notify_prefix: format!("{schema}:"),
        begin_head: 0,
        head: 0,
        mark: 0,
    };
    tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            let pending = batch::drain(first, &mut rx);
            batch::commit_batch(&mut writer, pending, &head).await;
        }
    });
    tx
}

struct PgWriter {
    options: PgConnectOptions,
    /// `None` after a failure that may have broken the connection; `begin` reconnects.
    conn: Option<PgConnection>,
    begin_sql: String,
    notify_prefix: String,
    /// Head when the transaction began, to tell whether it wrote anything.
    begin_head: Position,
    head: Position,
    mark: Position,
}

impl PgWriter {
    fn conn(&mut self) -> Result<&mut PgConnection, StoreError> {
        self.conn.as_mut().ok_or(StoreError::Closed)
    }

    async fn raw(&mut self, sql: &str) -> Result<(), StoreError> {
        let conn = self.conn()?;
        sqlx::raw_sql(AssertSqlSafe(sql)).execute(conn).await?;
        Ok(())
    }

    /// Runs a transaction-control statement; a failure there leaves the connection in an
    /// unknown state, so it is dropped and the next batch reconnects.
    async fn control(&mut self, sql: &str) -> Result<(), StoreError> {
        let result = self.raw(sql).await;
        if result.is_err() {
            self.conn = None;
        }
        result
    }
}

impl PgWriter {
    /// Connects if needed and runs the begin statements; drops the connection if they fail.
    async fn try_begin(&mut self) -> Result<Vec<PgRow>, StoreError> {
        if self.conn.is_none() {
            self.conn = Some(PgConnection::connect_with(&self.options).await?);
        }
        let sql = AssertSqlSafe(self.begin_sql.clone());
        let rows = sqlx::raw_sql(sql).fetch_all(self.conn()?).await;
        if rows.is_err() {
            self.conn = None;
        }
        Ok(rows?)
    }
}

impl WriteTx for PgWriter {
    async fn begin(&mut self) -> Result<(), StoreError> {
        let reused = self.conn.is_some();
        let rows = match self.try_begin().await {
            Ok(rows) => rows,
            // A connection kept from earlier batches may have died while idle (a server
            // restart, a proxy's timeout): nothing was written, so try once more on a new one.
            Err(e) if reused => {
                tracing::info!(error = %e, "the writer's connection failed; reconnecting");
                self.try_begin().await?
            }
            Err(e) => return Err(e),
        };
        let last = rows
            .last()
            .ok_or_else(|| StoreError::Corrupt("no head of the log".into()))?;
        self.head = to_u64(last.try_get(0)?)?;
        self.begin_head = self.head;
        Ok(())
    }

    async fn commit(&mut self) -> Result<(), StoreError> {
        if self.head == self.begin_head {
            return self.control("COMMIT").await;
        }
        // The notification is delivered when (and only if) the transaction commits.
        let payload = literal(&format!("{}{}", self.notify_prefix, self.head));
        let sql = format!("SELECT pg_notify({}, {payload}); COMMIT", literal(CHANNEL));
        self.control(&sql).await
    }

    async fn rollback(&mut self) -> Result<(), StoreError> {
        if self.conn.is_none() {
            return Ok(());
        }
        self.control("ROLLBACK").await
    }

    async fn savepoint(&mut self) -> Result<(), StoreError> {
        self.mark = self.head;
        self.control("SAVEPOINT request").await
    }

    async fn release_savepoint(&mut self) -> Result<(), StoreError> {
        self.control("RELEASE SAVEPOINT request").await
    }

    async fn rollback_to_savepoint(&mut self) -> Result<(), StoreError> {
        self.head = self.mark;
        self.control("ROLLBACK TO SAVEPOINT request; RELEASE SAVEPOINT request")
            .await
    }

    fn head(&self) -> Position {
        self.head
    }

    async fn find_events(&mut self, ids: &[Uuid]) -> Result<Vec<StoredId>, StoreError> {
        let rows = sqlx::query(
            "SELECT event_id, stream, version, position FROM events WHERE event_id = ANY($1)",
        )
        .bind(ids)
        .fetch_all(self.conn()?)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StoredId {
                    event_id: r.try_get(0)?,
                    stream: r.try_get(1)?,
                    version: to_u64(r.try_get(2)?)?,
                    position: to_u64(r.try_get(3)?)?,
                })
            })
            .collect()
    }

    async fn stream_version(&mut self, stream: &str) -> Result<Option<StreamVersion>, StoreError> {
        let version: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM events WHERE stream = $1")
                .bind(stream)
                .fetch_one(self.conn()?)
                .await?;
        version.map(to_u64).transpose()
    }

    async fn insert_events(
        &mut self,
        stream: &str,
        first_version: StreamVersion,
        events: &[EncodedEvent],
    ) -> Result<Option<Position>, StoreError> {
        let first_position = self.head + 1;
        let ids: Vec<Uuid> = events.iter().map(|e| e.event_id).collect();
        let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
        let payloads: Vec<&str> = events.iter().map(|e| e.payload.as_str()).collect();
        let metadata: Vec<&str> = events.iter().map(|e| e.metadata.as_str()).collect();
        let inserted = sqlx::query(include_str!("insert_events.sql"))
            .bind(to_i64(first_position)?)
            .bind(stream)
            .bind(to_i64(first_version)?)
            .bind(ids)
            .bind(types)
            .bind(payloads)
            .bind(metadata)
            .execute(self.conn()?)
            .await?
            .rows_affected();
        if inserted < events.len() as u64 {
            // An id is taken. This request's rows are the only ones from `first_position` on
            // (a skipped id leaves a hole in that range): take them back.
            sqlx::query("DELETE FROM events WHERE position >= $1")
                .bind(to_i64(first_position)?)
                .execute(self.conn()?)
                .await?;
            return Ok(None);
        }
        self.head = first_position + events.len() as u64 - 1;
        Ok(Some(first_position))
    }

    async fn claim_owner(&mut self, scope: &str, key: &str) -> Result<Option<String>, StoreError> {
        let owner = sqlx::query_scalar(sql::CLAIM_OWNER)
            .bind(scope)
            .bind(key)
            .fetch_optional(self.conn()?)
            .await?;
        Ok(owner)
    }

    async fn insert_claim(
        &mut self,
        scope: &str,
        key: &str,
        owner: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(sql::CLAIM)
            .bind(scope)
            .bind(key)
            .bind(owner)
            .execute(self.conn()?)
            .await?;
        Ok(())
    }

    async fn delete_claim(
        &mut self,
        scope: &str,
        key: &str,
        owner: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(sql::RELEASE)
            .bind(scope)
            .bind(key)
            .bind(owner)
            .execute(self.conn()?)
            .await?;
        Ok(())
    }
}
