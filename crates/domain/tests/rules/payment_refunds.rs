//! Refunds never exceed what was captured minus what is refunded or being refunded, stay
//! inside the window unless an operator overrides it with a reason, and keep the currency;
//! offline payments are recorded and refunded as records.

use roster_domain::ErrorKind;
use roster_domain::payment::{
    OfflineMethod, OfflinePaymentRecorded, PaymentCommand, PaymentEvent, PaymentRefundFailed,
    PaymentRefundRequested, PaymentRefundSucceeded, PaymentStatus, RecordOfflinePayment,
    RecordRefundFailed, RecordRefundSucceeded, RequestRefund,
};
use uuid::Uuid;

use crate::payment_attempts::{member, payment_id, requested, started, succeeded};
use crate::support::{days, given, now, trusted, trusted_at, v7};

fn paid() -> Vec<PaymentEvent> {
    vec![requested(), started(1, now()), succeeded(1, "pi_1")]
}

fn refund(id: Uuid, amount: Option<u64>) -> RequestRefund {
    RequestRefund {
        refund_id: id,
        amount,
        currency: None,
        reason: None,
        window_days: 30,
        override_reason: None,
    }
}

fn ask(refund: RequestRefund) -> PaymentCommand {
    PaymentCommand::RequestRefund(refund)
}

fn asked(id: Uuid, amount: u64) -> PaymentEvent {
    PaymentEvent::RefundRequested(PaymentRefundRequested {
        payment_id: payment_id(),
        refund_id: id,
        amount,
        reason: None,
        override_reason: None,
        requested_at: now(),
    })
}

fn refunded(id: Uuid) -> PaymentEvent {
    PaymentEvent::RefundSucceeded(PaymentRefundSucceeded {
        payment_id: payment_id(),
        refund_id: id,
        gateway_id: Some("re_1".into()),
        refunded_at: now(),
    })
}

#[test]
fn a_refund_without_an_amount_returns_all_that_remains() {
    given(paid())
        .when(ask(refund(v7(1), None)), trusted())
        .then([asked(v7(1), 5000)]);
    let mut history = paid();
    history.extend([asked(v7(1), 1500), refunded(v7(1))]);
    given(history)
        .when(ask(refund(v7(2), None)), trusted())
        .then([asked(v7(2), 3500)]);
}

#[test]
fn refunds_never_exceed_captured_minus_refunded_and_pending() {
    given(paid())
        .when(ask(refund(v7(1), Some(5001))), trusted())
        .then_err(ErrorKind::RefundExceedsCaptured);
    let mut history = paid();
    history.extend([asked(v7(1), 3000), refunded(v7(1)), asked(v7(2), 1500)]);
    // 5000 captured, 3000 refunded, 1500 pending: 500 remain.
    given(history.clone())
        .when(ask(refund(v7(3), Some(501))), trusted())
        .then_err(ErrorKind::RefundExceedsCaptured);
    given(history)
        .when(ask(refund(v7(3), Some(500))), trusted())
        .then([asked(v7(3), 500)]);
}

#[test]
fn a_failed_refund_frees_its_amount() {
    let mut history = paid();
    history.push(asked(v7(1), 5000));
    let failed = PaymentCommand::RecordRefundFailed(RecordRefundFailed {
        refund_id: v7(1),
        reason: "insufficient balance".into(),
    });
    given(history.clone())
        .when(failed, trusted())
        .then([PaymentEvent::RefundFailed(PaymentRefundFailed {
            payment_id: payment_id(),
            refund_id: v7(1),
            reason: "insufficient balance".into(),
            failed_at: now(),
        })]);
    history.push(PaymentEvent::RefundFailed(PaymentRefundFailed {
        payment_id: payment_id(),
        refund_id: v7(1),
        reason: "insufficient balance".into(),
        failed_at: now(),
    }));
    given(history)
        .when(ask(refund(v7(2), None)), trusted())
        .then([asked(v7(2), 5000)]);
}

#[test]
fn refunds_read_as_partial_then_whole_and_count_once() {
    let mut history = paid();
    history.extend([asked(v7(1), 2000), refunded(v7(1))]);
    assert_eq!(
        given(history.clone()).state().status(),
        PaymentStatus::PartiallyRefunded
    );
    let again = PaymentCommand::RecordRefundSucceeded(RecordRefundSucceeded {
        refund_id: v7(1),
        gateway_id: Some("re_1".into()),
    });
    given(history.clone()).when(again, trusted()).then_nothing();
    history.extend([asked(v7(2), 3000), refunded(v7(2))]);
    let state = given(history).state();
    assert_eq!(state.status(), PaymentStatus::Refunded);
    assert_eq!(state.refunded(), 5000);
}

#[test]
fn asking_for_the_same_refund_again_changes_nothing() {
    let mut history = paid();
    history.push(asked(v7(1), 2000));
    given(history.clone())
        .when(ask(refund(v7(1), Some(2000))), trusted())
        .then_nothing();
    given(history)
        .when(ask(refund(v7(1), Some(2500))), trusted())
        .then_err(ErrorKind::AlreadyExists);
}

#[test]
fn the_window_closes_and_only_an_operator_reason_opens_it() {
    let late = now() + days(31);
    given(paid())
        .when(ask(refund(v7(1), None)), trusted_at(now() + days(30)))
        .then_state();
    given(paid())
        .when(ask(refund(v7(1), None)), trusted_at(late))
        .then_err(ErrorKind::RefundWindowClosed);
    let overridden = RequestRefund {
        override_reason: Some("goodwill after an outage".into()),
        ..refund(v7(1), None)
    };
    let state = given(paid())
        .when(ask(overridden), trusted_at(late))
        .then_state();
    assert_eq!(
        state.refunds[&v7(1)].override_reason.as_deref(),
        Some("goodwill after an outage")
    );
}

#[test]
fn a_refund_keeps_the_payment_currency_and_needs_money_taken() {
    let other = RequestRefund {
        currency: Some("usd".into()),
        ..refund(v7(1), None)
    };
    given(paid())
        .when(ask(other), trusted())
        .then_err(ErrorKind::InvalidInput);
    given([requested(), started(1, now())])
        .when(ask(refund(v7(1), None)), trusted())
        .then_err(ErrorKind::InvalidState);
}

fn offline() -> PaymentEvent {
    PaymentEvent::OfflineRecorded(OfflinePaymentRecorded {
        payment_id: payment_id(),
        member_id: member(),
        amount: 12000,
        currency: "JPY".into(),
        method: OfflineMethod::BankTransfer,
        reference: "TRX-2026-0042".into(),
        received_at: now(),
        membership_id: None,
        description: None,
        recorded_at: now(),
    })
}

#[test]
fn an_offline_payment_is_recorded_with_its_reference_and_refunded_as_a_record() {
    let record = PaymentCommand::RecordOffline(RecordOfflinePayment {
        payment_id: payment_id(),
        member_id: member(),
        amount: 12000,
        currency: "jpy".into(),
        method: OfflineMethod::BankTransfer,
        reference: " TRX-2026-0042 ".into(),
        received_at: None,
        membership_id: None,
        description: None,
    });
    given::<PaymentEvent>([])
        .when(record, trusted())
        .then([offline()]);
    let state = given([offline()]).state();
    assert_eq!(state.status(), PaymentStatus::Succeeded);
    given([offline()])
        .when(ask(refund(v7(1), Some(2000))), trusted())
        .then([
            asked(v7(1), 2000),
            PaymentEvent::RefundSucceeded(PaymentRefundSucceeded {
                payment_id: payment_id(),
                refund_id: v7(1),
                gateway_id: None,
                refunded_at: now(),
            }),
        ]);
}
