//! The SQL side's connections: one dialect subset spoken to SQLite and PostgreSQL alike, so
//! that every statement Roster writes against its own tables (read models, side tables, the
//! bookkeeping of job queues) is written once.
//!
//! The subset: `$n` parameters (SQLite's numbered `?n` after a textual swap), TEXT, BIGINT and
//! binary columns, `INSERT … ON CONFLICT … DO …`, `RETURNING`, `CASE`, and nothing either
//! backend lacks. Where the two genuinely differ (a table's DDL, a time type another library
//! chose) the caller keeps a small per-backend fragment; the statements around it stay shared.
//!
//! Everything that writes several statements goes through [`Db::transaction`], which runs
//! them atomically and aborts with [`SqlError::Conflict`] when a statement that must touch an
//! exact number of rows does not (that is how checkpoints are compare-and-set).

mod postgres;
mod sqlite;

use std::path::Path;

use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::PgPool;
use sqlx::postgres::PgConnectOptions;
use uuid::Uuid;

/// One column value. Booleans are stored as 0/1, times as fixed-width RFC 3339 text (so text
/// order is time order), ids as hyphenated text: the same bytes on both backends.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Val {
    Null,
    Int(i64),
    Text(String),
    Bytes(Vec<u8>),
}

/// A row of a query: its column values in order.
pub type Row = Vec<Val>;

impl Val {
    pub fn text(value: impl Into<String>) -> Self {
        Self::Text(value.into())
    }

    pub fn opt_text(value: Option<impl Into<String>>) -> Self {
        value.map_or(Self::Null, |v| Self::Text(v.into()))
    }

    pub fn id(id: Uuid) -> Self {
        Self::Text(id.to_string())
    }

    pub fn time(at: DateTime<Utc>) -> Self {
        Self::Text(time_text(at))
    }

    pub fn opt_time(at: Option<DateTime<Utc>>) -> Self {
        at.map_or(Self::Null, Self::time)
    }

    pub fn bool(value: bool) -> Self {
        Self::Int(i64::from(value))
    }

    pub fn int(value: impl TryInto<i64>) -> Self {
        value.try_into().map_or(Self::Null, Self::Int)
    }

    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(text) => Some(text),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Self::Int(value) => Some(*value),
            _ => None,
        }
    }

    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Self::Bytes(bytes) => Some(bytes),
            Self::Text(text) => Some(text.as_bytes()),
            _ => None,
        }
    }
}

/// The one text form of an instant in tables Roster writes.
pub fn time_text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Column types of the shared dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Col {
    Text,
    Int,
    Bytes,
}

/// One statement of a transaction.
#[derive(Debug, Clone)]
pub struct Stmt {
    pub sql: String,
    pub params: Vec<Val>,
    /// Column types of the parameters where a NULL may be bound (PostgreSQL needs them).
    pub types: Vec<Col>,
    /// When set, the statement must change exactly this many rows, or the whole transaction
    /// is rolled back with [`SqlError::Conflict`].
    pub expect_rows: Option<u64>,
}

impl Stmt {
    pub fn new(sql: impl Into<String>, params: Vec<Val>) -> Self {
        Self {
            sql: sql.into(),
            params,
            types: Vec::new(),
            expect_rows: None,
        }
    }

    pub fn typed(mut self, types: Vec<Col>) -> Self {
        self.types = types;
        self
    }

    pub fn expect(mut self, rows: u64) -> Self {
        self.expect_rows = Some(rows);
        self
    }

    fn col(&self, i: usize) -> Col {
        self.types.get(i).copied().unwrap_or(Col::Text)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("postgres: {0}")]
    Postgres(#[from] sqlx::Error),
    /// A statement of a transaction did not change the number of rows it had to.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The blocking task running a SQLite statement did not finish (the runtime is stopping).
    #[error("shutting down: {0}")]
    Closed(String),
}

/// Which of the two databases a [`Db`] speaks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// A named lease: while a process holds it, no other process sharing the database does. Used
/// so that each projection runner and each reactor runs in one process at a time; a standby
/// takes the lease over as soon as the holder's session ends (the holder stopped, crashed or
/// lost its connection).
///
/// On PostgreSQL it is a session advisory lock on a connection of its own (not the pool's),
/// released when the lease is dropped or the process dies. On SQLite, whose database is one
/// file a single `roster serve` owns, the lease is always granted.
pub struct Lease {
    name: String,
    session: Option<sqlx::PgConnection>,
}

impl Lease {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Lets the lease go at once (a holder stopping cleanly), so a standby's next try takes
    /// it; dropping the lease lets it go too, once PostgreSQL sees the connection close.
    pub async fn release(mut self) {
        if let Some(conn) = self.session.take() {
            postgres::release_lease(conn, &self.name).await;
        }
    }

    /// Whether the lease is still held: on PostgreSQL, whether its session still answers. A
    /// holder checks now and then and stops acting once it is lost.
    pub async fn alive(&mut self) -> bool {
        match self.session.as_mut() {
            Some(conn) => postgres::lease_alive(conn).await,
            None => true,
        }
    }
}

/// How often a standby tries to take a lease, and a holder checks it still has it: a holder
/// that died is replaced within about this long.
pub const LEASE_RETRY: std::time::Duration = std::time::Duration::from_secs(1);

/// Waits for the lease `name`, trying every [`LEASE_RETRY`] (a failed try, say with the
/// database away, is logged and tried again), until `stop` turns true: then `None`.
///
/// The wait is a poll because PostgreSQL says nothing when an advisory lock frees. A blocking
/// `pg_advisory_lock` would wait without polling, but a backend blocked on a lock does not
/// notice its client has gone, so a standby told to stop could still take the lock and hold
/// it until PostgreSQL noticed; a one-second poll bounds the takeover and stops cleanly.
pub async fn wait_for_lease(
    db: &Db,
    name: &str,
    stop: &mut tokio::sync::watch::Receiver<bool>,
) -> Option<Lease> {
    let mut waiting_logged = false;
    while !*stop.borrow() {
        match db.try_lease(name).await {
            Ok(Some(lease)) => return Some(lease),
            Ok(None) if !waiting_logged => {
                waiting_logged = true;
                tracing::info!(lease = name, "standing by: another process holds the lease");
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(lease = name, error = %e, "cannot try the lease"),
        }
        tokio::select! {
            _ = tokio::time::sleep(LEASE_RETRY) => {}
            _ = stop.changed() => {}
        }
    }
    None
}

/// Connections to one SQL database (a SQLite file, or a PostgreSQL schema). Cheap to clone.
#[derive(Clone)]
pub enum Db {
    Sqlite(sqlite::SqliteDb),
    Postgres(postgres::PgDb),
}

impl Db {
    /// Our own connections on the SQLite file at `path` (created if needed), in WAL mode.
    pub fn sqlite(path: &Path) -> Result<Self, SqlError> {
        Ok(Self::Sqlite(sqlite::SqliteDb::open(path)?))
    }

    /// A pool of `size` connections with these options (which may carry a `search_path`).
    pub async fn postgres(options: PgConnectOptions, size: u32) -> Result<Self, SqlError> {
        Ok(Self::Postgres(
            postgres::PgDb::connect(options, size).await?,
        ))
    }

    /// Statements over a pool that exists already.
    pub fn postgres_pool(pool: PgPool) -> Self {
        Self::Postgres(postgres::PgDb::new(pool))
    }

    /// Takes the lease `name` if nobody holds it (see [`Lease`]); `None` while another
    /// process does.
    pub async fn try_lease(&self, name: &str) -> Result<Option<Lease>, SqlError> {
        let session = match self {
            Self::Sqlite(_) => None,
            Self::Postgres(db) => match db.try_lease(name).await? {
                Some(conn) => Some(conn),
                None => return Ok(None),
            },
        };
        Ok(Some(Lease {
            name: name.to_owned(),
            session,
        }))
    }

    pub fn backend(&self) -> Backend {
        match self {
            Self::Sqlite(_) => Backend::Sqlite,
            Self::Postgres(_) => Backend::Postgres,
        }
    }

    pub fn backend_name(&self) -> &'static str {
        self.backend().name()
    }

    /// Runs a script of `;`-separated statements (`--` comment lines are skipped) in one
    /// transaction. On PostgreSQL a transaction-scoped advisory lock serialises scripts of
    /// several processes: `CREATE TABLE IF NOT EXISTS` is not safe against a concurrent twin.
    pub async fn script(&self, sql: &str) -> Result<(), SqlError> {
        let sql: String = sql
            .lines()
            .filter(|line| !line.trim_start().starts_with("--"))
            .map(|line| format!("{line}\n"))
            .collect();
        let statements = sql
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| Stmt::new(s, Vec::new()))
            .collect();
        self.transaction(statements).await
    }

    /// Rows of a read-only query.
    pub async fn query(&self, sql: &str, params: Vec<Val>) -> Result<Vec<Row>, SqlError> {
        match self {
            Self::Sqlite(db) => db.query(sql, params).await,
            Self::Postgres(db) => db.query(sql, params).await,
        }
    }

    /// The first row of a read-only query, if any.
    pub async fn query_opt(&self, sql: &str, params: Vec<Val>) -> Result<Option<Row>, SqlError> {
        Ok(self.query(sql, params).await?.into_iter().next())
    }

    /// Runs one writing statement; returns how many rows it changed.
    pub async fn execute(&self, sql: &str, params: Vec<Val>) -> Result<u64, SqlError> {
        match self {
            Self::Sqlite(db) => db.execute(sql, params).await,
            Self::Postgres(db) => db.execute(sql, params).await,
        }
    }

    /// Runs one writing statement with a `RETURNING` clause; returns its rows.
    pub async fn execute_returning(
        &self,
        sql: &str,
        params: Vec<Val>,
    ) -> Result<Vec<Row>, SqlError> {
        match self {
            Self::Sqlite(db) => db.execute_returning(sql, params).await,
            Self::Postgres(db) => db.query(sql, params).await,
        }
    }

    /// Runs the statements in one transaction: all of them, or none.
    pub async fn transaction(&self, statements: Vec<Stmt>) -> Result<(), SqlError> {
        match self {
            Self::Sqlite(db) => db.transaction(statements).await,
            Self::Postgres(db) => db.transaction(statements).await,
        }
    }
}

/// Reads column `i` of `row` as an integer.
pub fn int_at(row: &[Val], i: usize) -> Option<i64> {
    row.get(i).and_then(Val::as_int)
}

/// Reads column `i` of `row` as text.
pub fn text_at(row: &[Val], i: usize) -> Option<&str> {
    row.get(i).and_then(Val::as_text)
}
