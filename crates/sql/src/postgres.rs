//! PostgreSQL: a pool (of our own, or one shared with a library on the same database); the
//! connect options carry the schema in `search_path`.

use std::time::Duration;

use sqlx::Row as _;
use sqlx::postgres::{PgArguments, PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::query::Query;
use sqlx::{AssertSqlSafe, PgPool, Postgres};

use crate::{Col, Row, SqlError, Stmt, Val};

/// Serialises concurrent schema changes of several processes (`CREATE TABLE IF NOT EXISTS`
/// is not safe against a concurrent twin on PostgreSQL).
const DDL_LOCK: i64 = 0x726f_7374_6572_7031;

#[derive(Clone)]
pub struct PgDb {
    pool: PgPool,
}

impl PgDb {
    pub(crate) fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    pub(crate) async fn connect(options: PgConnectOptions, size: u32) -> Result<Self, SqlError> {
        let pool = PgPoolOptions::new()
            .max_connections(size)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(Self { pool })
    }

    /// Rows of a query (also of a writing statement with `RETURNING`: every pooled connection
    /// may write).
    pub(crate) async fn query(&self, sql: &str, params: Vec<Val>) -> Result<Vec<Row>, SqlError> {
        let rows = statement(sql, params).fetch_all(&self.pool).await?;
        Ok(rows.iter().map(values).collect())
    }

    pub(crate) async fn execute(&self, sql: &str, params: Vec<Val>) -> Result<u64, SqlError> {
        let done = statement(sql, params).execute(&self.pool).await?;
        Ok(done.rows_affected())
    }

    pub(crate) async fn transaction(&self, statements: Vec<Stmt>) -> Result<(), SqlError> {
        let mut tx = self.pool.begin().await?;
        if statements.iter().any(|s| is_ddl(&s.sql)) {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(DDL_LOCK)
                .execute(&mut *tx)
                .await?;
        }
        for stmt in statements {
            let expected = stmt.expect_rows;
            let types: Vec<Col> = (0..stmt.params.len()).map(|i| stmt.col(i)).collect();
            let sql = stmt.sql;
            let mut query =
                sqlx::query(AssertSqlSafe(sql.clone())).persistent(cacheable(&stmt.params));
            for (value, col) in stmt.params.into_iter().zip(types) {
                query = bind(query, value, col);
            }
            let changed = query.execute(&mut *tx).await?.rows_affected();
            if let Some(expected) = expected
                && changed != expected
            {
                return Err(SqlError::Conflict(format!(
                    "{sql}: changed {changed} rows, expected {expected}"
                )));
            }
        }
        tx.commit().await?;
        Ok(())
    }
}

fn is_ddl(sql: &str) -> bool {
    ["CREATE ", "ALTER ", "DROP "]
        .iter()
        .any(|verb| sql.starts_with(verb))
}

/// Whether a statement with these parameters may be kept prepared on its connection. One with
/// a NULL is not: the NULL's type is a guess (text unless the caller says), and a statement
/// kept with that guess would later read a number bound to the same parameter as text
/// ("invalid byte sequence for encoding UTF8: 0x00"), since sqlx keys its cache by the SQL
/// alone.
fn cacheable(params: &[Val]) -> bool {
    !params.iter().any(|v| matches!(v, Val::Null))
}

fn statement(sql: &str, params: Vec<Val>) -> Query<'static, Postgres, PgArguments> {
    let mut query = sqlx::query(AssertSqlSafe(sql.to_owned())).persistent(cacheable(&params));
    for value in params {
        query = bind(query, value, Col::Text);
    }
    query
}

fn bind(
    query: Query<'_, Postgres, PgArguments>,
    value: Val,
    col: Col,
) -> Query<'_, Postgres, PgArguments> {
    match (value, col) {
        (Val::Int(v), _) => query.bind(v),
        (Val::Text(v), _) => query.bind(v),
        (Val::Bytes(v), _) => query.bind(v),
        (Val::Null, Col::Int) => query.bind(None::<i64>),
        (Val::Null, Col::Text) => query.bind(None::<String>),
        (Val::Null, Col::Bytes) => query.bind(None::<Vec<u8>>),
    }
}

fn values(row: &PgRow) -> Vec<Val> {
    (0..row.len())
        .map(|i| {
            if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
                return v.map_or(Val::Null, Val::Int);
            }
            if let Ok(v) = row.try_get::<Option<String>, _>(i) {
                return v.map_or(Val::Null, Val::Text);
            }
            if let Ok(v) = row.try_get::<Option<i32>, _>(i) {
                return v.map_or(Val::Null, |v| Val::Int(i64::from(v)));
            }
            if let Ok(v) = row.try_get::<Option<Vec<u8>>, _>(i) {
                return v.map_or(Val::Null, Val::Bytes);
            }
            Val::Null
        })
        .collect()
}

impl PgDb {
    /// Takes the lease `name` if no other session holds it: a session advisory lock, keyed by
    /// the schema and the name (schemas sharing a database keep apart), on a connection of its
    /// own that holds it until it is dropped or the session dies.
    pub(crate) async fn try_lease(
        &self,
        name: &str,
    ) -> Result<Option<sqlx::PgConnection>, SqlError> {
        use sqlx::Connection as _;
        let options = self.pool.connect_options();
        let mut conn = sqlx::PgConnection::connect_with(&options).await?;
        let taken: bool = sqlx::query_scalar(
            "SELECT pg_try_advisory_lock(hashtextextended(current_schema() || '/' || $1, 0))",
        )
        .bind(name)
        .fetch_one(&mut conn)
        .await?;
        match taken {
            true => Ok(Some(conn)),
            false => {
                let _ = conn.close().await;
                Ok(None)
            }
        }
    }
}

/// Unlocks a lease's advisory lock and closes its session.
pub(crate) async fn release_lease(mut conn: sqlx::PgConnection, name: &str) {
    use sqlx::Connection as _;
    let unlocked = sqlx::query(
        "SELECT pg_advisory_unlock(hashtextextended(current_schema() || '/' || $1, 0))",
    )
    .bind(name)
    .execute(&mut conn)
    .await;
    if let Err(e) = unlocked {
        tracing::warn!(lease = name, error = %e, "cannot unlock a lease; closing its session");
    }
    let _ = conn.close().await;
}

/// Whether the session behind a lease still answers (its lock lives as long as it does).
pub(crate) async fn lease_alive(conn: &mut sqlx::PgConnection) -> bool {
    sqlx::query("SELECT 1").execute(conn).await.is_ok()
}
