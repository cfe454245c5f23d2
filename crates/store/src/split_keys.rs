//! The data-key table on the SQL side (over `roster-sql`), for a log that keeps no table of
//! its own (KurrentDB): the same contract as the SQL stores' keys (one key per subject,
//! created once, destroyed for good with a tombstone). Wrapped keys are kept as base64 text,
//! which both SQL backends store alike.

use std::collections::HashMap;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use roster_sql::{Db, Val, int_at, text_at};
use uuid::Uuid;

use crate::StoreError;
use crate::keys::{KeyState, KeyStore};

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS split_data_keys (
    subject   TEXT PRIMARY KEY,
    wrapped   TEXT,
    destroyed BIGINT NOT NULL
)";

/// Rounds of `destroy` against concurrent creates of the same key before giving up.
const DESTROY_ATTEMPTS: usize = 5;

#[derive(Clone)]
pub struct SqlKeys {
    db: Db,
}

impl SqlKeys {
    /// The table in `db` (made if missing).
    pub async fn open(db: Db) -> Result<Self, StoreError> {
        db.script(SCHEMA).await.map_err(sql)?;
        Ok(Self { db })
    }
}

fn sql(e: roster_sql::SqlError) -> StoreError {
    StoreError::Sql {
        table: "data keys table",
        source: e,
    }
}

#[async_trait]
impl KeyStore for SqlKeys {
    async fn get_or_create(&self, subject: Uuid, wrapped: Vec<u8>) -> Result<KeyState, StoreError> {
        self.db
            .execute(
                "INSERT INTO split_data_keys (subject, wrapped, destroyed) VALUES ($1, $2, 0) \
                 ON CONFLICT (subject) DO NOTHING",
                vec![Val::id(subject), Val::text(STANDARD.encode(&wrapped))],
            )
            .await
            .map_err(sql)?;
        match self.get(subject).await? {
            KeyState::Missing => Err(StoreError::Corrupt(format!(
                "data key of {subject} vanished"
            ))),
            state => Ok(state),
        }
    }

    async fn get(&self, subject: Uuid) -> Result<KeyState, StoreError> {
        let row = self
            .db
            .query_opt(
                "SELECT wrapped, destroyed FROM split_data_keys WHERE subject = $1",
                vec![Val::id(subject)],
            )
            .await
            .map_err(sql)?;
        let Some(row) = row else {
            return Ok(KeyState::Missing);
        };
        if int_at(&row, 1) != Some(0) {
            return Ok(KeyState::Destroyed);
        }
        let text = text_at(&row, 0)
            .ok_or_else(|| StoreError::Corrupt(format!("data key of {subject} has no bytes")))?;
        STANDARD
            .decode(text)
            .map(KeyState::Live)
            .map_err(|e| StoreError::Corrupt(format!("data key of {subject}: {e}")))
    }

    async fn get_many(&self, subjects: &[Uuid]) -> Result<HashMap<Uuid, KeyState>, StoreError> {
        let mut states = HashMap::with_capacity(subjects.len());
        for subject in subjects {
            states.insert(*subject, self.get(*subject).await?);
        }
        Ok(states)
    }

    async fn destroy(&self, subject: Uuid) -> Result<bool, StoreError> {
        for _ in 0..DESTROY_ATTEMPTS {
            let destroyed = self
                .db
                .execute(
                    "UPDATE split_data_keys SET wrapped = NULL, destroyed = 1 \
                     WHERE subject = $1 AND destroyed = 0",
                    vec![Val::id(subject)],
                )
                .await
                .map_err(sql)?;
            if destroyed == 1 {
                return Ok(true);
            }
            let tombstone = self
                .db
                .execute(
                    "INSERT INTO split_data_keys (subject, wrapped, destroyed) \
                     VALUES ($1, NULL, 1) ON CONFLICT (subject) DO NOTHING",
                    vec![Val::id(subject)],
                )
                .await
                .map_err(sql)?;
            if tombstone == 1 || self.get(subject).await? == KeyState::Destroyed {
                return Ok(false);
            }
            // A key was created between the two statements: destroy it on the next round.
        }
        Err(StoreError::Corrupt(format!(
            "data key of {subject} kept being recreated while it was destroyed"
        )))
    }
}
