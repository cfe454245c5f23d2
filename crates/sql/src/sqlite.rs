//! SQLite: two connections of our own on a file (one reads, one writes). WAL lets them read
//! while another connection (the log's writer thread, another process) writes; writes take the
//! file's write lock with `BEGIN IMMEDIATE` and wait for other writers through the busy timeout.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, ToSql};

use crate::{Row, SqlError, Stmt, Val};

const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct SqliteDb {
    path: PathBuf,
    write: Arc<Mutex<Connection>>,
    read: Arc<Mutex<Connection>>,
}

impl SqliteDb {
    pub(crate) fn open(path: &Path) -> Result<Self, SqlError> {
        Ok(Self {
            path: path.to_path_buf(),
            write: Arc::new(Mutex::new(connect(path)?)),
            read: Arc::new(Mutex::new(connect(path)?)),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) async fn query(&self, sql: &str, params: Vec<Val>) -> Result<Vec<Row>, SqlError> {
        self.on(&self.read, sql, params, query).await
    }

    pub(crate) async fn execute_returning(
        &self,
        sql: &str,
        params: Vec<Val>,
    ) -> Result<Vec<Row>, SqlError> {
        self.on(&self.write, sql, params, query).await
    }

    pub(crate) async fn execute(&self, sql: &str, params: Vec<Val>) -> Result<u64, SqlError> {
        self.on(&self.write, sql, params, |conn, sql, params| {
            let mut stmt = conn.prepare_cached(sql)?;
            let params: Vec<&dyn ToSql> = params.iter().map(|v| v as &dyn ToSql).collect();
            Ok(u64::try_from(stmt.execute(params.as_slice())?).unwrap_or(u64::MAX))
        })
        .await
    }

    /// Runs `work` with the statement in SQLite's dialect on `conn`, on a blocking thread.
    async fn on<R: Send + 'static>(
        &self,
        conn: &Arc<Mutex<Connection>>,
        sql: &str,
        params: Vec<Val>,
        work: impl FnOnce(&Connection, &str, &[Val]) -> Result<R, SqlError> + Send + 'static,
    ) -> Result<R, SqlError> {
        let conn = Arc::clone(conn);
        let sql = dialect(sql);
        blocking(move || {
            let conn = conn.lock().unwrap_or_else(|e| e.into_inner());
            work(&conn, &sql, &params)
        })
        .await
    }

    pub(crate) async fn transaction(&self, statements: Vec<Stmt>) -> Result<(), SqlError> {
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
                    return Err(SqlError::Conflict(format!(
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

fn connect(path: &Path) -> Result<Connection, SqlError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // What lives here can be rebuilt or costs little to lose (read models are replayed from
    // the log; a side record lost to a power cut costs a resend or a re-run), and a commit still
    // carries its statements together: NORMAL, not the FULL the log's own connection pays.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.set_prepared_statement_cache_capacity(128);
    Ok(conn)
}

/// `$n` parameters become SQLite's numbered `?n`.
fn dialect(sql: &str) -> String {
    sql.replace('$', "?")
}

fn query(conn: &Connection, sql: &str, params: &[Val]) -> Result<Vec<Row>, SqlError> {
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
                ValueRef::Text(v) => Val::Text(String::from_utf8_lossy(v).into_owned()),
                ValueRef::Blob(v) => Val::Bytes(v.to_vec()),
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
            Val::Bytes(v) => ToSqlOutput::Borrowed(ValueRef::Blob(v)),
        })
    }
}

async fn blocking<R: Send + 'static>(
    work: impl FnOnce() -> Result<R, SqlError> + Send + 'static,
) -> Result<R, SqlError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| SqlError::Closed(e.to_string()))?
}
