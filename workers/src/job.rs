//! What every job shares. A job declares itself in one `impl Job`: its queue, its payload (the
//! type itself, a plain serde struct), its retry schedule (and so its attempt limit) and its
//! handler. Its id comes from the event that caused it ([`Cause`]), and its handler ends in
//! one of three ways: done, failed for good (never retried), or failed for now (retried after
//! the schedule's wait).

use std::fmt::Display;
use std::future::Future;

use apalis_core::error::AbortError;
pub use apalis_core::error::BoxDynError;
use apalis_core::task::Task;
use apalis_core::task::from_request::FromRequest;
use roster_app::RetrySchedule;
use roster_store::RecordedEvent;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use ulid::Ulid;
use uuid::Uuid;

use crate::config::WorkerConfig;
use crate::jobs::Context;

/// A job. The payload names things by id and never carries personal data: the handler reads
/// what it needs from the log when it runs, so an erasure in between leaves nothing to send.
pub trait Job: Serialize + DeserializeOwned + Send + Sync + Unpin + 'static {
    /// The queue's name, before the backend's namespace (`mail.verification`).
    const QUEUE: &'static str;

    /// The waits between attempts; the attempt limit is one more than its entries.
    fn schedule(config: &WorkerConfig) -> RetrySchedule;

    /// The event the job was made from.
    fn cause(&self) -> &Cause;

    /// Does the work. Reports go back as commands, through `ctx`. A failure for now
    /// ([`retry`]) makes the job wait its schedule's time before its next run; a failure for
    /// good ([`permanent`]) ends it.
    fn run(self, run: Run, ctx: Context) -> impl Future<Output = JobResult> + Send;
}

/// A job a reactor wants stored, its type erased so one reactor can make jobs of several
/// queues: the queue, the payload as the worker will read it, and its cause.
#[derive(Debug, Clone)]
pub struct Enqueue {
    pub queue: &'static str,
    pub payload: serde_json::Value,
    pub cause: Cause,
    /// When the job falls due (`None`: at once).
    pub run_at: Option<chrono::DateTime<chrono::Utc>>,
    max_attempts: fn(&WorkerConfig) -> usize,
}

impl Enqueue {
    pub fn of<J: Job>(job: &J) -> Result<Self, serde_json::Error> {
        Ok(Self {
            queue: J::QUEUE,
            payload: serde_json::to_value(job)?,
            cause: *job.cause(),
            run_at: None,
            max_attempts: |config| J::schedule(config).max_attempts(),
        })
    }

    /// The job falls due at `at`, not at once (a re-attempt days later).
    pub fn at(mut self, at: chrono::DateTime<chrono::Utc>) -> Self {
        self.run_at = Some(at);
        self
    }

    /// The job, read back as a `J` (`None` when it is a job of another queue).
    pub fn job<J: Job>(&self) -> Option<J> {
        (self.queue == J::QUEUE)
            .then(|| serde_json::from_value(self.payload.clone()).ok())
            .flatten()
    }

    /// Runs allowed in all, from the job's schedule.
    pub fn max_attempts(&self, config: &WorkerConfig) -> usize {
        (self.max_attempts)(config).max(1)
    }
}

/// The event behind a job: the job's id derives from it, and the commands the job sends carry
/// its correlation id and name it as their cause (the audit trail links them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cause {
    pub event_id: Uuid,
    pub correlation_id: Uuid,
}

impl Cause {
    pub fn of(event: &RecordedEvent) -> Self {
        Self {
            event_id: event.event_id,
            correlation_id: event.metadata.correlation_id,
        }
    }

    /// The cause of a job no event caused (a scheduled run, a reminder): an id made of the
    /// moment it is about and a hash of its name, so every process (and every repeated run)
    /// that schedules the same thing makes the same job, and the queue keeps one.
    pub fn scheduled(name: &str, at: chrono::DateTime<chrono::Utc>) -> Self {
        let digest = Sha256::new()
            .chain_update(name.as_bytes())
            .chain_update(at.timestamp_millis().to_be_bytes())
            .finalize();
        let mut random = [0u8; 10];
        random.copy_from_slice(&digest[..10]);
        let millis = u64::try_from(at.timestamp_millis()).unwrap_or(0);
        let id = uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid();
        Self {
            event_id: id,
            correlation_id: id,
        }
    }

    /// The id of the job of `queue` this event causes: the event's timestamp (its UUIDv7's
    /// first 48 bits) followed by 80 bits of a hash of the event id and the queue. The same
    /// event always gives the same job, so a re-delivered event enqueues nothing new; two
    /// queues fed by one event get different jobs.
    pub fn task_id(&self, queue: &str) -> Ulid {
        let event = self.event_id.as_u128();
        let digest = Sha256::new()
            .chain_update(self.event_id.as_bytes())
            .chain_update(queue.as_bytes())
            .finalize();
        let mut random = [0u8; 16];
        random[6..].copy_from_slice(&digest[..10]);
        let timestamp = event & (u128::MAX << 80);
        Ulid::from(timestamp | u128::from_be_bytes(random))
    }

    /// The dedupe key of the job of `queue`, also unique per (queue, event).
    pub fn idempotency_key(&self, queue: &str) -> String {
        format!("{queue}:{}", self.event_id)
    }
}

/// What a handler knows of its run besides the payload.
#[derive(Debug, Clone)]
pub struct Run {
    pub task_id: String,
    /// 1 for the first run.
    pub attempt: usize,
    pub max_attempts: usize,
}

impl Run {
    pub fn is_last(&self) -> bool {
        self.attempt >= self.max_attempts
    }
}

impl<Args: Sync> FromRequest<Task<Args>> for Run {
    type Error = std::convert::Infallible;

    async fn from_request(task: &Task<Args>) -> Result<Self, Self::Error> {
        let ctx = task.ctx();
        Ok(Run {
            task_id: ctx.task_id().map(ToString::to_string).unwrap_or_default(),
            attempt: ctx.attempt().max(1),
            max_attempts: ctx.max_attempts().unwrap_or(1),
        })
    }
}

/// What a handler returns: `Ok` when done (also when there was nothing to do).
pub type JobResult = Result<(), BoxDynError>;

/// Fails the run for good: the job is marked killed and never runs again.
pub fn permanent(reason: impl Display) -> BoxDynError {
    Box::new(AbortError::new(reason.to_string()))
}

/// Fails the run for now: the job runs again after its schedule's wait, if it has attempts
/// left.
pub fn retry(reason: impl Display) -> BoxDynError {
    reason.to_string().into()
}

/// Whether a failed run was failed for good ([`permanent`]).
pub fn is_permanent(error: &BoxDynError) -> bool {
    error.downcast_ref::<AbortError>().is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_event_gives_one_job_per_queue() {
        let cause = Cause {
            event_id: Uuid::now_v7(),
            correlation_id: Uuid::now_v7(),
        };
        let a = cause.task_id("mail.verification");
        assert_eq!(a, cause.task_id("mail.verification"));
        assert_ne!(a, cause.task_id("mail.welcome"));
        // The job id keeps the event's time, so jobs sort like their events.
        assert_eq!(
            a.timestamp_ms(),
            cause.event_id.get_timestamp().unwrap().to_unix().0 * 1000
                + u64::from(cause.event_id.get_timestamp().unwrap().to_unix().1 / 1_000_000)
        );
        let other = Cause {
            event_id: Uuid::now_v7(),
            ..cause
        };
        assert_ne!(other.task_id("mail.verification"), a);
    }

    #[test]
    fn a_failure_for_good_is_told_from_one_for_now() {
        assert!(is_permanent(&permanent("no such mailbox")));
        assert!(!is_permanent(&retry("try later")));
    }
}
