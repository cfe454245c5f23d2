//! Members over HTTP: double opt-in with single-use expiring tokens, reads, lifecycle, erasure,
//! the list with its status filter and cursor.

use axum::http::Method;
use chrono::Duration;
use serde_json::json;

use crate::on_both_backends;
use crate::support::{Backend, spawn_api};

on_both_backends!(
    a_registered_member_confirms_with_the_token_from_the_outbox,
    a_token_works_once_and_not_after_it_expires,
    a_confirmation_that_fails_leaves_the_token_usable,
    resending_the_verification_mail_invalidates_the_older_link,
    resends_are_rate_limited_per_member_with_retry_after,
    failed_confirmations_are_rate_limited_per_client,
    successful_confirmations_do_not_count_against_the_client,
    the_log_holds_the_tokens_nonce_and_hash_but_never_the_token,
    a_member_is_edited_suspended_and_reactivated,
    erasure_shreds_the_personal_data,
    the_member_list_filters_by_status_and_pages_with_a_cursor,
);

async fn a_registered_member_confirms_with_the_token_from_the_outbox(backend: Backend) {
    let api = spawn_api(backend).await;
    let member = api.register("Ada@Example.com").await;
    let view = api.get(&format!("/v1/members/{member}")).send().await;
    let view = view.expect(200);
    assert_eq!(view["status"], "pending_confirmation");
    assert_eq!(view["email"], "ada@example.com");
    assert_eq!(view["email_verified"], false);

    let token = api.token_for(member).await;
    assert_eq!(token.len(), 43, "32 random bytes, URL-safe base64");
    let confirmed = api
        .post("/v1/members/confirm", json!({ "token": token }))
        .send()
        .await;
    let body = confirmed.expect(200);
    assert_eq!(body["status"], "active");
    assert_eq!(body["member_id"], member.to_string());
    let position = body["position"].as_u64().unwrap();
    assert_eq!(
        confirmed.headers["roster-position"],
        position.to_string().as_str()
    );

    let view = api.get(&format!("/v1/members/{member}")).send().await;
    assert_eq!(view.expect(200)["status"], "active");
    assert_eq!(view.body["email_verified"], true);
    // The log never holds the token.
    let log = api.store.read_all(0, 100).await.unwrap();
    assert!(log.iter().all(|e| !e.payload.to_string().contains(&token)));
}

async fn a_token_works_once_and_not_after_it_expires(backend: Backend) {
    let api = spawn_api(backend).await;
    let once = api.register("once@example.com").await;
    let token = api.token_for(once).await;
    api.post("/v1/members/confirm", json!({ "token": token }))
        .send()
        .await
        .expect(200);
    api.post("/v1/members/confirm", json!({ "token": token }))
        .send()
        .await
        .expect_problem(400, "invalid-token");
    api.post("/v1/members/confirm", json!({ "token": "made-up" }))
        .send()
        .await
        .expect_problem(400, "invalid-token");

    let late = api.register("late@example.com").await;
    let late = api.token_for(late).await;
    api.clock
        .advance(Duration::hours(24) + Duration::seconds(1));
    api.post("/v1/members/confirm", json!({ "token": late }))
        .send()
        .await
        .expect_problem(400, "invalid-token");
}

async fn resending_the_verification_mail_invalidates_the_older_link(backend: Backend) {
    let api = spawn_api(backend).await;
    let member = api.register("resend@example.com").await;
    let old = api.token_for(member).await;
    api.clock.advance(Duration::seconds(61));
    api.call(
        Method::POST,
        &format!("/v1/members/{member}/verification-email"),
    )
    .send()
    .await
    .expect(202);
    let new = api.token_for(member).await;
    assert_ne!(old, new);
    api.post("/v1/members/confirm", json!({ "token": old }))
        .send()
        .await
        .expect_problem(400, "invalid-token");
    api.post("/v1/members/confirm", json!({ "token": new }))
        .send()
        .await
        .expect(200);
    api.call(
        Method::POST,
        &format!("/v1/members/{member}/verification-email"),
    )
    .send()
    .await
    .expect_problem(409, "invalid-state");
}

async fn a_member_is_edited_suspended_and_reactivated(backend: Backend) {
    let api = spawn_api(backend).await;
    let member = api.active_member("life@example.com").await;
    let path = format!("/v1/members/{member}");
    api.call(Method::PATCH, &path)
        .json(json!({ "name": "New Name", "company": "Acme", "visibility": { "public": true, "searchable": false } }))
        .send()
        .await
        .expect(200);
    let view = api.get(&path).send().await;
    assert_eq!(view.expect(200)["name"], "New Name");
    assert_eq!(view.body["company"], "Acme");
    assert_eq!(view.body["visibility"]["public"], true);

    let suspended = api
        .post(
            &format!("{path}/suspend"),
            json!({ "reason": "chargeback fraud" }),
        )
        .send()
        .await;
    assert_eq!(suspended.expect(200)["status"], "suspended");
    let reactivated = api
        .call(Method::POST, &format!("{path}/reactivate"))
        .send()
        .await;
    assert_eq!(reactivated.expect(200)["status"], "active");
    api.call(Method::POST, &format!("{path}/reactivate"))
        .send()
        .await
        .expect_problem(409, "invalid-state");

    // The suspension reason is free text: the audit log records the suspension, not the text.
    let head = api.head().await;
    let audit = api
        .get(&format!("/v1/audit?member={member}&min_position={head}"))
        .send()
        .await;
    let summaries = audit.expect(200)["items"].to_string();
    assert!(summaries.contains("suspended"), "{summaries}");
    assert!(!summaries.contains("chargeback"), "{summaries}");
}

async fn erasure_shreds_the_personal_data(backend: Backend) {
    let api = spawn_api(backend).await;
    let member = api.active_member("gone@example.com").await;
    let path = format!("/v1/members/{member}");
    let erased = api.delete(&path).send().await;
    assert_eq!(erased.expect(200)["status"], "erased");
    let view = api.get(&path).send().await;
    assert_eq!(view.expect(200)["status"], "erased");
    assert!(view.body["email"].is_null() && view.body["name"].is_null());
    // Repeating the erasure is harmless (it finishes an interrupted one).
    api.delete(&path).send().await.expect(200);
    api.post(&format!("{path}/suspend"), json!({ "reason": "x" }))
        .send()
        .await
        .expect_problem(409, "invalid-state");
}

async fn the_member_list_filters_by_status_and_pages_with_a_cursor(backend: Backend) {
    let api = spawn_api(backend).await;
    let active = api.active_member("l1@example.com").await;
    let pending = api.register("l2@example.com").await;
    let active2 = api.active_member("l3@example.com").await;
    let head = api.head().await;

    let page = api
        .get(&format!(
            "/v1/members?status=active&limit=1&min_position={head}"
        ))
        .send()
        .await;
    let body = page.expect(200);
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
    assert_eq!(body["items"][0]["member_id"], active.to_string());
    assert_eq!(body["items"][0]["email"], "l1@example.com");
    let next = body["next"].as_str().unwrap().to_owned();
    let page = api
        .get(&format!("/v1/members?status=active&limit=1&after={next}"))
        .send()
        .await;
    assert_eq!(
        page.expect(200)["items"][0]["member_id"],
        active2.to_string()
    );
    if let Some(next) = page.body["next"].as_str() {
        let last = api
            .get(&format!("/v1/members?status=active&limit=1&after={next}"))
            .send()
            .await;
        assert!(last.expect(200)["items"].as_array().unwrap().is_empty());
    }

    let pending_page = api
        .get("/v1/members?status=pending_confirmation")
        .send()
        .await;
    let items = pending_page.expect(200)["items"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["member_id"], pending.to_string());
    assert!(pending_page.body["next"].is_null());
    api.get("/v1/members?status=sleeping")
        .send()
        .await
        .expect_problem(422, "invalid-input");
}

#[tokio::test]
async fn a_member_acting_for_themselves_may_edit_only_their_own_record() {
    let api = crate::support::spawn_api(Backend::Sqlite).await;
    let ada = api.active_member("self@example.com").await;
    let bob = api.active_member("other@example.com").await;
    api.call(Method::PATCH, &format!("/v1/members/{ada}"))
        .actor(ada)
        .json(json!({ "name": "Ada L." }))
        .send()
        .await
        .expect(200);
    api.call(Method::PATCH, &format!("/v1/members/{bob}"))
        .actor(ada)
        .json(json!({ "name": "Not Bob" }))
        .send()
        .await
        .expect_problem(403, "forbidden");
    api.call(Method::POST, &format!("/v1/members/{ada}/reactivate"))
        .actor(ada)
        .send()
        .await
        .expect_problem(403, "forbidden");
}

async fn a_confirmation_that_fails_leaves_the_token_usable(backend: Backend) {
    let api = spawn_api(backend).await;
    let member = api.register("retry@example.com").await;
    let token = api.token_for(member).await;
    // Confirming is for trusted callers: with a member as actor the command is refused.
    api.post("/v1/members/confirm", json!({ "token": token }))
        .actor(member)
        .send()
        .await
        .expect_problem(403, "forbidden");
    let confirmed = api
        .post("/v1/members/confirm", json!({ "token": token }))
        .send()
        .await;
    assert_eq!(confirmed.expect(200)["status"], "active");
}

async fn resends_are_rate_limited_per_member_with_retry_after(backend: Backend) {
    let api = spawn_api(backend).await;
    let member = api.register("often@example.com").await;
    let resend = format!("/v1/members/{member}/verification-email");
    api.clock.advance(Duration::seconds(15));
    let other = api.register("other@example.com").await;
    let limited = api.call(Method::POST, &resend).send().await;
    limited.expect_problem(429, "rate-limited");
    assert_eq!(limited.headers["retry-after"], "45");
    assert_eq!(limited.body["retry_after_seconds"], 45);
    // This one may ask again once its minute is over, whatever other members do.
    api.clock.advance(Duration::seconds(60));
    api.call(
        Method::POST,
        &format!("/v1/members/{other}/verification-email"),
    )
    .send()
    .await
    .expect(202);
    api.call(Method::POST, &resend).send().await.expect(202);
    api.call(
        Method::POST,
        "/v1/members/0190b7c8-0000-7000-8000-000000000000/verification-email",
    )
    .send()
    .await
    .expect_problem(404, "not-found");
}

async fn failed_confirmations_are_rate_limited_per_client(backend: Backend) {
    let api = spawn_api(backend).await;
    let member = api.register("victim@example.com").await;
    let token = api.token_for(member).await;
    let confirm = |token: &str, forwarded_for: &str| {
        api.post("/v1/members/confirm", json!({ "token": token }))
            .header("x-forwarded-for", forwarded_for)
    };
    // The client is the last address: the one the app's own proxy added. What comes before
    // it is the end user's to write, so varying it changes nothing.
    for n in 0..10 {
        confirm("guess", &format!("10.9.9.{n}, 203.0.113.9"))
            .send()
            .await
            .expect_problem(400, "invalid-token");
    }
    // The eleventh attempt from that client is refused even with the right token...
    let limited = confirm(&token, "198.51.100.250, 203.0.113.9").send().await;
    limited.expect_problem(429, "rate-limited");
    assert_eq!(limited.headers["retry-after"], "900");
    // ...while another end user of the same app goes on, and the first may again later.
    confirm("guess", "198.51.100.7")
        .send()
        .await
        .expect_problem(400, "invalid-token");
    api.clock.advance(Duration::minutes(15));
    let confirmed = confirm(&token, "203.0.113.9").send().await;
    assert_eq!(confirmed.expect(200)["status"], "active");
}

async fn successful_confirmations_do_not_count_against_the_client(backend: Backend) {
    let api = spawn_api(backend).await;
    for n in 0..12 {
        let member = api.register(&format!("ok{n}@example.com")).await;
        let token = api.token_for(member).await;
        api.post("/v1/members/confirm", json!({ "token": token }))
            .header("x-forwarded-for", "203.0.113.20")
            .send()
            .await
            .expect(200);
    }
}

async fn the_log_holds_the_tokens_nonce_and_hash_but_never_the_token(backend: Backend) {
    let api = spawn_api(backend).await;
    let member = api.register("sealed@example.com").await;
    let token = api.token_for(member).await;
    let log = api.store.read_all(0, 100).await.unwrap();
    let issued = log
        .iter()
        .find(|e| e.event_type == "MemberVerificationIssued.v1")
        .expect("the registration issues a token");
    assert_eq!(issued.payload["member_id"], member.to_string());
    assert!(issued.payload["nonce"].is_string());
    assert_eq!(issued.payload["token_hash"].as_str().unwrap().len(), 43);
    assert!(log.iter().all(|e| !e.payload.to_string().contains(&token)));
    assert!(
        log.iter()
            .all(|e| !e.metadata.correlation_id.to_string().contains(&token))
    );
}

/// One key's ceiling holds whatever client addresses a caller claims.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_confirmations_are_capped_per_api_key_across_clients() {
    let api = spawn_api(Backend::Sqlite).await;
    for n in 0..500u32 {
        api.post("/v1/members/confirm", json!({ "token": "guess" }))
            .header("x-forwarded-for", &format!("10.0.{}.{}", n / 256, n % 256))
            .send()
            .await
            .expect_problem(400, "invalid-token");
    }
    api.post("/v1/members/confirm", json!({ "token": "guess" }))
        .header("x-forwarded-for", "192.0.2.1")
        .send()
        .await
        .expect_problem(429, "rate-limited");
}
