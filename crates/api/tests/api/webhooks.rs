//! `POST /v1/webhooks/stripe` over HTTP: no API key, a signature by any configured secret
//! within 300 s of Roster's clock, a redelivery ignored by its event id, an out-of-order pair
//! applied once, and refund webhooks (which localstripe never sends) signed here.

use axum::http::Method;
use chrono::Duration;
use roster_app::CommandMeta;
use roster_app::clock::Clock;
use roster_app::payments::{NewPayment, NewRefund, sign_webhook};
use roster_store::ActorRef;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::on_both_backends;
use crate::support::{Answer, Backend, TestApi, spawn_api_with_settings};

on_both_backends!(
    a_bad_signature_and_a_stale_timestamp_are_refused,
    a_redelivery_is_applied_once,
    an_out_of_order_pair_leaves_the_payment_paid_once,
    a_decline_by_webhook_schedules_the_re_attempt_once,
    refund_webhooks_settle_refunds,
);

const SECRET: &str = "whsec_current";

async fn api(backend: Backend) -> TestApi {
    spawn_api_with_settings(backend, |s| {
        s.stripe_webhook_secret = Some(format!("whsec_previous, {SECRET}"));
    })
    .await
}

fn meta() -> CommandMeta {
    CommandMeta::new(ActorRef::System)
}

/// A card payment whose first attempt has started (as the charge job does).
async fn charging(api: &TestApi) -> Uuid {
    let member = api
        .active_member(&format!("{}@example.com", Uuid::now_v7()))
        .await;
    let payments = &api.roster.payments;
    let payment = NewPayment {
        member_id: member,
        amount: 1500,
        currency: "USD".into(),
        payment_method: "pm_card_visa".into(),
        membership_id: None,
        description: None,
    };
    let id = payments
        .request(payment, &meta())
        .await
        .unwrap()
        .state
        .payment_id
        .unwrap();
    payments.start_attempt(id, 1, &meta()).await.unwrap();
    id
}

fn intent_event(id: &str, kind: &str, payment: Uuid, created: i64) -> Value {
    let succeeded = kind == "payment_intent.succeeded";
    json!({
        "id": id, "type": kind, "created": created,
        "data": { "object": {
            "id": "pi_1", "object": "payment_intent", "amount": 1500,
            "amount_received": if succeeded { 1500 } else { 0 },
            "status": if succeeded { "succeeded" } else { "requires_payment_method" },
            "metadata": { "payment_id": payment.to_string(), "attempt": "1" },
            "last_payment_error": if succeeded { Value::Null } else {
                json!({ "type": "card_error", "code": "card_declined", "decline_code": "insufficient_funds" })
            },
        }},
    })
}

async fn deliver(api: &TestApi, event: &Value, secret: &str, at: i64) -> Answer {
    let body = serde_json::to_vec(event).unwrap();
    let signature = sign_webhook(&body, secret, at);
    api.call(Method::POST, "/v1/webhooks/stripe")
        .without_key()
        .header("stripe-signature", &signature)
        .raw("application/json", body)
        .send()
        .await
}

fn now(api: &TestApi) -> i64 {
    api.clock.now().timestamp()
}

async fn status(api: &TestApi, payment: Uuid) -> Value {
    api.get(&format!("/v1/payments/{payment}"))
        .send()
        .await
        .expect(200)
        .clone()
}

async fn a_bad_signature_and_a_stale_timestamp_are_refused(backend: Backend) {
    let api = api(backend).await;
    let payment = charging(&api).await;
    let event = intent_event("evt_1", "payment_intent.succeeded", payment, 0);
    deliver(&api, &event, "whsec_someone_else", now(&api))
        .await
        .expect_problem(400, "invalid-signature");
    deliver(&api, &event, SECRET, now(&api) - 301)
        .await
        .expect_problem(400, "invalid-signature");
    let unsigned = api
        .call(Method::POST, "/v1/webhooks/stripe")
        .without_key()
        .raw("application/json", serde_json::to_vec(&event).unwrap())
        .send()
        .await;
    unsigned.expect_problem(400, "invalid-signature");
    assert_eq!(status(&api, payment).await["status"], "processing");
    // The secret being rotated out still verifies, and so does a delivery 300 s old.
    let ok = deliver(&api, &event, "whsec_previous", now(&api) - 300).await;
    assert_eq!(ok.expect(200)["outcome"], "applied");
    assert_eq!(status(&api, payment).await["status"], "succeeded");
}

async fn a_redelivery_is_applied_once(backend: Backend) {
    let api = api(backend).await;
    let payment = charging(&api).await;
    let event = intent_event("evt_twice", "payment_intent.succeeded", payment, 0);
    let first = deliver(&api, &event, SECRET, now(&api)).await;
    assert_eq!(first.expect(200)["outcome"], "applied");
    api.clock.advance(Duration::seconds(60));
    let again = deliver(&api, &event, SECRET, now(&api)).await;
    assert_eq!(again.expect(200)["outcome"], "duplicate");
    let stream = format!("payment-{payment}");
    let events = api.store.read_stream(&stream, 0, 100).await.unwrap();
    let successes = events
        .iter()
        .filter(|e| e.event_type == "PaymentSucceeded.v1");
    assert_eq!(successes.count(), 1);
}

async fn an_out_of_order_pair_leaves_the_payment_paid_once(backend: Backend) {
    let api = api(backend).await;
    let payment = charging(&api).await;
    // Stripe sent the decline first and the success after a re-confirmation; they arrive the
    // other way round.
    let success = intent_event("evt_b", "payment_intent.succeeded", payment, 20);
    let decline = intent_event("evt_a", "payment_intent.payment_failed", payment, 10);
    let applied = deliver(&api, &success, SECRET, now(&api)).await;
    assert_eq!(applied.expect(200)["outcome"], "applied");
    let late = deliver(&api, &decline, SECRET, now(&api)).await;
    assert_eq!(late.expect(200)["outcome"], "applied");
    let read = status(&api, payment).await;
    assert_eq!(read["status"], "succeeded");
    assert_eq!(read["captured_amount"], 1500);
    assert_eq!(read["attempts"][0]["outcome"], "succeeded");
    assert!(read["next_attempt_at"].is_null());
    let stream = format!("payment-{payment}");
    let types: Vec<String> = api
        .store
        .read_stream(&stream, 0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event_type)
        .collect();
    assert_eq!(
        types,
        [
            "PaymentRequested.v1",
            "PaymentAttemptStarted.v1",
            "PaymentSucceeded.v1"
        ]
    );
}

async fn a_decline_by_webhook_schedules_the_re_attempt_once(backend: Backend) {
    let api = api(backend).await;
    let payment = charging(&api).await;
    let decline = intent_event("evt_d", "payment_intent.payment_failed", payment, 10);
    deliver(&api, &decline, SECRET, now(&api)).await.expect(200);
    let copy = intent_event("evt_d2", "payment_intent.payment_failed", payment, 10);
    deliver(&api, &copy, SECRET, now(&api)).await.expect(200);
    let read = status(&api, payment).await;
    assert_eq!(read["status"], "retrying");
    assert_eq!(read["attempts"][0]["decline_code"], "insufficient_funds");
    let due = api.clock.now() + Duration::days(1);
    assert_eq!(
        read["next_attempt_at"]
            .as_str()
            .unwrap()
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap(),
        due
    );
    // An event about something that is not a Roster payment is acknowledged and ignored.
    let foreign = json!({ "id": "evt_x", "type": "customer.created", "data": { "object": {} } });
    let ignored = deliver(&api, &foreign, SECRET, now(&api)).await;
    assert_eq!(ignored.expect(200)["outcome"], "ignored");
}

async fn refund_webhooks_settle_refunds(backend: Backend) {
    let api = api(backend).await;
    let payment = charging(&api).await;
    let payments = &api.roster.payments;
    payments
        .record_succeeded(payment, 1, "pi_1".into(), 1500, &meta())
        .await
        .unwrap();
    let partial = NewRefund {
        amount: Some(500),
        ..NewRefund::default()
    };
    let (first, _) = payments.refund(payment, partial, &meta()).await.unwrap();
    let (second, _) = payments
        .refund(payment, NewRefund::default(), &meta())
        .await
        .unwrap();
    let refund = |id: Uuid, re: &str, status: &str, amount: u64| {
        json!({ "id": re, "object": "refund", "amount": amount, "status": status,
                "metadata": { "payment_id": payment.to_string(), "refund_id": id.to_string() } })
    };
    let charge_refunded = json!({
        "id": "evt_r1", "type": "charge.refunded",
        "data": { "object": { "id": "ch_1", "object": "charge", "refunds": { "data": [
            refund(first, "re_1", "succeeded", 500),
        ]}}},
    });
    deliver(&api, &charge_refunded, SECRET, now(&api))
        .await
        .expect(200);
    let read = status(&api, payment).await;
    assert_eq!(read["status"], "partially_refunded");
    assert_eq!(
        (
            read["refunded_amount"].as_u64(),
            read["pending_refund_amount"].as_u64()
        ),
        (Some(500), Some(1000))
    );
    // The second refund failed at the gateway: its amount is free again.
    let failed = json!({
        "id": "evt_r2", "type": "refund.updated",
        "data": { "object": refund(second, "re_2", "failed", 1000) },
    });
    deliver(&api, &failed, SECRET, now(&api)).await.expect(200);
    let read = status(&api, payment).await;
    assert_eq!(read["status"], "partially_refunded");
    assert_eq!(read["pending_refund_amount"], 0);
    let again = api
        .post(
            &format!("/v1/payments/{payment}/refunds"),
            json!({ "amount": 1000 }),
        )
        .send()
        .await;
    assert_eq!(again.expect(202)["status"], "partially_refunded");
}
