//! The payment's rules. Reports from the gateway (successes, declines, refunds) may arrive
//! twice and in any order, from the worker and from webhooks: a report already recorded
//! changes nothing, and money the gateway says it took is always recorded.

use chrono::Duration;
use uuid::Uuid;

use super::command::{
    PaymentCommand, RecordOfflinePayment, RecordPaymentFailed, RecordPaymentSucceeded,
    RequestPayment, RequestRefund,
};
use super::event::{
    FailureReason, OfflinePaymentRecorded, PaymentAbandoned, PaymentAttemptFailed,
    PaymentAttemptStarted, PaymentEvent, PaymentFailed, PaymentMethodChanged,
    PaymentOutcomeUnknown, PaymentReattemptScheduled, PaymentRefundFailed, PaymentRefundRequested,
    PaymentRefundSucceeded, PaymentRequested, PaymentSucceeded,
};
use super::money::{check_amount, parse_currency};
use super::state::{AttemptOutcome, PaymentState, RefundStatus};
use crate::{Actor, Ctx, DomainError};

/// At most this many charges per payment: the first and three re-attempts.
pub const MAX_ATTEMPTS: u32 = 4;

/// Decline codes no re-attempt can change: the card is gone, closed or not the holder's, so
/// the payment fails at once.
pub const HARD_DECLINES: &[&str] = &[
    "stolen_card",
    "lost_card",
    "fraudulent",
    "pickup_card",
    "incorrect_number",
    "invalid_number",
    "invalid_account",
    "expired_card",
    "restricted_card",
    "card_not_supported",
    "currency_not_supported",
    "merchant_blacklist",
    "revocation_of_all_authorizations",
    "revocation_of_authorization",
    "security_violation",
    "stop_payment_order",
    "transaction_not_allowed",
];

/// Whether a decline with this code may be re-attempted.
pub fn is_retryable(code: Option<&str>) -> bool {
    code.is_none_or(|code| !HARD_DECLINES.contains(&code))
}

const MAX_TEXT: usize = 500;

pub(super) fn decide(
    state: &PaymentState,
    command: &PaymentCommand,
    ctx: &Ctx,
) -> Result<Vec<PaymentEvent>, DomainError> {
    guard_actor(command, ctx)?;
    let payment_id = state.payment_id;
    if payment_id.is_none()
        && !matches!(
            command,
            PaymentCommand::Request(_) | PaymentCommand::RecordOffline(_)
        )
    {
        return Err(DomainError::not_found("payment"));
    }
    let payment_id = payment_id.unwrap_or_default();
    match command {
        PaymentCommand::Request(c) => request(state, c, ctx),
        PaymentCommand::RecordOffline(c) => record_offline(state, c, ctx),
        PaymentCommand::StartAttempt(c) => start_attempt(state, c.attempt, ctx),
        PaymentCommand::RecordSucceeded(c) => record_succeeded(state, c, ctx),
        PaymentCommand::RecordFailed(c) => record_failed(state, c, ctx),
        PaymentCommand::RecordUnknown(c) => {
            let attempt = find_attempt(state, c.attempt)?;
            Ok(match attempt.outcome {
                AttemptOutcome::InFlight => {
                    vec![PaymentEvent::OutcomeUnknown(PaymentOutcomeUnknown {
                        payment_id,
                        attempt: c.attempt,
                        reason: text("reason", &c.reason)?,
                        at: ctx.now,
                    })]
                }
                _ => Vec::new(),
            })
        }
        PaymentCommand::Abandon(c) => {
            if state.succeeded_at.is_some() {
                return Err(DomainError::invalid_state("the payment has succeeded"));
            }
            if state.is_ended_unpaid() {
                return Ok(Vec::new());
            }
            Ok(vec![PaymentEvent::Abandoned(PaymentAbandoned {
                payment_id,
                reason: text("reason", &c.reason)?,
                at: ctx.now,
            })])
        }
        PaymentCommand::ChangeMethod(c) => {
            if state.is_offline() {
                return Err(DomainError::invalid_state(
                    "an offline payment is not charged",
                ));
            }
            if state.succeeded_at.is_some() || state.is_ended_unpaid() {
                return Err(DomainError::invalid_state("the payment is settled"));
            }
            Ok(vec![PaymentEvent::MethodChanged(PaymentMethodChanged {
                payment_id,
                payment_method: method_id(&c.payment_method)?,
                changed_at: ctx.now,
            })])
        }
        PaymentCommand::RequestRefund(c) => request_refund(state, c, ctx),
        PaymentCommand::RecordRefundSucceeded(c) => {
            let refund = state
                .refunds
                .get(&c.refund_id)
                .ok_or_else(|| DomainError::not_found(format!("refund {}", c.refund_id)))?;
            // A refund the gateway made is money returned, even after a failure was reported.
            Ok(match refund.status {
                RefundStatus::Succeeded => Vec::new(),
                RefundStatus::Pending | RefundStatus::Failed => {
                    vec![PaymentEvent::RefundSucceeded(PaymentRefundSucceeded {
                        payment_id,
                        refund_id: c.refund_id,
                        gateway_id: c.gateway_id.clone(),
                        refunded_at: ctx.now,
                    })]
                }
            })
        }
        PaymentCommand::RecordRefundFailed(c) => {
            let refund = state
                .refunds
                .get(&c.refund_id)
                .ok_or_else(|| DomainError::not_found(format!("refund {}", c.refund_id)))?;
            Ok(match refund.status {
                RefundStatus::Pending => vec![PaymentEvent::RefundFailed(PaymentRefundFailed {
                    payment_id,
                    refund_id: c.refund_id,
                    reason: text("reason", &c.reason)?,
                    failed_at: ctx.now,
                })],
                RefundStatus::Succeeded | RefundStatus::Failed => Vec::new(),
            })
        }
    }
}

/// A member acting through an upstream app may ask for their own payment; everything else is
/// for trusted callers (the app, an operator, a worker, the gateway's webhooks).
fn guard_actor(command: &PaymentCommand, ctx: &Ctx) -> Result<(), DomainError> {
    match (ctx.actor, command) {
        (Actor::Trusted, _) => Ok(()),
        (Actor::Member(actor), PaymentCommand::Request(c)) if c.member_id == actor => Ok(()),
        (Actor::Member(_), PaymentCommand::Request(_)) => Err(DomainError::NotAllowed {
            reason: "a member may pay only for themselves".into(),
        }),
        (Actor::Member(_), _) => Err(DomainError::NotAllowed {
            reason: "only a trusted caller (an API key without X-Roster-Actor) may do this".into(),
        }),
    }
}

fn request(
    state: &PaymentState,
    c: &RequestPayment,
    ctx: &Ctx,
) -> Result<Vec<PaymentEvent>, DomainError> {
    new_payment(state, c.payment_id, c.amount)?;
    let method = method_id(&c.payment_method)?;
    Ok(vec![PaymentEvent::Requested(PaymentRequested {
        payment_id: c.payment_id,
        member_id: c.member_id,
        amount: c.amount,
        currency: parse_currency(&c.currency)?,
        payment_method: method,
        membership_id: c.membership_id,
        description: optional_text("description", c.description.as_deref())?,
        requested_at: ctx.now,
    })])
}

/// A payment under a fresh id, of a valid amount.
fn new_payment(state: &PaymentState, payment_id: Uuid, amount: u64) -> Result<(), DomainError> {
    if state.exists() {
        return Err(DomainError::already_exists(format!("payment {payment_id}")));
    }
    check_amount("amount", amount)
}

/// A gateway's payment method id: one word of at most 255 characters.
pub fn method_id(method: &str) -> Result<String, DomainError> {
    let method = method.trim();
    if method.is_empty() || method.len() > 255 || method.chars().any(char::is_whitespace) {
        return Err(DomainError::invalid(
            "payment_method",
            "must be the gateway's payment method id",
        ));
    }
    Ok(method.to_owned())
}

fn record_offline(
    state: &PaymentState,
    c: &RecordOfflinePayment,
    ctx: &Ctx,
) -> Result<Vec<PaymentEvent>, DomainError> {
    new_payment(state, c.payment_id, c.amount)?;
    let received_at = c.received_at.unwrap_or(ctx.now);
    if received_at > ctx.now {
        return Err(DomainError::invalid("received_at", "lies in the future"));
    }
    Ok(vec![PaymentEvent::OfflineRecorded(
        OfflinePaymentRecorded {
            payment_id: c.payment_id,
            member_id: c.member_id,
            amount: c.amount,
            currency: parse_currency(&c.currency)?,
            method: c.method,
            reference: text("reference", &c.reference)?,
            received_at,
            membership_id: c.membership_id,
            description: optional_text("description", c.description.as_deref())?,
            recorded_at: ctx.now,
        },
    )])
}

fn start_attempt(
    state: &PaymentState,
    attempt: u32,
    ctx: &Ctx,
) -> Result<Vec<PaymentEvent>, DomainError> {
    if state.is_offline() {
        return Err(DomainError::invalid_state(
            "an offline payment is not charged",
        ));
    }
    if state.succeeded_at.is_some() {
        return Err(DomainError::invalid_state("the payment has succeeded"));
    }
    if state.is_ended_unpaid() {
        return Err(DomainError::invalid_state("the payment has ended"));
    }
    if let Some(open) = state.open_attempt() {
        return match open.number == attempt {
            // The worker resumes the attempt it started: it must look its charge up.
            true => Ok(Vec::new()),
            false => Err(DomainError::invalid_state(format!(
                "attempt {} is in flight",
                open.number
            ))),
        };
    }
    let expected = u32::try_from(state.attempts.len()).unwrap_or(u32::MAX) + 1;
    if attempt != expected || attempt > MAX_ATTEMPTS {
        return Err(DomainError::invalid_state(format!(
            "the next attempt is {expected}, not {attempt}"
        )));
    }
    if expected > 1 {
        match state.next_attempt {
            Some((number, at)) if number == attempt && at <= ctx.now => {}
            Some((_, at)) => {
                return Err(DomainError::invalid_state(format!(
                    "the re-attempt is due at {at}"
                )));
            }
            None => return Err(DomainError::invalid_state("no re-attempt is scheduled")),
        }
    }
    Ok(vec![PaymentEvent::AttemptStarted(PaymentAttemptStarted {
        payment_id: state.payment_id.unwrap_or_default(),
        attempt,
        started_at: ctx.now,
    })])
}

fn find_attempt(state: &PaymentState, number: u32) -> Result<&super::state::Attempt, DomainError> {
    state
        .attempt(number)
        .ok_or_else(|| DomainError::not_found(format!("attempt {number}")))
}

fn record_succeeded(
    state: &PaymentState,
    c: &RecordPaymentSucceeded,
    ctx: &Ctx,
) -> Result<Vec<PaymentEvent>, DomainError> {
    let attempt = find_attempt(state, c.attempt)?;
    if let AttemptOutcome::Succeeded { gateway_id } = &attempt.outcome {
        return match *gateway_id == c.gateway_id {
            true => Ok(Vec::new()),
            false => Err(DomainError::invalid_state(format!(
                "attempt {} succeeded as {gateway_id}",
                c.attempt
            ))),
        };
    }
    if state.succeeded_at.is_some() {
        return Err(DomainError::invalid_state(
            "the payment succeeded by another attempt",
        ));
    }
    check_amount("captured", c.captured)?;
    if c.captured > state.amount {
        return Err(DomainError::invalid(
            "captured",
            "exceeds the payment's amount",
        ));
    }
    Ok(vec![PaymentEvent::Succeeded(PaymentSucceeded {
        payment_id: state.payment_id.unwrap_or_default(),
        attempt: c.attempt,
        gateway_id: c.gateway_id.clone(),
        captured: c.captured,
        succeeded_at: ctx.now,
    })])
}

fn record_failed(
    state: &PaymentState,
    c: &RecordPaymentFailed,
    ctx: &Ctx,
) -> Result<Vec<PaymentEvent>, DomainError> {
    let attempt = find_attempt(state, c.attempt)?;
    let decided = !attempt.is_open();
    // A decline reported after the success (or twice) is old news.
    if decided || state.succeeded_at.is_some() {
        return Ok(Vec::new());
    }
    let payment_id = state.payment_id.unwrap_or_default();
    let retryable = is_retryable(c.decline.code.as_deref());
    let mut events = vec![PaymentEvent::AttemptFailed(PaymentAttemptFailed {
        payment_id,
        attempt: c.attempt,
        gateway_id: c.gateway_id.clone(),
        decline: c.decline.clone(),
        retryable,
        failed_at: ctx.now,
    })];
    if state.is_ended_unpaid() {
        return Ok(events);
    }
    match c.next_attempt_at {
        Some(at) if retryable && c.attempt < MAX_ATTEMPTS => {
            events.push(PaymentEvent::ReattemptScheduled(
                PaymentReattemptScheduled {
                    payment_id,
                    attempt: c.attempt + 1,
                    at: at.max(ctx.now),
                },
            ));
        }
        _ => events.push(PaymentEvent::Failed(PaymentFailed {
            payment_id,
            member_id: state.member_id.unwrap_or_default(),
            membership_id: state.membership_id,
            attempts: c.attempt,
            reason: match retryable {
                true => FailureReason::AttemptsExhausted,
                false => FailureReason::HardDecline,
            },
            failed_at: ctx.now,
        })),
    }
    Ok(events)
}

fn request_refund(
    state: &PaymentState,
    c: &RequestRefund,
    ctx: &Ctx,
) -> Result<Vec<PaymentEvent>, DomainError> {
    let payment_id = state.payment_id.unwrap_or_default();
    if let Some(existing) = state.refunds.get(&c.refund_id) {
        return match c.amount.is_none_or(|a| a == existing.amount) {
            true => Ok(Vec::new()),
            false => Err(DomainError::already_exists(format!(
                "refund {}",
                c.refund_id
            ))),
        };
    }
    let Some(succeeded_at) = state.succeeded_at else {
        return Err(DomainError::invalid_state("nothing was captured"));
    };
    if let Some(currency) = &c.currency
        && parse_currency(currency)? != state.currency
    {
        return Err(DomainError::invalid(
            "currency",
            format!("must be the payment's currency, {}", state.currency),
        ));
    }
    let refundable = state.refundable();
    let amount = c.amount.unwrap_or(refundable);
    if amount == 0 || amount > refundable {
        return Err(DomainError::RefundExceedsCaptured {
            requested: amount,
            refundable,
        });
    }
    let override_reason = optional_text("override_reason", c.override_reason.as_deref())?;
    let closes_at = succeeded_at + Duration::days(i64::from(c.window_days));
    if ctx.now > closes_at && override_reason.is_none() {
        return Err(DomainError::RefundWindowClosed {
            closed_at: closes_at,
        });
    }
    let mut events = vec![PaymentEvent::RefundRequested(PaymentRefundRequested {
        payment_id,
        refund_id: c.refund_id,
        amount,
        reason: optional_text("reason", c.reason.as_deref())?,
        override_reason,
        requested_at: ctx.now,
    })];
    // Money received outside the gateway goes back outside it: the refund is a record.
    if state.is_offline() {
        events.push(PaymentEvent::RefundSucceeded(PaymentRefundSucceeded {
            payment_id,
            refund_id: c.refund_id,
            gateway_id: None,
            refunded_at: ctx.now,
        }));
    }
    Ok(events)
}

fn text(field: &str, value: &str) -> Result<String, DomainError> {
    let value = value.trim();
    match value.chars().count() {
        0 => Err(DomainError::invalid(field, "must not be empty")),
        n if n > MAX_TEXT => Err(DomainError::invalid(
            field,
            format!("must be at most {MAX_TEXT} characters"),
        )),
        _ => Ok(value.to_owned()),
    }
}

fn optional_text(field: &str, value: Option<&str>) -> Result<Option<String>, DomainError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) => text(field, v).map(Some),
        None => Ok(None),
    }
}
