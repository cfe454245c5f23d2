//! The steps that keep a membership, its plan and its payments in step (see
//! `roster_app::memberships`): one job per event that needs one, run at once, each a use case
//! of [`roster_app::Memberships`] that reads the streams as they are when it runs, so running
//! it twice, late or out of order changes nothing more.

use chrono::{DateTime, Utc};
use roster_app::{AppError, RetrySchedule};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Context;
use crate::config::WorkerConfig;
use crate::job::{Cause, Job, JobResult, Run, permanent, retry};

/// Which step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "step")]
pub enum Step {
    /// Ask for the payment the membership names (its first period's or a renewal's).
    RequestPayment {
        membership_id: Uuid,
        payment_id: Uuid,
    },
    /// Carry a payment's outcome to its membership.
    SettlePayment { payment_id: Uuid },
    /// An ended membership gives up its place, offer or spot in line.
    ReleasePlace { membership_id: Uuid },
    /// The plan holds a place for the membership until `expires_at`.
    Offer {
        membership_id: Uuid,
        expires_at: DateTime<Utc>,
    },
    /// The membership left the line (its offer lapsed): it ends if still waiting.
    LeaveLine { membership_id: Uuid },
    /// The plan recorded the membership's claim: it takes its place.
    Place { membership_id: Uuid },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembershipStep {
    pub step: Step,
    pub cause: Cause,
}

impl Job for MembershipStep {
    const QUEUE: &'static str = "memberships.steps";

    fn schedule(config: &WorkerConfig) -> RetrySchedule {
        config.mail_retry.clone()
    }

    fn cause(&self) -> &Cause {
        &self.cause
    }

    async fn run(self, _run: Run, ctx: Context) -> JobResult {
        let meta = ctx.meta::<Self>(&self.cause);
        let memberships = &ctx.roster.memberships;
        let done = match self.step {
            Step::RequestPayment {
                membership_id,
                payment_id,
            } => {
                memberships
                    .request_payment(membership_id, payment_id, &meta)
                    .await
            }
            Step::SettlePayment { payment_id } => {
                memberships.settle_payment(payment_id, &meta).await
            }
            Step::ReleasePlace { membership_id } => {
                memberships.release_place(membership_id, &meta).await
            }
            Step::Offer {
                membership_id,
                expires_at,
            } => memberships.offer(membership_id, expires_at, &meta).await,
            Step::LeaveLine { membership_id } => memberships.leave_line(membership_id, &meta).await,
            Step::Place { membership_id } => memberships.place(membership_id, None, &meta).await,
        };
        finish(&self.step, done)
    }
}

/// A rejection by the rules will not change by running again: it ends the job (logged); any
/// other failure is for now.
pub(crate) fn finish(step: &impl std::fmt::Debug, done: Result<(), AppError>) -> JobResult {
    match done {
        Ok(()) => Ok(()),
        Err(e @ (AppError::Domain(_) | AppError::NotFound { .. })) => {
            tracing::warn!(?step, error = %e, "membership step refused");
            Err(permanent(e))
        }
        Err(e) => Err(retry(e)),
    }
}
