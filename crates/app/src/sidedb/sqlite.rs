//! The side tables in the embedded SQLite file, through a connection of their own (the event
//! store's writer thread owns its connection; WAL lets both write with a busy timeout).

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use roster_store::StoreError;
use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use super::{
    ABANDONED_AFTER, ApiKeyRecord, Reservation, StoredResponse, corrupt, from_millis, millis,
    split_scopes, to_i64, to_position,
};

const SCHEMA: &str = include_str!("sqlite.sql");

/// Counts one attempt in a bucket's fixed window, starting a new window when the old one is
/// over, and returns the window's start and count. Parameters: bucket, now, and the instant at
/// or before which a window is over (both millis).
pub(super) const THROTTLE_TAKE: &str =
    "INSERT INTO api_throttle (bucket, window_start, hits) VALUES (?1, ?2, 1)
     ON CONFLICT (bucket) DO UPDATE SET
         hits = CASE WHEN api_throttle.window_start <= ?3 THEN 1 ELSE api_throttle.hits + 1 END,
         window_start = CASE WHEN api_throttle.window_start <= ?3 THEN ?2
                        ELSE api_throttle.window_start END
     RETURNING window_start, hits";

#[derive(Clone)]
pub struct SqliteSide {
    conn: Arc<Mutex<Connection>>,
}

impl SqliteSide {
    pub(super) async fn open(path: &Path) -> Result<Self, StoreError> {
        let path = path.to_path_buf();
        let conn = tokio::task::spawn_blocking(move || -> Result<Connection, StoreError> {
            let conn = Connection::open(path)?;
            conn.busy_timeout(Duration::from_secs(5))?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            // These records are not facts: losing the last ones to a power cut (not to a crash
            // of the process) costs a resend or a re-run, so they skip the fsync per commit
            // that the log's own connection pays. The setting is per connection.
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            conn.execute_batch(SCHEMA)?;
            Ok(conn)
        })
        .await
        .map_err(|e| StoreError::Config(format!("side table task failed: {e}")))??;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    async fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = conn.lock().unwrap_or_else(|e| e.into_inner());
            f(&mut conn)
        })
        .await
        .map_err(|e| StoreError::Config(format!("side table task failed: {e}")))?
    }

    pub(super) async fn ping(&self) -> Result<(), StoreError> {
        self.run(|conn| Ok(conn.query_row("SELECT 1", [], |_| Ok(()))?))
            .await
    }

    pub(super) async fn insert_api_key(
        &self,
        key: &ApiKeyRecord,
        hash: &str,
    ) -> Result<(), StoreError> {
        let (key, hash) = (key.clone(), hash.to_owned());
        self.run(move |conn| {
            conn.execute(
                "INSERT INTO api_keys (id, name, scopes, key_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![key.id.to_string(), key.name, key.scopes.join(","), hash, millis(key.created_at)],
            )?;
            Ok(())
        })
        .await
    }

    pub(super) async fn find_api_key(
        &self,
        hash: &str,
    ) -> Result<Option<ApiKeyRecord>, StoreError> {
        let hash = hash.to_owned();
        self.run(move |conn| {
            let row = conn
                .query_row(
                    "SELECT id, name, scopes, created_at, revoked_at FROM api_keys
                     WHERE key_hash = ?1 AND revoked_at IS NULL",
                    params![hash],
                    row_to_key,
                )
                .optional()?;
            row.transpose()
        })
        .await
    }

    pub(super) async fn list_api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError> {
        self.run(|conn| {
            let mut stmt = conn.prepare(
                "SELECT id, name, scopes, created_at, revoked_at FROM api_keys ORDER BY created_at, id",
            )?;
            let rows = stmt.query_map([], row_to_key)?;
            let mut keys = Vec::new();
            for row in rows {
                keys.push(row??);
            }
            Ok(keys)
        })
        .await
    }

    pub(super) async fn revoke_api_key(
        &self,
        id_or_name: &str,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let id_or_name = id_or_name.to_owned();
        self.run(move |conn| {
            let n = conn.execute(
                "UPDATE api_keys SET revoked_at = ?2 WHERE (id = ?1 OR name = ?1) AND revoked_at IS NULL",
                params![id_or_name, millis(now)],
            )?;
            Ok(n as u64)
        })
        .await
    }

    pub(super) async fn reserve(
        &self,
        owner: &str,
        key: &str,
        request_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Reservation, StoreError> {
        let (owner, key, hash) = (owner.to_owned(), key.to_owned(), request_hash.to_owned());
        self.run(move |conn| {
            let inserted = conn.execute(
                "INSERT INTO api_idempotency (owner, key, request_hash, created_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (owner, key) DO NOTHING",
                params![owner, key, hash, millis(now)],
            )?;
            if inserted == 1 {
                return Ok(Reservation::Reserved);
            }
            let taken_over = conn.execute(
                "UPDATE api_idempotency SET request_hash = ?3, created_at = ?4
                 WHERE owner = ?1 AND key = ?2 AND status IS NULL AND created_at < ?5",
                params![owner, key, hash, millis(now), millis(now - ABANDONED_AFTER)],
            )?;
            if taken_over == 1 {
                return Ok(Reservation::Reserved);
            }
            let row: Option<(String, Option<i64>, Option<Vec<u8>>)> = conn
                .query_row(
                    "SELECT request_hash, status, body FROM api_idempotency WHERE owner = ?1 AND key = ?2",
                    params![owner, key],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            // Released between the insert and this read (see the PostgreSQL side).
            let Some((request_hash, status, body)) = row else {
                return Ok(Reservation::InProgress);
            };
            Ok(reservation(request_hash, status, body))
        })
        .await
    }

    pub(super) async fn complete(
        &self,
        owner: &str,
        key: &str,
        since: i64,
        response: &StoredResponse,
    ) -> Result<(), StoreError> {
        let (owner, key, response) = (owner.to_owned(), key.to_owned(), response.clone());
        self.run(move |conn| {
            conn.execute(
                "UPDATE api_idempotency SET status = ?3, body = ?4
                 WHERE owner = ?1 AND key = ?2 AND created_at = ?5 AND status IS NULL",
                params![owner, key, i64::from(response.status), response.body, since],
            )?;
            Ok(())
        })
        .await
    }

    pub(super) async fn release(
        &self,
        owner: &str,
        key: &str,
        since: i64,
    ) -> Result<(), StoreError> {
        let (owner, key) = (owner.to_owned(), key.to_owned());
        self.run(move |conn| {
            conn.execute(
                "DELETE FROM api_idempotency
                 WHERE owner = ?1 AND key = ?2 AND created_at = ?3 AND status IS NULL",
                params![owner, key, since],
            )?;
            Ok(())
        })
        .await
    }

    pub(super) async fn start_reactor(
        &self,
        name: &str,
        head: u64,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let name = name.to_owned();
        self.run(move |conn| {
            conn.execute(
                "INSERT INTO reactor_checkpoints (name, position, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (name) DO NOTHING",
                params![name, to_i64(head)?, millis(now)],
            )?;
            let position: i64 = conn.query_row(
                "SELECT position FROM reactor_checkpoints WHERE name = ?1",
                params![name],
                |r| r.get(0),
            )?;
            to_position(position)
        })
        .await
    }

    pub(super) async fn advance_reactor(
        &self,
        name: &str,
        position: u64,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let name = name.to_owned();
        self.run(move |conn| {
            conn.execute(
                "UPDATE reactor_checkpoints SET position = MAX(position, ?2), updated_at = ?3
                 WHERE name = ?1",
                params![name, to_i64(position)?, millis(now)],
            )?;
            Ok(())
        })
        .await
    }

    pub(super) async fn reactor_positions(&self) -> Result<Vec<(String, u64)>, StoreError> {
        self.run(|conn| {
            let mut stmt =
                conn.prepare("SELECT name, position FROM reactor_checkpoints ORDER BY name")?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
            let mut positions = Vec::new();
            for row in rows {
                let (name, position) = row?;
                let position = to_position(position)?;
                positions.push((name, position));
            }
            Ok(positions)
        })
        .await
    }

    /// Forgets windows that are over, then counts one attempt in `bucket`'s window; returns
    /// the window's start and its count.
    pub(super) async fn throttle_take(
        &self,
        bucket: &str,
        now: i64,
        over_before: i64,
    ) -> Result<(i64, i64), StoreError> {
        let bucket = bucket.to_owned();
        self.run(move |conn| {
            let tx = conn.transaction()?;
            tx.execute(
                "DELETE FROM api_throttle WHERE window_start <= ?1",
                params![over_before],
            )?;
            let counted = tx.query_row(THROTTLE_TAKE, params![bucket, now, over_before], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
            tx.commit()?;
            Ok(counted)
        })
        .await
    }

    pub(super) async fn throttle_give_back(&self, bucket: &str) -> Result<(), StoreError> {
        let bucket = bucket.to_owned();
        self.run(move |conn| {
            conn.execute(
                "UPDATE api_throttle SET hits = hits - 1 WHERE bucket = ?1 AND hits > 0",
                params![bucket],
            )?;
            Ok(())
        })
        .await
    }
}

pub(super) fn reservation(
    request_hash: String,
    status: Option<i64>,
    body: Option<Vec<u8>>,
) -> Reservation {
    match (status.and_then(|s| u16::try_from(s).ok()), body) {
        (Some(status), Some(body)) => Reservation::Completed {
            request_hash,
            response: StoredResponse { status, body },
        },
        _ => Reservation::InProgress,
    }
}

type KeyRow = Result<ApiKeyRecord, StoreError>;

fn row_to_key(r: &rusqlite::Row<'_>) -> rusqlite::Result<KeyRow> {
    let id: String = r.get(0)?;
    let name: String = r.get(1)?;
    let scopes: String = r.get(2)?;
    let created_at: i64 = r.get(3)?;
    let revoked_at: Option<i64> = r.get(4)?;
    Ok(Uuid::parse_str(&id)
        .map_err(|_| corrupt("api key id"))
        .map(|id| ApiKeyRecord {
            id,
            name,
            scopes: split_scopes(&scopes),
            created_at: from_millis(created_at),
            revoked_at: revoked_at.map(from_millis),
        }))
}
