//! Turns commits of any process into changes on the store's watch channel: LISTEN for the
//! writers' notifications, and poll the head now and then in case one was lost (notifications
//! sent while the listening connection is down are gone for good).

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::{PgListener, PgNotification};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use super::{CHANNEL, reader};
use crate::Position;
use crate::batch::publish;

/// How often the head is read whatever the notifications say: the backstop for lost ones.
const POLL: Duration = Duration::from_secs(1);

pub(super) fn spawn(
    pool: PgPool,
    schema: String,
    head: Arc<watch::Sender<Position>>,
) -> JoinHandle<()> {
    tokio::spawn(async move { run(pool, format!("{schema}:"), head).await })
}

async fn run(pool: PgPool, prefix: String, head: Arc<watch::Sender<Position>>) {
    let mut listener: Option<PgListener> = None;
    let mut poll = tokio::time::interval(POLL);
    poll.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        if listener.is_none() {
            // Retried at every poll tick while the server is away.
            listener = listen(&pool).await;
        }
        tokio::select! {
            _ = poll.tick() => match reader::head(&pool).await {
                Ok(h) => publish(&head, h),
                Err(e) => tracing::warn!(error = %e, "polling the head of the log failed"),
            },
            note = next_notification(&mut listener) => match note {
                // Notifications of stores in other schemas are not ours to follow.
                Ok(note) => {
                    if let Some(h) = parse(note.payload(), &prefix) {
                        publish(&head, h);
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "lost the LISTEN connection; polling until it is back");
                    listener = None;
                }
            },
        }
    }
}

/// The next notification; never resolves while there is no listener.
async fn next_notification(
    listener: &mut Option<PgListener>,
) -> Result<PgNotification, sqlx::Error> {
    match listener {
        Some(l) => l.recv().await,
        None => std::future::pending().await,
    }
}

async fn listen(pool: &PgPool) -> Option<PgListener> {
    let mut listener = match PgListener::connect_with(pool).await {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!(error = %e, "cannot open the LISTEN connection");
            return None;
        }
    };
    match listener.listen(CHANNEL).await {
        Ok(()) => Some(listener),
        Err(e) => {
            tracing::warn!(error = %e, "LISTEN failed");
            None
        }
    }
}

/// The head in a notification of this store's schema (`<schema>:<head>`).
fn parse(payload: &str, prefix: &str) -> Option<Position> {
    payload.strip_prefix(prefix)?.parse().ok()
}
