//! Facts about a payment. No personal data: a payment names its member by id.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::DomainEvent;

crate::tagged_enum! {
    pub enum PaymentEvent {
        Requested(PaymentRequested) = "PaymentRequested.v1",
        AttemptStarted(PaymentAttemptStarted) = "PaymentAttemptStarted.v1",
        Succeeded(PaymentSucceeded) = "PaymentSucceeded.v1",
        AttemptFailed(PaymentAttemptFailed) = "PaymentAttemptFailed.v1",
        OutcomeUnknown(PaymentOutcomeUnknown) = "PaymentOutcomeUnknown.v1",
        ReattemptScheduled(PaymentReattemptScheduled) = "PaymentReattemptScheduled.v1",
        Failed(PaymentFailed) = "PaymentFailed.v1",
        Abandoned(PaymentAbandoned) = "PaymentAbandoned.v1",
        MethodChanged(PaymentMethodChanged) = "PaymentMethodChanged.v1",
        RefundRequested(PaymentRefundRequested) = "PaymentRefundRequested.v1",
        RefundSucceeded(PaymentRefundSucceeded) = "PaymentRefundSucceeded.v1",
        RefundFailed(PaymentRefundFailed) = "PaymentRefundFailed.v1",
        OfflineRecorded(OfflinePaymentRecorded) = "OfflinePaymentRecorded.v1",
    }
}

impl DomainEvent for PaymentEvent {}

/// Why the gateway declined a charge, in its words.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Decline {
    /// The gateway's decline code (`insufficient_funds`, `stolen_card`, …), if it gave one.
    pub code: Option<String>,
    pub message: Option<String>,
}

/// How money received outside the gateway came.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OfflineMethod {
    BankTransfer,
    Check,
    Invoice,
    PointOfSale,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PaymentRequested {
    pub payment_id: Uuid,
    pub member_id: Uuid,
    pub amount: u64,
    /// ISO 4217, upper case.
    pub currency: String,
    pub payment_method: String,
    pub membership_id: Option<Uuid>,
    pub description: Option<String>,
    pub requested_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PaymentAttemptStarted {
    pub payment_id: Uuid,
    pub attempt: u32,
    pub started_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PaymentSucceeded {
    pub payment_id: Uuid,
    pub attempt: u32,
    pub gateway_id: String,
    pub captured: u64,
    pub succeeded_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PaymentAttemptFailed {
    pub payment_id: Uuid,
    pub attempt: u32,
    pub gateway_id: Option<String>,
    pub decline: Decline,
    /// Whether another attempt could succeed (false for a hard decline: a stolen card).
    pub retryable: bool,
    pub failed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PaymentOutcomeUnknown {
    pub payment_id: Uuid,
    pub attempt: u32,
    pub reason: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PaymentReattemptScheduled {
    pub payment_id: Uuid,
    /// The attempt that will be made.
    pub attempt: u32,
    pub at: DateTime<Utc>,
}

/// Why a payment ended without money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FailureReason {
    /// Every attempt was declined.
    AttemptsExhausted,
    /// A decline no re-attempt can change.
    HardDecline,
}

/// The payment ended without money: no attempt follows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PaymentFailed {
    pub payment_id: Uuid,
    pub member_id: Uuid,
    pub membership_id: Option<Uuid>,
    pub attempts: u32,
    pub reason: FailureReason,
    pub failed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PaymentAbandoned {
    pub payment_id: Uuid,
    pub reason: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PaymentMethodChanged {
    pub payment_id: Uuid,
    pub payment_method: String,
    pub changed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PaymentRefundRequested {
    pub payment_id: Uuid,
    pub refund_id: Uuid,
    pub amount: u64,
    pub reason: Option<String>,
    /// Set when an operator refunded outside the window, with their reason.
    pub override_reason: Option<String>,
    pub requested_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PaymentRefundSucceeded {
    pub payment_id: Uuid,
    pub refund_id: Uuid,
    pub gateway_id: Option<String>,
    pub refunded_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PaymentRefundFailed {
    pub payment_id: Uuid,
    pub refund_id: Uuid,
    pub reason: String,
    pub failed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OfflinePaymentRecorded {
    pub payment_id: Uuid,
    pub member_id: Uuid,
    pub amount: u64,
    pub currency: String,
    pub method: OfflineMethod,
    pub reference: String,
    pub received_at: DateTime<Utc>,
    pub membership_id: Option<Uuid>,
    pub description: Option<String>,
    pub recorded_at: DateTime<Utc>,
}
