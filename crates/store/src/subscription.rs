//! Catch-up subscriptions, written once over the [`EventLog`] trait: read the log in pages
//! from a position, then wait for [`EventLog::changes`] and read on.
//!
//! Nothing is skipped because both backends make positions commit in order (see the crate's
//! invariants): once a reader has seen position `p`, every event that later becomes visible
//! has a position above `p`.

use std::collections::VecDeque;
use std::time::Duration;

use futures::stream::{self, BoxStream, StreamExt};
use tokio::sync::watch;

use crate::{DynLog, Position, RecordedEvent, StoreError};

/// Events read per `read_all` call.
const PAGE: usize = 500;

/// Longest wait for a change notification before the log is read anyway. Notifications are an
/// optimisation: a lost one (or a writer in another process on SQLite) costs at most this delay.
const POLL: Duration = Duration::from_secs(1);

/// Pause after a failed read before trying again.
const RETRY: Duration = Duration::from_secs(1);

/// Every event with a position above `after`, in position order: first what is already in the
/// log, then each event as it commits.
///
/// The stream yields a read error as an item and then keeps trying; it ends only when the
/// store's change channel closes (the store is gone). Dropping the stream stops it.
pub fn subscribe(
    store: DynLog,
    after: Position,
) -> BoxStream<'static, Result<RecordedEvent, StoreError>> {
    let changes = store.changes();
    let state = Subscription {
        store,
        after,
        buffer: VecDeque::new(),
        changes,
        failed: false,
    };
    stream::unfold(state, |mut sub| async move {
        let item = sub.next().await?;
        Some((item, sub))
    })
    .boxed()
}

struct Subscription {
    store: DynLog,
    /// Position of the last event handed out.
    after: Position,
    buffer: VecDeque<RecordedEvent>,
    changes: watch::Receiver<Position>,
    /// The last read failed: wait before the next one.
    failed: bool,
}

impl Subscription {
    /// The next item, or `None` once the store is gone.
    async fn next(&mut self) -> Option<Result<RecordedEvent, StoreError>> {
        loop {
            if let Some(event) = self.buffer.pop_front() {
                self.after = event.position;
                return Some(Ok(event));
            }
            if self.failed {
                self.failed = false;
                tokio::time::sleep(RETRY).await;
            }
            // Mark the current head as seen before reading, so that a commit landing between
            // the read and the wait below still wakes the wait.
            self.changes.borrow_and_update();
            match self.store.read_all(self.after, PAGE).await {
                Ok(page) if !page.is_empty() => self.buffer.extend(page),
                Ok(_) => {
                    if !self.wait_for_change().await {
                        return None;
                    }
                }
                Err(e) => {
                    self.failed = true;
                    return Some(Err(e));
                }
            }
        }
    }

    /// Waits until the head moves past what was read, or the poll interval passes. `false`
    /// when the store is gone.
    async fn wait_for_change(&mut self) -> bool {
        match tokio::time::timeout(POLL, self.changes.changed()).await {
            Ok(Ok(())) | Err(_) => true,
            Ok(Err(_closed)) => false,
        }
    }
}
