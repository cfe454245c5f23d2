//! Organizations over HTTP: seats, who may change roles, checks with reasons (also at a past
//! instant), and the audit log.

use axum::http::Method;
use chrono::Utc;
use roster_app::clock::Clock;
use serde_json::json;

use crate::on_both_backends;
use crate::support::{Backend, spawn_api};

on_both_backends!(
    members_fill_the_seats_then_the_next_is_refused,
    an_owner_may_change_roles_and_an_administrator_may_not,
    a_check_names_the_role_and_group_that_allow_it,
    a_check_at_a_past_instant_answers_from_the_log,
    the_audit_log_shows_who_did_what,
    a_suspended_owner_is_denied_every_check_and_every_command,
);

async fn members_fill_the_seats_then_the_next_is_refused(backend: Backend) {
    let api = spawn_api(backend).await;
    let owner = api.active_member("owner@example.com").await;
    let org = api.org(owner, 3).await;
    for n in 0..2 {
        let member = api.active_member(&format!("seat{n}@example.com")).await;
        api.post(
            &format!("/v1/orgs/{org}/members"),
            json!({ "member_id": member, "role": "freelancer" }),
        )
        .actor(owner)
        .send()
        .await
        .expect(201);
    }
    let extra = api.active_member("extra@example.com").await;
    api.post(
        &format!("/v1/orgs/{org}/members"),
        json!({ "member_id": extra, "role": "freelancer" }),
    )
    .actor(owner)
    .send()
    .await
    .expect_problem(409, "seat-limit-reached");
    // Customers take no seat.
    api.post(
        &format!("/v1/orgs/{org}/members"),
        json!({ "member_id": extra, "role": "customer" }),
    )
    .actor(owner)
    .send()
    .await
    .expect(201);
    let view = api.get(&format!("/v1/orgs/{org}")).send().await;
    assert_eq!(view.expect(200)["seats_used"], 3);
    assert_eq!(view.body["members"].as_array().unwrap().len(), 4);
}

async fn an_owner_may_change_roles_and_an_administrator_may_not(backend: Backend) {
    let api = spawn_api(backend).await;
    let owner = api.active_member("o@example.com").await;
    let admin = api.active_member("a@example.com").await;
    let other = api.active_member("m@example.com").await;
    let org = api.org(owner, 5).await;
    for (member, role) in [(admin, "administrator"), (other, "member")] {
        api.post(
            &format!("/v1/orgs/{org}/members"),
            json!({ "member_id": member, "role": role }),
        )
        .actor(owner)
        .send()
        .await
        .expect(201);
    }
    let roles = format!("/v1/orgs/{org}/members/{other}/roles");
    api.post(&roles, json!({ "role": "freelancer" }))
        .actor(admin)
        .send()
        .await
        .expect_problem(403, "forbidden");
    api.post(
        &roles,
        json!({ "role": "freelancer", "scope": "channel:42" }),
    )
    .actor(owner)
    .send()
    .await
    .expect(201);
    api.delete(&format!("{roles}/freelancer?scope=channel:42"))
        .actor(admin)
        .send()
        .await
        .expect_problem(403, "forbidden");
    let revoked = api
        .delete(&format!("{roles}/freelancer?scope=channel:42"))
        .actor(owner)
        .send()
        .await;
    revoked.expect(204);
    assert!(revoked.headers.contains_key("roster-position"));
    // The last owner stays.
    api.delete(&format!("/v1/orgs/{org}/members/{owner}/roles/owner"))
        .actor(owner)
        .send()
        .await
        .expect_problem(409, "last-owner");
}

async fn a_check_names_the_role_and_group_that_allow_it(backend: Backend) {
    let api = spawn_api(backend).await;
    let owner = api.active_member("co@example.com").await;
    let writer = api.active_member("cw@example.com").await;
    let org = api.org(owner, 5).await;
    api.post(
        &format!("/v1/orgs/{org}/members"),
        json!({ "member_id": writer, "role": "customer" }),
    )
    .send()
    .await
    .expect(201);
    api.post(
        &format!("/v1/orgs/{org}/roles"),
        json!({ "name": "editor", "permissions": ["content.posts.edit"] }),
    )
    .send()
    .await
    .expect(201);
    let group = api
        .post(
            &format!("/v1/orgs/{org}/groups"),
            json!({ "name": "Editors" }),
        )
        .send()
        .await;
    let group = group.expect(201)["group_id"].as_str().unwrap().to_owned();
    api.post(
        &format!("/v1/orgs/{org}/groups/{group}/roles"),
        json!({ "role": "editor" }),
    )
    .send()
    .await
    .expect(201);
    api.post(
        &format!("/v1/orgs/{org}/groups/{group}/members"),
        json!({ "member_id": writer }),
    )
    .send()
    .await
    .expect(201);

    let check = |member: uuid::Uuid, permission: &str| {
        format!("/v1/check?member={member}&org={org}&permission={permission}")
    };
    let allowed = api.get(&check(writer, "content.posts.edit")).send().await;
    let body = allowed.expect(200);
    assert_eq!(body["allowed"], true);
    assert_eq!(
        body["via"],
        json!([{ "role": "editor", "group": "Editors", "group_id": group }])
    );
    let denied = api
        .get(&check(writer, "billing.invoices.view"))
        .send()
        .await;
    assert_eq!(denied.expect(200)["allowed"], false);
    let owner_check = api.get(&check(owner, "billing.invoices.view")).send().await;
    assert_eq!(owner_check.expect(200)["via"], json!([{ "role": "owner" }]));

    api.delete(&format!("/v1/orgs/{org}/groups/{group}/members/{writer}"))
        .send()
        .await
        .expect(204);
    let after_leaving = api.get(&check(writer, "content.posts.edit")).send().await;
    assert_eq!(after_leaving.expect(200)["allowed"], false);
    api.get(&format!(
        "/v1/check?member={writer}&org={}&permission=content.posts.edit",
        uuid::Uuid::now_v7()
    ))
    .send()
    .await
    .expect_problem(404, "not-found");
}

async fn a_check_at_a_past_instant_answers_from_the_log(backend: Backend) {
    let api = spawn_api(backend).await;
    let owner = api.active_member("po@example.com").await;
    let member = api.active_member("pm@example.com").await;
    let org = api.org(owner, 5).await;
    api.post(
        &format!("/v1/orgs/{org}/members"),
        json!({ "member_id": member, "role": "member" }),
    )
    .send()
    .await
    .expect(201);
    api.clock.advance(chrono::Duration::seconds(1));
    let before = api.clock.now();
    api.clock.advance(chrono::Duration::seconds(1));
    api.post(
        &format!("/v1/orgs/{org}/members/{member}/roles"),
        json!({ "role": "administrator" }),
    )
    .send()
    .await
    .expect(201);
    let path = |at: Option<chrono::DateTime<Utc>>| {
        let at = at.map(|t| {
            format!(
                "&at={}",
                t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
            )
        });
        format!(
            "/v1/check?member={member}&org={org}&permission=customers.view{}",
            at.unwrap_or_default()
        )
        .replace('+', "%2B")
    };
    let now = api.get(&path(None)).send().await;
    assert_eq!(now.expect(200)["allowed"], true);
    let then = api.get(&path(Some(before))).send().await;
    assert_eq!(then.expect(200)["allowed"], false);
}

async fn the_audit_log_shows_who_did_what(backend: Backend) {
    let api = spawn_api(backend).await;
    let owner = api.active_member("ao@example.com").await;
    let member = api.active_member("am@example.com").await;
    let org = api.org(owner, 5).await;
    api.post(
        &format!("/v1/orgs/{org}/members"),
        json!({ "member_id": member, "role": "member" }),
    )
    .actor(owner)
    .send()
    .await
    .expect(201);
    let head = api.head().await;
    let audit = api
        .get(&format!("/v1/audit?member={member}&min_position={head}"))
        .send()
        .await;
    let items = audit.expect(200)["items"].as_array().unwrap().clone();
    let types: Vec<_> = items.iter().map(|i| i["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "MemberRegistered.v1",
            "MemberVerificationIssued.v1",
            "MemberEmailConfirmed.v1",
            "OrgMemberAdded.v1"
        ]
    );
    assert_eq!(items[3]["actor_kind"], "member");
    assert_eq!(items[3]["actor"], owner.to_string());
    assert_eq!(items[0]["actor_kind"], "app");
    assert!(items[3]["summary"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(
        !audit.body.to_string().contains("am@example.com"),
        "no personal data"
    );

    let by_owner = api.get(&format!("/v1/audit?actor={owner}")).send().await;
    assert_eq!(by_owner.expect(200)["items"].as_array().unwrap().len(), 1);
    let paged = api.get("/v1/audit?limit=2").send().await;
    let next = paged.expect(200)["next"].as_u64().unwrap();
    let rest = api.get(&format!("/v1/audit?after={next}")).send().await;
    assert_eq!(rest.expect(200)["items"][0]["position"], next + 1);
    api.call(Method::GET, "/v1/audit?limit=0")
        .send()
        .await
        .expect_problem(422, "invalid-input");
}

#[tokio::test]
async fn the_correlation_id_of_a_request_is_kept_in_the_events() {
    let api = spawn_api(Backend::Sqlite).await;
    let correlation = uuid::Uuid::now_v7();
    let answer = api
        .post(
            "/v1/members",
            json!({ "email": "corr@example.com", "name": "C" }),
        )
        .header("x-correlation-id", &correlation.to_string())
        .header("x-request-id", "req-123")
        .send()
        .await;
    answer.expect(201);
    assert_eq!(answer.headers["x-request-id"], "req-123");
    let head = api.head().await;
    let audit = api
        .get(&format!("/v1/audit?min_position={head}"))
        .send()
        .await;
    assert_eq!(
        audit.expect(200)["items"][0]["correlation_id"],
        correlation.to_string()
    );
}

async fn a_suspended_owner_is_denied_every_check_and_every_command(backend: Backend) {
    let api = spawn_api(backend).await;
    let owner = api.active_member("owner@example.com").await;
    let newcomer = api.active_member("new@example.com").await;
    let org = api.org(owner, 3).await;
    let check = format!("/v1/check?member={owner}&org={org}&permission=members.roles.assign");
    assert_eq!(api.get(&check).send().await.expect(200)["allowed"], true);

    let suspend = json!({ "reason": "chargeback fraud" });
    api.post(&format!("/v1/members/{owner}/suspend"), suspend)
        .send()
        .await
        .expect(200);
    let denied = api.get(&check).send().await;
    assert_eq!(denied.expect(200)["allowed"], false);
    assert_eq!(denied.body["via"], json!([]));
    let add = json!({ "member_id": newcomer, "role": "member" });
    api.post(&format!("/v1/orgs/{org}/members"), add.clone())
        .actor(owner)
        .send()
        .await
        .expect_problem(403, "forbidden");

    api.call(Method::POST, &format!("/v1/members/{owner}/reactivate"))
        .send()
        .await
        .expect(200);
    assert_eq!(api.get(&check).send().await.expect(200)["allowed"], true);
    api.post(&format!("/v1/orgs/{org}/members"), add)
        .actor(owner)
        .send()
        .await
        .expect(201);
}
