//! Running what is due, in this task, by Roster's clock: every reactor catches up with the
//! log, then every job whose time has come runs to completion, again and again until nothing
//! is due. A job that fails for now waits for its schedule's time: moving the clock past it
//! and draining again runs it. This is how tests say "advance 3 days, run due jobs" without
//! waiting for anything (zero2prod's `dispatch_all_pending_emails` is the idea).
//!
//! It takes jobs the way a worker would (one taker per job), so it is safe beside running
//! workers, but a drain that dies mid-job leaves that job `Running`: it is meant for tests and
//! for an operator's one-off run, not as a worker.

use roster_app::Roster;

use crate::catalog::Catalog;
use crate::job::{Run, is_permanent};
use crate::jobs::Context;
use crate::queue::{Finished, QueueError};
use crate::reactor::{ReactorError, ReactorRunner};

/// What one [`Drain::run_due`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Drained {
    /// Jobs the reactors stored.
    pub enqueued: usize,
    /// Runs that finished the job.
    pub done: usize,
    /// Runs that failed for now (the job waits for its next attempt, if it has one left).
    pub failed: usize,
    /// Runs that failed for good.
    pub killed: usize,
}

impl Drained {
    pub fn runs(&self) -> usize {
        self.done + self.failed + self.killed
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DrainError {
    #[error(transparent)]
    Reactor(#[from] ReactorError),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// The reactors and jobs of a catalog, run in-process on demand.
pub struct Drain {
    pub(crate) ctx: Context,
    pub(crate) catalog: Catalog,
    pub(crate) runners: Vec<ReactorRunner>,
}

impl Drain {
    pub fn roster(&self) -> &Roster {
        &self.ctx.roster
    }

    pub fn context(&self) -> &Context {
        &self.ctx
    }

    /// Runs everything due now (by the clock), until nothing is.
    pub async fn run_due(&self) -> Result<Drained, DrainError> {
        let mut drained = Drained::default();
        loop {
            let before = drained;
            for runner in &self.runners {
                drained.enqueued += runner.catch_up().await?;
            }
            for kind in self.catalog.jobs() {
                self.run_queue(kind, &mut drained).await?;
            }
            if drained == before {
                return Ok(drained);
            }
        }
    }

    async fn run_queue(
        &self,
        kind: &crate::catalog::JobKind,
        drained: &mut Drained,
    ) -> Result<(), DrainError> {
        let queues = &self.ctx.queues;
        while let Some(job) = queues
            .take_due(kind.queue, self.roster().clock.now())
            .await?
        {
            let run = Run {
                task_id: job.id.clone(),
                attempt: job.attempts + 1,
                max_attempts: job.max_attempts,
            };
            let result = kind.run(job.payload.clone(), run, self.ctx.clone()).await;
            let finished = match &result {
                Ok(()) => Finished::Done,
                Err(e) if is_permanent(e) => Finished::Killed,
                Err(_) => Finished::Failed,
            };
            match finished {
                Finished::Done => drained.done += 1,
                Finished::Failed => drained.failed += 1,
                Finished::Killed => drained.killed += 1,
            }
            if let Err(e) = &result {
                tracing::info!(queue = kind.queue, job = %job.id, error = %e, "a drained job failed");
            }
            queues
                .finish(&job, finished, self.roster().clock.now())
                .await?;
        }
        Ok(())
    }
}
