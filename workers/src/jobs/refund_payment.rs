//! Refunding through Stripe what a refund asked for, with the key `roster-refund-<id>`; a
//! refund Stripe refuses is recorded as failed, which frees its amount.

use roster_app::RetrySchedule;
use roster_domain::payment::{AttemptOutcome, RefundStatus};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Context;
use crate::config::WorkerConfig;
use crate::gateway::GatewayError;
use crate::job::{Cause, Job, JobResult, Run, permanent, retry};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundPayment {
    pub payment_id: Uuid,
    pub refund_id: Uuid,
    pub cause: Cause,
}

impl Job for RefundPayment {
    const QUEUE: &'static str = "payments.refund";

    fn schedule(config: &WorkerConfig) -> RetrySchedule {
        config.gateway_retry.clone()
    }

    fn cause(&self) -> &Cause {
        &self.cause
    }

    async fn run(self, _run: Run, ctx: Context) -> JobResult {
        let payments = &ctx.roster.payments;
        let state = payments
            .get(self.payment_id)
            .await
            .map_err(|e| retry(format!("cannot read the payment: {e}")))?
            .state;
        let Some(refund) = state.refunds.get(&self.refund_id) else {
            return Err(permanent("no such refund"));
        };
        if refund.status != RefundStatus::Pending {
            return Ok(());
        }
        let intent = state.attempts.iter().find_map(|a| match &a.outcome {
            AttemptOutcome::Succeeded { gateway_id } => Some(gateway_id.clone()),
            _ => None,
        });
        let Some(intent) = intent else {
            return Err(permanent("the payment has no charge to refund"));
        };
        let gateway = ctx.gateway()?;
        let outcome = match gateway
            .refund(&intent, refund.amount, self.payment_id, self.refund_id)
            .await
        {
            Ok(outcome) => outcome.map(Some),
            Err(GatewayError::Refused(reason)) => Err(reason),
            Err(e @ GatewayError::Unreachable(_)) => return Err(retry(e)),
        };
        let meta = ctx.meta::<Self>(&self.cause);
        match payments
            .record_refund(self.payment_id, self.refund_id, outcome, &meta)
            .await
        {
            Ok(_) | Err(roster_app::AppError::Domain(_)) => Ok(()),
            Err(e) => Err(retry(format!("cannot record the refund: {e}"))),
        }
    }
}
