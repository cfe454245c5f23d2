//! Plans over HTTP: a PUT creates (201) or changes (200) a plan by its slug, an identical PUT
//! changes nothing, bad terms are 422 naming the field, the list reads `plans_v1`, and a
//! retired plan says so and refuses changes.

use serde_json::{Value, json};

use crate::on_both_backends;
use crate::support::{Backend, spawn_api};

on_both_backends!(
    a_plan_is_created_then_changed_by_its_slug,
    bad_terms_are_refused_naming_the_field,
    plans_are_listed_and_a_retired_plan_says_so,
);

fn gold(capacity: u32) -> Value {
    json!({
        "name": "Gold",
        "prices": [
            { "currency": "eur", "amount": 9900, "interval": "year" },
            { "currency": "JPY", "amount": 15000, "interval": "year" },
        ],
        "capacity": capacity,
        "content_tags": ["courses", "events"],
    })
}

async fn a_plan_is_created_then_changed_by_its_slug(backend: Backend) {
    let api = spawn_api(backend).await;
    let created = api
        .call(axum::http::Method::PUT, "/v1/plans/gold")
        .json(gold(3))
        .send()
        .await;
    let created = created.expect(201).clone();
    assert_eq!(created["slug"], "gold");
    assert_eq!(created["prices"][0]["currency"], "EUR");
    assert_eq!(created["claim_window_hours"], 48);
    assert_eq!(created["places_taken"], 0);
    let same = api
        .call(axum::http::Method::PUT, "/v1/plans/gold")
        .json(gold(3))
        .send()
        .await;
    assert_eq!(
        same.expect(200)["position"],
        created["position"],
        "nothing appended"
    );
    let changed = api
        .call(axum::http::Method::PUT, "/v1/plans/gold")
        .json(gold(5))
        .send()
        .await;
    assert_eq!(changed.expect(200)["capacity"], 5);
    let read = api.get("/v1/plans/gold").send().await;
    assert_eq!(read.expect(200)["capacity"], 5);
    api.get("/v1/plans/silver")
        .send()
        .await
        .expect_problem(404, "not-found");
}

async fn bad_terms_are_refused_naming_the_field(backend: Backend) {
    let api = spawn_api(backend).await;
    let put = |slug: &str, body: Value| {
        api.call(axum::http::Method::PUT, &format!("/v1/plans/{slug}"))
            .json(body)
    };
    let cases = [
        ("Gold%20Plan", gold(3), "slug"),
        ("gold", json!({ "name": "Gold", "prices": [] }), "prices"),
        (
            "gold",
            json!({ "name": "Gold", "prices": [{ "currency": "EUR", "amount": 5, "interval": "free" }] }),
            "prices",
        ),
        (
            "gold",
            json!({ "name": "Gold", "prices": [{ "currency": "EUR", "amount": 5, "interval": "month" }], "capacity": 0 }),
            "capacity",
        ),
    ];
    for (slug, body, field) in cases {
        let answer = put(slug, body).send().await;
        let problem = answer.expect_problem(422, "invalid-input");
        assert_eq!(problem["field"], field, "{problem}");
    }
}

async fn plans_are_listed_and_a_retired_plan_says_so(backend: Backend) {
    let api = spawn_api(backend).await;
    for slug in ["silver", "gold"] {
        api.call(axum::http::Method::PUT, &format!("/v1/plans/{slug}"))
            .json(gold(2))
            .send()
            .await
            .expect(201);
    }
    let retired = api.post("/v1/plans/silver/retire", json!({})).send().await;
    let retired = retired.expect(200).clone();
    assert_eq!(retired["retired"], true);
    let position = retired["position"].as_u64().unwrap();
    let list = api
        .get(&format!("/v1/plans?min_position={position}"))
        .send()
        .await;
    let list = list.expect(200).clone();
    assert_eq!(list["items"][1]["retired"], true, "{list}");
    let slugs: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["gold", "silver"]);
    api.call(axum::http::Method::PUT, "/v1/plans/silver")
        .json(gold(3))
        .send()
        .await
        .expect_problem(409, "invalid-state");
}
