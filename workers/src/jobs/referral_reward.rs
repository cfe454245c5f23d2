//! A payment succeeded: if its member was referred, the referrer's reward is recorded, once
//! per referred member (`roster_app::Members::reward_referral`, which reads the streams as they
//! are when it runs, so running it twice records nothing more).

use roster_app::RetrySchedule;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Context;
use super::membership_step::finish;
use crate::config::WorkerConfig;
use crate::job::{Cause, Job, JobResult, Run};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferralReward {
    pub payment_id: Uuid,
    pub cause: Cause,
}

impl Job for ReferralReward {
    const QUEUE: &'static str = "referrals.rewards";

    fn schedule(config: &WorkerConfig) -> RetrySchedule {
        config.mail_retry.clone()
    }

    fn cause(&self) -> &Cause {
        &self.cause
    }

    async fn run(self, _run: Run, ctx: Context) -> JobResult {
        let meta = ctx.meta::<Self>(&self.cause);
        let done = ctx
            .roster
            .members
            .reward_referral(self.payment_id, &meta)
            .await;
        finish(&self, done)
    }
}
