//! What falls due at a time: an offer's claim window closing, a membership period ending, a
//! role grant expiring.
//! Stored when the event that sets the time is handled, due at that time by Roster's clock
//! (tests move the clock and drain), and checked against the streams when it runs: a period
//! renewed or a membership cancelled meanwhile makes it do nothing.

use chrono::{DateTime, Utc};
use roster_app::RetrySchedule;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Context;
use super::membership_step::finish;
use crate::config::WorkerConfig;
use crate::job::{Cause, Job, JobResult, Run};

/// Which time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "timer")]
pub enum Timer {
    /// Offers of the plan whose window has closed go to the next in line.
    OfferWindow { plan_id: Uuid },
    /// The period ending at `period_end` is over: renew, or settle a scheduled cancellation.
    PeriodEnd {
        membership_id: Uuid,
        period_end: DateTime<Utc>,
    },
    /// A direct role grant in the organization has expired: settle the expired grants.
    GrantExpiry {
        org_id: Uuid,
        expires_at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembershipTimer {
    pub timer: Timer,
    pub cause: Cause,
}

impl Job for MembershipTimer {
    const QUEUE: &'static str = "memberships.timers";

    fn schedule(config: &WorkerConfig) -> RetrySchedule {
        config.mail_retry.clone()
    }

    fn cause(&self) -> &Cause {
        &self.cause
    }

    async fn run(self, _run: Run, ctx: Context) -> JobResult {
        let meta = ctx.meta::<Self>(&self.cause);
        let memberships = &ctx.roster.memberships;
        let done = match self.timer {
            Timer::OfferWindow { plan_id } => memberships.expire_offers(plan_id, &meta).await,
            Timer::PeriodEnd {
                membership_id,
                period_end,
            } => {
                memberships
                    .end_period(membership_id, period_end, &meta)
                    .await
            }
            Timer::GrantExpiry { org_id, .. } => ctx
                .roster
                .orgs
                .settle_grant_expiries(org_id, &meta)
                .await
                .map(|_| ()),
        };
        finish(&self.timer, done)
    }
}
