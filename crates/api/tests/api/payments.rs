//! Payments over HTTP without the gateway: asking for a card payment, offline payments and
//! their refunds (records), refunds above what remains, the window and its operator override,
//! and the list by member and status. Charging against Stripe is in the workers' and the
//! end-to-end tests.

use chrono::Duration;
use serde_json::json;
use uuid::Uuid;

use crate::on_both_backends;
use crate::support::{Backend, TestApi, spawn_api};

on_both_backends!(
    a_card_payment_is_accepted_and_waits_for_its_worker,
    offline_payments_are_refunded_as_records_up_to_what_was_received,
    the_refund_window_closes_and_an_operator_may_override_it,
    payments_are_listed_by_member_and_status,
);

async fn offline(api: &TestApi, member: Uuid, amount: u64) -> Uuid {
    let body = api
        .post(
            "/v1/payments/offline",
            json!({ "member_id": member, "amount": amount, "currency": "eur",
                    "method": "bank_transfer", "reference": "TRX-42" }),
        )
        .send()
        .await;
    let body = body.expect(201);
    assert_eq!(body["status"], "succeeded");
    body["payment_id"].as_str().unwrap().parse().unwrap()
}

async fn a_card_payment_is_accepted_and_waits_for_its_worker(backend: Backend) {
    let api = spawn_api(backend).await;
    let member = api.active_member("payer@example.com").await;
    let accepted = api
        .post(
            "/v1/payments",
            json!({ "member_id": member, "amount": 1200, "currency": "jpy",
                    "payment_method": "pm_card_visa", "description": "Monthly" }),
        )
        .send()
        .await;
    let body = accepted.expect(202);
    assert_eq!(body["status"], "processing");
    let id = body["payment_id"].as_str().unwrap();

    let read = api.get(&format!("/v1/payments/{id}")).send().await;
    let read = read.expect(200);
    assert_eq!(read["amount"], 1200);
    assert_eq!(read["currency"], "JPY");
    assert_eq!(read["exponent"], 0);
    assert_eq!(read["method"], "card");
    assert_eq!(read["attempts"], json!([]));

    for (body, slug) in [
        (
            json!({ "member_id": member, "amount": 0, "currency": "EUR", "payment_method": "pm_x" }),
            "invalid-input",
        ),
        (
            json!({ "member_id": member, "amount": 5, "currency": "EURO", "payment_method": "pm_x" }),
            "invalid-input",
        ),
        (
            json!({ "member_id": Uuid::now_v7(), "amount": 5, "currency": "EUR", "payment_method": "pm_x" }),
            "not-found",
        ),
    ] {
        let status = if slug == "not-found" { 404 } else { 422 };
        api.post("/v1/payments", body)
            .send()
            .await
            .expect_problem(status, slug);
    }
    api.get(&format!("/v1/payments/{}", Uuid::now_v7()))
        .send()
        .await
        .expect_problem(404, "not-found");

    // Another card for the next attempt; one word, and only while the payment is unsettled.
    let method = format!("/v1/payments/{id}/payment-method");
    let changed = api
        .call(axum::http::Method::PUT, &method)
        .json(json!({ "payment_method": "pm_card_mastercard" }))
        .send()
        .await;
    assert_eq!(changed.expect(200)["status"], "processing");
    let read = api.get(&format!("/v1/payments/{id}")).send().await;
    assert_eq!(read.expect(200)["attempts"], json!([]));
    api.call(axum::http::Method::PUT, &method)
        .json(json!({ "payment_method": "pm card" }))
        .send()
        .await
        .expect_problem(422, "invalid-input");
    let settled = offline(&api, member, 100).await;
    api.call(
        axum::http::Method::PUT,
        &format!("/v1/payments/{settled}/payment-method"),
    )
    .json(json!({ "payment_method": "pm_card_visa" }))
    .send()
    .await
    .expect_problem(409, "invalid-state");
}

async fn offline_payments_are_refunded_as_records_up_to_what_was_received(backend: Backend) {
    let api = spawn_api(backend).await;
    let member = api.active_member("cash@example.com").await;
    let id = offline(&api, member, 5000).await;
    let refunds = format!("/v1/payments/{id}/refunds");

    let partial = api.post(&refunds, json!({ "amount": 2000, "reason": "pro rata" }));
    let partial = partial.send().await;
    assert_eq!(partial.expect(202)["status"], "partially_refunded");
    api.post(&refunds, json!({ "amount": 3001 }))
        .send()
        .await
        .expect_problem(409, "refund-exceeds-captured");
    api.post(&refunds, json!({ "currency": "usd" }))
        .send()
        .await
        .expect_problem(422, "invalid-input");
    let rest = api.post(&refunds, json!({})).send().await;
    assert_eq!(rest.expect(202)["status"], "refunded");
    api.post(&refunds, json!({ "amount": 1 }))
        .send()
        .await
        .expect_problem(409, "refund-exceeds-captured");

    let read = api.get(&format!("/v1/payments/{id}")).send().await;
    let read = read.expect(200);
    assert_eq!(read["refunded_amount"], 5000);
    let position = read["position"].as_u64().unwrap();
    api.get(&format!("/v1/payments?min_position={position}"))
        .send()
        .await
        .expect(200);
    let metrics = api.get("/metrics").send().await;
    let metrics = metrics.expect(200).as_str().unwrap().to_owned();
    // The recorder is the process's: tests running beside this one scrape their own databases
    // into the same series, so only the series' presence is this test's to check.
    for series in [
        "roster_payments{",
        "roster_payments_captured_minor{",
        "roster_payments_refunded_minor{",
    ] {
        let wanted = r#"status="refunded",currency="EUR""#;
        assert!(
            metrics
                .lines()
                .any(|l| l.starts_with(series) && l.contains(wanted)),
            "no {series} in {metrics}"
        );
    }
    assert_eq!(read["method"], "bank_transfer");
    assert_eq!(read["reference"], "TRX-42");
    assert_eq!(read["refunds"].as_array().unwrap().len(), 2);

    // Recording money received offline is an operator's act.
    api.post(
        "/v1/payments/offline",
        json!({ "member_id": member, "amount": 1, "currency": "EUR",
                "method": "check", "reference": "C-1" }),
    )
    .key(&api.commands_key)
    .send()
    .await
    .expect_problem(403, "insufficient-scope");
}

async fn the_refund_window_closes_and_an_operator_may_override_it(backend: Backend) {
    let api = spawn_api(backend).await;
    let member = api.active_member("late@example.com").await;
    let id = offline(&api, member, 900).await;
    let refunds = format!("/v1/payments/{id}/refunds");
    api.clock.advance(Duration::days(31));
    api.post(&refunds, json!({}))
        .send()
        .await
        .expect_problem(409, "refund-window-closed");
    api.post(&refunds, json!({ "override_reason": "goodwill" }))
        .key(&api.commands_key)
        .send()
        .await
        .expect_problem(403, "insufficient-scope");
    let overridden = api
        .post(&refunds, json!({ "override_reason": "goodwill" }))
        .send()
        .await;
    assert_eq!(overridden.expect(202)["status"], "refunded");
}

async fn payments_are_listed_by_member_and_status(backend: Backend) {
    let api = spawn_api(backend).await;
    let ada = api.active_member("ada@example.com").await;
    let bob = api.active_member("bob@example.com").await;
    offline(&api, ada, 100).await;
    offline(&api, ada, 200).await;
    let card = api
        .post(
            "/v1/payments",
            json!({ "member_id": bob, "amount": 300, "currency": "EUR", "payment_method": "pm_card_visa" }),
        )
        .send()
        .await;
    let position = card.expect(202)["position"].as_u64().unwrap();

    let page = api
        .get(&format!(
            "/v1/payments?member={ada}&limit=1&min_position={position}"
        ))
        .send()
        .await;
    let page = page.expect(200);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["amount"], 100);
    let next = page["next"].as_str().unwrap();
    let second = api
        .get(&format!("/v1/payments?member={ada}&after={next}"))
        .send()
        .await;
    let second = second.expect(200);
    assert_eq!(second["items"][0]["amount"], 200);
    assert!(second["next"].is_null());

    let processing = api.get("/v1/payments?status=processing").send().await;
    let processing = processing.expect(200);
    assert_eq!(processing["items"].as_array().unwrap().len(), 1);
    assert_eq!(processing["items"][0]["member_id"], bob.to_string());
    api.get("/v1/payments?status=lost")
        .send()
        .await
        .expect_problem(422, "invalid-input");
}
