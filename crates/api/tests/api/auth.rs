//! API keys and scopes: 401 without a live key, 403 without the route's scope, on every route.

use axum::http::Method;
use std::sync::Arc;
use std::time::Duration;

use roster_app::apikeys::{self, Scope};
use roster_app::clock::{Clock, ManualClock, V7Ids};
use roster_app::{CommandMeta, Roster};
use roster_store::ActorRef;
use serde_json::json;
use utoipa::OpenApi;
use uuid::Uuid;

use crate::on_both_backends;
use crate::support::{Backend, new_key, spawn_api};

on_both_backends!(
    a_request_without_a_key_is_unauthorized,
    an_unknown_or_revoked_key_is_unauthorized,
    a_key_revoked_by_another_process_is_refused_once_the_log_says_so,
    a_key_without_the_routes_scope_is_forbidden,
);

async fn a_request_without_a_key_is_unauthorized(backend: Backend) {
    let api = spawn_api(backend).await;
    let answer = api
        .post(
            "/v1/members",
            json!({ "email": "a@example.com", "name": "A" }),
        )
        .without_key()
        .send()
        .await;
    answer.expect_problem(401, "unauthorized");
    assert_eq!(api.head().await, 0, "nothing was written");
}

async fn an_unknown_or_revoked_key_is_unauthorized(backend: Backend) {
    let api = spawn_api(backend).await;
    api.get("/v1/members")
        .key("roster_not-a-real-key")
        .send()
        .await
        .expect_problem(401, "unauthorized");
    let key = new_key(&api.side, &[Scope::Queries]).await;
    api.get("/v1/members").key(&key).send().await.expect(200);
    let newest = api.side.list_api_keys().await.unwrap().pop().unwrap();
    let revoked = revoke(&api.roster, &newest.id.to_string()).await;
    assert_eq!(revoked, vec![newest.id]);
    api.get("/v1/members")
        .key(&key)
        .send()
        .await
        .expect_problem(401, "unauthorized");
    // The revocation is a fact in the log, once: revoking again records nothing.
    let stream = format!("apikey-{}", newest.id);
    let recorded = api.store.read_stream(&stream, 0, 10).await.unwrap();
    let types: Vec<_> = recorded.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(types, ["ApiKeyRevoked.v1"]);
    assert!(revoke(&api.roster, &newest.id.to_string()).await.is_empty());
    assert_eq!(
        api.store.read_stream(&stream, 0, 10).await.unwrap().len(),
        1
    );
    // The audit log says who revoked which key.
    let head = api.head().await;
    let audit = api
        .get(&format!("/v1/audit?actor=test&min_position={head}"))
        .send()
        .await;
    let items = audit.expect(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["type"], "ApiKeyRevoked.v1");
    assert_eq!(items[0]["actor_kind"], "operator");
    let summary = items[0]["summary"].as_str().unwrap();
    assert!(summary.contains(&newest.id.to_string()), "{summary}");
}

/// API processes remember the keys they have seen while the log's head stays put: a key
/// revoked through another process (another handle on the same store, as `roster keys revoke`
/// is) is refused as soon as this process's change notifications carry the revocation.
async fn a_key_revoked_by_another_process_is_refused_once_the_log_says_so(backend: Backend) {
    let api = spawn_api(backend).await;
    let key = new_key(&api.side, &[Scope::Queries]).await;
    api.get("/v1/members").key(&key).send().await.expect(200);
    api.get("/v1/members").key(&key).send().await.expect(200);
    let clock = Arc::new(ManualClock::new(api.clock.now()));
    let other = roster_app::open((*api.roster.settings).clone(), clock, Arc::new(V7Ids))
        .await
        .unwrap();
    let newest = api.side.list_api_keys().await.unwrap().pop().unwrap();
    assert_eq!(
        revoke(&other, &newest.name).await.len(),
        4,
        "every key named test"
    );
    let revoked_at = other.log.head().await.unwrap();
    // Waits for the notification (PostgreSQL's NOTIFY, SQLite's data_version watcher), which
    // comes from another connection and takes its own time; the bound only fails the test.
    let mut changes = api.store.changes();
    tokio::time::timeout(
        Duration::from_secs(10),
        changes.wait_for(|head| *head >= revoked_at),
    )
    .await
    .expect("the revocation reaches this process")
    .unwrap();
    api.get("/v1/members")
        .key(&key)
        .send()
        .await
        .expect_problem(401, "unauthorized");
}

async fn revoke(roster: &Roster, key: &str) -> Vec<Uuid> {
    let meta = CommandMeta::new(ActorRef::Operator("test".into()));
    apikeys::revoke(&roster.commands, &roster.side, key, &meta)
        .await
        .unwrap()
        .into_iter()
        .map(|key| key.id)
        .collect()
}

async fn a_key_without_the_routes_scope_is_forbidden(backend: Backend) {
    let api = spawn_api(backend).await;
    let member = api.register("scoped@example.com").await;
    api.post(
        "/v1/members",
        json!({ "email": "b@example.com", "name": "B" }),
    )
    .key(&api.queries_key)
    .send()
    .await
    .expect_problem(403, "insufficient-scope");
    api.get(&format!("/v1/members/{member}"))
        .key(&api.commands_key)
        .send()
        .await
        .expect_problem(403, "insufficient-scope");
    api.get(&format!("/v1/members/{member}"))
        .key(&api.queries_key)
        .send()
        .await
        .expect(200);
    // Erasure and metrics are operator business.
    api.delete(&format!("/v1/members/{member}"))
        .key(&api.commands_key)
        .send()
        .await
        .expect_problem(403, "insufficient-scope");
    api.get("/metrics")
        .key(&api.queries_key)
        .send()
        .await
        .expect_problem(403, "insufficient-scope");
}

/// Walks the OpenAPI document: every route that declares a security requirement answers 401
/// without a key, so no route can forget its scope.
#[tokio::test]
async fn every_secured_route_of_the_contract_refuses_a_request_without_a_key() {
    let api = spawn_api(Backend::Sqlite).await;
    let doc = roster_api::openapi::ApiDoc::openapi();
    let doc = serde_json::to_value(&doc).unwrap();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let secured = operation.get("security").is_some();
            let concrete = path
                .replace("{member}", &uuid::Uuid::now_v7().to_string())
                .replace("{org}", &uuid::Uuid::now_v7().to_string())
                .replace("{group}", &uuid::Uuid::now_v7().to_string())
                .replace("{payment}", &uuid::Uuid::now_v7().to_string())
                .replace("{slug}", "gold")
                .replace("{role}", "owner");
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let answer = api
                .call(method.clone(), &concrete)
                .without_key()
                .json(json!({}))
                .send()
                .await;
            if secured {
                assert_eq!(
                    answer.status.as_u16(),
                    401,
                    "{method} {path}: {}",
                    answer.body
                );
                checked += 1;
            } else {
                assert_ne!(
                    answer.status.as_u16(),
                    401,
                    "{method} {path} should be public"
                );
            }
        }
    }
    assert!(checked >= 25, "only {checked} secured operations");
}
