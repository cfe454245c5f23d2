//! The welcome mail after the email is confirmed: what the member has, the terms, next steps.

use roster_app::RetrySchedule;
use roster_domain::member::MemberStatus;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Context;
use crate::config::WorkerConfig;
use crate::job::{Cause, Job, JobResult, Run};
use crate::mail::templates::WelcomeMail;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WelcomeEmail {
    pub member_id: Uuid,
    pub cause: Cause,
}

impl Job for WelcomeEmail {
    const QUEUE: &'static str = "mail.welcome";

    fn schedule(config: &WorkerConfig) -> RetrySchedule {
        config.mail_retry.clone()
    }

    fn cause(&self) -> &Cause {
        &self.cause
    }

    async fn run(self, run: Run, ctx: Context) -> JobResult {
        let member = ctx.member(self.member_id).await?;
        let Some(personal) = member
            .personal
            .filter(|_| member.status == MemberStatus::Active)
        else {
            tracing::info!(member_id = %self.member_id, "welcome mail not needed: the member is not active");
            return Ok(());
        };
        let mail = WelcomeMail {
            name: personal.name,
            // Plans and memberships come with their own issue; until then there is no tier to name.
            plan: None,
            terms_url: ctx.config.terms_url(),
            start_url: ctx.config.public_url.clone(),
        };
        ctx.deliver::<Self>(&run, "welcome", &personal.email, &mail)
            .await
            .into_result("welcome", self.member_id)
    }
}
