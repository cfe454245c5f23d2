//! Charging one attempt of a payment through Stripe, without ever charging twice:
//! 1. the attempt is started in the log first (the aggregate allows one open attempt, so a
//!    second charge of the payment cannot begin while this one may still take money);
//! 2. unless this very run started the attempt, the attempt's intent is looked up at Stripe by
//!    its metadata (a run after a crash or a timeout finds what the earlier run made);
//! 3. only if there is none, the payment's stream is read again right before creating it, and
//!    the job stops if the payment succeeded or another attempt is open;
//! 4. the intent is created and confirmed off-session with the key
//!    `roster-payment-<id>-attempt-<n>`, and the answer is reported.
//!
//! While Stripe does not answer, the job runs again on its own schedule; after the last run the
//! attempt is recorded as of unknown outcome (still open: nothing may charge) for
//! `roster payments reconcile`. A webhook may report the outcome first; the report that comes
//! second changes nothing.

use roster_app::RetrySchedule;
use roster_domain::payment::Method;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Context;
use crate::config::WorkerConfig;
use crate::gateway::{Charge, ChargeRequest, Gateway, GatewayError};
use crate::job::{BoxDynError, Cause, Job, JobResult, Run, permanent, retry};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChargePayment {
    pub payment_id: Uuid,
    pub attempt: u32,
    pub cause: Cause,
}

/// Set to `after-charge` in a test, the process aborts right after Stripe answered a charge
/// and before the answer is recorded: the crash the lookup in step 2 exists for.
pub const FAULT_ENV: &str = "ROSTER_TEST_FAULT";

impl Job for ChargePayment {
    const QUEUE: &'static str = "payments.charge";

    fn schedule(config: &WorkerConfig) -> RetrySchedule {
        config.gateway_retry.clone()
    }

    fn cause(&self) -> &Cause {
        &self.cause
    }

    async fn run(self, run: Run, ctx: Context) -> JobResult {
        let payments = &ctx.roster.payments;
        let meta = ctx.meta::<Self>(&self.cause);
        // Without Stripe nothing starts: the job waits (failed for now) for a key.
        let gateway = ctx.gateway()?;
        let (id, attempt) = (self.payment_id, self.attempt);
        let state = payments
            .get(id)
            .await
            .map_err(|e| retry(format!("cannot read the payment: {e}")))?
            .state;
        if state.succeeded_at.is_some() || state.is_ended_unpaid() {
            return Ok(());
        }
        // Whether this run started the attempt: then no intent can exist for it yet (one is
        // only made after the start is in the log), and the lookup is skipped.
        let fresh = match state.attempt(attempt) {
            Some(started) if !started.is_open() => return Ok(()),
            Some(_) => false,
            None => match payments.start_attempt(id, attempt, &meta).await {
                Ok(handled) => !handled.events.is_empty(),
                Err(roster_app::AppError::Domain(e)) => {
                    tracing::info!(payment_id = %id, attempt, reason = %e, "attempt not started");
                    return Ok(());
                }
                Err(e) => return Err(retry(format!("cannot start the attempt: {e}"))),
            },
        };
        let found = match fresh {
            true => Ok(None),
            false => gateway.find_charge(id, attempt).await,
        };
        let charged = match found {
            Ok(Some(found)) => Ok(found),
            Ok(None) => self.create(&ctx, gateway).await?,
            Err(e) => Err(e),
        };
        let charge = match charged {
            Ok(charge) => charge,
            Err(GatewayError::Refused(reason)) => {
                // Stripe will give the same answer to the same request: a declined attempt
                // without a card code, which the schedule may try again.
                let decline = roster_domain::payment::Decline {
                    code: None,
                    message: Some(reason),
                };
                return report(
                    payments
                        .record_declined(id, attempt, None, decline, &meta)
                        .await,
                );
            }
            Err(GatewayError::Unreachable(reason)) if run.is_last() => {
                tracing::warn!(payment_id = %id, attempt, %reason, "charge outcome unknown; reconcile later");
                return report(payments.record_unknown(id, attempt, reason, &meta).await);
            }
            Err(e) => return Err(retry(e)),
        };
        if std::env::var(FAULT_ENV).as_deref() == Ok("after-charge") {
            tracing::error!("{FAULT_ENV}=after-charge: aborting before the charge is recorded");
            std::process::abort();
        }
        metrics::counter!("roster_payment_charges_total", "outcome" => charge.outcome())
            .increment(1);
        match charge.record(payments, id, attempt, &meta).await {
            Ok(None) => Err(retry(format!(
                "the intent of attempt {attempt} is not settled"
            ))),
            reported => report(reported),
        }
    }
}

impl ChargePayment {
    /// Steps 3 and 4: no intent exists for the attempt yet.
    async fn create(
        &self,
        ctx: &Context,
        gateway: &Gateway,
    ) -> Result<Result<Charge, GatewayError>, BoxDynError> {
        let state = ctx
            .roster
            .payments
            .get(self.payment_id)
            .await
            .map_err(|e| retry(format!("cannot read the payment: {e}")))?
            .state;
        let still_ours = state.open_attempt().map(|a| a.number) == Some(self.attempt);
        if state.succeeded_at.is_some() || !still_ours {
            return Err(permanent(
                "the payment changed before the charge; nothing charged",
            ));
        }
        let (Some(member_id), Some(Method::Gateway { payment_method })) =
            (state.member_id, &state.method)
        else {
            return Err(permanent("not a card payment"));
        };
        let customer = match ctx.customer_for(member_id, gateway).await {
            Ok(customer) => customer,
            Err(e) => return Ok(Err(e)),
        };
        let attached = match ctx
            .attached_method(member_id, payment_method, &customer, gateway)
            .await
        {
            Ok(attached) => attached,
            Err(e) => return Ok(Err(e)),
        };
        let request = ChargeRequest {
            payment_id: self.payment_id,
            attempt: self.attempt,
            member_id,
            customer: &customer,
            payment_method: &attached,
            amount: state.amount,
            currency: &state.currency,
        };
        Ok(gateway.charge(&request).await)
    }
}

/// A report the domain refused (the payment moved on meanwhile) ends the job; any other
/// failure to record runs it again, and the lookup finds the intent made.
fn report<T>(reported: Result<T, roster_app::AppError>) -> JobResult {
    match reported {
        Ok(_) => Ok(()),
        Err(roster_app::AppError::Domain(e)) => {
            tracing::info!(reason = %e, "payment report not needed");
            Ok(())
        }
        Err(e) => Err(retry(format!("cannot record the outcome: {e}"))),
    }
}

impl Context {
    /// Stripe, or a failure for now when no key is configured (the job waits for one).
    pub fn gateway(&self) -> Result<&Gateway, BoxDynError> {
        self.config
            .gateway
            .as_ref()
            .ok_or_else(|| retry("ROSTER_STRIPE_SECRET_KEY is not set"))
    }

    /// `payment_method` as attached to the member's customer, attached the first time.
    pub async fn attached_method(
        &self,
        member_id: Uuid,
        payment_method: &str,
        customer: &str,
        gateway: &Gateway,
    ) -> Result<String, GatewayError> {
        let side = &self.roster.side;
        let unreachable = |e: roster_sql::SqlError| GatewayError::Unreachable(e.to_string());
        let known = side
            .gateway_method(member_id, payment_method)
            .await
            .map_err(unreachable)?;
        if let Some(attached) = known {
            return Ok(attached);
        }
        let attached = gateway.attach(payment_method, customer).await?;
        let now = self.roster.clock.now();
        side.link_gateway_method(member_id, payment_method, &attached, now)
            .await
            .map_err(unreachable)
    }

    /// The member's customer at Stripe, made the first time.
    pub async fn customer_for(
        &self,
        member_id: Uuid,
        gateway: &Gateway,
    ) -> Result<String, GatewayError> {
        let side = &self.roster.side;
        let unreachable = |e: roster_sql::SqlError| GatewayError::Unreachable(e.to_string());
        if let Some(customer) = side
            .gateway_customer(member_id)
            .await
            .map_err(unreachable)?
        {
            return Ok(customer);
        }
        let created = gateway.create_customer(member_id).await?;
        let now = self.roster.clock.now();
        side.link_gateway_customer(member_id, &created, now)
            .await
            .map_err(unreachable)
    }
}
