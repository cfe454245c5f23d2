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
    split_scopes,
};

const SCHEMA: &str = include_str!("sqlite.sql");

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

    pub(super) async fn insert_token(
        &self,
        hash: &str,
        member_id: Uuid,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let hash = hash.to_owned();
        self.run(move |conn| {
            let tx = conn.transaction()?;
            tx.execute(
                "UPDATE api_verification_tokens SET used_at = ?2 WHERE member_id = ?1 AND used_at IS NULL",
                params![member_id.to_string(), millis(now)],
            )?;
            tx.execute(
                "INSERT INTO api_verification_tokens (token_hash, member_id, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![hash, member_id.to_string(), millis(now), millis(expires_at)],
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    pub(super) async fn consume_token(
        &self,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Uuid>, StoreError> {
        let hash = hash.to_owned();
        self.run(move |conn| {
            let member: Option<String> = conn
                .query_row(
                    "UPDATE api_verification_tokens SET used_at = ?2
                     WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2
                     RETURNING member_id",
                    params![hash, millis(now)],
                    |r| r.get(0),
                )
                .optional()?;
            member
                .map(|m| Uuid::parse_str(&m).map_err(|_| corrupt("member id")))
                .transpose()
        })
        .await
    }

    pub(super) async fn restore_token(&self, hash: &str) -> Result<(), StoreError> {
        let hash = hash.to_owned();
        self.run(move |conn| {
            conn.execute(
                "UPDATE api_verification_tokens SET used_at = NULL WHERE token_hash = ?1",
                params![hash],
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
