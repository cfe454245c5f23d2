//! Reads, straight from the pool: committed data only, so never in the writer's way.

use crate::sql;
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{PgPool, Row};

use crate::{Metadata, Position, RecordedEvent, StoreError, StreamVersion};

pub(super) async fn read_all(
    pool: &PgPool,
    after: Position,
    limit: usize,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let rows = sqlx::query(sql::READ_ALL)
        .bind(to_i64(after)?)
        .bind(limit_param(limit))
        .fetch_all(pool)
        .await?;
    rows.iter().map(decode).collect()
}

pub(super) async fn read_stream(
    pool: &PgPool,
    stream: &str,
    from: StreamVersion,
    limit: usize,
) -> Result<Vec<RecordedEvent>, StoreError> {
    let rows = sqlx::query(sql::READ_STREAM)
        .bind(stream)
        .bind(to_i64(from)?)
        .bind(limit_param(limit))
        .fetch_all(pool)
        .await?;
    rows.iter().map(decode).collect()
}

pub(super) async fn head(pool: &PgPool) -> Result<Position, StoreError> {
    let head: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(position), 0)::BIGINT FROM events")
        .fetch_one(pool)
        .await?;
    to_u64(head)
}

pub(super) async fn claim_owner(
    pool: &PgPool,
    scope: &str,
    key: &str,
) -> Result<Option<String>, StoreError> {
    let owner = sqlx::query_scalar(sql::CLAIM_OWNER)
        .bind(scope)
        .bind(key)
        .fetch_optional(pool)
        .await?;
    Ok(owner)
}

/// Columns: position, event_id, stream, version, event_type, payload, metadata.
fn decode(row: &PgRow) -> Result<RecordedEvent, StoreError> {
    let Json(payload): Json<serde_json::Value> = row.try_get(5)?;
    let Json(metadata): Json<Metadata> = row.try_get(6)?;
    Ok(RecordedEvent {
        event_id: row.try_get(1)?,
        stream: row.try_get(2)?,
        version: to_u64(row.try_get(3)?)?,
        position: to_u64(row.try_get(0)?)?,
        event_type: row.try_get(4)?,
        payload,
        metadata,
    })
}

fn limit_param(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

pub(super) fn to_u64(v: i64) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("negative number {v} in the log")))
}

pub(super) fn to_i64(v: u64) -> Result<i64, StoreError> {
    i64::try_from(v)
        .map_err(|_| StoreError::Corrupt(format!("{v} is out of PostgreSQL's bigint range")))
}
