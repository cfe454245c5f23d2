//! Payments against a real Stripe emulator (localstripe on loopback), driven by the manual
//! clock: a success with its receipt, a card declined at charge time until the fourth attempt
//! fails the payment (four mails, four intents), a decline then a success with a new card, a
//! hard decline that stops at once, refunds full and partial, and the webhook reporting the
//! same facts with nothing counted twice.

use chrono::Duration as Span;
use roster_app::payments::{NewPayment, NewRefund, sign_webhook};
use roster_app::{CommandMeta, RetrySchedule};
use roster_domain::PaymentStatus;
use roster_domain::payment::PaymentState;
use roster_store::ActorRef;
use roster_workers::gateway::Gateway;
use roster_workers::{Drain, WorkerConfig};
use uuid::Uuid;

use crate::harness::{Backend, Env, config, env_with};
use crate::on_both_backends;
use crate::smtp::SmtpSink;
use crate::stripe::LocalStripe;

on_both_backends!(
    a_payment_succeeds_and_the_member_gets_a_receipt,
    a_card_declined_at_charge_time_fails_after_four_attempts_with_four_mails,
    a_declined_payment_succeeds_on_its_re_attempt_with_a_new_card,
    a_hard_decline_stops_after_one_attempt,
    refunds_full_and_partial_go_through_stripe,
    a_webhook_and_the_worker_report_a_charge_once,
    reconcile_settles_attempts_of_unknown_outcome_without_charging,
);

const WEBHOOK_SECRET: &str = "whsec_test_roster";

struct Pay {
    env: Env,
    stripe: LocalStripe,
    smtp: SmtpSink,
    drain: Drain,
}

fn system() -> CommandMeta {
    CommandMeta::new(ActorRef::System)
}

fn stripe_config(stripe: &LocalStripe, smtp: &SmtpSink) -> WorkerConfig {
    let mut config = config(Some(smtp.url()), "1m");
    config.gateway = Some(Gateway::new(Some(&stripe.url()), stripe.secret_key()).unwrap());
    config.gateway_retry = RetrySchedule::parse("1m,1m").unwrap();
    config
}

async fn setup(backend: Backend) -> Pay {
    let env = env_with(backend, |settings| {
        settings.payment_retry_schedule = "1d,3d,5d".into();
        settings.stripe_webhook_secret = Some(format!("whsec_old,{WEBHOOK_SECRET}"));
        settings.token_ttl = "30d".into();
    })
    .await;
    let (stripe, smtp) = (LocalStripe::start(), SmtpSink::start());
    let drain = env.drain(stripe_config(&stripe, &smtp)).await;
    Pay {
        env,
        stripe,
        smtp,
        drain,
    }
}

impl Pay {
    async fn pay(&self, card: &str) -> Uuid {
        let member = self
            .env
            .register(&format!("{}@example.com", Uuid::now_v7()))
            .await;
        let payment = NewPayment {
            member_id: member,
            amount: 4200,
            currency: "EUR".into(),
            payment_method: card.into(),
            membership_id: None,
            description: Some("Annual membership".into()),
        };
        let handled = self.env.roster.payments.request(payment, &system()).await;
        handled.unwrap().state.payment_id.unwrap()
    }

    async fn state(&self, payment: Uuid) -> PaymentState {
        self.env.roster.payments.get(payment).await.unwrap().state
    }

    async fn run_due(&self) {
        self.drain.run_due().await.unwrap();
    }

    fn mails(&self, subject: &str) -> usize {
        let subject = format!("Subject: {subject}");
        self.smtp
            .messages()
            .iter()
            .filter(|m| m.contains(&subject))
            .count()
    }
}

async fn a_payment_succeeds_and_the_member_gets_a_receipt(backend: Backend) {
    let pay = setup(backend).await;
    let payment = pay.pay("pm_card_visa").await;
    pay.run_due().await;
    let state = pay.state(payment).await;
    assert_eq!(state.status(), PaymentStatus::Succeeded);
    assert_eq!(state.captured, 4200);
    assert_eq!(pay.stripe.payment_intent_count(), 1);
    assert_eq!(pay.mails("Payment received: 42.00 EUR"), 1);
    // Running again charges nothing more.
    pay.env.clock.advance(Span::days(1));
    pay.run_due().await;
    assert_eq!(pay.stripe.payment_intent_count(), 1);
}

async fn a_card_declined_at_charge_time_fails_after_four_attempts_with_four_mails(
    backend: Backend,
) {
    let pay = setup(backend).await;
    let payment = pay.pay("pm_card_chargeCustomerFail").await;
    pay.run_due().await;
    for (attempt, wait) in [(1, 1), (2, 3), (3, 5)] {
        let state = pay.state(payment).await;
        assert_eq!(
            state.status(),
            PaymentStatus::Retrying,
            "after attempt {attempt}"
        );
        assert_eq!(state.attempts.len(), attempt);
        assert_eq!(pay.mails("Your payment did not go through"), attempt);
        // A second early, nothing happens.
        pay.env.clock.advance(Span::days(wait) - Span::seconds(1));
        pay.run_due().await;
        assert_eq!(pay.stripe.payment_intent_count(), attempt);
        pay.env.clock.advance(Span::seconds(1));
        pay.run_due().await;
    }
    let state = pay.state(payment).await;
    assert_eq!(state.status(), PaymentStatus::Failed);
    assert_eq!(state.attempts.len(), 4);
    assert_eq!(pay.stripe.payment_intent_count(), 4);
    assert_eq!(pay.mails("Your payment did not go through"), 4);
    pay.env.clock.advance(Span::days(30));
    pay.run_due().await;
    assert_eq!(pay.stripe.payment_intent_count(), 4, "no fifth charge");
}

async fn a_declined_payment_succeeds_on_its_re_attempt_with_a_new_card(backend: Backend) {
    let pay = setup(backend).await;
    let payment = pay.pay("pm_card_chargeDeclinedInsufficientFunds").await;
    pay.run_due().await;
    let state = pay.state(payment).await;
    assert_eq!(state.status(), PaymentStatus::Retrying);
    let declined = &state.attempts[0].outcome;
    assert!(
        format!("{declined:?}").contains("insufficient_funds"),
        "{declined:?}"
    );
    let payments = &pay.env.roster.payments;
    payments
        .change_method(payment, "pm_card_visa".into(), &system())
        .await
        .unwrap();
    pay.env.clock.advance(Span::days(1));
    pay.run_due().await;
    let state = pay.state(payment).await;
    assert_eq!(state.status(), PaymentStatus::Succeeded);
    assert_eq!(state.attempts.len(), 2);
    assert_eq!(pay.stripe.payment_intent_count(), 2);
    assert_eq!(pay.mails("Payment received"), 1);
}

async fn a_hard_decline_stops_after_one_attempt(backend: Backend) {
    let pay = setup(backend).await;
    let payment = pay.pay("pm_card_chargeDeclinedStolenCard").await;
    pay.run_due().await;
    let state = pay.state(payment).await;
    assert_eq!(state.status(), PaymentStatus::Failed);
    assert_eq!(state.attempts.len(), 1);
    assert_eq!(state.next_attempt, None);
    pay.env.clock.advance(Span::days(10));
    pay.run_due().await;
    assert_eq!(pay.stripe.payment_intent_count(), 1);
    assert_eq!(pay.mails("Your payment did not go through"), 1);
}

async fn refunds_full_and_partial_go_through_stripe(backend: Backend) {
    let pay = setup(backend).await;
    let payments = &pay.env.roster.payments;
    let payment = pay.pay("pm_card_visa").await;
    pay.run_due().await;
    let partial = NewRefund {
        amount: Some(1200),
        reason: Some("pro rata".into()),
        ..NewRefund::default()
    };
    payments.refund(payment, partial, &system()).await.unwrap();
    pay.run_due().await;
    let state = pay.state(payment).await;
    assert_eq!(state.status(), PaymentStatus::PartiallyRefunded);
    assert_eq!((state.refunded(), state.refund_pending()), (1200, 0));
    assert_eq!(pay.mails("Refund of 12.00 EUR"), 1);

    payments
        .refund(payment, NewRefund::default(), &system())
        .await
        .unwrap();
    pay.run_due().await;
    let state = pay.state(payment).await;
    assert_eq!(state.status(), PaymentStatus::Refunded);
    assert_eq!(state.refunded(), 4200);
    assert_eq!(pay.mails("Refund of 30.00 EUR"), 1);
    let charges = pay.stripe.get("/v1/charges?limit=100");
    assert!(
        charges.contains("\"amount_refunded\": 4200")
            || charges.contains("\"amount_refunded\":4200"),
        "{charges}"
    );
}

/// A signed delivery as Stripe would send it, at Roster's time.
fn delivery(env: &Env, body: &serde_json::Value) -> (Vec<u8>, String) {
    let body = serde_json::to_vec(body).unwrap();
    let now = roster_app::clock::Clock::now(env.clock.as_ref()).timestamp();
    let signature = sign_webhook(&body, WEBHOOK_SECRET, now);
    (body, signature)
}

async fn a_webhook_and_the_worker_report_a_charge_once(backend: Backend) {
    let pay = setup(backend).await;
    let payment = pay.pay("pm_card_visa").await;
    pay.run_due().await;
    let state = pay.state(payment).await;
    let intent = match &state.attempts[0].outcome {
        roster_domain::payment::AttemptOutcome::Succeeded { gateway_id } => gateway_id.clone(),
        other => panic!("{other:?}"),
    };
    let intent_json = pay.stripe.get(&format!("/v1/payment_intents/{intent}"));
    let object: serde_json::Value = serde_json::from_str(&intent_json).unwrap();
    let event = serde_json::json!({
        "id": "evt_late_success", "type": "payment_intent.succeeded",
        "data": { "object": object },
    });
    let (body, signature) = delivery(&pay.env, &event);
    let payments = &pay.env.roster.payments;
    let first = payments
        .stripe_webhook(&body, Some(&signature))
        .await
        .unwrap();
    assert!(matches!(
        first,
        roster_app::payments::WebhookOutcome::Applied { .. }
    ));
    let again = payments
        .stripe_webhook(&body, Some(&signature))
        .await
        .unwrap();
    assert_eq!(again, roster_app::payments::WebhookOutcome::Duplicate);
    let events = pay
        .env
        .roster
        .commands
        .load::<roster_domain::Payment>(payment)
        .await
        .unwrap();
    assert_eq!(events.state.captured, 4200);
    let successes = pay
        .env
        .stream_of(&format!("payment-{payment}"))
        .await
        .iter()
        .filter(|e| e.event_type == "PaymentSucceeded.v1")
        .count();
    assert_eq!(successes, 1, "the webhook after the worker changed nothing");
    pay.run_due().await;
    assert_eq!(pay.mails("Payment received"), 1);
}

async fn reconcile_settles_attempts_of_unknown_outcome_without_charging(backend: Backend) {
    use roster_workers::reconcile::{Reconciled, reconcile};
    let pay = setup(backend).await;
    let payments = &pay.env.roster.payments;
    let gateway = Gateway::new(Some(&pay.stripe.url()), pay.stripe.secret_key()).unwrap();
    let grace = Span::minutes(10);

    // An attempt started whose charge never reached Stripe (the worker died before it).
    let lost = pay.pay("pm_card_visa").await;
    payments.start_attempt(lost, 1, &system()).await.unwrap();
    let early = reconcile(&pay.env.roster, &gateway, lost, grace)
        .await
        .unwrap();
    assert_eq!(early, Reconciled::InFlight { attempt: 1 });
    pay.env.clock.advance(Span::minutes(11));
    let settled = reconcile(&pay.env.roster, &gateway, lost, grace)
        .await
        .unwrap();
    assert_eq!(settled, Reconciled::NoCharge { attempt: 1 });
    assert_eq!(pay.state(lost).await.status(), PaymentStatus::Retrying);
    assert_eq!(
        pay.stripe.payment_intent_count(),
        0,
        "reconcile charges nothing"
    );

    // An attempt whose outcome was recorded as unknown while Stripe had charged it.
    let paid = pay.pay("pm_card_visa").await;
    payments.start_attempt(paid, 1, &system()).await.unwrap();
    let customer = gateway.create_customer(Uuid::now_v7()).await.unwrap();
    let card = gateway.attach("pm_card_visa", &customer).await.unwrap();
    let request = roster_workers::gateway::ChargeRequest {
        payment_id: paid,
        attempt: 1,
        member_id: Uuid::now_v7(),
        customer: &customer,
        payment_method: &card,
        amount: 4200,
        currency: "EUR",
    };
    gateway.charge(&request).await.unwrap();
    payments
        .record_unknown(paid, 1, "timed out".into(), &system())
        .await
        .unwrap();
    let settled = reconcile(&pay.env.roster, &gateway, paid, grace)
        .await
        .unwrap();
    assert_eq!(
        settled,
        Reconciled::Settled {
            attempt: 1,
            outcome: "succeeded"
        }
    );
    assert_eq!(pay.state(paid).await.status(), PaymentStatus::Succeeded);
    assert_eq!(pay.stripe.payment_intent_count(), 1);
}
