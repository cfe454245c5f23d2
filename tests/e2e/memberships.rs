//! A paid membership end to end with the real binary, its workers and projections, and a
//! Stripe emulator: a join is pending until the worker's charge succeeds, then active; the
//! content check allows; the memberships report (API and CLI) counts it and its recurring
//! revenue; a cancellation revokes the access. One PaymentIntent in all.

use std::path::Path;
use std::process::Command;

use serde_json::json;

use crate::harness::{Backend, spawn_app_with};
use crate::stripe::LocalStripe;

#[tokio::test]
async fn a_paid_membership_end_to_end_on_sqlite() {
    paid_membership(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_paid_membership_end_to_end_on_postgres() {
    paid_membership(Backend::Postgres).await;
}

async fn paid_membership(backend: Backend) {
    let stripe = LocalStripe::start();
    let (url, key) = (stripe.url(), stripe.secret_key());
    let app = spawn_app_with(backend, move |serve: &mut Command, _: &Path| {
        serve
            .env("ROSTER_STRIPE_SECRET_KEY", key)
            .env("ROSTER_STRIPE_API_BASE", &url)
            .env("ROSTER_WORKER_POLL", "100ms");
    })
    .await;
    let plan = json!({
        "name": "Gold",
        "prices": [{ "currency": "EUR", "amount": 1500, "interval": "month" }],
        "content_tags": ["courses"],
    });
    let defined = app
        .send(reqwest::Method::PUT, "/v1/plans/gold", None, Some(plan))
        .await;
    defined.expect(201);
    let member = app
        .post(
            "/v1/members",
            None,
            json!({ "email": "gold@example.com", "name": "Gold Member" }),
        )
        .await;
    let member = member.expect(201)["member_id"].as_str().unwrap().to_owned();
    let joined = app
        .post(
            &format!("/v1/members/{member}/memberships"),
            None,
            json!({ "plan": "gold", "payment_method": "pm_card_visa" }),
        )
        .await;
    let joined = joined.expect(201).clone();
    assert_eq!(joined["status"], "pending_payment");
    let membership = joined["membership_id"].as_str().unwrap().to_owned();

    let path = format!("/v1/memberships/{membership}");
    let active = app.get_until(&path, |m| m["status"] == "active").await;
    assert!(active["period_end"].is_string(), "{active}");
    let check = format!("/v1/check?member={member}&content_tag=courses");
    let allowed = app.get_until(&check, |c| c["allowed"] == true).await;
    assert_eq!(allowed["via"][0]["membership_id"], membership.as_str());
    let report = app
        .get_until("/v1/reports/memberships", |r| {
            r["recurring_revenue"][0]["monthly_amount"] == 1500
        })
        .await;
    assert_eq!(report["by_plan_and_status"][0]["status"], "active");
    let table = app.cli(&["report", "memberships"]);
    assert!(table.contains("gold") && table.contains("1500"), "{table}");

    let cancelled = app.send(reqwest::Method::DELETE, &path, None, None).await;
    assert_eq!(cancelled.expect(200)["status"], "cancelled");
    app.get_until(&check, |c| c["allowed"] == false).await;
    assert_eq!(stripe.payment_intent_count(), 1, "one PaymentIntent");
    app.stop();
}
