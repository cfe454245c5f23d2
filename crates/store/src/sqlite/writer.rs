//! The writer thread: the only connection that writes, fed by a channel.

use crate::sql;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use rusqlite::{Connection, OptionalExtension, params};
use tokio::sync::{mpsc, watch};
use uuid::Uuid;

use crate::apply::{EncodedEvent, StoredId};
use crate::batch::{self, Pending, WriteTx};
use crate::{Position, StoreError, StreamVersion};

/// Work for the writer thread.
pub(super) enum Job {
    Append(Pending),
    /// A key-table write; it runs its own transaction and answers through its own channel.
    Keys(Box<dyn FnOnce(&mut Connection) + Send>),
}

pub(super) fn spawn(
    conn: Connection,
    head: Arc<watch::Sender<Position>>,
) -> Result<mpsc::UnboundedSender<Job>, StoreError> {
    let (tx, rx) = mpsc::unbounded_channel();
    std::thread::Builder::new()
        .name("roster-sqlite-writer".into())
        .spawn(move || {
            run(
                SqliteWriter {
                    conn,
                    head: 0,
                    mark: 0,
                },
                rx,
                head,
            )
        })
        .map_err(|e| StoreError::Config(format!("cannot start the SQLite writer thread: {e}")))?;
    Ok(tx)
}

/// Runs until every sender is gone, that is until the store is dropped.
fn run(
    mut w: SqliteWriter,
    mut rx: mpsc::UnboundedReceiver<Job>,
    head: Arc<watch::Sender<Position>>,
) {
    while let Some(first) = rx.blocking_recv() {
        let mut appends = Vec::new();
        let mut key_jobs = Vec::new();
        for job in batch::drain(first, &mut rx) {
            match job {
                Job::Append(p) => appends.push(p),
                Job::Keys(k) => key_jobs.push(k),
            }
        }
        if !appends.is_empty() && poll_now(batch::commit_batch(&mut w, appends, &head)).is_none() {
            // Cannot happen: every SQLite operation completes synchronously. The appends'
            // callers see the store as closed rather than hang.
            tracing::error!("the SQLite write batch did not complete synchronously");
        }
        for job in key_jobs {
            job(&mut w.conn);
        }
    }
}

/// Polls a future that never waits (the SQLite [`WriteTx`] does its work synchronously) to
/// completion without a runtime. `None` if it did wait.
fn poll_now<F: Future>(fut: F) -> Option<F::Output> {
    let mut fut = pin!(fut);
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => Some(out),
        Poll::Pending => None,
    }
}

pub(super) fn read_head(conn: &Connection) -> Result<Position, StoreError> {
    let head: i64 = conn
        .prepare_cached("SELECT COALESCE(MAX(position), 0) FROM events")?
        .query_row([], |r| r.get(0))?;
    to_u64(head)
}

pub(super) fn to_u64(v: i64) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("negative number {v} in the log")))
}

pub(super) fn to_i64(v: u64) -> Result<i64, StoreError> {
    i64::try_from(v)
        .map_err(|_| StoreError::Corrupt(format!("{v} is out of SQLite's integer range")))
}

/// The write connection and the transaction's position counter.
struct SqliteWriter {
    conn: Connection,
    /// Head as the open transaction sees it, own writes included.
    head: Position,
    /// Head when the current savepoint was taken.
    mark: Position,
}

impl SqliteWriter {
    fn exec(&self, sql: &str) -> Result<(), StoreError> {
        self.conn.prepare_cached(sql)?.execute([])?;
        Ok(())
    }
}

impl WriteTx for SqliteWriter {
    async fn begin(&mut self) -> Result<(), StoreError> {
        // IMMEDIATE takes the write lock now, so the head read next cannot go stale.
        self.exec("BEGIN IMMEDIATE")?;
        self.head = read_head(&self.conn)?;
        Ok(())
    }

    async fn commit(&mut self) -> Result<(), StoreError> {
        self.exec("COMMIT")
    }

    async fn rollback(&mut self) -> Result<(), StoreError> {
        if self.conn.is_autocommit() {
            return Ok(());
        }
        self.exec("ROLLBACK")
    }

    async fn savepoint(&mut self) -> Result<(), StoreError> {
        self.mark = self.head;
        self.exec("SAVEPOINT request")
    }

    async fn release_savepoint(&mut self) -> Result<(), StoreError> {
        self.exec("RELEASE request")
    }

    async fn rollback_to_savepoint(&mut self) -> Result<(), StoreError> {
        self.head = self.mark;
        self.exec("ROLLBACK TO request")?;
        self.exec("RELEASE request")
    }

    fn head(&self) -> Position {
        self.head
    }

    async fn find_events(&mut self, ids: &[Uuid]) -> Result<Vec<StoredId>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT stream, version, position FROM events WHERE event_id = ?1")?;
        let mut found = Vec::new();
        for id in ids {
            let row = stmt
                .query_row([&id.as_bytes()[..]], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, i64>(2)?,
                    ))
                })
                .optional()?;
            if let Some((stream, version, position)) = row {
                let (version, position) = (to_u64(version)?, to_u64(position)?);
                found.push(StoredId {
                    event_id: *id,
                    stream,
                    version,
                    position,
                });
            }
        }
        Ok(found)
    }

    async fn stream_version(&mut self, stream: &str) -> Result<Option<StreamVersion>, StoreError> {
        let version: Option<i64> = self
            .conn
            .prepare_cached(
                "SELECT version FROM events WHERE stream = ?1 ORDER BY version DESC LIMIT 1",
            )?
            .query_row([stream], |r| r.get(0))
            .optional()?;
        version.map(to_u64).transpose()
    }

    async fn insert_events(
        &mut self,
        stream: &str,
        first_version: StreamVersion,
        events: &[EncodedEvent],
    ) -> Result<Option<Position>, StoreError> {
        let first_position = self.head + 1;
        let mut stmt = self.conn.prepare_cached(include_str!("insert_event.sql"))?;
        for (i, e) in events.iter().enumerate() {
            let (position, version) = (first_position + i as u64, first_version + i as u64);
            let inserted = stmt.execute(params![
                to_i64(position)?,
                &e.event_id.as_bytes()[..],
                stream,
                to_i64(version)?,
                e.event_type,
                e.payload,
                e.metadata,
            ])?;
            if inserted == 0 {
                // The id is taken: take back this request's rows, which are the newest.
                self.conn
                    .prepare_cached("DELETE FROM events WHERE position >= ?1")?
                    .execute([to_i64(first_position)?])?;
                self.head = first_position - 1;
                return Ok(None);
            }
            self.head = position;
        }
        Ok(Some(first_position))
    }

    async fn claim_owner(&mut self, scope: &str, key: &str) -> Result<Option<String>, StoreError> {
        let owner = self
            .conn
            .prepare_cached(&sql::sqlite(sql::CLAIM_OWNER))?
            .query_row([scope, key], |r| r.get(0))
            .optional()?;
        Ok(owner)
    }

    async fn insert_claim(
        &mut self,
        scope: &str,
        key: &str,
        owner: &str,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(&sql::sqlite(sql::CLAIM))?
            .execute([scope, key, owner])?;
        Ok(())
    }

    async fn delete_claim(
        &mut self,
        scope: &str,
        key: &str,
        owner: &str,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(&sql::sqlite(sql::RELEASE))?
            .execute([scope, key, owner])?;
        Ok(())
    }
}
