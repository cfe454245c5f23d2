//! Group commit, written once for both backends.
//!
//! Every append goes to one writer (an OS thread for SQLite, a task for PostgreSQL). The writer
//! takes whatever requests are waiting, runs them in one transaction with a savepoint around
//! each, commits once, answers each request and publishes the new head. One commit (one fsync,
//! one round of the advisory lock) thus serves many appends, and because the requests run one
//! after the other inside the transaction, a second request to a stream sees the first one's
//! events and its expected-version check stays exact.

use tokio::sync::{mpsc, oneshot, watch};
use uuid::Uuid;

use crate::apply::{EncodedEvent, EncodedRequest, StoredId, apply};
use crate::{AppendError, AppendOutcome, Position, StoreError, StreamVersion};

/// The most requests one transaction takes, so that a flood of appends cannot hold the write
/// lock (and delay every answer in the batch) for long.
pub(crate) const MAX_BATCH: usize = 256;

pub(crate) type AppendResult = Result<AppendOutcome, AppendError>;

/// An append waiting for the writer, with the channel its answer goes back on.
pub(crate) struct Pending {
    pub req: EncodedRequest,
    pub reply: oneshot::Sender<AppendResult>,
}

/// What a backend does inside the writer's transaction. The methods are async so that the
/// PostgreSQL writer can await the server; the SQLite writer's futures finish at once and are
/// polled by [`crate::sqlite`]'s writer thread without a runtime.
///
/// Positions are assigned by the implementation from the head it read after taking the write
/// lock, which is what makes them gap-safe: no other writer can commit in between.
pub(crate) trait WriteTx {
    /// Starts the transaction, takes the write lock and reads the head.
    async fn begin(&mut self) -> Result<(), StoreError>;
    async fn commit(&mut self) -> Result<(), StoreError>;
    /// Ends the transaction without writing; must leave the connection usable if it can.
    async fn rollback(&mut self) -> Result<(), StoreError>;
    async fn savepoint(&mut self) -> Result<(), StoreError>;
    async fn release_savepoint(&mut self) -> Result<(), StoreError>;
    /// Undoes everything since [`WriteTx::savepoint`], positions included.
    async fn rollback_to_savepoint(&mut self) -> Result<(), StoreError>;
    /// Head of the log as this transaction sees it (its own writes included).
    fn head(&self) -> Position;

    /// Where these event ids already are in the log (absent ids are left out).
    async fn find_events(&mut self, ids: &[Uuid]) -> Result<Vec<StoredId>, StoreError>;
    /// Version of the stream's last event, `None` if the stream has none.
    async fn stream_version(&mut self, stream: &str) -> Result<Option<StreamVersion>, StoreError>;
    /// Writes the events at the next positions, versions counting up from `first_version`,
    /// and returns the position of the first; or, if one of the event ids is already in the
    /// log, writes none of them and returns `None`.
    async fn insert_events(
        &mut self,
        stream: &str,
        first_version: StreamVersion,
        events: &[EncodedEvent],
    ) -> Result<Option<Position>, StoreError>;
    async fn claim_owner(&mut self, scope: &str, key: &str) -> Result<Option<String>, StoreError>;
    /// Records the claim; the caller has checked it is free or already this owner's.
    async fn insert_claim(&mut self, scope: &str, key: &str, owner: &str)
    -> Result<(), StoreError>;
    /// Deletes the claim if `owner` holds it.
    async fn delete_claim(&mut self, scope: &str, key: &str, owner: &str)
    -> Result<(), StoreError>;
}

/// Takes the first request and whatever else is already waiting, up to [`MAX_BATCH`].
pub(crate) fn drain<T>(first: T, rx: &mut mpsc::UnboundedReceiver<T>) -> Vec<T> {
    let mut batch = vec![first];
    while batch.len() < MAX_BATCH {
        match rx.try_recv() {
            Ok(next) => batch.push(next),
            Err(_) => break,
        }
    }
    batch
}

/// Runs a batch, answers every request and publishes the new head.
///
/// If the transaction itself fails (begin, a savepoint or the commit), nothing of the batch
/// is known to be written, so each request is run again alone and gets its own answer. A
/// request whose first attempt did commit after all finds its events on the second run and
/// answers as an idempotent retry.
pub(crate) async fn commit_batch<T: WriteTx>(
    tx: &mut T,
    batch: Vec<Pending>,
    head: &watch::Sender<Position>,
) {
    let reqs: Vec<&EncodedRequest> = batch.iter().map(|p| &p.req).collect();
    let results = match run_in_one_transaction(tx, &reqs, head).await {
        Ok(results) => results,
        Err(e) if reqs.len() == 1 => vec![Err(AppendError::Backend(e))],
        Err(e) => {
            tracing::warn!(error = %e, size = reqs.len(), "batch transaction failed; retrying its appends one by one");
            let mut results = Vec::with_capacity(reqs.len());
            for req in &reqs {
                results.push(run_alone(tx, req, head).await);
            }
            results
        }
    };
    for (pending, result) in batch.into_iter().zip(results) {
        // The caller may have stopped waiting; its append stands all the same.
        let _ = pending.reply.send(result);
    }
}

async fn run_alone<T: WriteTx>(
    tx: &mut T,
    req: &EncodedRequest,
    head: &watch::Sender<Position>,
) -> AppendResult {
    match run_in_one_transaction(tx, &[req], head).await {
        Ok(mut results) => results
            .pop()
            .unwrap_or(Err(AppendError::Backend(StoreError::Closed))),
        Err(e) => Err(AppendError::Backend(e)),
    }
}

async fn run_in_one_transaction<T: WriteTx>(
    tx: &mut T,
    reqs: &[&EncodedRequest],
    head: &watch::Sender<Position>,
) -> Result<Vec<AppendResult>, StoreError> {
    match attempt(tx, reqs).await {
        Ok((results, committed)) => {
            if committed {
                publish(head, tx.head());
            }
            Ok(results)
        }
        Err(e) => {
            if let Err(rollback) = tx.rollback().await {
                tracing::warn!(error = %rollback, "rollback after a failed batch failed");
            }
            Err(e)
        }
    }
}

/// Runs the requests; returns their results and whether anything was committed.
async fn attempt<T: WriteTx>(
    tx: &mut T,
    reqs: &[&EncodedRequest],
) -> Result<(Vec<AppendResult>, bool), StoreError> {
    // A batch of one needs no savepoint: if it fails, the whole transaction is rolled back.
    let savepoints = reqs.len() > 1;
    tx.begin().await?;
    let mut results = Vec::with_capacity(reqs.len());
    for req in reqs {
        if savepoints {
            tx.savepoint().await?;
        }
        let result = apply(tx, req).await;
        if savepoints {
            match result {
                Ok(_) => tx.release_savepoint().await?,
                Err(_) => tx.rollback_to_savepoint().await?,
            }
        }
        results.push(result);
    }
    if results.iter().any(Result::is_ok) {
        tx.commit().await?;
        return Ok((results, true));
    }
    // Nothing to keep. Each request already has its answer, so a failing rollback is the
    // next transaction's problem (the writer reconnects if it must), not theirs.
    if let Err(e) = tx.rollback().await {
        tracing::warn!(error = %e, "rollback of a batch without effect failed");
    }
    Ok((results, false))
}

/// Raises the published head; never lowers it (a poll may race a newer notification).
pub(crate) fn publish(head: &watch::Sender<Position>, new_head: Position) {
    head.send_if_modified(|current| {
        if new_head > *current {
            *current = new_head;
            true
        } else {
            false
        }
    });
}
