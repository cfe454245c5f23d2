//! Organization plans (packages) over HTTP: the owner (`billing.plan.manage`) puts the
//! organization on a plan and its seat limit follows; a downgrade keeps the seats already taken
//! and refuses new ones; an upgrade lets them in again; leaving the package returns to the
//! organization's own limit.

use axum::http::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::on_both_backends;
use crate::support::{Answer, Backend, TestApi as Api, spawn_api};

on_both_backends!(
    an_org_plan_gives_its_seat_limit_and_a_downgrade_keeps_the_seats_taken,
    only_an_organization_plan_that_is_not_retired_may_be_chosen,
);

fn team(seats: u32) -> Value {
    json!({
        "name": format!("Team of {seats}"),
        "prices": [{ "currency": "EUR", "amount": 2000 * seats, "interval": "month" }],
        "seat_limit": seats,
    })
}

async fn define(api: &Api, slug: &str, body: Value) {
    let path = format!("/v1/plans/{slug}");
    let response = api.call(Method::PUT, &path).json(body).send().await;
    assert_eq!(response.status, 201, "{:?}", response.body);
}

async fn add(api: &Api, org: Uuid, owner: Uuid, email: &str) -> (u16, Value) {
    let member = api.active_member(email).await;
    let response = api.add_to_org(org, owner, member, "freelancer").await;
    (response.status.as_u16(), response.body)
}

/// `PUT /v1/orgs/{org}/package` (`DELETE` for `None`) by `actor`.
async fn choose(api: &Api, org: Uuid, actor: Uuid, plan: Option<&str>) -> Answer {
    let path = format!("/v1/orgs/{org}/package");
    let call = match plan {
        Some(plan) => api.call(Method::PUT, &path).json(json!({ "plan": plan })),
        None => api.call(Method::DELETE, &path),
    };
    call.actor(actor).send().await
}

async fn an_org_plan_gives_its_seat_limit_and_a_downgrade_keeps_the_seats_taken(backend: Backend) {
    let api = spawn_api(backend).await;
    define(&api, "team-5", team(5)).await;
    define(&api, "team-2", team(2)).await;
    let owner = api.active_member("owner@example.com").await;
    let org = api.org(owner, 1).await;
    // On its own limit of 1, the owner fills the organization.
    assert_eq!(add(&api, org, owner, "early@example.com").await.0, 409);

    choose(&api, org, owner, Some("team-5")).await.expect(200);
    for n in 0..3 {
        let (status, body) = add(&api, org, owner, &format!("seat{n}@example.com")).await;
        assert_eq!(status, 201, "{body:?}");
    }
    let view = api.get(&format!("/v1/orgs/{org}")).send().await;
    assert_eq!(view.expect(200)["seat_limit"], 5);
    assert_eq!(view.body["seats_used"], 4);
    assert_eq!(view.body["package"]["plan"], "team-5");

    // A freelancer holds no billing.plan.manage.
    let freelancer: Uuid = view.body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["member_id"].as_str().unwrap().parse().unwrap())
        .find(|id| *id != owner)
        .unwrap();
    choose(&api, org, freelancer, Some("team-2"))
        .await
        .expect_problem(403, "forbidden");

    // The downgrade is accepted although 4 seats are taken: they stay, new ones are refused.
    choose(&api, org, owner, Some("team-2")).await.expect(200);
    let view = api.get(&format!("/v1/orgs/{org}")).send().await;
    assert_eq!(view.expect(200)["seat_limit"], 2);
    assert_eq!(view.body["seats_used"], 4);
    assert_eq!(view.body["members"].as_array().unwrap().len(), 4);
    let (status, body) = add(&api, org, owner, "late@example.com").await;
    assert_eq!(
        (status, body["type"].as_str()),
        (409, Some("seat-limit-reached")),
        "{body:?}"
    );
    let check = format!("/v1/check?member={freelancer}&org={org}&permission=content.pages.edit");
    assert_eq!(api.get(&check).send().await.expect(200)["allowed"], true);
    // The organization's own limit cannot be set while a package sets it.
    api.call(Method::PUT, &format!("/v1/orgs/{org}/seat-limit"))
        .json(json!({ "seat_limit": 9 }))
        .actor(owner)
        .send()
        .await
        .expect_problem(409, "invalid-state");

    // A change of the plan does not rewrite the organization's package.
    let path = "/v1/plans/team-2";
    api.call(Method::PUT, path)
        .json(team(3))
        .send()
        .await
        .expect(200);
    let view = api.get(&format!("/v1/orgs/{org}")).send().await;
    assert_eq!(view.expect(200)["seat_limit"], 2);

    // The upgrade lets one more in.
    choose(&api, org, owner, Some("team-5")).await.expect(200);
    assert_eq!(add(&api, org, owner, "fifth@example.com").await.0, 201);
    assert_eq!(add(&api, org, owner, "sixth@example.com").await.0, 409);

    // Off the package: the own limit (1) counts again; the five seats stay.
    choose(&api, org, owner, None).await.expect(200);
    let view = api.get(&format!("/v1/orgs/{org}")).send().await;
    assert_eq!(view.expect(200)["seat_limit"], 1);
    assert_eq!(view.body["seats_used"], 5);
    assert!(view.body["package"].is_null());
    let head = api.head().await;
    let audit = api
        .get(&format!("/v1/audit?org={org}&min_position={head}"))
        .send()
        .await;
    let text = audit.expect(200).to_string();
    assert!(
        text.contains("package changed to team-2 (2 seats)"),
        "{text}"
    );
    assert!(text.contains("package ended"), "{text}");
}

async fn only_an_organization_plan_that_is_not_retired_may_be_chosen(backend: Backend) {
    let api = spawn_api(backend).await;
    let solo = json!({
        "name": "Solo",
        "prices": [{ "currency": "EUR", "amount": 900, "interval": "month" }],
    });
    define(&api, "solo", solo).await;
    define(&api, "old-team", team(4)).await;
    api.post("/v1/plans/old-team/retire", json!({}))
        .send()
        .await
        .expect(200);
    let owner = api.active_member("owner@example.com").await;
    let org = api.org(owner, 1).await;
    let package = format!("/v1/orgs/{org}/package");
    for (plan, status, slug) in [
        ("solo", 422, "invalid-input"),
        ("old-team", 409, "invalid-state"),
        ("nothing-here", 404, "not-found"),
    ] {
        let answer = choose(&api, org, owner, Some(plan)).await;
        answer.expect_problem(status, slug);
    }
    api.call(Method::PUT, &package)
        .json(json!({ "plan": 5 }))
        .actor(owner)
        .send()
        .await
        .expect_problem(422, "invalid-input");
    let missing = Uuid::now_v7();
    api.call(Method::PUT, &format!("/v1/orgs/{missing}/package"))
        .json(json!({ "plan": "old-team" }))
        .send()
        .await
        .expect_problem(404, "not-found");
}
