//! The payment use cases over a real log: re-attempts fall due by the configured schedule on
//! Roster's clock, a payment is only for a registered member, and the refund window counts
//! from the success on the same clock.

#![allow(clippy::unwrap_used)]

use roster_app::clock::Clock;
use roster_app::members::Registration;
use roster_app::payments::{NewPayment, NewRefund};
use roster_app::testing::{self, Backend, TestRoster};
use roster_app::{AppError, CommandMeta};
use roster_domain::payment::Decline;
use roster_domain::{DomainError, PaymentStatus};
use roster_store::ActorRef;
use uuid::Uuid;

fn meta() -> CommandMeta {
    CommandMeta::new(ActorRef::System)
}

async fn member(test: &TestRoster) -> Uuid {
    let form = Registration {
        email: "payer@example.com".into(),
        name: "Payer".into(),
        ..Registration::default()
    };
    let handled = test.roster.members.register(form, &meta()).await.unwrap();
    handled.state.member_id.unwrap()
}

fn card(member_id: Uuid) -> NewPayment {
    NewPayment {
        member_id,
        amount: 2500,
        currency: "eur".into(),
        payment_method: "pm_card_visa".into(),
        membership_id: None,
        description: None,
    }
}

fn soft() -> Decline {
    Decline {
        code: Some("insufficient_funds".into()),
        message: None,
    }
}

#[tokio::test]
async fn declines_fall_due_again_by_the_schedule_until_the_fourth_fails_the_payment() {
    let test = testing::open_with(Backend::Sqlite, |s| {
        s.payment_retry_schedule = "1d,3d,5d".into();
    })
    .await;
    let payments = &test.roster.payments;
    let handled = payments.request(card(member(&test).await), &meta()).await;
    let id = handled.unwrap().state.payment_id.unwrap();
    let start = test.clock.now();
    for (attempt, wait_days) in [(1, 1), (2, 3), (3, 5)] {
        payments.start_attempt(id, attempt, &meta()).await.unwrap();
        let declined = payments
            .record_declined(id, attempt, None, soft(), &meta())
            .await
            .unwrap();
        let (next, at) = declined.state.next_attempt.unwrap();
        assert_eq!(next, attempt + 1);
        assert_eq!(at, test.clock.now() + chrono::Duration::days(wait_days));
        assert_eq!(declined.state.status(), PaymentStatus::Retrying);
        // Not before its time.
        let early = payments.start_attempt(id, next, &meta()).await;
        assert!(matches!(
            early,
            Err(AppError::Domain(DomainError::InvalidState { .. }))
        ));
        test.clock.set(at);
    }
    assert_eq!(test.clock.now(), start + chrono::Duration::days(9));
    payments.start_attempt(id, 4, &meta()).await.unwrap();
    let last = payments
        .record_declined(id, 4, None, soft(), &meta())
        .await
        .unwrap();
    assert_eq!(last.state.status(), PaymentStatus::Failed);
    assert_eq!(last.state.attempts.len(), 4);
}

#[tokio::test]
async fn a_payment_needs_a_registered_member() {
    let test = testing::open(Backend::Sqlite).await;
    let unknown = test
        .roster
        .payments
        .request(card(Uuid::now_v7()), &meta())
        .await;
    assert!(matches!(unknown, Err(AppError::NotFound { .. })));
}

#[tokio::test]
async fn the_refund_window_counts_from_the_success_on_roster_clock() {
    let test = testing::open_with(Backend::Postgres, |s| s.refund_window_days = 14).await;
    let payments = &test.roster.payments;
    let handled = payments.request(card(member(&test).await), &meta()).await;
    let id = handled.unwrap().state.payment_id.unwrap();
    payments.start_attempt(id, 1, &meta()).await.unwrap();
    payments
        .record_succeeded(id, 1, "pi_1".into(), 2500, &meta())
        .await
        .unwrap();
    test.clock.advance(chrono::Duration::days(15));
    let late = payments.refund(id, NewRefund::default(), &meta()).await;
    assert!(matches!(
        late,
        Err(AppError::Domain(DomainError::RefundWindowClosed { .. }))
    ));
    let overridden = NewRefund {
        amount: Some(1000),
        override_reason: Some("goodwill".into()),
        ..NewRefund::default()
    };
    let (_, handled) = payments.refund(id, overridden, &meta()).await.unwrap();
    assert_eq!(handled.state.refundable(), 1500);
}
