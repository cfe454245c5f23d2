//! The first answer to each `(API key, Idempotency-Key)`, so that a retried command replays it.

use chrono::{DateTime, Utc};
use roster_sql::{SqlError, Val, int_at, text_at};

use super::{SideDb, millis};

/// A reservation whose request never answered (the process died mid-request) is abandoned
/// after this long, and the next request with the same key runs instead of waiting forever.
pub const ABANDONED_AFTER: chrono::Duration = chrono::Duration::seconds(60);

/// The first answer recorded for an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub body: Vec<u8>,
}

/// What reserving an idempotency key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reservation {
    /// The key is new: the caller runs the request, then completes or releases the key.
    Reserved,
    /// The key was used before; `request_hash` tells whether it was for the same request.
    Completed {
        request_hash: String,
        response: StoredResponse,
    },
    /// Another request with this key is running right now (for less than [`ABANDONED_AFTER`]).
    InProgress,
}

impl SideDb {
    /// Claims `(owner, key)` for a request with `request_hash`, or reports its earlier use.
    pub async fn reserve_idempotency_key(
        &self,
        owner: &str,
        key: &str,
        request_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Reservation, SqlError> {
        let (owner, key, hash) = (Val::text(owner), Val::text(key), Val::text(request_hash));
        let inserted = self
            .db
            .execute(
                "INSERT INTO api_idempotency (owner, key, request_hash, created_at)
                 VALUES ($1, $2, $3, $4) ON CONFLICT (owner, key) DO NOTHING",
                vec![
                    owner.clone(),
                    key.clone(),
                    hash.clone(),
                    Val::Int(millis(now)),
                ],
            )
            .await?;
        if inserted == 1 {
            return Ok(Reservation::Reserved);
        }
        let taken_over = self
            .db
            .execute(
                "UPDATE api_idempotency SET request_hash = $3, created_at = $4
                 WHERE owner = $1 AND key = $2 AND status IS NULL AND created_at < $5",
                vec![
                    owner.clone(),
                    key.clone(),
                    hash,
                    Val::Int(millis(now)),
                    Val::Int(millis(now - ABANDONED_AFTER)),
                ],
            )
            .await?;
        if taken_over == 1 {
            return Ok(Reservation::Reserved);
        }
        let row = self
            .db
            .query_opt(
                "SELECT request_hash, status, body FROM api_idempotency
                 WHERE owner = $1 AND key = $2",
                vec![owner, key],
            )
            .await?;
        // The request holding the key released it between the insert and this read: it is
        // free again, and the caller is told to retry rather than failing.
        let Some(row) = row else {
            return Ok(Reservation::InProgress);
        };
        let status = int_at(&row, 1).and_then(|s| u16::try_from(s).ok());
        let body = row.get(2).and_then(Val::as_bytes).map(<[u8]>::to_vec);
        Ok(match (text_at(&row, 0), status, body) {
            (Some(request_hash), Some(status), Some(body)) => Reservation::Completed {
                request_hash: request_hash.to_owned(),
                response: StoredResponse { status, body },
            },
            _ => Reservation::InProgress,
        })
    }

    /// Records the answer to replay for `(owner, key)`, if the reservation made at `since` is
    /// still this request's: one taken over as abandoned belongs to the newer request, whose
    /// answer must not be overwritten by a late first one.
    pub async fn complete_idempotency_key(
        &self,
        owner: &str,
        key: &str,
        since: DateTime<Utc>,
        response: &StoredResponse,
    ) -> Result<(), SqlError> {
        let params = vec![
            Val::text(owner),
            Val::text(key),
            Val::Int(i64::from(response.status)),
            Val::Bytes(response.body.clone()),
            Val::Int(millis(since)),
        ];
        let sql = "UPDATE api_idempotency SET status = $3, body = $4
                   WHERE owner = $1 AND key = $2 AND created_at = $5 AND status IS NULL";
        self.db.execute(sql, params).await.map(drop)
    }

    /// Forgets the reservation made at `since` (a request that failed for a technical reason),
    /// so a retry can run.
    pub async fn release_idempotency_key(
        &self,
        owner: &str,
        key: &str,
        since: DateTime<Utc>,
    ) -> Result<(), SqlError> {
        let params = vec![Val::text(owner), Val::text(key), Val::Int(millis(since))];
        let sql = "DELETE FROM api_idempotency
                   WHERE owner = $1 AND key = $2 AND created_at = $3 AND status IS NULL";
        self.db.execute(sql, params).await.map(drop)
    }
}
