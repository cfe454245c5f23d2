//! A card payment's attempts: one open at a time, re-attempts on the caller's schedule up to
//! four charges, hard declines that stop at once, and reports that arrive twice or out of order.

use chrono::{DateTime, Utc};
use roster_domain::ErrorKind;
use roster_domain::payment::{
    AbandonPayment, Decline, FailureReason, PaymentAttemptFailed, PaymentAttemptStarted,
    PaymentCommand, PaymentEvent, PaymentFailed, PaymentReattemptScheduled, PaymentRequested,
    PaymentStatus, PaymentSucceeded, RecordPaymentFailed, RecordPaymentOutcomeUnknown,
    RecordPaymentSucceeded, RequestPayment, StartPaymentAttempt,
};

use crate::support::{by, days, given, now, trusted, trusted_at, v7};

pub fn payment_id() -> uuid::Uuid {
    v7(70)
}

pub fn member() -> uuid::Uuid {
    v7(71)
}

pub fn request(amount: u64, currency: &str) -> PaymentCommand {
    PaymentCommand::Request(RequestPayment {
        payment_id: payment_id(),
        member_id: member(),
        amount,
        currency: currency.into(),
        payment_method: "pm_card_visa".into(),
        membership_id: None,
        description: Some("Annual membership".into()),
    })
}

pub fn requested() -> PaymentEvent {
    PaymentEvent::Requested(PaymentRequested {
        payment_id: payment_id(),
        member_id: member(),
        amount: 5000,
        currency: "EUR".into(),
        payment_method: "pm_card_visa".into(),
        membership_id: None,
        description: Some("Annual membership".into()),
        requested_at: now(),
    })
}

fn start(attempt: u32) -> PaymentCommand {
    PaymentCommand::StartAttempt(StartPaymentAttempt { attempt })
}

pub fn started(attempt: u32, at: DateTime<Utc>) -> PaymentEvent {
    PaymentEvent::AttemptStarted(PaymentAttemptStarted {
        payment_id: payment_id(),
        attempt,
        started_at: at,
    })
}

fn succeed(attempt: u32, intent: &str) -> PaymentCommand {
    PaymentCommand::RecordSucceeded(RecordPaymentSucceeded {
        attempt,
        gateway_id: intent.into(),
        captured: 5000,
    })
}

pub fn succeeded(attempt: u32, intent: &str) -> PaymentEvent {
    PaymentEvent::Succeeded(PaymentSucceeded {
        payment_id: payment_id(),
        attempt,
        gateway_id: intent.into(),
        captured: 5000,
        succeeded_at: now(),
    })
}

fn decline(code: &str) -> Decline {
    Decline {
        code: Some(code.into()),
        message: None,
    }
}

fn fail(attempt: u32, code: &str, next: Option<DateTime<Utc>>) -> PaymentCommand {
    PaymentCommand::RecordFailed(RecordPaymentFailed {
        attempt,
        gateway_id: Some(format!("pi_{attempt}")),
        decline: decline(code),
        next_attempt_at: next,
    })
}

fn failed_attempt(attempt: u32, code: &str, retryable: bool) -> PaymentEvent {
    PaymentEvent::AttemptFailed(PaymentAttemptFailed {
        payment_id: payment_id(),
        attempt,
        gateway_id: Some(format!("pi_{attempt}")),
        decline: decline(code),
        retryable,
        failed_at: now(),
    })
}

fn scheduled(attempt: u32, at: DateTime<Utc>) -> PaymentEvent {
    PaymentEvent::ReattemptScheduled(PaymentReattemptScheduled {
        payment_id: payment_id(),
        attempt,
        at,
    })
}

fn payment_failed(attempts: u32, reason: FailureReason) -> PaymentEvent {
    PaymentEvent::Failed(PaymentFailed {
        payment_id: payment_id(),
        member_id: member(),
        membership_id: None,
        attempts,
        reason,
        failed_at: now(),
    })
}

#[test]
fn a_payment_is_asked_for_in_minor_units_of_a_known_currency() {
    given::<PaymentEvent>([])
        .when(request(5000, "eur"), trusted())
        .then([requested()]);
    given::<PaymentEvent>([])
        .when(request(0, "EUR"), trusted())
        .then_err(ErrorKind::InvalidInput);
    given::<PaymentEvent>([])
        .when(request(5000, "EURO"), trusted())
        .then_err(ErrorKind::InvalidInput);
    given([requested()])
        .when(request(5000, "EUR"), trusted())
        .then_err(ErrorKind::AlreadyExists);
}

#[test]
fn a_member_may_pay_only_for_themselves() {
    given::<PaymentEvent>([])
        .when(request(5000, "EUR"), by(member()))
        .then_state();
    given::<PaymentEvent>([])
        .when(request(5000, "EUR"), by(v7(99)))
        .then_err(ErrorKind::NotAllowed);
    given([requested()])
        .when(start(1), by(member()))
        .then_err(ErrorKind::NotAllowed);
}

#[test]
fn only_one_attempt_is_in_flight_and_resuming_it_changes_nothing() {
    given([requested()])
        .when(start(1), trusted())
        .then([started(1, now())]);
    given([requested(), started(1, now())])
        .when(start(1), trusted())
        .then_nothing();
    given([requested(), started(1, now())])
        .when(start(2), trusted())
        .then_err(ErrorKind::InvalidState);
    given([requested()])
        .when(start(2), trusted())
        .then_err(ErrorKind::InvalidState);
}

#[test]
fn an_attempt_with_an_unknown_outcome_blocks_the_next_until_reconciled() {
    let history = [requested(), started(1, now())];
    let unknown = PaymentCommand::RecordUnknown(RecordPaymentOutcomeUnknown {
        attempt: 1,
        reason: "timed out".into(),
    });
    let state = given(history.clone()).when(unknown, trusted()).then_state();
    assert_eq!(state.status(), PaymentStatus::Processing);
    assert!(state.open_attempt().is_some());
    // Reconciliation learns the outcome and records it like any report.
    given(history)
        .when(succeed(1, "pi_1"), trusted())
        .then([succeeded(1, "pi_1")]);
}

#[test]
fn a_soft_decline_schedules_the_next_attempt_at_the_time_given() {
    let at = now() + days(1);
    given([requested(), started(1, now())])
        .when(fail(1, "insufficient_funds", Some(at)), trusted())
        .then([
            failed_attempt(1, "insufficient_funds", true),
            scheduled(2, at),
        ]);
    let state = given([
        requested(),
        started(1, now()),
        failed_attempt(1, "insufficient_funds", true),
        scheduled(2, at),
    ])
    .state();
    assert_eq!(state.status(), PaymentStatus::Retrying);
}

#[test]
fn a_re_attempt_waits_for_its_time() {
    let at = now() + days(1);
    let history = [
        requested(),
        started(1, now()),
        failed_attempt(1, "card_declined", true),
        scheduled(2, at),
    ];
    given(history.clone())
        .when(start(2), trusted())
        .then_err(ErrorKind::InvalidState);
    given(history)
        .when(start(2), trusted_at(at))
        .then([started(2, at)]);
}

#[test]
fn the_fourth_decline_fails_the_payment() {
    let mut history = vec![requested()];
    for attempt in 1..=3 {
        history.push(started(attempt, now()));
        history.push(failed_attempt(attempt, "card_declined", true));
        history.push(scheduled(attempt + 1, now()));
    }
    history.push(started(4, now()));
    // Even with a time for a fifth, there is none.
    given(history)
        .when(fail(4, "card_declined", Some(now() + days(9))), trusted())
        .then([
            failed_attempt(4, "card_declined", true),
            payment_failed(4, FailureReason::AttemptsExhausted),
        ]);
}

#[test]
fn a_hard_decline_fails_the_payment_at_once() {
    for code in [
        "stolen_card",
        "lost_card",
        "fraudulent",
        "pickup_card",
        "incorrect_number",
    ] {
        given([requested(), started(1, now())])
            .when(fail(1, code, Some(now() + days(1))), trusted())
            .then([
                failed_attempt(1, code, false),
                payment_failed(1, FailureReason::HardDecline),
            ]);
    }
}

#[test]
fn a_decline_reported_twice_or_after_the_success_changes_nothing() {
    let declined = [
        requested(),
        started(1, now()),
        failed_attempt(1, "card_declined", true),
        scheduled(2, now()),
    ];
    given(declined)
        .when(fail(1, "card_declined", Some(now())), trusted())
        .then_nothing();
    given([requested(), started(1, now()), succeeded(1, "pi_1")])
        .when(fail(1, "card_declined", Some(now())), trusted())
        .then_nothing();
}

#[test]
fn a_success_reported_twice_changes_nothing_and_one_after_a_decline_is_money_taken() {
    let paid = [requested(), started(1, now()), succeeded(1, "pi_1")];
    given(paid.clone())
        .when(succeed(1, "pi_1"), trusted())
        .then_nothing();
    given(paid)
        .when(start(2), trusted())
        .then_err(ErrorKind::InvalidState);
    // Out of order: the decline was recorded first, then the gateway says it captured.
    let state = given([
        requested(),
        started(1, now()),
        failed_attempt(1, "card_declined", true),
        scheduled(2, now() + days(1)),
    ])
    .when(succeed(1, "pi_1"), trusted())
    .then_state();
    assert_eq!(state.status(), PaymentStatus::Succeeded);
    assert_eq!(state.next_attempt, None);
}

#[test]
fn an_abandoned_payment_takes_no_further_attempt() {
    let history = [
        requested(),
        started(1, now()),
        failed_attempt(1, "card_declined", true),
        scheduled(2, now()),
    ];
    let abandon = PaymentCommand::Abandon(AbandonPayment {
        reason: "membership cancelled".into(),
    });
    let state = given(history).when(abandon, trusted()).then_state();
    assert_eq!(state.status(), PaymentStatus::Failed);
    given([requested()])
        .when(start(1), trusted())
        .then([started(1, now())]);
}

/// A re-attempt scheduled and a payment failed, for lists of every event.
pub fn failure_events(at: DateTime<Utc>) -> [PaymentEvent; 2] {
    [
        scheduled(2, at),
        payment_failed(4, FailureReason::AttemptsExhausted),
    ]
}

#[test]
fn a_new_payment_method_is_charged_from_the_next_attempt_until_the_payment_settles() {
    let change = || {
        PaymentCommand::ChangeMethod(roster_domain::payment::ChangePaymentMethod {
            payment_method: "pm_new".into(),
        })
    };
    let declined = [
        requested(),
        started(1, now()),
        failed_attempt(1, "insufficient_funds", true),
        scheduled(2, now()),
    ];
    let state = given(declined).when(change(), trusted()).then_state();
    assert_eq!(
        state.method,
        Some(roster_domain::payment::Method::Gateway {
            payment_method: "pm_new".into()
        })
    );
    given([requested(), started(1, now()), succeeded(1, "pi_1")])
        .when(change(), trusted())
        .then_err(ErrorKind::InvalidState);
}
