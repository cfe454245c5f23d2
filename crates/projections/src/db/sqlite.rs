//! The SQLite side: our own connections on the store's file. WAL lets them read while the
//! store writes; writes take the file's write lock with `BEGIN IMMEDIATE` and wait for the
//! store's writer through the busy timeout.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, ToSql};

use super::Stmt;
use crate::ProjectionError;
use crate::rows::Val;

const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct SqliteDb {
    path: PathBuf,
    write: Arc<Mutex<Connection>>,
    read: Arc<Mutex<Connection>>,
}

impl SqliteDb {
    pub fn open(path: &Path) -> Result<Self, ProjectionError> {
        Ok(Self {
            path: path.to_path_buf(),
            write: Arc::new(Mutex::new(connect(path)?)),
            read: Arc::new(Mutex::new(connect(path)?)),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub async fn query(
        &self,
        sql: &str,
        params: Vec<Val>,
    ) -> Result<Vec<Vec<Val>>, ProjectionError> {
        let conn = Arc::clone(&self.read);
        let sql = dialect(sql);
        blocking(move || {
            let conn = conn.lock().unwrap_or_else(|e| e.into_inner());
            query(&conn, &sql, &params)
        })
        .await
    }

    pub async fn transaction(&self, statements: Vec<Stmt>) -> Result<(), ProjectionError> {
        let conn = Arc::clone(&self.write);
        blocking(move || {
            let mut conn = conn.lock().unwrap_or_else(|e| e.into_inner());
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            for stmt in &statements {
                let sql = dialect(&stmt.sql);
                let mut prepared = tx.prepare_cached(&sql)?;
                let params: Vec<&dyn ToSql> = stmt.params.iter().map(|v| v as &dyn ToSql).collect();
                let changed = prepared.execute(params.as_slice())?;
                if let Some(expected) = stmt.expect_rows
                    && u64::try_from(changed).unwrap_or(u64::MAX) != expected
                {
                    return Err(ProjectionError::Conflict(format!(
                        "{sql}: changed {changed} rows, expected {expected}"
                    )));
                }
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }
}

fn connect(path: &Path) -> Result<Connection, ProjectionError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // Read models can always be rebuilt from the log, and a commit still carries its rows and
    // its checkpoint together, so losing the last commits on power loss costs only a replay.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.set_prepared_statement_cache_capacity(128);
    Ok(conn)
}

/// `$n` parameters become SQLite's numbered `?n`.
fn dialect(sql: &str) -> String {
    sql.replace('$', "?")
}

fn query(conn: &Connection, sql: &str, params: &[Val]) -> Result<Vec<Vec<Val>>, ProjectionError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let columns = stmt.column_count();
    let params: Vec<&dyn ToSql> = params.iter().map(|v| v as &dyn ToSql).collect();
    let mut rows = stmt.query(params.as_slice())?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let mut values = Vec::with_capacity(columns);
        for i in 0..columns {
            values.push(match row.get_ref(i)? {
                ValueRef::Null => Val::Null,
                ValueRef::Integer(v) => Val::Int(v),
                ValueRef::Real(v) => Val::Text(v.to_string()),
                ValueRef::Text(v) | ValueRef::Blob(v) => {
                    Val::Text(String::from_utf8_lossy(v).into_owned())
                }
            });
        }
        out.push(values);
    }
    Ok(out)
}

impl ToSql for Val {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, Value};
        Ok(match self {
            Val::Null => ToSqlOutput::Owned(Value::Null),
            Val::Int(v) => ToSqlOutput::Owned(Value::Integer(*v)),
            Val::Text(v) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
        })
    }
}

async fn blocking<R: Send + 'static>(
    work: impl FnOnce() -> Result<R, ProjectionError> + Send + 'static,
) -> Result<R, ProjectionError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ProjectionError::Closed(e.to_string()))?
}
