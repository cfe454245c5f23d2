//! Reactors: subscribers to the log, with checkpoints of their own (beside the projections',
//! never shared with them), that turn events into jobs. Replaying projections never touches a
//! reactor, so a replay sends no mail.
//!
//! The loop reads from the checkpoint, pushes the jobs of each event, then moves the
//! checkpoint past it. A crash between the push and the checkpoint delivers the event again,
//! and the push is a no-op (the job id comes from the event id). A push that fails is retried
//! until it succeeds: the checkpoint never passes an event whose jobs are not stored.
//!
//! A reactor starts at the head of the log the first time it is known ([`install`]), so adding
//! one never sends mail about the past.

use std::time::Duration;

use futures::StreamExt;
use roster_app::sidedb::SideDb;
use roster_domain::member::{MemberEmailConfirmed, MemberVerificationIssued};
use roster_store::subscription::subscribe;
use roster_store::{DynStore, Position, RecordedEvent, StoreError};
use serde::de::DeserializeOwned;
use tokio::sync::watch;

use crate::config::RetrySchedule;
use crate::job::Cause;
use crate::jobs::verification_email::VerificationEmail;
use crate::jobs::welcome_email::WelcomeEmail;
use crate::queue::{QueueError, Queues};

/// The reactor that sends member mail.
pub const MAIL: &str = "mail";

/// Every reactor this build knows.
pub const ALL: &[&str] = &[MAIL];

/// Events between checkpoint writes while the reactor has nothing to push.
const CHECKPOINT_EVERY: u64 = 256;
/// How long the log may be quiet before a pending checkpoint is written.
const IDLE: Duration = Duration::from_millis(200);
/// Wait after a failed push or checkpoint before trying again.
const BACKOFF: Duration = Duration::from_secs(1);

/// Records the reactors' starting points if they have none: the log's head now. Every process
/// that may append (the API) calls this at start-up, so no event appended by this version goes
/// unseen, and no event from before a reactor existed is acted on.
pub async fn install(side: &SideDb, store: &DynStore) -> Result<(), StoreError> {
    for name in ALL {
        checkpoint(side, store, name).await?;
    }
    Ok(())
}

/// Reactor `name`'s checkpoint, recorded at the log's head if it has none yet.
async fn checkpoint(side: &SideDb, store: &DynStore, name: &str) -> Result<Position, StoreError> {
    let head = store.head().await?;
    side.start_reactor(name, head, chrono::Utc::now()).await
}

/// Where a reactor is, and how far behind the log.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ReactorStatus {
    pub name: String,
    pub position: Position,
    /// Events after its checkpoint (positions are dense, so this is head - position).
    pub lag_events: u64,
    /// Age of the oldest event it has not handled yet (0 when caught up).
    pub lag_seconds: f64,
}

/// Every known reactor's position and lag.
pub async fn status(side: &SideDb, store: &DynStore) -> Result<Vec<ReactorStatus>, StoreError> {
    let head = store.head().await?;
    let now = chrono::Utc::now();
    let mut statuses = Vec::new();
    for (name, position) in side.reactor_positions().await? {
        let lag_events = head.saturating_sub(position);
        let lag_seconds = if lag_events == 0 {
            0.0
        } else {
            store.read_all(position, 1).await?.first().map_or(0.0, |e| {
                (now - e.metadata.recorded_at).as_seconds_f64().max(0.0)
            })
        };
        statuses.push(ReactorStatus {
            name,
            position,
            lag_events,
            lag_seconds,
        });
    }
    Ok(statuses)
}

/// A job the reactor wants stored.
#[derive(Debug, Clone, PartialEq)]
pub enum Enqueue {
    VerificationEmail(VerificationEmail),
    WelcomeEmail(WelcomeEmail),
}

/// The jobs an event causes. Pure: the same event always gives the same jobs.
pub fn jobs_for(event: &RecordedEvent) -> Vec<Enqueue> {
    let cause = Cause::of(event);
    match event.event_type.as_str() {
        "MemberVerificationIssued.v1" => decode::<MemberVerificationIssued>(event)
            .map(|e| {
                Enqueue::VerificationEmail(VerificationEmail {
                    member_id: e.member_id,
                    nonce: e.nonce,
                    cause,
                })
            })
            .into_iter()
            .collect(),
        "MemberEmailConfirmed.v1" => decode::<MemberEmailConfirmed>(event)
            .map(|e| {
                Enqueue::WelcomeEmail(WelcomeEmail {
                    member_id: e.member_id,
                    cause,
                })
            })
            .into_iter()
            .collect(),
        _ => Vec::new(),
    }
}

fn decode<T: DeserializeOwned>(event: &RecordedEvent) -> Option<T> {
    match serde_json::from_value(event.payload.clone()) {
        Ok(decoded) => Some(decoded),
        Err(e) => {
            // A payload this build cannot read causes no job; the event stays in the log, and
            // the counter lets an alert see it.
            metrics::counter!("roster_reactor_undecodable_events_total", "reactor" => MAIL)
                .increment(1);
            tracing::error!(position = event.position, event_type = %event.event_type,
                error = %e, "the mail reactor cannot decode an event; no job for it");
            None
        }
    }
}

/// The mail reactor: `MemberVerificationIssued` -> a verification mail,
/// `MemberEmailConfirmed` -> a welcome mail.
pub struct Reactor {
    pub store: DynStore,
    pub side: SideDb,
    pub queues: Queues,
    pub mail_retry: RetrySchedule,
}

impl Reactor {
    /// Runs until `stop` turns true (or the store goes away).
    pub async fn run(&self, mut stop: watch::Receiver<bool>) -> Result<(), StoreError> {
        let start = checkpoint(&self.side, &self.store, MAIL).await?;
        tracing::info!(reactor = MAIL, position = start, "reactor started");
        let mut events = subscribe(self.store.clone(), start);
        let mut position = start;
        let mut saved = start;
        loop {
            let next = tokio::select! {
                _ = stop.wait_for(|stop| *stop) => break,
                next = tokio::time::timeout(IDLE, events.next()) => next,
            };
            match next {
                Err(_idle) => {
                    if position > saved && self.save(position, &mut stop).await {
                        saved = position;
                    }
                }
                Ok(None) => break,
                Ok(Some(Err(e))) => {
                    tracing::warn!(error = %e, "the mail reactor cannot read the log; retrying")
                }
                Ok(Some(Ok(event))) => {
                    let jobs = jobs_for(&event);
                    let pushed = !jobs.is_empty();
                    if pushed && !self.push_all(jobs, &mut stop).await {
                        break;
                    }
                    position = event.position;
                    // After a push the checkpoint moves at once, so a restart re-reads little.
                    if (pushed || position - saved >= CHECKPOINT_EVERY)
                        && self.save(position, &mut stop).await
                    {
                        saved = position;
                    }
                }
            }
        }
        if position > saved {
            // One attempt: on the way out, a failure only means re-reading a few events.
            if let Err(e) = self
                .side
                .advance_reactor(MAIL, position, chrono::Utc::now())
                .await
            {
                tracing::warn!(error = %e, "the mail reactor could not save its checkpoint");
            }
        }
        tracing::info!(reactor = MAIL, position, "reactor stopped");
        Ok(())
    }

    /// Pushes every job, retrying failures until they succeed; `false` if told to stop first.
    async fn push_all(&self, jobs: Vec<Enqueue>, stop: &mut watch::Receiver<bool>) -> bool {
        for job in jobs {
            loop {
                match self.push(job.clone()).await {
                    Ok(new) => {
                        if new {
                            metrics::counter!("roster_jobs_enqueued_total", "reactor" => MAIL)
                                .increment(1);
                        }
                        break;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "the mail reactor cannot enqueue a job; retrying");
                        if pause(stop).await {
                            return false;
                        }
                    }
                }
            }
        }
        true
    }

    async fn push(&self, job: Enqueue) -> Result<bool, QueueError> {
        let attempts = self.mail_retry.max_attempts();
        match job {
            Enqueue::VerificationEmail(job) => self.queues.push(job, attempts).await,
            Enqueue::WelcomeEmail(job) => self.queues.push(job, attempts).await,
        }
    }

    /// Writes the checkpoint, retrying failures; `false` if told to stop before it was saved.
    async fn save(&self, position: Position, stop: &mut watch::Receiver<bool>) -> bool {
        loop {
            match self
                .side
                .advance_reactor(MAIL, position, chrono::Utc::now())
                .await
            {
                Ok(()) => return true,
                Err(e) => {
                    tracing::warn!(error = %e, "the mail reactor cannot save its checkpoint; retrying");
                    if pause(stop).await {
                        return false;
                    }
                }
            }
        }
    }
}

/// Waits [`BACKOFF`]; `true` if told to stop meanwhile.
async fn pause(stop: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        _ = stop.wait_for(|stop| *stop) => true,
        () = tokio::time::sleep(BACKOFF) => false,
    }
}
