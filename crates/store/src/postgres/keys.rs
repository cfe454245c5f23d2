//! The data-key table on PostgreSQL, used straight from the pool.

use std::collections::HashMap;

use async_trait::async_trait;
use sqlx::PgPool;
use uuid::Uuid;

use crate::StoreError;
use crate::keys::{KeyState, KeyStore};

/// Rounds of `destroy` against concurrent creates of the same key before giving up.
const DESTROY_ATTEMPTS: usize = 5;

#[derive(Clone)]
pub(super) struct PgKeys {
    pool: PgPool,
}

impl PgKeys {
    pub(super) fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

type KeyRow = (Uuid, Option<Vec<u8>>, Option<chrono::DateTime<chrono::Utc>>);

fn state((subject, wrapped, destroyed_at): KeyRow) -> Result<KeyState, StoreError> {
    match (wrapped, destroyed_at) {
        (_, Some(_)) => Ok(KeyState::Destroyed),
        (Some(wrapped), None) => Ok(KeyState::Live(wrapped)),
        (None, None) => Err(StoreError::Corrupt(format!(
            "data key of {subject} has no bytes"
        ))),
    }
}

#[async_trait]
impl KeyStore for PgKeys {
    async fn get_or_create(&self, subject: Uuid, wrapped: Vec<u8>) -> Result<KeyState, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO data_keys (subject, wrapped) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(subject)
        .bind(&wrapped)
        .execute(&self.pool)
        .await?;
        if inserted.rows_affected() == 1 {
            return Ok(KeyState::Live(wrapped));
        }
        // The row exists (rows are never deleted), and this new statement sees it even if a
        // concurrent transaction committed it after the insert above began.
        match self.get(subject).await? {
            KeyState::Missing => Err(StoreError::Corrupt(format!(
                "data key of {subject} vanished"
            ))),
            state => Ok(state),
        }
    }

    async fn get(&self, subject: Uuid) -> Result<KeyState, StoreError> {
        let row: Option<KeyRow> = sqlx::query_as(
            "SELECT subject, wrapped, destroyed_at FROM data_keys WHERE subject = $1",
        )
        .bind(subject)
        .fetch_optional(&self.pool)
        .await?;
        row.map_or(Ok(KeyState::Missing), state)
    }

    async fn get_many(&self, subjects: &[Uuid]) -> Result<HashMap<Uuid, KeyState>, StoreError> {
        let rows: Vec<KeyRow> = sqlx::query_as(
            "SELECT subject, wrapped, destroyed_at FROM data_keys WHERE subject = ANY($1)",
        )
        .bind(subjects)
        .fetch_all(&self.pool)
        .await?;
        let mut states: HashMap<Uuid, KeyState> =
            subjects.iter().map(|s| (*s, KeyState::Missing)).collect();
        for row in rows {
            states.insert(row.0, state(row)?);
        }
        Ok(states)
    }

    async fn destroy(&self, subject: Uuid) -> Result<bool, StoreError> {
        for _ in 0..DESTROY_ATTEMPTS {
            let destroyed = sqlx::query(
                "UPDATE data_keys SET wrapped = NULL, destroyed_at = now() \
                 WHERE subject = $1 AND destroyed_at IS NULL",
            )
            .bind(subject)
            .execute(&self.pool)
            .await?;
            if destroyed.rows_affected() == 1 {
                return Ok(true);
            }
            // No live key: leave a tombstone so that none is ever created for this subject.
            let tombstone = sqlx::query(
                "INSERT INTO data_keys (subject, wrapped, destroyed_at) VALUES ($1, NULL, now()) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(subject)
            .execute(&self.pool)
            .await?;
            if tombstone.rows_affected() == 1 || self.get(subject).await? == KeyState::Destroyed {
                return Ok(false);
            }
            // A key was created between the two statements: destroy it on the next round.
        }
        Err(StoreError::Corrupt(format!(
            "could not destroy the data key of {subject}"
        )))
    }
}
