//! API keys and scopes: 401 without a live key, 403 without the route's scope, on every route.

use axum::http::Method;
use chrono::Utc;
use roster_app::apikeys::Scope;
use serde_json::json;
use utoipa::OpenApi;

use crate::on_both_backends;
use crate::support::{Backend, new_key, spawn_api};

on_both_backends!(
    a_request_without_a_key_is_unauthorized,
    an_unknown_or_revoked_key_is_unauthorized,
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
    let keys = api.side.list_api_keys().await.unwrap();
    let newest = keys.last().unwrap();
    let revoked = api
        .side
        .revoke_api_key(&newest.id.to_string(), Utc::now())
        .await
        .unwrap();
    assert_eq!(revoked, 1);
    api.get("/v1/members")
        .key(&key)
        .send()
        .await
        .expect_problem(401, "unauthorized");
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
