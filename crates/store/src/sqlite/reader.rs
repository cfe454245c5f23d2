//! Reads: a few read-only connections, used on tokio's blocking threads. In WAL mode a reader
//! sees the last commit before its read began and never waits for the writer.

use crate::sql;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, params};
use uuid::Uuid;

use super::BUSY_TIMEOUT;
use super::writer::{to_i64, to_u64};
use crate::{Position, RecordedEvent, StoreError, StreamVersion};

/// Idle connections kept for reuse; a burst of reads beyond this opens extra connections that
/// are closed afterwards, so reads never queue for a connection.
const MAX_IDLE: usize = 4;

pub(super) struct ReadPool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl ReadPool {
    pub(super) fn new(path: PathBuf) -> Self {
        Self {
            path,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Runs `read` on a read-only connection on a blocking thread.
    pub(super) async fn run<R, F>(self: &Arc<Self>, read: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    {
        let pool = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let conn = pool.take()?;
            let out = read(&conn);
            pool.give_back(conn);
            out
        })
        .await
        // The blocking task is only lost if the runtime is shutting down.
        .map_err(|_| StoreError::Closed)?
    }

    fn take(&self) -> Result<Connection, StoreError> {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .pop();
        match idle {
            Some(conn) => Ok(conn),
            None => self.open(),
        }
    }

    fn give_back(&self, conn: Connection) {
        let mut idle = self
            .idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(conn);
        }
    }

    fn open(&self) -> Result<Connection, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(&self.path, flags)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        Ok(conn)
    }
}

pub(super) fn read_all(
    conn: &Connection,
    after: Position,
    limit: usize,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let mut stmt = conn.prepare_cached(&sql::sqlite(sql::READ_ALL))?;
    let rows = stmt.query(params![to_i64(after)?, limit_param(limit)])?;
    collect(rows)
}

pub(super) fn read_stream(
    conn: &Connection,
    stream: &str,
    from: StreamVersion,
    limit: usize,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let mut stmt = conn.prepare_cached(&sql::sqlite(sql::READ_STREAM))?;
    let rows = stmt.query(params![stream, to_i64(from)?, limit_param(limit)])?;
    collect(rows)
}

pub(super) fn claim_owner(
    conn: &Connection,
    scope: &str,
    key: &str,
) -> Result<Option<String>, StoreError> {
    let owner = conn
        .prepare_cached(&sql::sqlite(sql::CLAIM_OWNER))?
        .query_row([scope, key], |r| r.get(0))
        .optional()?;
    Ok(owner)
}

/// SQLite's LIMIT is a signed 64-bit integer.
fn limit_param(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

fn collect(mut rows: rusqlite::Rows<'_>) -> Result<Vec<RecordedEvent>, StoreError> {
    let mut events = Vec::new();
    while let Some(row) = rows.next()? {
        events.push(decode(row)?);
    }
    Ok(events)
}

/// Columns: position, event_id, stream, version, event_type, payload, metadata.
fn decode(row: &Row<'_>) -> Result<RecordedEvent, StoreError> {
    let event_id = Uuid::from_slice(row.get_ref(1)?.as_blob().map_err(corrupt)?)
        .map_err(|e| StoreError::Corrupt(format!("event id: {e}")))?;
    Ok(RecordedEvent {
        event_id,
        stream: row.get(2)?,
        version: to_u64(row.get(3)?)?,
        position: to_u64(row.get(0)?)?,
        event_type: row.get(4)?,
        payload: serde_json::from_str(row.get_ref(5)?.as_str().map_err(corrupt)?)?,
        metadata: serde_json::from_str(row.get_ref(6)?.as_str().map_err(corrupt)?)?,
    })
}

fn corrupt(e: rusqlite::types::FromSqlError) -> StoreError {
    StoreError::Corrupt(e.to_string())
}
