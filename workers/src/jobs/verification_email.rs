//! The double opt-in mail: the link with the token issued by `MemberVerificationIssued`.
//!
//! The handler sends only while the mail still makes sense: the member pending, the token
//! still their newest, unexpired and not already mailed. A delivered mail is reported with
//! `RecordVerificationEmailSent`; a permanent refusal, or the last attempt failing, with
//! `RecordVerificationEmailFailed`. Both land in the audit log.

use chrono::{DateTime, Utc};
use roster_app::RetrySchedule;
use roster_domain::MemberState;
use roster_domain::member::{
    MailFailure, MailOutcome, MemberCommand, MemberStatus, RecordVerificationEmailFailed,
    RecordVerificationEmailSent,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Context, Delivery};
use crate::config::WorkerConfig;
use crate::job::{Cause, Job, JobResult, Run, permanent, retry};
use crate::mail::templates::{VerificationMail, format_time};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationEmail {
    pub member_id: Uuid,
    /// Which token: the mail carries the one derived from this nonce.
    pub nonce: String,
    pub cause: Cause,
}

impl Job for VerificationEmail {
    const QUEUE: &'static str = "mail.verification";

    fn schedule(config: &WorkerConfig) -> RetrySchedule {
        config.mail_retry.clone()
    }

    fn cause(&self) -> &Cause {
        &self.cause
    }

    async fn run(self, run: Run, ctx: Context) -> JobResult {
        let member = ctx.member(self.member_id).await?;
        if let Some(reason) = skip_reason(&member, &self.nonce, ctx.roster.clock.now()) {
            tracing::info!(member_id = %self.member_id, reason, "verification mail not needed");
            return Ok(());
        }
        let (Some(personal), Some(pending)) = (&member.personal, &member.verification) else {
            return Ok(());
        };
        let token = ctx
            .roster
            .members
            .tickets()
            .token(self.member_id, &self.nonce);
        let mail = VerificationMail {
            name: personal.name.clone(),
            link: format!("{}/confirm?token={token}", ctx.config.public_url),
            expires_at: format_time(pending.expires_at),
        };
        match ctx
            .deliver::<Self>(&run, "verification", &personal.email, &mail)
            .await
        {
            Delivery::Sent => {
                let report = RecordVerificationEmailSent { nonce: self.nonce };
                let command = MemberCommand::RecordVerificationEmailSent(report);
                ctx.report::<Self>(self.member_id, &command, &self.cause)
                    .await
                    // Sent but not recorded: the next run sends again (at least once, never zero).
                    .map_err(|e| retry(format!("sent, but cannot record it: {e}")))
            }
            Delivery::Failed(e) => {
                report_failure(&ctx, &self, e.failure, run.attempt).await;
                Err(permanent(e))
            }
            Delivery::Later(e) => {
                tracing::warn!(member_id = %self.member_id, attempt = run.attempt, error = %e,
                    "verification mail not sent; will retry");
                Err(retry(e))
            }
        }
    }
}

/// Why this job should send nothing, if it should not.
fn skip_reason(member: &MemberState, nonce: &str, now: DateTime<Utc>) -> Option<&'static str> {
    let Some(pending) = &member.verification else {
        return Some("the member has no token (erased, or unknown)");
    };
    if member.personal.is_none() {
        return Some("the member's personal data is erased");
    }
    if pending.nonce != nonce {
        return Some("a newer token was issued");
    }
    if member.status != MemberStatus::PendingConfirmation {
        return Some("the member is no longer pending confirmation");
    }
    if pending.mail == MailOutcome::Sent {
        return Some("the mail was sent already");
    }
    if pending.expires_at <= now {
        return Some("the token has expired");
    }
    None
}

async fn report_failure(
    ctx: &Context,
    job: &VerificationEmail,
    failure: MailFailure,
    attempts: usize,
) {
    let report = RecordVerificationEmailFailed {
        nonce: job.nonce.clone(),
        failure,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
    };
    let command = MemberCommand::RecordVerificationEmailFailed(report);
    if let Err(e) = ctx
        .report::<VerificationEmail>(job.member_id, &command, &job.cause)
        .await
    {
        tracing::error!(member_id = %job.member_id, error = %e,
            "the verification mail failed for good, and the failure cannot be recorded");
    }
}
