//! `roster payments reconcile`: settling attempts whose outcome Roster does not know (the
//! charge job gave up while Stripe did not answer, or a worker died and its job is stuck) by
//! asking Stripe for the attempt's intent. An intent found is reported like any answer; none
//! found means nothing was charged, and the attempt is recorded as declined without a card
//! code, so the retry schedule may try again. Never charges anything itself.

use chrono::Duration;
use roster_app::{AppError, CommandMeta, Roster};
use roster_domain::payment::{AttemptOutcome, Decline};
use roster_store::ActorRef;
use uuid::Uuid;

use crate::gateway::{Charge, Gateway, GatewayError};

/// What reconciling one payment did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reconciled {
    /// No attempt of unknown outcome.
    NothingOpen,
    /// An attempt started less than the grace period ago: a worker may still have it.
    InFlight { attempt: u32 },
    /// Stripe's intent for the attempt, reported.
    Settled { attempt: u32, outcome: &'static str },
    /// No intent was made for the attempt: recorded as declined (no charge made).
    NoCharge { attempt: u32 },
    /// The intent exists and is not settled yet.
    Pending { attempt: u32, status: String },
}

/// Settles payment `payment_id`'s open attempt if it started more than `grace` ago.
pub async fn reconcile(
    roster: &Roster,
    gateway: &Gateway,
    payment_id: Uuid,
    grace: Duration,
) -> Result<Reconciled, ReconcileError> {
    let payments = &roster.payments;
    let state = payments.get(payment_id).await?.state;
    let Some(open) = state.open_attempt() else {
        return Ok(Reconciled::NothingOpen);
    };
    let attempt = open.number;
    let unknown = matches!(open.outcome, AttemptOutcome::Unknown { .. });
    if !unknown && open.started_at + grace > roster.clock.now() {
        return Ok(Reconciled::InFlight { attempt });
    }
    let meta = CommandMeta::new(ActorRef::Operator("reconcile".into()));
    let reconciled = match gateway.find_charge(payment_id, attempt).await? {
        Some(Charge::Pending { status, .. }) => Reconciled::Pending { attempt, status },
        Some(charge) => {
            charge.record(payments, payment_id, attempt, &meta).await?;
            Reconciled::Settled {
                attempt,
                outcome: charge.outcome(),
            }
        }
        None => {
            let decline = Decline {
                code: None,
                message: Some("no charge was made at Stripe".into()),
            };
            payments
                .record_declined(payment_id, attempt, None, decline, &meta)
                .await?;
            Reconciled::NoCharge { attempt }
        }
    };
    Ok(reconciled)
}

#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error(transparent)]
    App(#[from] AppError),
    #[error(transparent)]
    Gateway(#[from] GatewayError),
}
