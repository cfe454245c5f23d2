//! Notices commits made by other processes. They do not pass through this process's writer, so
//! nothing else would publish the new head; `PRAGMA data_version` changes whenever another
//! connection commits, which makes checking it every [`INTERVAL`] nearly free.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use tokio::sync::watch;

use super::BUSY_TIMEOUT;
use super::writer::read_head;
use crate::batch::publish;
use crate::{Position, StoreError};

/// How soon a commit from another process reaches this process's subscribers.
const INTERVAL: Duration = Duration::from_millis(200);

pub(super) fn spawn(path: PathBuf, head: Arc<watch::Sender<Position>>) -> Result<(), StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(&path, flags)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    std::thread::Builder::new()
        .name("roster-sqlite-watcher".into())
        .spawn(move || run(&conn, &head))
        .map_err(|e| StoreError::Config(format!("cannot start the SQLite watcher thread: {e}")))?;
    Ok(())
}

/// Runs until nobody listens for changes any more (the store and its subscribers are gone).
fn run(conn: &Connection, head: &watch::Sender<Position>) {
    let mut seen = data_version(conn);
    while !head.is_closed() {
        std::thread::sleep(INTERVAL);
        let version = data_version(conn);
        if version == seen {
            continue;
        }
        seen = version;
        match read_head(conn) {
            Ok(new_head) => publish(head, new_head),
            Err(e) => tracing::debug!(error = %e, "the SQLite watcher could not read the head"),
        }
    }
}

fn data_version(conn: &Connection) -> Option<i64> {
    conn.query_row("PRAGMA data_version", [], |r| r.get(0)).ok()
}
