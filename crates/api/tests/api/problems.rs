//! Every problem type: the ones a request can provoke are provoked over HTTP (here or in the
//! other modules); the ones that need a broken store are checked on the mapping table.

use axum::http::Method;
use roster_api::problem::{ApiError, ProblemType};
use roster_app::AppError;
use roster_domain::DomainError;
use roster_store::StoreError;
use serde_json::json;

use crate::on_both_backends;
use crate::support::{Backend, spawn_api, spawn_api_with_limit};

on_both_backends!(
    invalid_bodies_are_refused_naming_the_field,
    business_rejections_keep_their_domain_slugs,
);

async fn invalid_bodies_are_refused_naming_the_field(backend: Backend) {
    let api = spawn_api(backend).await;
    let bad_email = api
        .post("/v1/members", json!({ "email": "nope", "name": "N" }))
        .send()
        .await;
    assert_eq!(
        bad_email.expect_problem(422, "invalid-input")["field"],
        "email"
    );
    let unknown = api
        .post(
            "/v1/members",
            json!({ "email": "u@example.com", "name": "N", "admin": true }),
        )
        .send()
        .await;
    assert_eq!(
        unknown.expect_problem(422, "invalid-input")["field"],
        "admin"
    );
    let missing = api
        .post("/v1/members", json!({ "email": "u@example.com" }))
        .send()
        .await;
    assert_eq!(
        missing.expect_problem(422, "invalid-input")["field"],
        "name"
    );
    let wrong_type = api
        .post(
            "/v1/orgs",
            json!({ "name": "A", "owner_id": "x", "seat_limit": 1 }),
        )
        .send()
        .await;
    assert_eq!(
        wrong_type.expect_problem(422, "invalid-input")["field"],
        "owner_id"
    );
    let bad_actor = api
        .post(
            "/v1/members",
            json!({ "email": "u@example.com", "name": "N" }),
        )
        .header("x-roster-actor", "someone")
        .send()
        .await;
    assert_eq!(
        bad_actor.expect_problem(422, "invalid-input")["field"],
        "X-Roster-Actor"
    );
    api.call(Method::POST, "/v1/members")
        .raw("application/json", "{\"email\": ")
        .send()
        .await
        .expect_problem(400, "malformed-json");
    api.call(Method::POST, "/v1/members")
        .raw("text/plain", "email=a@example.com")
        .send()
        .await
        .expect_problem(415, "unsupported-media-type");
    assert_eq!(api.head().await, 0, "nothing was written");
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused() {
    let api = spawn_api_with_limit(Backend::Sqlite, 1024).await;
    let name = "x".repeat(2048);
    api.post(
        "/v1/members",
        json!({ "email": "big@example.com", "name": name }),
    )
    .send()
    .await
    .expect_problem(413, "payload-too-large");
    api.post(
        "/v1/members",
        json!({ "email": "big@example.com", "name": name }),
    )
    .idempotency_key("big")
    .send()
    .await
    .expect_problem(413, "payload-too-large");
}

#[tokio::test]
async fn unknown_things_and_routes_are_not_found() {
    let api = spawn_api(Backend::Sqlite).await;
    let missing = uuid::Uuid::now_v7();
    api.get(&format!("/v1/members/{missing}"))
        .send()
        .await
        .expect_problem(404, "not-found");
    api.get("/v1/members/not-an-id")
        .send()
        .await
        .expect_problem(404, "not-found");
    api.get(&format!("/v1/orgs/{missing}"))
        .send()
        .await
        .expect_problem(404, "not-found");
    api.get("/v1/nothing-here")
        .send()
        .await
        .expect_problem(404, "not-found");
    api.call(Method::PUT, "/v1/members")
        .send()
        .await
        .expect_problem(405, "method-not-allowed");
    // An organization needs a registered owner.
    api.post(
        "/v1/orgs",
        json!({ "name": "A", "owner_id": missing, "seat_limit": 2 }),
    )
    .send()
    .await
    .expect_problem(404, "not-found");
}

async fn business_rejections_keep_their_domain_slugs(backend: Backend) {
    let api = spawn_api(backend).await;
    let owner = api.active_member("bo@example.com").await;
    let member = api.active_member("bm@example.com").await;
    let stranger = api.active_member("bs@example.com").await;
    let org = api.org(owner, 5).await;
    let members = format!("/v1/orgs/{org}/members");
    api.post(&members, json!({ "member_id": member, "role": "member" }))
        .send()
        .await
        .expect(201);
    api.post(&members, json!({ "member_id": member, "role": "member" }))
        .send()
        .await
        .expect_problem(409, "already-member");
    api.post(&members, json!({ "member_id": stranger, "role": "wizard" }))
        .send()
        .await
        .expect_problem(422, "unknown-role");
    api.post(
        &format!("/v1/orgs/{org}/members/{stranger}/roles"),
        json!({ "role": "member" }),
    )
    .send()
    .await
    .expect_problem(404, "not-a-member");
    let roles = format!("/v1/orgs/{org}/roles");
    api.post(
        &roles,
        json!({ "name": "ghost", "permissions": ["castle.haunt.do"] }),
    )
    .send()
    .await
    .expect_problem(422, "unknown-permission");
    api.post(
        &roles,
        json!({ "name": "editor", "permissions": ["content.posts.edit"] }),
    )
    .send()
    .await
    .expect(201);
    api.post(
        &roles,
        json!({ "name": "editor", "permissions": ["content.posts.edit"] }),
    )
    .send()
    .await
    .expect_problem(409, "already-exists");
    api.call(Method::PUT, &format!("/v1/orgs/{org}/seat-limit"))
        .json(json!({ "seat_limit": 1 }))
        .send()
        .await
        .expect_problem(409, "seat-limit-reached");
    api.call(Method::PUT, &format!("/v1/orgs/{org}/seat-limit"))
        .json(json!({ "seat_limit": 0 }))
        .send()
        .await
        .expect_problem(422, "invalid-input");
}

#[test]
fn failures_without_a_request_to_provoke_them_map_through_the_same_table() {
    let contended = ApiError::from(AppError::Contended {
        stream: "org-1".into(),
        attempts: 64,
    });
    assert_eq!(contended.kind, ProblemType::VersionConflict);
    assert_eq!(contended.kind.status().as_u16(), 409);
    let broken = ApiError::from(AppError::Store(StoreError::Closed));
    assert_eq!(broken.kind, ProblemType::Internal);
    assert_eq!(broken.kind.status().as_u16(), 500);
    assert!(
        !broken.detail.contains("closed"),
        "the cause is logged, not shown"
    );
    assert_eq!(ProblemType::NotReady.status().as_u16(), 503);
    let domain = ApiError::from(AppError::Domain(DomainError::SeatLimitReached { limit: 2 }));
    assert_eq!(
        domain.kind.slug(),
        DomainError::SeatLimitReached { limit: 2 }.code()
    );
    let taken = ApiError::from(AppError::Taken {
        scope: "email".into(),
    });
    assert_eq!(taken.problem().kind, ProblemType::EmailTaken);
}

/// The domain's slugs and the API's agree, so a client can branch on either.
#[test]
fn every_domain_rejection_keeps_its_slug() {
    let errors = [
        DomainError::InvalidInput {
            field: "f".into(),
            reason: "r".into(),
        },
        DomainError::NotFound { what: "x".into() },
        DomainError::AlreadyExists { what: "x".into() },
        DomainError::InvalidState {
            message: "x".into(),
        },
        DomainError::Forbidden {
            permission: "p".into(),
        },
        DomainError::NotAllowed { reason: "r".into() },
        DomainError::SeatLimitReached { limit: 1 },
        DomainError::LastOwner,
        DomainError::AlreadyMember {
            member_id: uuid::Uuid::nil(),
        },
        DomainError::NotAMember {
            member_id: uuid::Uuid::nil(),
        },
        DomainError::UnknownRole { role: "r".into() },
        DomainError::UnknownPermission {
            permission: "p".into(),
        },
    ];
    for error in errors {
        let code = error.code();
        assert_eq!(ApiError::from(AppError::Domain(error)).kind.slug(), code);
    }
}

#[tokio::test]
async fn a_read_model_that_does_not_reach_min_position_in_time_is_reported() {
    let api = spawn_api(Backend::Sqlite).await;
    let beyond = api.head().await + 1000;
    api.get(&format!("/v1/audit?min_position={beyond}"))
        .send()
        .await
        .expect_problem(503, "projection-behind");
}

#[tokio::test]
async fn a_failed_projection_makes_the_service_not_ready() {
    use roster_api::probe::{ComponentStatus, Probe, ProbeFuture};
    let probe: Probe = std::sync::Arc::new(|| -> ProbeFuture {
        Box::pin(async {
            Ok(vec![ComponentStatus {
                name: "accounts_v1".into(),
                healthy: false,
                lag_events: 3,
                lag_seconds: 1.5,
                detail: Some("stopped at position 7".into()),
            }])
        })
    });
    let api = crate::support::spawn_api_with_probe(Backend::Sqlite, probe).await;
    let ready = api.get("/health/ready").without_key().send().await;
    ready.expect_problem(503, "not-ready");
    assert!(
        ready.body["detail"]
            .as_str()
            .unwrap()
            .contains("accounts_v1"),
        "{}",
        ready.body
    );
    api.get("/health/live")
        .without_key()
        .send()
        .await
        .expect(200);
}
