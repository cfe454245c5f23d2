//! The payment aggregate: a charge through the gateway with its attempts (at most
//! [`MAX_ATTEMPTS`]), re-attempts on a schedule the caller gives, refunds that never exceed
//! what was captured, and payments received offline. Streams are `payment-<uuid>`.
//!
//! The aggregate never talks to the gateway: a worker starts an attempt (which makes a second
//! charge impossible while one is open), charges, and reports back; webhooks report the same
//! facts, and whichever report comes second changes nothing.

mod command;
mod decide;
mod event;
mod money;
mod state;

pub use command::{
    AbandonPayment, ChangePaymentMethod, PaymentCommand, RecordOfflinePayment, RecordPaymentFailed,
    RecordPaymentOutcomeUnknown, RecordPaymentSucceeded, RecordRefundFailed, RecordRefundSucceeded,
    RequestPayment, RequestRefund, StartPaymentAttempt,
};
pub use decide::{HARD_DECLINES, MAX_ATTEMPTS, is_retryable, method_id};
pub use event::{
    Decline, FailureReason, OfflineMethod, OfflinePaymentRecorded, PaymentAbandoned,
    PaymentAttemptFailed, PaymentAttemptStarted, PaymentEvent, PaymentFailed, PaymentMethodChanged,
    PaymentOutcomeUnknown, PaymentReattemptScheduled, PaymentRefundFailed, PaymentRefundRequested,
    PaymentRefundSucceeded, PaymentRequested, PaymentSucceeded,
};
pub use money::{MAX_AMOUNT, check_amount, currency_exponent, format_minor, parse_currency};
pub use state::{
    Attempt, AttemptOutcome, Method, PaymentState, PaymentStatus, Refund, RefundStatus,
};

crate::aggregate! {
    /// The payment aggregate.
    pub struct Payment: "payment", PaymentState, PaymentCommand, PaymentEvent,
        decide::decide, state::evolve
}
