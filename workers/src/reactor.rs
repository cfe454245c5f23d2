//! Reactors: subscribers to the log, with checkpoints of their own (beside the projections',
//! never shared with them), that turn events into jobs. A reactor is a [`Reactor`]: a name
//! (its checkpoint) and a pure function from an event to jobs. One loop, [`ReactorRunner`],
//! runs every reactor: replaying projections never touches it, so a replay sends no mail.
//!
//! The loop reads from the checkpoint, pushes the jobs of each event, then moves the
//! checkpoint past it. A crash between the push and the checkpoint delivers the event again,
//! and the push is a no-op (the job id comes from the event id). A push that fails is retried
//! until it succeeds: the checkpoint never passes an event whose jobs are not stored.
//!
//! A reactor starts at the head of the log the first time it is known ([`install`]), so adding
//! one never acts on the past.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use roster_app::{Roster, codec};
use roster_domain::AnyEvent;
use roster_sql::SqlError;
use roster_store::subscription::subscribe;
use roster_store::{Position, RecordedEvent, StoreError};
use tokio::sync::watch;

use crate::config::WorkerConfig;
use crate::job::{Cause, Enqueue};
use crate::queue::{QueueError, Queues};

/// Events between checkpoint writes while the reactor has nothing to push.
const CHECKPOINT_EVERY: u64 = 256;
/// How long the log may be quiet before a pending checkpoint is written.
const IDLE: Duration = Duration::from_millis(200);
/// Wait after a failed push or checkpoint before trying again.
const BACKOFF: Duration = Duration::from_secs(1);

/// A reactor: which events it wants, and the jobs each one causes.
pub trait Reactor: Send + Sync + 'static {
    /// Its name, and its checkpoint's (`mail`).
    fn name(&self) -> &'static str;

    /// The jobs `event` causes (none for events it does not want). Pure: the same event always
    /// gives the same jobs. The event's personal data is never opened for a reactor: it reads
    /// `personal: None`, and the job reads what it needs when it runs.
    fn react(&self, event: &AnyEvent, cause: Cause) -> Result<Vec<Enqueue>, serde_json::Error>;
}

#[derive(Debug, thiserror::Error)]
pub enum ReactorError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("reactor checkpoints: {0}")]
    Sql(#[from] SqlError),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// Records each reactor's starting point if it has none: the log's head now. Every process
/// that may append (the API) calls this at start-up, so no event appended by this version goes
/// unseen, and no event from before a reactor existed is acted on.
pub async fn install(roster: &Roster, reactors: &[Arc<dyn Reactor>]) -> Result<(), ReactorError> {
    for reactor in reactors {
        checkpoint(roster, reactor.name()).await?;
    }
    Ok(())
}

/// Reactor `name`'s checkpoint, recorded at the log's head if it has none yet.
async fn checkpoint(roster: &Roster, name: &str) -> Result<Position, ReactorError> {
    let head = roster.log.head().await?;
    Ok(roster
        .side
        .start_reactor(name, head, roster.clock.now())
        .await?)
}

/// Where a reactor is, and how far behind the log.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ReactorStatus {
    pub name: String,
    pub position: Position,
    /// Events after its checkpoint (counted by the log, whatever its positions look like).
    pub lag_events: u64,
    /// Age of the oldest event it has not handled yet (0 when caught up).
    pub lag_seconds: f64,
}

/// Every known reactor's position and lag.
pub async fn status(roster: &Roster) -> Result<Vec<ReactorStatus>, ReactorError> {
    let now = roster.clock.now();
    let mut statuses = Vec::new();
    for (name, position) in roster.side.reactor_positions().await? {
        let lag = roster.log.lag(position).await?;
        statuses.push(ReactorStatus {
            name,
            position,
            lag_events: lag.events,
            lag_seconds: lag.seconds(now),
        });
    }
    Ok(statuses)
}

/// Runs one reactor: follows the log from its checkpoint and stores the jobs of each event.
#[derive(Clone)]
pub struct ReactorRunner {
    pub reactor: Arc<dyn Reactor>,
    pub roster: Roster,
    pub queues: Queues,
    pub config: Arc<WorkerConfig>,
}

impl ReactorRunner {
    fn name(&self) -> &'static str {
        self.reactor.name()
    }

    /// The jobs `recorded` causes; an event this build cannot read causes none (it stays in
    /// the log, and the counter lets an alert see it).
    pub fn jobs_for(&self, recorded: &RecordedEvent) -> Vec<Enqueue> {
        let jobs = codec::decode_sealed(recorded)
            .map_err(|e| e.to_string())
            .and_then(|event| match event {
                Some(event) => self
                    .reactor
                    .react(&event, Cause::of(recorded))
                    .map_err(|e| e.to_string()),
                None => Ok(Vec::new()),
            });
        jobs.unwrap_or_else(|error| {
            metrics::counter!("roster_reactor_undecodable_events_total", "reactor" => self.name())
                .increment(1);
            tracing::error!(reactor = self.name(), position = recorded.position,
                event_type = %recorded.event_type, %error, "a reactor cannot read an event; no job for it");
            Vec::new()
        })
    }

    /// Handles every event between the checkpoint and the head once, then returns how many new
    /// jobs it stored (the in-process path of tests and `run_due`).
    pub async fn catch_up(&self) -> Result<usize, ReactorError> {
        let mut position = checkpoint(&self.roster, self.name()).await?;
        let mut pushed = 0;
        loop {
            let page = self.roster.log.read_all(position, 500).await?;
            let Some(last) = page.last().map(|e| e.position) else {
                return Ok(pushed);
            };
            for event in &page {
                for job in self.jobs_for(event) {
                    if self.push(&job).await? {
                        pushed += 1;
                    }
                }
            }
            position = last;
            let now = self.roster.clock.now();
            self.roster
                .side
                .advance_reactor(self.name(), position, now)
                .await?;
        }
    }

    async fn push(&self, job: &Enqueue) -> Result<bool, QueueError> {
        let new = self
            .queues
            .push(job, &self.config, self.roster.clock.now())
            .await?;
        if new {
            metrics::counter!("roster_jobs_enqueued_total", "reactor" => self.name()).increment(1);
        }
        Ok(new)
    }

    /// Runs until `stop` turns true (or the log goes away), while it holds the reactor's lease
    /// (`reactor:<name>`): on PostgreSQL one process at a time runs each reactor, the others
    /// stand by and take over within about a second of the holder's session ending.
    pub async fn run(&self, mut stop: watch::Receiver<bool>) -> Result<(), ReactorError> {
        let name = format!("reactor:{}", self.name());
        while let Some(mut lease) =
            roster_sql::wait_for_lease(&self.roster.sql, &name, &mut stop).await
        {
            self.run_held(&mut stop, &mut lease).await?;
            if *stop.borrow() {
                // Stopping cleanly: a standby takes over at its next try.
                lease.release().await;
            }
        }
        Ok(())
    }

    /// Follows the log from the checkpoint until `stop`, or until the lease is lost.
    async fn run_held(
        &self,
        stop: &mut watch::Receiver<bool>,
        lease: &mut roster_sql::Lease,
    ) -> Result<(), ReactorError> {
        let start = checkpoint(&self.roster, self.name()).await?;
        tracing::info!(reactor = self.name(), position = start, "reactor started");
        let mut events = subscribe(self.roster.log.clone(), start);
        let (mut position, mut saved) = (start, start);
        // Events read since the checkpoint was saved (positions need not be dense: KurrentDB's
        // are byte offsets, so they are counted rather than subtracted).
        let mut unsaved: u64 = 0;
        let mut checked = std::time::Instant::now();
        loop {
            if checked.elapsed() >= roster_sql::LEASE_RETRY {
                if !lease.alive().await {
                    tracing::warn!(reactor = self.name(), "lost the lease; standing by");
                    break;
                }
                checked = std::time::Instant::now();
            }
            let next = tokio::select! {
                _ = stop.wait_for(|stop| *stop) => break,
                next = tokio::time::timeout(IDLE, events.next()) => next,
            };
            match next {
                Err(_idle) => {
                    if position > saved && self.save(position, stop).await {
                        (saved, unsaved) = (position, 0);
                    }
                }
                Ok(None) => break,
                Ok(Some(Err(e))) => {
                    tracing::warn!(reactor = self.name(), error = %e, "cannot read the log; retrying")
                }
                Ok(Some(Ok(event))) => {
                    let jobs = self.jobs_for(&event);
                    let pushed = !jobs.is_empty();
                    if pushed && !self.push_all(&jobs, stop).await {
                        break;
                    }
                    position = event.position;
                    unsaved += 1;
                    // After a push the checkpoint moves at once, so a restart re-reads little.
                    if (pushed || unsaved >= CHECKPOINT_EVERY) && self.save(position, stop).await {
                        (saved, unsaved) = (position, 0);
                    }
                }
            }
        }
        if position > saved {
            // One attempt: on the way out, a failure only means re-reading a few events.
            let now = self.roster.clock.now();
            if let Err(e) = self
                .roster
                .side
                .advance_reactor(self.name(), position, now)
                .await
            {
                tracing::warn!(reactor = self.name(), error = %e, "could not save the checkpoint");
            }
        }
        tracing::info!(reactor = self.name(), position, "reactor stopped");
        Ok(())
    }

    /// Pushes every job, retrying failures until they succeed; `false` if told to stop first.
    async fn push_all(&self, jobs: &[Enqueue], stop: &mut watch::Receiver<bool>) -> bool {
        for job in jobs {
            while let Err(e) = self.push(job).await {
                tracing::warn!(reactor = self.name(), error = %e, "cannot enqueue a job; retrying");
                if pause(stop).await {
                    return false;
                }
            }
        }
        true
    }

    /// Writes the checkpoint, retrying failures; `false` if told to stop before it was saved.
    async fn save(&self, position: Position, stop: &mut watch::Receiver<bool>) -> bool {
        loop {
            let now = self.roster.clock.now();
            match self
                .roster
                .side
                .advance_reactor(self.name(), position, now)
                .await
            {
                Ok(()) => return true,
                Err(e) => {
                    tracing::warn!(reactor = self.name(), error = %e, "cannot save the checkpoint; retrying");
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
