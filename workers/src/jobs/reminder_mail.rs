//! One renewal reminder: checked against the membership when it is sent (still renewing this
//! period, not reminded at this offset yet, by the run's instant), mailed, then recorded on
//! the membership's stream. A crash between the mail and the record sends it again on the
//! next attempt: at least once, never for a membership renewed, cancelled or lapsed meanwhile.

use chrono::{DateTime, Utc};
use roster_app::RetrySchedule;
use roster_domain::membership::reminder_due;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Context;
use crate::config::WorkerConfig;
use crate::job::{Cause, Job, JobResult, Run};
use crate::mail::templates::{RenewalReminderMail, format_amount};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderMail {
    pub membership_id: Uuid,
    pub period_end: DateTime<Utc>,
    pub days_before: u32,
    /// The instant of the run that found it due (`roster remind run --now` may name another
    /// than the clock's).
    pub as_of: DateTime<Utc>,
    pub cause: Cause,
}

impl Job for ReminderMail {
    const QUEUE: &'static str = "mail.reminder";

    fn schedule(config: &WorkerConfig) -> RetrySchedule {
        config.mail_retry.clone()
    }

    fn cause(&self) -> &Cause {
        &self.cause
    }

    async fn run(self, run: Run, ctx: Context) -> JobResult {
        let membership = ctx.membership(self.membership_id).await?;
        let still_due = membership.period_end == Some(self.period_end)
            && reminder_due(&membership, &[self.days_before], self.as_of) == Some(self.days_before);
        let recipient = ctx.membership_recipient(&membership, still_due, "renewal reminder");
        let Some((personal, plan)) = recipient.await? else {
            return Ok(());
        };
        let amount = membership.price.as_ref().map_or_else(String::new, |p| {
            format_amount(i64::try_from(p.amount).unwrap_or(i64::MAX), &p.currency)
        });
        let mail = RenewalReminderMail {
            name: personal.name,
            plan,
            period_end: self.period_end.format("%Y-%m-%d").to_string(),
            days_left: self.days_before,
            amount,
            manage_url: format!("{}/billing", ctx.config.public_url),
        };
        ctx.deliver::<Self>(&run, "renewal_reminder", &personal.email, &mail)
            .await
            .into_result("renewal reminder", self.membership_id)?;
        let meta = ctx.meta::<Self>(&self.cause);
        let recorded = ctx
            .roster
            .memberships
            .record_reminder(self.membership_id, self.period_end, self.days_before, &meta)
            .await;
        if let Err(e) = recorded {
            // The mail went out; failing the job would send it again.
            tracing::warn!(membership_id = %self.membership_id, error = %e, "reminder sent but not recorded");
        }
        Ok(())
    }
}
