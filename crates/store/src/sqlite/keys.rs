//! The data-key table on SQLite. Reads use the read pool; writes go to the writer thread, the
//! only connection that writes.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use uuid::Uuid;

use super::Shared;
use super::writer::Job;
use crate::StoreError;
use crate::keys::{KeyState, KeyStore};

#[derive(Clone)]
pub(super) struct SqliteKeys {
    shared: Arc<Shared>,
}

impl SqliteKeys {
    pub(super) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    /// Runs `write` in its own transaction on the writer thread.
    async fn write<R, F>(&self, write: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>) -> Result<R, StoreError> + Send + 'static,
    {
        let job = |reply: tokio::sync::oneshot::Sender<Result<R, StoreError>>| {
            Job::Keys(Box::new(move |conn: &mut Connection| {
                let _ = reply.send(in_transaction(conn, write));
            }))
        };
        self.shared.write(job).await?
    }
}

fn in_transaction<R>(
    conn: &mut Connection,
    write: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<R, StoreError>,
) -> Result<R, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let out = write(&tx)?;
    tx.commit()?;
    Ok(out)
}

fn state(conn: &Connection, subject: Uuid) -> Result<KeyState, StoreError> {
    let row: Option<(Option<Vec<u8>>, Option<String>)> = conn
        .prepare_cached("SELECT wrapped, destroyed_at FROM data_keys WHERE subject = ?1")?
        .query_row([&subject.as_bytes()[..]], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match row {
        None => Ok(KeyState::Missing),
        Some((_, Some(_))) => Ok(KeyState::Destroyed),
        Some((Some(wrapped), None)) => Ok(KeyState::Live(wrapped)),
        Some((None, None)) => Err(StoreError::Corrupt(format!(
            "data key of {subject} has no bytes"
        ))),
    }
}

/// The database's own time for the key table's bookkeeping columns (when a key was made or
/// destroyed): a record about the table, not a fact Roster decides on, like PostgreSQL's
/// `now()` on that backend.
const NOW: &str = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

#[async_trait]
impl KeyStore for SqliteKeys {
    async fn get_or_create(&self, subject: Uuid, wrapped: Vec<u8>) -> Result<KeyState, StoreError> {
        let current = self.get(subject).await?;
        if current != KeyState::Missing {
            return Ok(current);
        }
        self.write(move |tx| {
            tx.prepare_cached(&format!(
                "INSERT INTO data_keys (subject, wrapped, created_at) VALUES (?1, ?2, {NOW}) \
                 ON CONFLICT DO NOTHING"
            ))?
            .execute(rusqlite::params![&subject.as_bytes()[..], wrapped])?;
            state(tx, subject)
        })
        .await
    }

    async fn get(&self, subject: Uuid) -> Result<KeyState, StoreError> {
        self.shared
            .readers
            .run(move |conn| state(conn, subject))
            .await
    }

    async fn get_many(&self, subjects: &[Uuid]) -> Result<HashMap<Uuid, KeyState>, StoreError> {
        let subjects = subjects.to_vec();
        self.shared
            .readers
            .run(move |conn| {
                subjects
                    .into_iter()
                    .map(|s| Ok((s, state(conn, s)?)))
                    .collect()
            })
            .await
    }

    async fn destroy(&self, subject: Uuid) -> Result<bool, StoreError> {
        self.write(move |tx| {
            let was_live = matches!(state(tx, subject)?, KeyState::Live(_));
            // A subject without a key gets a tombstone too, so no key is ever made for it later.
            tx.prepare_cached(&format!(
                "INSERT INTO data_keys (subject, wrapped, created_at, destroyed_at) \
                 VALUES (?1, NULL, {NOW}, {NOW}) \
                 ON CONFLICT (subject) DO UPDATE SET wrapped = NULL, \
                 destroyed_at = COALESCE(data_keys.destroyed_at, excluded.destroyed_at)"
            ))?
            .execute(rusqlite::params![&subject.as_bytes()[..]])?;
            Ok(was_live)
        })
        .await
    }
}
