//! One module per job: its payload, and its handler, a plain async function that reads what it
//! needs from the log, does the slow work and reports back by sending commands. Handlers never
//! write read models.

pub mod verification_email;
pub mod welcome_email;

use std::sync::Arc;

use roster_app::verification::Verification;
use roster_app::{CommandHandler, CommandMeta};
use roster_store::ActorRef;

use crate::config::WorkerConfig;
use crate::job::{Cause, Job, Run, retry};
use crate::mail::Mailer;
use crate::queue::Queues;

/// Tries of [`Context::report`].
const REPORT_TRIES: usize = 5;

/// What every handler may use, injected into the workers.
#[derive(Clone)]
pub struct Context {
    pub commands: CommandHandler,
    pub verification: Verification,
    pub mailer: Mailer,
    pub queues: Queues,
    pub config: Arc<WorkerConfig>,
}

impl Context {
    /// The metadata of a command a job sends: the worker (by queue) acts, in the correlation of
    /// the event that caused the job, naming that event as the cause.
    pub fn meta<J: Job>(&self, cause: &Cause) -> CommandMeta {
        CommandMeta {
            actor: ActorRef::Worker(J::QUEUE.to_owned()),
            correlation_id: cause.correlation_id,
            causation_id: Some(cause.event_id),
            idempotency_key: None,
        }
    }

    /// The member as the log has it now; a read that fails fails the run for now.
    pub async fn member(
        &self,
        member_id: uuid::Uuid,
    ) -> Result<roster_domain::MemberState, apalis_core::error::BoxDynError> {
        self.commands
            .load::<roster_domain::Member>(member_id)
            .await
            .map(|loaded| loaded.state)
            .map_err(|e| retry(format!("cannot read the member: {e}")))
    }

    /// Sends a report about a member, trying again a few times (about six seconds in all)
    /// before giving up: a report that cannot be written after the mail went out, or after
    /// the last attempt failed, would otherwise be lost with the job.
    pub async fn report<J: Job>(
        &self,
        member_id: uuid::Uuid,
        command: &roster_domain::MemberCommand,
        cause: &Cause,
    ) -> Result<(), roster_app::AppError> {
        let meta = self.meta::<J>(cause);
        let mut wait = std::time::Duration::from_millis(200);
        let mut tries = 1;
        loop {
            let recorded = self
                .commands
                .execute::<roster_domain::Member>(member_id, command, &meta)
                .await;
            match recorded {
                Ok(_) => return Ok(()),
                // A rejection will not change by trying again.
                Err(e @ roster_app::AppError::Domain(_)) => return Err(e),
                Err(e) if tries >= REPORT_TRIES => return Err(e),
                Err(e) => {
                    tracing::warn!(error = %e, queue = J::QUEUE, "cannot record a report yet; retrying");
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                    tries += 1;
                }
            }
        }
    }

    /// Fails the run for now, after making the job wait the schedule's time for its attempt.
    pub async fn retry_later<J: Job>(
        &self,
        run: &Run,
        reason: impl std::fmt::Display,
    ) -> apalis_core::error::BoxDynError {
        let wait = self.config.mail_retry.delay_after(run.attempt);
        let until = chrono::Utc::now()
            + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::seconds(60));
        if let Err(e) = self.queues.postpone(J::QUEUE, &run.task_id, until).await {
            // The job then runs again at once; that is a wasted attempt, not a lost mail.
            tracing::warn!(error = %e, queue = J::QUEUE, "cannot postpone a failed job");
        }
        metrics::counter!("roster_job_retries_total", "queue" => J::QUEUE).increment(1);
        retry(reason)
    }
}
