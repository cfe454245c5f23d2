//! Operator reports over HTTP, and the scheduler settling expired role grants: the memberships
//! report (members per plan and status, joins and cancellations per month, recurring revenue
//! per currency, waiting lists), the access review (privileged roles of members idle for N
//! days), and a role grant's expiry recorded by its timer.

use axum::http::Method;
use chrono::Duration;
use roster_app::clock::Clock;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::memberships::{drain, free, id_of, join, monthly, plan};
use crate::on_both_backends;
use crate::stripe::LocalStripe;
use crate::support::{Backend, TestApi, spawn_api};

on_both_backends!(
    the_memberships_report_counts_plans_months_revenue_and_waiting_lists,
    the_access_review_lists_idle_members_who_hold_privileged_roles,
    an_expired_role_grant_is_settled_by_its_timer,
);

async fn report(api: &TestApi, path: &str) -> Value {
    let head = api.head().await;
    let sep = if path.contains('?') { '&' } else { '?' };
    let answer = api
        .get(&format!("{path}{sep}min_position={head}"))
        .send()
        .await;
    answer.expect(200).clone()
}

async fn the_memberships_report_counts_plans_months_revenue_and_waiting_lists(backend: Backend) {
    let api = spawn_api(backend).await;
    let stripe = LocalStripe::start();
    let drain = drain(&api, Some(&stripe)).await;
    plan(&api, "gold", monthly(), Some(1)).await;
    let yearly = json!({ "currency": "EUR", "amount": 12000, "interval": "year" });
    plan(&api, "annual", yearly, None).await;
    plan(&api, "club", free(), None).await;
    let card = |plan: &str| json!({ "plan": plan, "payment_method": "pm_card_visa" });
    let members = [
        ("a@example.com", card("gold")),
        ("b@example.com", card("gold")),
        ("c@example.com", card("annual")),
        ("d@example.com", json!({ "plan": "club" })),
        ("e@example.com", json!({ "plan": "club" })),
    ];
    let mut joined = Vec::new();
    for (email, body) in members {
        let member = api.active_member(email).await;
        joined.push(join(&api, member, body).await.expect(201).clone());
    }
    assert_eq!(joined[1]["status"], "waitlisted");
    api.delete(&format!("/v1/memberships/{}", id_of(&joined[4])))
        .send()
        .await
        .expect(200);
    drain.run_due().await.unwrap();

    let body = report(&api, "/v1/reports/memberships").await;
    let rows: Vec<(String, String, u64)> = body["by_plan_and_status"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["plan"].as_str().unwrap().to_owned(),
                r["status"].as_str().unwrap().to_owned(),
                r["members"].as_u64().unwrap(),
            )
        })
        .collect();
    let row = |plan: &str, status: &str| (plan.to_owned(), status.to_owned(), 1);
    assert_eq!(
        rows,
        [
            row("annual", "active"),
            row("club", "active"),
            row("club", "cancelled"),
            row("gold", "active"),
            row("gold", "waitlisted"),
        ]
    );
    let month = api.clock.now().format("%Y-%m").to_string();
    assert_eq!(
        body["monthly"],
        json!([{ "month": month, "joins": 5, "cancellations": 1, "lapses": 0 }])
    );
    assert_eq!(
        body["recurring_revenue"],
        json!([{ "currency": "EUR", "monthly_amount": 1500 + 1000, "memberships": 2 }])
    );
    assert_eq!(
        body["waiting_lists"],
        json!([{ "plan": "gold", "waiting": 1, "offered": 0 }])
    );
}

async fn add(api: &TestApi, org: Uuid, owner: Uuid, member: Uuid, role: &str) {
    api.add_to_org(org, owner, member, role).await.expect(201);
}

async fn the_access_review_lists_idle_members_who_hold_privileged_roles(backend: Backend) {
    let api = spawn_api(backend).await;
    let owner = api.active_member("owner@example.com").await;
    let admin = api.active_member("admin@example.com").await;
    let plain = api.active_member("plain@example.com").await;
    let org = api.org(owner, 5).await;
    add(&api, org, owner, admin, "administrator").await;
    add(&api, org, owner, plain, "member").await;

    // Nobody is idle yet.
    let body = report(&api, "/v1/reports/access-review").await;
    assert_eq!(body["inactive_days"], 90);
    assert_eq!(body["members"], json!([]));

    // 100 days on, the administrator edits their profile; the owner does nothing.
    api.clock.advance(Duration::days(100));
    api.call(Method::PATCH, &format!("/v1/members/{admin}"))
        .json(json!({ "name": "Still Here" }))
        .actor(admin)
        .send()
        .await
        .expect(200);
    let body = report(&api, "/v1/reports/access-review?inactive_days=90").await;
    let members = body["members"].as_array().unwrap();
    assert_eq!(members.len(), 1, "{body}");
    assert_eq!(members[0]["member_id"], owner.to_string());
    assert_eq!(members[0]["roles"][0]["role"], "owner");
    assert_eq!(members[0]["roles"][0]["org_id"], org.to_string());
    let permissions = members[0]["roles"][0]["permissions"].to_string();
    assert!(permissions.contains("billing.plan.manage"), "{permissions}");
    assert!(!permissions.contains("content.pages.edit"), "{permissions}");
    // With a longer window, the owner (idle 100 days) is not listed either.
    let body = report(&api, "/v1/reports/access-review?inactive_days=365").await;
    assert_eq!(body["members"], json!([]));
    for bad in ["0", "3651", "x"] {
        api.get(&format!("/v1/reports/access-review?inactive_days={bad}"))
            .send()
            .await
            .expect_problem(422, "invalid-input");
    }
}

async fn an_expired_role_grant_is_settled_by_its_timer(backend: Backend) {
    let api = spawn_api(backend).await;
    let drain = drain(&api, None).await;
    let owner = api.active_member("owner@example.com").await;
    let bob = api.active_member("bob@example.com").await;
    let org = api.org(owner, 5).await;
    add(&api, org, owner, bob, "member").await;
    let expires_at = api.clock.now() + Duration::days(1);
    api.post(
        &format!("/v1/orgs/{org}/members/{bob}/roles"),
        json!({ "role": "administrator", "expires_at": expires_at }),
    )
    .actor(owner)
    .send()
    .await
    .expect(201);
    drain.run_due().await.unwrap();
    let grants = |view: &Value| {
        let bob = view["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["member_id"] == bob.to_string())
            .unwrap()
            .clone();
        bob["grants"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["role"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let view = api.get(&format!("/v1/orgs/{org}")).send().await;
    assert_eq!(grants(view.expect(200)), ["member", "administrator"]);

    api.clock.advance(Duration::days(1) + Duration::minutes(1));
    drain.run_due().await.unwrap();
    let view = api.get(&format!("/v1/orgs/{org}")).send().await;
    assert_eq!(grants(view.expect(200)), ["member"]);
    let body = report(&api, &format!("/v1/audit?org={org}")).await;
    let summaries = body["items"].to_string();
    assert!(
        summaries.contains("role administrator expired"),
        "{summaries}"
    );
}
