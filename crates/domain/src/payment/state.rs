//! A payment folded from its events.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::event::{Decline, FailureReason, OfflineMethod, PaymentEvent};

/// What the payment's status reads as (the API's statuses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Nothing was asked for under this id.
    Unknown,
    /// An attempt is due or in flight.
    Processing,
    /// Declined; a re-attempt is scheduled.
    Retrying,
    /// Ended without money.
    Failed,
    Succeeded,
    PartiallyRefunded,
    Refunded,
}

impl PaymentStatus {
    /// Every status a payment reads as once it exists, in the order of its life.
    pub const ALL: [PaymentStatus; 6] = [
        Self::Processing,
        Self::Retrying,
        Self::Succeeded,
        Self::PartiallyRefunded,
        Self::Refunded,
        Self::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Processing => "processing",
            Self::Retrying => "retrying",
            Self::Failed => "failed",
            Self::Succeeded => "succeeded",
            Self::PartiallyRefunded => "partially_refunded",
            Self::Refunded => "refunded",
        }
    }
}

/// How the payment is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method {
    /// Through the gateway, with this payment method.
    Gateway { payment_method: String },
    /// Received outside the gateway; refunds are records.
    Offline {
        method: OfflineMethod,
        reference: String,
    },
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// Started; the gateway's answer is not recorded yet.
    InFlight,
    /// The answer could not be learned; reconciliation will tell.
    Unknown {
        reason: String,
    },
    Succeeded {
        gateway_id: String,
    },
    Failed {
        gateway_id: Option<String>,
        decline: Decline,
        retryable: bool,
        at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub number: u32,
    pub started_at: DateTime<Utc>,
    pub outcome: AttemptOutcome,
}

impl Attempt {
    /// Whether the attempt may still take money: started with no answer, or an unknown one.
    pub fn is_open(&self) -> bool {
        matches!(
            self.outcome,
            AttemptOutcome::InFlight | AttemptOutcome::Unknown { .. }
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundStatus {
    Pending,
    Succeeded,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    pub amount: u64,
    pub status: RefundStatus,
    pub reason: Option<String>,
    pub override_reason: Option<String>,
    pub requested_at: DateTime<Utc>,
    pub gateway_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaymentState {
    pub payment_id: Option<Uuid>,
    pub member_id: Option<Uuid>,
    pub membership_id: Option<Uuid>,
    pub amount: u64,
    pub currency: String,
    pub description: Option<String>,
    pub method: Option<Method>,
    pub requested_at: Option<DateTime<Utc>>,
    pub attempts: Vec<Attempt>,
    /// The re-attempt waiting, and when it is due.
    pub next_attempt: Option<(u32, DateTime<Utc>)>,
    pub captured: u64,
    pub succeeded_at: Option<DateTime<Utc>>,
    /// Set when the payment ended without money.
    pub failure: Option<FailureReason>,
    pub abandoned: Option<String>,
    pub refunds: BTreeMap<Uuid, Refund>,
}

impl PaymentState {
    pub fn exists(&self) -> bool {
        self.payment_id.is_some()
    }

    pub fn status(&self) -> PaymentStatus {
        let refunded = self.refunded();
        if !self.exists() {
            PaymentStatus::Unknown
        } else if self.succeeded_at.is_some() {
            match refunded {
                0 => PaymentStatus::Succeeded,
                r if r >= self.captured => PaymentStatus::Refunded,
                _ => PaymentStatus::PartiallyRefunded,
            }
        } else if self.failure.is_some() || self.abandoned.is_some() {
            PaymentStatus::Failed
        } else if self.next_attempt.is_some() {
            PaymentStatus::Retrying
        } else {
            PaymentStatus::Processing
        }
    }

    /// Whether the payment is over without money (no attempt may start).
    pub fn is_ended_unpaid(&self) -> bool {
        self.failure.is_some() || self.abandoned.is_some()
    }

    /// The attempt that may still take money, if any.
    pub fn open_attempt(&self) -> Option<&Attempt> {
        self.attempts.iter().rev().find(|a| a.is_open())
    }

    pub fn attempt(&self, number: u32) -> Option<&Attempt> {
        self.attempts.iter().find(|a| a.number == number)
    }

    /// Refunded, in minor units.
    pub fn refunded(&self) -> u64 {
        self.refund_total(RefundStatus::Succeeded)
    }

    /// Asked for and not yet answered, in minor units.
    pub fn refund_pending(&self) -> u64 {
        self.refund_total(RefundStatus::Pending)
    }

    /// What may still be refunded: captured minus refunded minus pending refunds.
    pub fn refundable(&self) -> u64 {
        self.captured
            .saturating_sub(self.refunded())
            .saturating_sub(self.refund_pending())
    }

    fn refund_total(&self, status: RefundStatus) -> u64 {
        self.refunds
            .values()
            .filter(|r| r.status == status)
            .map(|r| r.amount)
            .sum()
    }

    pub fn is_offline(&self) -> bool {
        matches!(self.method, Some(Method::Offline { .. }))
    }
}

pub(super) fn evolve(mut state: PaymentState, event: &PaymentEvent) -> PaymentState {
    match event {
        PaymentEvent::Requested(e) => {
            let method = Method::Gateway {
                payment_method: e.payment_method.clone(),
            };
            state.open(Opened {
                payment_id: e.payment_id,
                member_id: e.member_id,
                membership_id: e.membership_id,
                amount: e.amount,
                currency: &e.currency,
                description: &e.description,
                method,
                at: e.requested_at,
            });
        }
        PaymentEvent::AttemptStarted(e) => {
            state.next_attempt = None;
            state.attempts.push(Attempt {
                number: e.attempt,
                started_at: e.started_at,
                outcome: AttemptOutcome::InFlight,
            });
        }
        PaymentEvent::Succeeded(e) => {
            set_outcome(
                &mut state,
                e.attempt,
                AttemptOutcome::Succeeded {
                    gateway_id: e.gateway_id.clone(),
                },
            );
            state.captured = e.captured;
            state.succeeded_at = Some(e.succeeded_at);
            state.next_attempt = None;
            state.failure = None;
            state.abandoned = None;
        }
        PaymentEvent::AttemptFailed(e) => set_outcome(
            &mut state,
            e.attempt,
            AttemptOutcome::Failed {
                gateway_id: e.gateway_id.clone(),
                decline: e.decline.clone(),
                retryable: e.retryable,
                at: e.failed_at,
            },
        ),
        PaymentEvent::OutcomeUnknown(e) => set_outcome(
            &mut state,
            e.attempt,
            AttemptOutcome::Unknown {
                reason: e.reason.clone(),
            },
        ),
        PaymentEvent::ReattemptScheduled(e) => state.next_attempt = Some((e.attempt, e.at)),
        PaymentEvent::Failed(e) => {
            state.failure = Some(e.reason);
            state.next_attempt = None;
        }
        PaymentEvent::Abandoned(e) => {
            state.abandoned = Some(e.reason.clone());
            state.next_attempt = None;
        }
        PaymentEvent::MethodChanged(e) => {
            state.method = Some(Method::Gateway {
                payment_method: e.payment_method.clone(),
            });
        }
        PaymentEvent::RefundRequested(e) => {
            state.refunds.insert(
                e.refund_id,
                Refund {
                    amount: e.amount,
                    status: RefundStatus::Pending,
                    reason: e.reason.clone(),
                    override_reason: e.override_reason.clone(),
                    requested_at: e.requested_at,
                    gateway_id: None,
                },
            );
        }
        PaymentEvent::RefundSucceeded(e) => {
            if let Some(refund) = state.refunds.get_mut(&e.refund_id) {
                refund.status = RefundStatus::Succeeded;
                refund.gateway_id.clone_from(&e.gateway_id);
            }
        }
        PaymentEvent::RefundFailed(e) => {
            if let Some(refund) = state.refunds.get_mut(&e.refund_id) {
                refund.status = RefundStatus::Failed;
            }
        }
        PaymentEvent::OfflineRecorded(e) => {
            let method = Method::Offline {
                method: e.method,
                reference: e.reference.clone(),
            };
            state.open(Opened {
                payment_id: e.payment_id,
                member_id: e.member_id,
                membership_id: e.membership_id,
                amount: e.amount,
                currency: &e.currency,
                description: &e.description,
                method,
                at: e.recorded_at,
            });
            state.captured = e.amount;
            state.succeeded_at = Some(e.received_at);
        }
    }
    state
}

/// What the first event of a payment says, card or offline.
struct Opened<'a> {
    payment_id: Uuid,
    member_id: Uuid,
    membership_id: Option<Uuid>,
    amount: u64,
    currency: &'a str,
    description: &'a Option<String>,
    method: Method,
    at: DateTime<Utc>,
}

impl PaymentState {
    fn open(&mut self, opened: Opened<'_>) {
        self.payment_id = Some(opened.payment_id);
        self.member_id = Some(opened.member_id);
        self.membership_id = opened.membership_id;
        self.amount = opened.amount;
        opened.currency.clone_into(&mut self.currency);
        self.description.clone_from(opened.description);
        self.method = Some(opened.method);
        self.requested_at = Some(opened.at);
    }
}

fn set_outcome(state: &mut PaymentState, number: u32, outcome: AttemptOutcome) {
    if let Some(attempt) = state.attempts.iter_mut().find(|a| a.number == number) {
        attempt.outcome = outcome;
    }
}
