//! The side tables in PostgreSQL, in the schema the event store uses.

use std::time::Duration;

use chrono::{DateTime, Utc};
use roster_store::StoreError;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Row};

use super::sqlite::reservation;
use super::{
    ABANDONED_AFTER, ApiKeyRecord, Reservation, StoredResponse, from_millis, millis, split_scopes,
    to_i64, to_position,
};

/// As the SQLite statement (see `sqlite::THROTTLE_TAKE`), with PostgreSQL's placeholders.
const THROTTLE_TAKE_PG: &str =
    "INSERT INTO api_throttle (bucket, window_start, hits) VALUES ($1, $2, 1)
     ON CONFLICT (bucket) DO UPDATE SET
         hits = CASE WHEN api_throttle.window_start <= $3 THEN 1 ELSE api_throttle.hits + 1 END,
         window_start = CASE WHEN api_throttle.window_start <= $3 THEN $2
                        ELSE api_throttle.window_start END
     RETURNING window_start, hits";

/// Serialises concurrent schema creation by several processes (`CREATE TABLE IF NOT EXISTS`
/// is not safe against itself).
const SCHEMA_LOCK: i64 = 0x526f_7374_6572_4150;

#[derive(Clone)]
pub struct PgSide {
    pool: PgPool,
}

impl PgSide {
    pub(super) async fn open(options: PgConnectOptions) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        let mut tx = pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(SCHEMA_LOCK)
            .execute(&mut *tx)
            .await?;
        sqlx::raw_sql(include_str!("postgres.sql"))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Self { pool })
    }

    pub(super) async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub(super) async fn insert_api_key(
        &self,
        key: &ApiKeyRecord,
        hash: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO api_keys (id, name, scopes, key_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(key.id)
        .bind(&key.name)
        .bind(key.scopes.join(","))
        .bind(hash)
        .bind(millis(key.created_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(super) async fn find_api_key(
        &self,
        hash: &str,
    ) -> Result<Option<ApiKeyRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT id, name, scopes, created_at, revoked_at FROM api_keys
             WHERE key_hash = $1 AND revoked_at IS NULL",
        )
        .bind(hash)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| row_to_key(&r)).transpose()
    }

    pub(super) async fn list_api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, scopes, created_at, revoked_at FROM api_keys ORDER BY created_at, id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(row_to_key).collect()
    }

    pub(super) async fn revoke_api_key(
        &self,
        id_or_name: &str,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE api_keys SET revoked_at = $2
             WHERE (id::text = $1 OR name = $1) AND revoked_at IS NULL",
        )
        .bind(id_or_name)
        .bind(millis(now))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    pub(super) async fn reserve(
        &self,
        owner: &str,
        key: &str,
        request_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Reservation, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO api_idempotency (owner, key, request_hash, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (owner, key) DO NOTHING",
        )
        .bind(owner)
        .bind(key)
        .bind(request_hash)
        .bind(millis(now))
        .execute(&self.pool)
        .await?;
        if inserted.rows_affected() == 1 {
            return Ok(Reservation::Reserved);
        }
        let taken_over = sqlx::query(
            "UPDATE api_idempotency SET request_hash = $3, created_at = $4
             WHERE owner = $1 AND key = $2 AND status IS NULL AND created_at < $5",
        )
        .bind(owner)
        .bind(key)
        .bind(request_hash)
        .bind(millis(now))
        .bind(millis(now - ABANDONED_AFTER))
        .execute(&self.pool)
        .await?;
        if taken_over.rows_affected() == 1 {
            return Ok(Reservation::Reserved);
        }
        let row = sqlx::query(
            "SELECT request_hash, status, body FROM api_idempotency WHERE owner = $1 AND key = $2",
        )
        .bind(owner)
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        // The request holding the key released it between the insert and this read: it is
        // free again, and the caller is told to retry rather than failing.
        let Some(row) = row else {
            return Ok(Reservation::InProgress);
        };
        let status: Option<i32> = row.try_get("status")?;
        Ok(reservation(
            row.try_get("request_hash")?,
            status.map(i64::from),
            row.try_get("body")?,
        ))
    }

    pub(super) async fn complete(
        &self,
        owner: &str,
        key: &str,
        since: i64,
        response: &StoredResponse,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE api_idempotency SET status = $3, body = $4
             WHERE owner = $1 AND key = $2 AND created_at = $5 AND status IS NULL",
        )
        .bind(owner)
        .bind(key)
        .bind(i32::from(response.status))
        .bind(&response.body)
        .bind(since)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(super) async fn release(
        &self,
        owner: &str,
        key: &str,
        since: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "DELETE FROM api_idempotency
             WHERE owner = $1 AND key = $2 AND created_at = $3 AND status IS NULL",
        )
        .bind(owner)
        .bind(key)
        .bind(since)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(super) async fn start_reactor(
        &self,
        name: &str,
        head: u64,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        sqlx::query(
            "INSERT INTO reactor_checkpoints (name, position, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(to_i64(head)?)
        .bind(millis(now))
        .execute(&self.pool)
        .await?;
        let position: i64 =
            sqlx::query_scalar("SELECT position FROM reactor_checkpoints WHERE name = $1")
                .bind(name)
                .fetch_one(&self.pool)
                .await?;
        to_position(position)
    }

    pub(super) async fn advance_reactor(
        &self,
        name: &str,
        position: u64,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE reactor_checkpoints SET position = GREATEST(position, $2), updated_at = $3
             WHERE name = $1",
        )
        .bind(name)
        .bind(to_i64(position)?)
        .bind(millis(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(super) async fn reactor_positions(&self) -> Result<Vec<(String, u64)>, StoreError> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT name, position FROM reactor_checkpoints ORDER BY name")
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .map(|(name, position)| to_position(position).map(|p| (name, p)))
            .collect()
    }

    pub(super) async fn throttle_take(
        &self,
        bucket: &str,
        now: i64,
        over_before: i64,
    ) -> Result<(i64, i64), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM api_throttle WHERE window_start <= $1")
            .bind(over_before)
            .execute(&mut *tx)
            .await?;
        let (start, hits): (i64, i32) = sqlx::query_as(THROTTLE_TAKE_PG)
            .bind(bucket)
            .bind(now)
            .bind(over_before)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok((start, i64::from(hits)))
    }

    pub(super) async fn throttle_give_back(&self, bucket: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE api_throttle SET hits = hits - 1 WHERE bucket = $1 AND hits > 0")
            .bind(bucket)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

fn row_to_key(r: &sqlx::postgres::PgRow) -> Result<ApiKeyRecord, StoreError> {
    let scopes: String = r.try_get("scopes")?;
    let created_at: i64 = r.try_get("created_at")?;
    let revoked_at: Option<i64> = r.try_get("revoked_at")?;
    Ok(ApiKeyRecord {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        scopes: split_scopes(&scopes),
        created_at: from_millis(created_at),
        revoked_at: revoked_at.map(from_millis),
    })
}
