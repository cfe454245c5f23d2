//! `Idempotency-Key`: same key and body replays the first answer without new events; same key
//! with another body is 422; a key still running is 409.

use chrono::Utc;
use roster_app::apikeys::Scope;
use roster_app::sidedb::StoredResponse;
use serde_json::json;

use crate::on_both_backends;
use crate::support::{Backend, new_key, spawn_api};

on_both_backends!(
    a_retried_command_replays_the_first_answer_without_new_events,
    the_same_key_with_another_body_is_refused,
    a_key_whose_first_request_is_still_running_is_a_conflict_until_abandoned,
    a_rejection_is_replayed_too,
    concurrent_requests_with_one_key_execute_once,
);

async fn a_retried_command_replays_the_first_answer_without_new_events(backend: Backend) {
    let api = spawn_api(backend).await;
    let body = json!({ "email": "retry@example.com", "name": "Retry" });
    let first = api
        .post("/v1/members", body.clone())
        .idempotency_key("register-retry-1")
        .send()
        .await;
    first.expect(201);
    let head = api.head().await;
    let again = api
        .post("/v1/members", body.clone())
        .idempotency_key("register-retry-1")
        .send()
        .await;
    assert_eq!(again.status, first.status);
    assert_eq!(again.body, first.body);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(api.head().await, head, "the replay appended nothing");
    // Without the key, the same body is a new command: the email is taken now.
    api.post("/v1/members", body)
        .send()
        .await
        .expect_problem(409, "email-taken");
}

async fn the_same_key_with_another_body_is_refused(backend: Backend) {
    let api = spawn_api(backend).await;
    api.post(
        "/v1/members",
        json!({ "email": "one@example.com", "name": "One" }),
    )
    .idempotency_key("k-1")
    .send()
    .await
    .expect(201);
    let head = api.head().await;
    api.post(
        "/v1/members",
        json!({ "email": "two@example.com", "name": "Two" }),
    )
    .idempotency_key("k-1")
    .send()
    .await
    .expect_problem(422, "idempotency-key-reused");
    assert_eq!(api.head().await, head);
    // Keys belong to their API key: another app may use the same string.
    let other = new_key(&api.side, &[Scope::Commands]).await;
    api.post(
        "/v1/members",
        json!({ "email": "two@example.com", "name": "Two" }),
    )
    .key(&other)
    .idempotency_key("k-1")
    .send()
    .await
    .expect(201);
}

async fn a_key_whose_first_request_is_still_running_is_a_conflict_until_abandoned(
    backend: Backend,
) {
    let api = spawn_api(backend).await;
    let keys = api.side.list_api_keys().await.unwrap();
    let owner = keys[0].id.to_string();
    // A reservation without an answer is what a request in flight leaves.
    api.side
        .reserve_idempotency_key(&owner, "in-flight", "some-hash", Utc::now())
        .await
        .unwrap();
    api.post(
        "/v1/members",
        json!({ "email": "x@example.com", "name": "X" }),
    )
    .idempotency_key("in-flight")
    .send()
    .await
    .expect_problem(409, "idempotency-key-in-progress");
    // A reservation nobody answered for a minute was abandoned: the next request runs.
    let long_ago = Utc::now() - chrono::Duration::seconds(120);
    api.side
        .reserve_idempotency_key(&owner, "abandoned", "some-hash", long_ago)
        .await
        .unwrap();
    api.post(
        "/v1/members",
        json!({ "email": "x@example.com", "name": "X" }),
    )
    .idempotency_key("abandoned")
    .send()
    .await
    .expect(201);
    // The abandoned request answers late: its answer must not replace the newer one's.
    let late = StoredResponse {
        status: 500,
        body: b"late".to_vec(),
    };
    api.side
        .complete_idempotency_key(&owner, "abandoned", long_ago, &late)
        .await
        .unwrap();
    api.side
        .release_idempotency_key(&owner, "abandoned", long_ago)
        .await
        .unwrap();
    let replayed = api
        .post(
            "/v1/members",
            json!({ "email": "x@example.com", "name": "X" }),
        )
        .idempotency_key("abandoned")
        .send()
        .await;
    assert_eq!(replayed.expect(201)["status"], "pending_confirmation");
}

async fn a_rejection_is_replayed_too(backend: Backend) {
    let api = spawn_api(backend).await;
    let body = json!({ "email": "not-an-email", "name": "X" });
    let first = api
        .post("/v1/members", body.clone())
        .idempotency_key("bad-1")
        .send()
        .await;
    first.expect_problem(422, "invalid-input");
    let again = api
        .post("/v1/members", body)
        .idempotency_key("bad-1")
        .send()
        .await;
    again.expect_problem(422, "invalid-input");
    assert_eq!(again.body, first.body);
    assert_eq!(again.headers["idempotent-replayed"], "true");
}

/// Creating an organization has no natural duplicate check (each request would make a new
/// org id), so only the key stands between ten racing retries and ten organizations.
async fn concurrent_requests_with_one_key_execute_once(backend: Backend) {
    let api = spawn_api(backend).await;
    let owner = api.active_member("racer@example.com").await;
    let body = json!({ "name": "Acme", "owner_id": owner, "seat_limit": 3 });
    let answers = futures::future::join_all((0..10).map(|_| {
        api.post("/v1/orgs", body.clone())
            .idempotency_key("create-org-once")
            .send()
    }))
    .await;
    let mut created = std::collections::BTreeSet::new();
    for answer in &answers {
        match answer.status.as_u16() {
            201 => {
                created.insert(answer.body["org_id"].to_string());
            }
            409 => assert_eq!(answer.problem_type(), "idempotency-key-in-progress"),
            other => panic!("unexpected {other}: {}", answer.body),
        }
    }
    assert_eq!(
        created.len(),
        1,
        "every success names the same organization"
    );
    let log = api.store.read_all(0, 1000).await.unwrap();
    let orgs = log
        .iter()
        .filter(|e| e.event_type == "OrgCreated.v1")
        .count();
    assert_eq!(orgs, 1);
}
