//! Access codes over HTTP: single-use codes work once, multi-use codes as often as allowed,
//! expired codes and another plan's codes never; a join refused after the code was taken gives
//! the use back; guessing is refused after ten failures from one client however good the next
//! code is (`rate-limited`), and a code is typed in any case, with or without its dashes.

use axum::http::Method;
use chrono::Duration;
use roster_app::access_codes::{CodeBatch, generate};
use roster_app::clock::Clock;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::on_both_backends;
use crate::support::{Backend, TestApi, spawn_api};

on_both_backends!(access_codes_single_multi_expired_and_guessed);

async fn codes(
    api: &TestApi,
    plan: &str,
    count: u32,
    uses: u32,
    hours: Option<i64>,
) -> Vec<String> {
    let batch = CodeBatch {
        plan: plan.into(),
        count,
        uses,
        expires_at: hours.map(|h| api.clock.now() + Duration::hours(h)),
    };
    let now = api.clock.now();
    generate(&api.side, &api.roster.plans, &batch, Uuid::now_v7(), now)
        .await
        .unwrap()
        .codes
}

async fn join(api: &TestApi, member: Uuid, plan: &str, code: &str, from: &str) -> (u16, Value) {
    let answer = api
        .post(
            &format!("/v1/members/{member}/memberships"),
            json!({ "plan": plan, "access_code": code }),
        )
        .header("x-forwarded-for", from)
        .send()
        .await;
    (answer.status.as_u16(), answer.body.clone())
}

async fn access_codes_single_multi_expired_and_guessed(backend: Backend) {
    let api = spawn_api(backend).await;
    let price = json!({ "currency": "EUR", "amount": 5000, "interval": "year" });
    for slug in ["vip", "other"] {
        let plan = json!({ "name": slug, "prices": [price], "content_tags": ["lounge"] });
        let path = format!("/v1/plans/{slug}");
        api.call(Method::PUT, &path)
            .json(plan)
            .send()
            .await
            .expect(201);
    }
    let mut members = Vec::new();
    for n in 0..8 {
        members.push(api.active_member(&format!("code{n}@example.com")).await);
    }
    let single = codes(&api, "vip", 2, 1, None).await;
    let multi = codes(&api, "vip", 1, 2, None).await;
    let expiring = codes(&api, "vip", 1, 1, Some(1)).await;
    assert_eq!(single[0].len(), 19, "XXXX-XXXX-XXXX-XXXX: {}", single[0]);
    assert_ne!(single[0], single[1]);

    // Single use, typed in lower case without dashes: granted without payment, once.
    let typed = single[0].replace('-', "").to_lowercase();
    let (status, joined) = join(&api, members[0], "vip", &typed, "198.51.100.1").await;
    assert_eq!(status, 201, "{joined}");
    assert_eq!(joined["status"], "active");
    assert!(joined["price"].is_null());
    let (status, again) = join(&api, members[1], "vip", &single[0], "198.51.100.1").await;
    assert_eq!(
        (status, again["type"].as_str()),
        (400, Some("invalid-access-code"))
    );

    // A join refused after the code was taken gives the use back.
    let (status, refused) = join(&api, members[0], "vip", &single[1], "198.51.100.1").await;
    assert_eq!(
        (status, refused["type"].as_str()),
        (409, Some("already-member"))
    );
    let (status, _) = join(&api, members[1], "vip", &single[1], "198.51.100.1").await;
    assert_eq!(status, 201, "the use came back");

    // Multi use: twice, then no more.
    for member in &members[2..4] {
        let (status, body) = join(&api, *member, "vip", &multi[0], "198.51.100.1").await;
        assert_eq!(status, 201, "{body}");
    }
    let (status, _) = join(&api, members[4], "vip", &multi[0], "198.51.100.1").await;
    assert_eq!(status, 400);

    // Another plan's code, and an expired one.
    let (status, _) = join(&api, members[4], "other", &expiring[0], "198.51.100.1").await;
    assert_eq!(status, 400, "a vip code does not open other");
    api.clock.advance(Duration::hours(2));
    let (status, _) = join(&api, members[4], "vip", &expiring[0], "198.51.100.1").await;
    assert_eq!(status, 400, "expired");

    // Guessing: ten failures from one client, then even a good code waits.
    let good = codes(&api, "vip", 1, 1, None).await;
    for n in 0..10 {
        let guess = format!("AAAA-BBBB-CCCC-{n:04}");
        let (status, _) = join(&api, members[5], "vip", &guess, "203.0.113.9").await;
        assert_eq!(status, 400);
    }
    let (status, limited) = join(&api, members[5], "vip", &good[0], "203.0.113.9").await;
    assert_eq!(
        (status, limited["type"].as_str()),
        (429, Some("rate-limited"))
    );
    // Another client is not held back by the guesser.
    let (status, _) = join(&api, members[6], "vip", &good[0], "198.51.100.7").await;
    assert_eq!(status, 201);
}
