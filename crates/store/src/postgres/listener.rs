//! Turns commits of any process into changes on the store's watch channel: LISTEN for the
//! writers' notifications, and poll the head now and then in case one was lost (notifications
//! sent while the listening connection is down are gone for good).

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{CHANNEL, reader};
use crate::Position;
use crate::batch::publish;

/// How long the head may go unchecked when no notification arrives.
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
    loop {
        if listener.is_none() {
            listener = listen(&pool).await;
        }
        match listener.as_mut() {
            Some(l) => match tokio::time::timeout(POLL, l.recv()).await {
                Ok(Ok(note)) => {
                    if let Some(new_head) = parse(note.payload(), &prefix) {
                        publish(&head, new_head);
                        continue;
                    }
                }
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "lost the LISTEN connection; polling until it is back");
                    listener = None;
                    tokio::time::sleep(POLL).await;
                }
                Err(_quiet) => {}
            },
            None => tokio::time::sleep(POLL).await,
        }
        match reader::head(&pool).await {
            Ok(h) => publish(&head, h),
            Err(e) => tracing::warn!(error = %e, "polling the head of the log failed"),
        }
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
