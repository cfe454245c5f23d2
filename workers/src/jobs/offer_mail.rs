//! The mail of a freed place held for the first in line: the plan, the claim link (the hosted
//! page, or the upstream app's when `ROSTER_PUBLIC_URL` points at it) and until when it holds.
//! Sent only while that very offer stands, so a late run says nothing about a place claimed,
//! lapsed or re-offered meanwhile.

use chrono::{DateTime, Utc};
use roster_app::RetrySchedule;
use roster_domain::membership::MembershipStatus;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Context;
use crate::config::WorkerConfig;
use crate::job::{Cause, Job, JobResult, Run};
use crate::mail::templates::{WaitlistOfferMail, format_time};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferMail {
    pub membership_id: Uuid,
    pub expires_at: DateTime<Utc>,
    pub cause: Cause,
}

impl Job for OfferMail {
    const QUEUE: &'static str = "mail.offer";

    fn schedule(config: &WorkerConfig) -> RetrySchedule {
        config.mail_retry.clone()
    }

    fn cause(&self) -> &Cause {
        &self.cause
    }

    async fn run(self, run: Run, ctx: Context) -> JobResult {
        let membership = ctx.membership(self.membership_id).await?;
        let standing = membership.status == MembershipStatus::Waitlisted
            && membership.offer_expires_at == Some(self.expires_at)
            && self.expires_at > ctx.roster.clock.now();
        let recipient = ctx.membership_recipient(&membership, standing, "waitlist offer");
        let Some((personal, plan)) = recipient.await? else {
            return Ok(());
        };
        let token = ctx
            .roster
            .memberships
            .claim_token(self.membership_id, self.expires_at);
        let mail = WaitlistOfferMail {
            name: personal.name,
            plan,
            claim_url: format!("{}/claim?token={token}", ctx.config.public_url),
            claim_by: format_time(self.expires_at),
        };
        ctx.deliver::<Self>(&run, "waitlist_offer", &personal.email, &mail)
            .await
            .into_result("waitlist offer", self.membership_id)
    }
}
