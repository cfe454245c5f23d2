//! The mails of a payment: the receipt when money arrived, a notice after each declined
//! attempt (with the next attempt's date, or that none follows), and the refund notice. Read
//! from the log when sent, so an erased member gets nothing.

use roster_app::RetrySchedule;
use roster_domain::payment::{PaymentState, RefundStatus};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Context;
use crate::config::WorkerConfig;
use crate::job::{Cause, Job, JobResult, Run, permanent, retry};
use crate::mail::MailTemplate;
use crate::mail::templates::{PaymentFailedMail, PaymentReceiptMail, RefundMail, format_amount};

/// Which mail of the payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum PaymentMailKind {
    Receipt,
    Declined { attempt: u32 },
    Refunded { refund_id: Uuid },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentMail {
    pub payment_id: Uuid,
    pub mail: PaymentMailKind,
    pub cause: Cause,
}

impl Job for PaymentMail {
    const QUEUE: &'static str = "mail.payment";

    fn schedule(config: &WorkerConfig) -> RetrySchedule {
        config.mail_retry.clone()
    }

    fn cause(&self) -> &Cause {
        &self.cause
    }

    async fn run(self, run: Run, ctx: Context) -> JobResult {
        let payment = ctx
            .roster
            .payments
            .get(self.payment_id)
            .await
            .map_err(|e| retry(format!("cannot read the payment: {e}")))?
            .state;
        let Some(member_id) = payment.member_id else {
            return Err(permanent("the payment names no member"));
        };
        let member = ctx.member(member_id).await?;
        let Some(personal) = member.personal else {
            tracing::info!(payment_id = %self.payment_id, "payment mail not sent: the member's data is erased");
            return Ok(());
        };
        let money = |amount: u64| {
            format_amount(i64::try_from(amount).unwrap_or(i64::MAX), &payment.currency)
        };
        let description = payment
            .description
            .clone()
            .unwrap_or_else(|| "your membership".to_owned());
        let reference = self.payment_id.to_string();
        let (kind, mail): (&'static str, Box<dyn MailTemplate + Send + Sync>) = match self.mail {
            PaymentMailKind::Receipt => {
                let mail = PaymentReceiptMail {
                    name: personal.name,
                    amount: money(payment.captured),
                    description,
                    paid_on: day(&payment),
                    payment_id: reference,
                };
                ("payment_receipt", Box::new(mail))
            }
            PaymentMailKind::Declined { attempt } => {
                let next_attempt = payment
                    .next_attempt
                    .filter(|(next, _)| *next == attempt + 1)
                    .map(|(_, at)| at.format("%Y-%m-%d").to_string());
                let mail = PaymentFailedMail {
                    name: personal.name,
                    amount: money(payment.amount),
                    description,
                    next_attempt,
                    update_url: format!("{}/billing", ctx.config.public_url),
                    payment_id: reference,
                };
                ("payment_failed", Box::new(mail))
            }
            PaymentMailKind::Refunded { refund_id } => {
                let Some(refund) = payment
                    .refunds
                    .get(&refund_id)
                    .filter(|r| r.status == RefundStatus::Succeeded)
                else {
                    return Ok(());
                };
                let mail = RefundMail {
                    name: personal.name,
                    amount: money(refund.amount),
                    payment_id: reference,
                    reason: refund.reason.clone(),
                };
                ("refund", Box::new(mail))
            }
        };
        ctx.deliver::<Self>(&run, kind, &personal.email, mail.as_ref())
            .await
            .into_result(kind, self.payment_id)
    }
}

fn day(payment: &PaymentState) -> String {
    payment
        .succeeded_at
        .map(|at| at.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}
