//! The PostgreSQL side: a small pool of our own on the store's connect options (which carry
//! the schema in `search_path`).

use std::time::Duration;

use sqlx::postgres::{PgArguments, PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::query::Query;
use sqlx::{AssertSqlSafe, PgPool, Postgres, Row};

use super::Stmt;
use crate::ProjectionError;
use crate::rows::{Col, Val};

const POOL_SIZE: u32 = 4;

/// Serialises concurrent schema changes of several processes (`CREATE TABLE IF NOT EXISTS`
/// is not safe against a concurrent twin on PostgreSQL).
const DDL_LOCK: i64 = 0x726f_7374_6572_7031;

#[derive(Clone)]
pub struct PgDb {
    pool: PgPool,
}

impl PgDb {
    pub async fn connect(options: PgConnectOptions) -> Result<Self, ProjectionError> {
        let pool = PgPoolOptions::new()
            .max_connections(POOL_SIZE)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(Self { pool })
    }

    pub async fn query(
        &self,
        sql: &str,
        params: Vec<Val>,
    ) -> Result<Vec<Vec<Val>>, ProjectionError> {
        let mut query = sqlx::query(AssertSqlSafe(sql.to_owned()));
        for value in params {
            query = bind(query, value, Col::Text);
        }
        let rows = query.fetch_all(&self.pool).await?;
        Ok(rows.iter().map(values).collect())
    }

    pub async fn transaction(&self, statements: Vec<Stmt>) -> Result<(), ProjectionError> {
        let mut tx = self.pool.begin().await?;
        if statements.iter().any(|s| s.sql.starts_with("CREATE ")) {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(DDL_LOCK)
                .execute(&mut *tx)
                .await?;
        }
        for stmt in statements {
            let expected = stmt.expect_rows;
            let types: Vec<Col> = (0..stmt.params.len()).map(|i| stmt.col(i)).collect();
            let sql = stmt.sql;
            let mut query = sqlx::query(AssertSqlSafe(sql.clone()));
            for (value, col) in stmt.params.into_iter().zip(types) {
                query = bind(query, value, col);
            }
            let changed = query.execute(&mut *tx).await?.rows_affected();
            if let Some(expected) = expected
                && changed != expected
            {
                return Err(ProjectionError::Conflict(format!(
                    "{sql}: changed {changed} rows, expected {expected}"
                )));
            }
        }
        tx.commit().await?;
        Ok(())
    }
}

fn bind(
    query: Query<'_, Postgres, PgArguments>,
    value: Val,
    col: Col,
) -> Query<'_, Postgres, PgArguments> {
    match (value, col) {
        (Val::Int(v), _) => query.bind(v),
        (Val::Text(v), _) => query.bind(v),
        (Val::Null, Col::Int) => query.bind(None::<i64>),
        (Val::Null, Col::Text) => query.bind(None::<String>),
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
            Val::Null
        })
        .collect()
}
