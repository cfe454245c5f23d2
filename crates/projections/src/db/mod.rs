//! The read-model database: the same database as the events, opened with connections of our
//! own. [`Db`] speaks one dialect subset to both backends: statements use `$n` parameters,
//! TEXT and BIGINT columns, and nothing either backend lacks. Everything that writes goes
//! through [`Db::transaction`], which runs a list of statements atomically and aborts with
//! [`ProjectionError::Conflict`] when a statement that must touch an exact number of rows
//! does not (that is how checkpoints are compare-and-set).

mod postgres;
mod sqlite;

use std::path::Path;

use roster_app::StorageConfig;
use sqlx::postgres::PgConnectOptions;

use crate::ProjectionError;
use crate::rows::{Col, Val};

/// The bookkeeping tables: live generations, checkpoints, parked events, operator actions.
const SCHEMA: &str = include_str!("schema.sql");

/// One statement of a transaction.
#[derive(Debug, Clone)]
pub struct Stmt {
    pub sql: String,
    pub params: Vec<Val>,
    /// Column types of the parameters where a NULL may be bound (PostgreSQL needs them).
    pub types: Vec<Col>,
    /// When set, the statement must change exactly this many rows, or the whole transaction
    /// is rolled back with [`ProjectionError::Conflict`].
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

/// A connection pool to the read-model database.
#[derive(Clone)]
pub enum Db {
    Sqlite(sqlite::SqliteDb),
    Postgres(postgres::PgDb),
}

impl Db {
    /// Opens the read-model database of this configuration (the event store's database) and
    /// creates the bookkeeping tables.
    pub async fn open(config: &StorageConfig) -> Result<Self, ProjectionError> {
        match config.database_url.as_deref() {
            Some(url) => {
                let options: PgConnectOptions = url.parse().map_err(ProjectionError::Postgres)?;
                Self::postgres(options).await
            }
            None => Self::sqlite(&config.sqlite_path()).await,
        }
    }

    /// The SQLite file of a `SqliteStore` (`store.path()`).
    pub async fn sqlite(path: &Path) -> Result<Self, ProjectionError> {
        let db = Self::Sqlite(sqlite::SqliteDb::open(path)?);
        db.migrate().await?;
        Ok(db)
    }

    /// The database of a `PostgresStore` (`store.connect_options()`, which carries the schema).
    pub async fn postgres(options: PgConnectOptions) -> Result<Self, ProjectionError> {
        let db = Self::Postgres(postgres::PgDb::connect(options).await?);
        db.migrate().await?;
        Ok(db)
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }

    async fn migrate(&self) -> Result<(), ProjectionError> {
        let sql: String = SCHEMA
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

    /// Rows of a query, each as its column values in order.
    pub async fn query(
        &self,
        sql: &str,
        params: Vec<Val>,
    ) -> Result<Vec<Vec<Val>>, ProjectionError> {
        match self {
            Self::Sqlite(db) => db.query(sql, params).await,
            Self::Postgres(db) => db.query(sql, params).await,
        }
    }

    /// Runs the statements in one transaction: all of them, or none.
    pub async fn transaction(&self, statements: Vec<Stmt>) -> Result<(), ProjectionError> {
        match self {
            Self::Sqlite(db) => db.transaction(statements).await,
            Self::Postgres(db) => db.transaction(statements).await,
        }
    }
}
