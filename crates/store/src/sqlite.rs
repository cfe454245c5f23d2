//! The embedded backend: one SQLite file in WAL mode.
//!
//! One OS thread owns the only write connection and commits appends in batches (see
//! [`crate::batch`]); reads run on a small pool of read-only connections on tokio's blocking
//! threads, so a read never waits for the writer. Every commit is durable
//! (`synchronous=FULL`): an append that returned survives a crash of the process or the machine.
//! Another process may append to the same file (`roster worker` beside `roster serve`); a
//! watcher thread notices its commits, so subscribers in this process see them too.

mod keys;
mod reader;
mod watcher;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot, watch};

use crate::apply::EncodedRequest;
use crate::batch::Pending;
use crate::{
    AppendError, AppendOutcome, AppendRequest, ClaimIndex, DynKeys, EventLog, Lag, Position,
    RecordedEvent, SqlStore, StoreError, StreamVersion,
};
use reader::ReadPool;
use writer::Job;

/// How long a connection waits for a lock held by another connection (another process, or a
/// reader during WAL recovery) before it gives up with `SQLITE_BUSY`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

const SCHEMA_VERSION: i64 = 1;

/// The SQLite event store. Cheap to share behind an `Arc`; dropping the last handle stops the
/// writer thread once it has answered every append already sent to it.
pub struct SqliteStore {
    path: PathBuf,
    shared: Arc<Shared>,
    changes: watch::Receiver<Position>,
    keys: keys::SqliteKeys,
}

/// What the store and its key table share: the way to the writer and the read pool.
struct Shared {
    writer: mpsc::UnboundedSender<Job>,
    readers: Arc<ReadPool>,
}

impl Shared {
    /// Hands a job to the writer thread and waits for its answer.
    async fn write<R>(&self, job: impl FnOnce(oneshot::Sender<R>) -> Job) -> Result<R, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.writer
            .send(job(reply))
            .map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the store in the file at `path` and starts its writer thread.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        let path = path.as_ref().to_path_buf();
        let conn = open_writer(&path)?;
        let head = writer::read_head(&conn)?;
        let (head_tx, changes) = watch::channel(head);
        let head_tx = Arc::new(head_tx);
        let writer = writer::spawn(conn, Arc::clone(&head_tx))?;
        watcher::spawn(path.clone(), head_tx)?;
        let readers = Arc::new(ReadPool::new(path.clone()));
        let shared = Arc::new(Shared { writer, readers });
        let keys = keys::SqliteKeys::new(shared.clone());
        Ok(SqliteStore {
            path,
            shared,
            changes,
            keys,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Opens the write connection, sets the durability pragmas and creates the schema.
fn open_writer(path: &Path) -> Result<Connection, StoreError> {
    let mut conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Config(format!(
            "{} cannot use WAL (journal mode {mode})",
            path.display()
        )));
    }
    // FULL syncs the WAL at every commit: NORMAL would lose the last commits on power loss.
    conn.pragma_update(None, "synchronous", "FULL")?;
    // Destroyed data keys are overwritten on disk, not just unlinked from the b-tree.
    conn.pragma_update(None, "secure_delete", "ON")?;
    migrate(&mut conn)?;
    Ok(conn)
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version == 0 {
        tx.execute_batch(include_str!("../migrations/sqlite/0001_event_store.sql"))?;
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    } else if version > SCHEMA_VERSION {
        return Err(StoreError::Config(format!(
            "the database has schema version {version}; this build knows up to {SCHEMA_VERSION}"
        )));
    }
    tx.commit()?;
    Ok(())
}

impl SqlStore for SqliteStore {
    fn key_table(&self) -> DynKeys {
        Arc::new(self.keys.clone())
    }
}

#[async_trait]
impl ClaimIndex for SqliteStore {
    async fn claim_owner(&self, scope: &str, key: &str) -> Result<Option<String>, StoreError> {
        let (scope, key) = (scope.to_owned(), key.to_owned());
        self.shared
            .readers
            .run(move |conn| reader::claim_owner(conn, &scope, &key))
            .await
    }
}

#[async_trait]
impl EventLog for SqliteStore {
    async fn append(&self, req: AppendRequest) -> Result<AppendOutcome, AppendError> {
        let req = EncodedRequest::encode(req)?;
        self.shared
            .write(|reply| Job::Append(Pending { req, reply }))
            .await?
    }

    async fn read_stream(
        &self,
        stream: &str,
        from: StreamVersion,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let stream = stream.to_owned();
        self.shared
            .readers
            .run(move |conn| reader::read_stream(conn, &stream, from, limit))
            .await
    }

    async fn read_all(
        &self,
        after: Position,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        self.shared
            .readers
            .run(move |conn| reader::read_all(conn, after, limit))
            .await
    }

    /// Positions are dense (see the crate's invariants): the lag is `head - position`.
    async fn lag(&self, position: Position) -> Result<Lag, StoreError> {
        crate::dense_lag(self, position).await
    }

    async fn head(&self) -> Result<Position, StoreError> {
        self.shared.readers.run(writer::read_head).await
    }

    fn changes(&self) -> watch::Receiver<Position> {
        self.changes.clone()
    }

    fn backend_name(&self) -> &'static str {
        "sqlite"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_write_connection_syncs_every_commit_to_the_wal() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open_writer(&dir.path().join("roster.db")).unwrap();
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        let synchronous: i64 = conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        let busy: i64 = conn
            .query_row("PRAGMA busy_timeout", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(synchronous, 2, "FULL");
        assert_eq!(busy, 5000);
    }

    #[test]
    fn opening_an_existing_file_keeps_its_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("roster.db");
        drop(open_writer(&path).unwrap());
        let conn = open_writer(&path).unwrap();
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
    }
}
