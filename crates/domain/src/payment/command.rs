//! Commands addressed to a payment. One struct per command, so each has its own schema.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::event::{Decline, OfflineMethod};

crate::tagged_enum! {
    pub enum PaymentCommand {
        Request(RequestPayment) = "RequestPayment",
        StartAttempt(StartPaymentAttempt) = "StartPaymentAttempt",
        RecordSucceeded(RecordPaymentSucceeded) = "RecordPaymentSucceeded",
        RecordFailed(RecordPaymentFailed) = "RecordPaymentFailed",
        RecordUnknown(RecordPaymentOutcomeUnknown) = "RecordPaymentOutcomeUnknown",
        Abandon(AbandonPayment) = "AbandonPayment",
        ChangeMethod(ChangePaymentMethod) = "ChangePaymentMethod",
        RequestRefund(RequestRefund) = "RequestRefund",
        RecordRefundSucceeded(RecordRefundSucceeded) = "RecordRefundSucceeded",
        RecordRefundFailed(RecordRefundFailed) = "RecordRefundFailed",
        RecordOffline(RecordOfflinePayment) = "RecordOfflinePayment",
    }
}

/// Asks for a card payment: the first attempt follows at once (a worker charges it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RequestPayment {
    pub payment_id: Uuid,
    pub member_id: Uuid,
    /// In minor units of `currency` (cents; yen have none).
    pub amount: u64,
    /// ISO 4217, any case.
    pub currency: String,
    /// The gateway's payment method (a Stripe `pm_…` id), saved to the member's customer.
    pub payment_method: String,
    pub membership_id: Option<Uuid>,
    pub description: Option<String>,
}

/// A worker begins charging attempt `attempt`. Starting the attempt already in flight again
/// is accepted and changes nothing (the worker is resuming after a crash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StartPaymentAttempt {
    pub attempt: u32,
}

/// The gateway captured attempt `attempt`'s charge. Recording it twice changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RecordPaymentSucceeded {
    pub attempt: u32,
    /// The gateway's id of the charge (a Stripe PaymentIntent).
    pub gateway_id: String,
    /// What was captured, in minor units.
    pub captured: u64,
}

/// The gateway declined attempt `attempt`. With `next_attempt_at` (the caller's retry
/// schedule) and a decline that may be retried, a re-attempt is scheduled; otherwise the
/// payment has failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RecordPaymentFailed {
    pub attempt: u32,
    pub gateway_id: Option<String>,
    pub decline: Decline,
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// Attempt `attempt`'s outcome could not be learned (the gateway did not answer). The attempt
/// stays in flight until it is reconciled: nothing may charge again meanwhile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RecordPaymentOutcomeUnknown {
    pub attempt: u32,
    pub reason: String,
}

/// Stops a payment that has not succeeded: no further attempt is made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AbandonPayment {
    pub reason: String,
}

/// The member gave another payment method (after a decline): the next attempt charges it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ChangePaymentMethod {
    pub payment_method: String,
}

/// Asks to refund part or all of what was captured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RequestRefund {
    pub refund_id: Uuid,
    /// In minor units; `None` refunds all that remains.
    pub amount: Option<u64>,
    /// When given, it must be the payment's currency.
    pub currency: Option<String>,
    pub reason: Option<String>,
    /// How many days after the payment succeeded a refund may be asked for.
    pub window_days: u32,
    /// An operator's reason to refund outside the window.
    pub override_reason: Option<String>,
}

/// The gateway refunded `refund_id`. Recording it twice changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RecordRefundSucceeded {
    pub refund_id: Uuid,
    pub gateway_id: Option<String>,
}

/// The gateway refused refund `refund_id`: its amount is free to refund again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RecordRefundFailed {
    pub refund_id: Uuid,
    pub reason: String,
}

/// An operator records money received outside the gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RecordOfflinePayment {
    pub payment_id: Uuid,
    pub member_id: Uuid,
    pub amount: u64,
    pub currency: String,
    pub method: OfflineMethod,
    /// The transfer's, check's or invoice's reference.
    pub reference: String,
    /// When the money arrived; `None` means now.
    pub received_at: Option<DateTime<Utc>>,
    pub membership_id: Option<Uuid>,
    pub description: Option<String>,
}
