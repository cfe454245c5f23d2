//! The walk: register -> token from the outbox -> confirm -> org -> members up to the
//! seat limit (then 409) -> roles (owner may, administrator may not) -> check with reasons ->
//! audit shows it all; then SIGTERM stops the server cleanly, and its log holds no email.

use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

use crate::harness::{Backend, TestApp, spawn_app};

#[tokio::test]
async fn the_walk_from_registration_to_audit_on_sqlite() {
    walk(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_walk_from_registration_to_audit_on_postgres() {
    walk(Backend::Postgres).await;
}

async fn active_member(app: &TestApp, email: &str) -> Uuid {
    let registered = app
        .post(
            "/v1/members",
            None,
            json!({ "email": email, "name": "Walker" }),
        )
        .await;
    assert_eq!(registered.expect(201)["status"], "pending_confirmation");
    let member: Uuid = registered.body["member_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let token = app.token_for(email).await;
    // The worker reports the delivery right after handing the mail over; waiting for the
    // report keeps the audit assertions below exact.
    app.wait_for_audit(member, "MemberVerificationEmailSent.v1")
        .await;
    let confirmed = app
        .post("/v1/members/confirm", None, json!({ "token": token }))
        .await;
    assert_eq!(confirmed.expect(200)["status"], "active");
    app.post("/v1/members/confirm", None, json!({ "token": token }))
        .await
        .expect_problem(400, "invalid-token");
    member
}

async fn walk(backend: Backend) {
    let app = spawn_app(backend).await;
    app.get("/health/ready").await.expect(200);

    let owner = active_member(&app, "owner@example.com").await;
    let admin = active_member(&app, "admin@example.com").await;
    let freelancer = active_member(&app, "freelancer@example.com").await;
    let late = active_member(&app, "late@example.com").await;
    let member = app.get(&format!("/v1/members/{owner}")).await;
    assert_eq!(member.expect(200)["email"], "owner@example.com");
    assert_eq!(member.body["email_verified"], true);

    let org = app
        .post(
            "/v1/orgs",
            None,
            json!({ "name": "Acme", "owner_id": owner, "seat_limit": 3 }),
        )
        .await;
    let org: Uuid = org.expect(201)["org_id"].as_str().unwrap().parse().unwrap();
    let members = format!("/v1/orgs/{org}/members");
    for (who, role) in [(admin, "administrator"), (freelancer, "freelancer")] {
        app.post(
            &members,
            Some(owner),
            json!({ "member_id": who, "role": role }),
        )
        .await
        .expect(201);
    }
    app.post(
        &members,
        Some(owner),
        json!({ "member_id": late, "role": "freelancer" }),
    )
    .await
    .expect_problem(409, "seat-limit-reached");

    let roles = format!("/v1/orgs/{org}/members/{freelancer}/roles");
    app.post(&roles, Some(admin), json!({ "role": "administrator" }))
        .await
        .expect_problem(403, "forbidden");
    app.post(&roles, Some(owner), json!({ "role": "administrator" }))
        .await
        .expect(201);
    app.send(
        Method::DELETE,
        &format!("{roles}/administrator"),
        Some(admin),
        None,
    )
    .await
    .expect_problem(403, "forbidden");
    app.send(
        Method::DELETE,
        &format!("{roles}/administrator"),
        Some(owner),
        None,
    )
    .await
    .expect(204);

    let check = |who: Uuid, permission: &str| {
        format!("/v1/check?member={who}&org={org}&permission={permission}")
    };
    let allowed = app.get(&check(admin, "customers.view")).await;
    assert_eq!(allowed.expect(200)["allowed"], true);
    assert_eq!(allowed.body["via"], json!([{ "role": "administrator" }]));
    let denied = app.get(&check(freelancer, "customers.view")).await;
    assert_eq!(denied.expect(200)["allowed"], false);
    assert_eq!(denied.body["via"], json!([]));

    let head = app.get("/health/ready").await.expect(200)["head"]
        .as_u64()
        .unwrap();
    let audit = app
        .get(&format!(
            "/v1/audit?member={freelancer}&min_position={head}"
        ))
        .await;
    let items = audit.expect(200)["items"].as_array().unwrap().clone();
    let types: Vec<&str> = items.iter().map(|i| i["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "MemberRegistered.v1",
            "MemberVerificationIssued.v1",
            "MemberVerificationEmailSent.v1",
            "MemberEmailConfirmed.v1",
            "OrgMemberAdded.v1",
            "OrgRoleAssigned.v1",
            "OrgRoleRevoked.v1",
        ]
    );
    assert!(items[4..].iter().all(|i| i["actor"] == owner.to_string()));
    assert_eq!(items[2]["actor_kind"], "worker");
    let everything = app.get("/v1/audit").await;
    let all = everything.expect(200)["items"].as_array().unwrap().len();
    assert_eq!(
        all,
        4 * 4 + 1 + 2 + 2,
        "registrations with their tokens and mails, confirmations, org, members, roles"
    );

    let ready = app.get("/health/ready").await;
    assert_eq!(ready.expect(200)["status"], "ok");
    let metrics = app.get("/metrics").await;
    let metrics = metrics.body.as_str().unwrap_or_default().to_owned();
    assert!(
        metrics.contains(
            "roster_http_requests_total{route=\"/v1/members\",method=\"POST\",status=\"201\"}"
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains("roster_http_request_duration_seconds_bucket"),
        "{metrics}"
    );
    assert!(
        metrics.contains("roster_command_duration_seconds"),
        "{metrics}"
    );
    assert!(
        metrics.contains("roster_append_duration_seconds"),
        "{metrics}"
    );
    assert!(
        metrics.contains("roster_projection_lag_events"),
        "{metrics}"
    );

    let log = app.stop();
    assert!(log.contains("\"request_id\""), "JSON request logs");
    assert!(!log.contains("@example.com"), "no email address in the log");
    assert!(!log.contains("Walker"), "no name in the log");
}
