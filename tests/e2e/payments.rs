//! Payments end to end with the real binary and a Stripe emulator: the worker is killed (the
//! process aborts, injected by `ROSTER_TEST_FAULT=after-charge`) after Stripe answered a
//! charge and before the answer was recorded. After a restart the job is taken back from the
//! dead worker, looks the attempt's intent up instead of creating one, and the payment
//! completes with exactly one PaymentIntent.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::harness::{Backend, WAIT, spawn_app_with};
use crate::stripe::LocalStripe;

fn with_stripe(stripe: &LocalStripe, fault: bool) -> impl Fn(&mut Command, &Path) + use<> {
    let (url, key) = (stripe.url(), stripe.secret_key());
    move |serve: &mut Command, _: &Path| {
        serve
            .env("ROSTER_STRIPE_SECRET_KEY", key)
            .env("ROSTER_STRIPE_API_BASE", &url)
            .env("ROSTER_WORKER_POLL", "100ms")
            .env("ROSTER_WORKER_HEARTBEAT", "1s");
        match fault {
            true => serve.env("ROSTER_TEST_FAULT", "after-charge"),
            false => serve.env_remove("ROSTER_TEST_FAULT"),
        };
    }
}

#[tokio::test]
async fn a_worker_killed_between_the_charge_and_its_record_charges_once_on_sqlite() {
    killed_between_charge_and_record(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_worker_killed_between_the_charge_and_its_record_charges_once_on_postgres() {
    killed_between_charge_and_record(Backend::Postgres).await;
}

async fn killed_between_charge_and_record(backend: Backend) {
    let stripe = LocalStripe::start();
    let mut app = spawn_app_with(backend, with_stripe(&stripe, true)).await;
    let member = app
        .post(
            "/v1/members",
            None,
            json!({ "email": "payer@example.com", "name": "Payer" }),
        )
        .await;
    let member = member.expect(201)["member_id"].as_str().unwrap().to_owned();
    let accepted = app
        .post(
            "/v1/payments",
            None,
            json!({ "member_id": member, "amount": 2500, "currency": "EUR",
                    "payment_method": "pm_card_visa" }),
        )
        .await;
    let payment = accepted.expect(202)["payment_id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Stripe made the intent; the process died before recording it.
    wait_until("the charge at Stripe", || {
        stripe.payment_intent_count() == 1
    })
    .await;
    assert!(app.wait_exit(WAIT).await, "the fault aborts the process");
    app.kill_and_restart(with_stripe(&stripe, false));

    // The restarted server takes the job back once the dead worker's heartbeat has been silent
    // for three beats of its own wall clock (another process: no clock to move), so this polls.
    let deadline = Instant::now() + WAIT;
    let read = loop {
        let read = app.get(&format!("/v1/payments/{payment}")).await;
        let body = read.expect(200).clone();
        if body["status"] == "succeeded" {
            break body;
        }
        assert!(
            Instant::now() < deadline,
            "not settled within {WAIT:?}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(read["attempts"].as_array().unwrap().len(), 1, "{read}");
    assert_eq!(
        stripe.payment_intent_count(),
        1,
        "exactly one PaymentIntent"
    );
    assert_eq!(read["captured_amount"], 2500);
    let shown = app.cli(&["payments", "show", &payment]);
    assert!(shown.contains("\"status\": \"succeeded\""), "{shown}");
    let listed = app.cli(&["payments", "list", "--status", "succeeded"]);
    assert!(
        listed.contains(&payment) && listed.contains("25.00 EUR"),
        "{listed}"
    );
    let log = std::fs::read_to_string(app.dir.path().join("serve.log")).unwrap();
    assert!(
        log.contains("ROSTER_TEST_FAULT=after-charge"),
        "the fault struck"
    );
    app.stop();
}

/// Polls `done` on the wall clock: what it watches happens in other processes (the server, the
/// emulator), whose clocks a test cannot move.
async fn wait_until(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !done() {
        assert!(
            Instant::now() < deadline,
            "{what} did not happen within {WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
