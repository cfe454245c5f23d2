//! Memberships over HTTP, with the workers drained in-process on the manual clock: a paid join
//! charged at localstripe; a full plan's waiting list (positions, one live entry per member),
//! a cancellation offering the place, the hosted claim page taking it, and an unclaimed offer
//! passing to the next in line after the window (the clock moved, nothing waited for); the
//! content check allowing while a membership grants the tag and refusing after it ends; bad
//! joins refused with stable problem types; 100 members racing over HTTP for a plan's last 3
//! places end as exactly 3 active and 97 waitlisted at positions 1 to 97; a renewal declined
//! at every attempt keeps access while past due and revokes it at once when it lapses; erasing
//! a member ends their memberships and offers the freed place to the next in line.

use axum::http::Method;
use chrono::Duration;
use roster_app::clock::Clock;
use roster_workers::gateway::Gateway;
use roster_workers::{Catalog, Drain, WorkerConfig};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::on_both_backends;
use crate::stripe::LocalStripe;
use crate::support::{Backend, TestApi, spawn_api};

on_both_backends!(
    a_paid_join_is_pending_until_its_payment_then_active,
    a_full_plan_queues_offers_a_freed_place_and_passes_an_unclaimed_one_on,
    content_access_follows_the_membership,
    bad_joins_are_refused_with_stable_problem_types,
    a_hundred_members_racing_for_the_last_three_places,
    a_renewal_declined_until_the_re_attempts_run_out_lapses_and_revokes_access,
    erasing_a_member_ends_their_memberships_and_offers_the_place_to_the_next_in_line,
);

const PUBLIC_URL: &str = "https://members.example.com";

pub(crate) async fn drain(api: &TestApi, stripe: Option<&LocalStripe>) -> Drain {
    let settings = roster_app::Settings {
        public_url: Some(PUBLIC_URL.into()),
        ..roster_app::Settings::default()
    };
    let mut config = WorkerConfig::from_settings(&settings, PUBLIC_URL).unwrap();
    if let Some(stripe) = stripe {
        config.gateway = Some(Gateway::new(Some(&stripe.url()), stripe.secret_key()).unwrap());
    }
    roster_workers::prepare(&api.roster, Catalog::builtin(), config)
        .await
        .unwrap()
        .drain()
}

pub(crate) async fn plan(api: &TestApi, slug: &str, price: Value, capacity: Option<u32>) {
    let body = json!({
        "name": format!("The {slug} plan"),
        "prices": [price],
        "capacity": capacity,
        "content_tags": ["courses"],
    });
    let path = format!("/v1/plans/{slug}");
    api.call(Method::PUT, &path)
        .json(body)
        .send()
        .await
        .expect(201);
}

pub(crate) fn free() -> Value {
    json!({ "currency": "EUR", "amount": 0, "interval": "free" })
}

pub(crate) async fn join(api: &TestApi, member: Uuid, body: Value) -> crate::support::Answer {
    let path = format!("/v1/members/{member}/memberships");
    api.post(&path, body).send().await
}

pub(crate) fn monthly() -> Value {
    json!({ "currency": "EUR", "amount": 1500, "interval": "month" })
}

/// A new member joined to the monthly `gold` plan with a card that pays: the 201 body.
async fn paid_join(api: &TestApi, email: &str) -> (Uuid, Value) {
    plan(api, "gold", monthly(), None).await;
    let member = api.active_member(email).await;
    let body = json!({ "plan": "gold", "payment_method": "pm_card_visa" });
    let joined = join(api, member, body).await;
    (member, joined.expect(201).clone())
}

pub(crate) fn id_of(answer: &Value) -> String {
    answer["membership_id"].as_str().unwrap().to_owned()
}

async fn a_paid_join_is_pending_until_its_payment_then_active(backend: Backend) {
    let api = spawn_api(backend).await;
    let stripe = LocalStripe::start();
    let drain = drain(&api, Some(&stripe)).await;
    let (member, joined) = paid_join(&api, "gold@example.com").await;
    assert_eq!(joined["status"], "pending_payment");
    assert_eq!(joined["price"]["amount"], 1500);
    let path = format!("/v1/memberships/{}", id_of(&joined));

    drain.run_due().await.unwrap();
    let active = api.get(&path).send().await;
    let active = active.expect(200);
    assert_eq!(active["status"], "active");
    let period_end = api.clock.now().checked_add_months(chrono::Months::new(1));
    assert_eq!(
        active["period_end"].as_str().unwrap(),
        serde_json::to_value(period_end).unwrap().as_str().unwrap()
    );
    assert_eq!(stripe.payment_intent_count(), 1);
    let payments = api
        .get(&format!("/v1/payments?member={member}"))
        .send()
        .await;
    let payment = &payments.expect(200)["items"][0];
    assert_eq!(
        payment["membership_id"].as_str(),
        Some(id_of(&joined).as_str())
    );
    assert_eq!(payment["status"], "succeeded");
}

async fn a_full_plan_queues_offers_a_freed_place_and_passes_an_unclaimed_one_on(backend: Backend) {
    let api = spawn_api(backend).await;
    let drain = drain(&api, None).await;
    plan(&api, "studio", free(), Some(1)).await;
    let mut members = Vec::new();
    for n in 0..3 {
        members.push(api.active_member(&format!("m{n}@example.com")).await);
    }
    let mut joined = Vec::new();
    for member in &members {
        let answer = join(&api, *member, json!({ "plan": "studio" })).await;
        joined.push(answer.expect(201).clone());
    }
    assert_eq!(joined[0]["status"], "active");
    assert_eq!(joined[1]["status"], "waitlisted");
    assert_eq!(joined[1]["waitlist_position"], 1);
    assert_eq!(joined[2]["waitlist_position"], 2);
    // One live entry per member and plan.
    join(&api, members[1], json!({ "plan": "studio" }))
        .await
        .expect_problem(409, "already-member");

    // The first cancels: the place is held for the second, the third moves up.
    let first = format!("/v1/memberships/{}", id_of(&joined[0]));
    let cancelled = api.delete(&first).send().await;
    assert_eq!(cancelled.expect(200)["status"], "cancelled");
    drain.run_due().await.unwrap();
    let second_path = format!("/v1/memberships/{}", id_of(&joined[1]));
    let second = api.get(&second_path).send().await.expect(200).clone();
    let expires_at = second["offer_expires_at"].as_str().expect("an offer");
    let third_path = format!("/v1/memberships/{}", id_of(&joined[2]));
    let third = api.get(&third_path).send().await;
    assert_eq!(third.expect(200)["waitlist_position"], 1);

    // Nobody claims another member's offer.
    api.post(&format!("{second_path}/claim"), json!({}))
        .actor(members[2])
        .send()
        .await
        .expect_problem(403, "forbidden");

    // The mailed link: the page says what the button does; pressing it takes the place.
    let second_id: Uuid = id_of(&joined[1]).parse().unwrap();
    let expires_at = chrono::DateTime::parse_from_rfc3339(expires_at)
        .unwrap()
        .to_utc();
    let token = api.roster.memberships.claim_token(second_id, expires_at);
    let page = api
        .get(&format!("/claim?token={token}"))
        .without_key()
        .send()
        .await;
    assert_eq!(page.status, 200);
    let html = page.body.as_str().unwrap();
    assert!(html.contains("Take my place"), "{html}");
    let pressed = api
        .call(Method::POST, "/claim")
        .without_key()
        .raw(
            "application/x-www-form-urlencoded",
            format!("token={token}"),
        )
        .send()
        .await;
    assert_eq!(pressed.status, 200, "{}", pressed.body);
    assert!(
        pressed
            .body
            .as_str()
            .unwrap()
            .contains("The place is yours")
    );
    let second = api.get(&second_path).send().await;
    assert_eq!(second.expect(200)["status"], "active");
    let again = api
        .call(Method::POST, "/claim")
        .without_key()
        .raw(
            "application/x-www-form-urlencoded",
            format!("token={token}"),
        )
        .send()
        .await;
    assert_eq!(again.status, 400, "a used link claims nothing");

    // The second leaves at once; the third is offered the place and lets the window pass.
    api.delete(&second_path).send().await.expect(200);
    drain.run_due().await.unwrap();
    let offered = api.get(&third_path).send().await;
    assert!(offered.expect(200)["offer_expires_at"].is_string());
    api.clock.advance(Duration::hours(48));
    drain.run_due().await.unwrap();
    let passed = api.get(&third_path).send().await;
    assert_eq!(passed.expect(200)["status"], "cancelled");
    let plan = api.get("/v1/plans/studio").send().await;
    let plan = plan.expect(200);
    assert_eq!(
        (
            plan["places_taken"].as_u64(),
            plan["waitlist_length"].as_u64()
        ),
        (Some(0), Some(0))
    );
    // Claiming through the API after the window (no body: the card on file): the offer is
    // gone.
    api.call(Method::POST, &format!("{third_path}/claim"))
        .send()
        .await
        .expect_problem(409, "invalid-state");
}

async fn content_access_follows_the_membership(backend: Backend) {
    let api = spawn_api(backend).await;
    plan(&api, "library", free(), None).await;
    let member = api.active_member("reader@example.com").await;
    let joined = join(&api, member, json!({ "plan": "library" })).await;
    let joined = joined.expect(201).clone();
    let position = joined["position"].as_u64().unwrap();
    let check = |tag: &str, position: u64| {
        api.get(&format!(
            "/v1/check?member={member}&content_tag={tag}&min_position={position}"
        ))
        .send()
    };
    let allowed = check("courses", position).await;
    let allowed = allowed.expect(200);
    assert_eq!(allowed["allowed"], true);
    assert_eq!(allowed["via"][0]["plan"], "library");
    assert_eq!(allowed["via"][0]["membership_id"], joined["membership_id"]);
    assert_eq!(
        check("events", position).await.expect(200)["allowed"],
        false
    );
    let listed = api
        .get(&format!(
            "/v1/members/{member}/memberships?min_position={position}"
        ))
        .send()
        .await;
    assert_eq!(listed.expect(200)["items"][0]["status"], "active");

    let path = format!("/v1/memberships/{}", id_of(&joined));
    let cancelled = api.delete(&path).send().await;
    let position = cancelled.expect(200)["position"].as_u64().unwrap();
    let denied = check("courses", position).await;
    assert_eq!(denied.expect(200)["allowed"], false);
    // A content check and a permission check are asked apart.
    let org = Uuid::now_v7();
    api.get(&format!(
        "/v1/check?member={member}&content_tag=courses&org={org}&permission=billing.invoices.view"
    ))
    .send()
    .await
    .expect_problem(422, "invalid-input");
    api.get(&format!("/v1/check?member={member}"))
        .send()
        .await
        .expect_problem(422, "invalid-input");
}

async fn bad_joins_are_refused_with_stable_problem_types(backend: Backend) {
    let api = spawn_api(backend).await;
    plan(&api, "gold", monthly(), None).await;
    let member = api.active_member("bad@example.com").await;
    let problem = join(&api, member, json!({ "plan": "gold" })).await;
    assert_eq!(
        problem.expect_problem(422, "invalid-input")["field"],
        "payment_method"
    );
    let problem = join(
        &api,
        member,
        json!({ "plan": "gold", "payment_method": "pm_card_visa", "currency": "USD" }),
    )
    .await;
    assert_eq!(
        problem.expect_problem(422, "invalid-input")["field"],
        "currency"
    );
    join(&api, member, json!({ "plan": "platinum" }))
        .await
        .expect_problem(404, "not-found");
    join(
        &api,
        Uuid::now_v7(),
        json!({ "plan": "gold", "payment_method": "pm_card_visa" }),
    )
    .await
    .expect_problem(404, "not-found");
    join(&api, member, json!({ "plan": "gold", "colour": "red" }))
        .await
        .expect_problem(422, "invalid-input");
    api.post("/v1/plans/gold/retire", json!({}))
        .send()
        .await
        .expect(200);
    join(
        &api,
        member,
        json!({ "plan": "gold", "payment_method": "pm_card_visa" }),
    )
    .await
    .expect_problem(409, "invalid-state");
    api.get(&format!("/v1/memberships/{}", Uuid::now_v7()))
        .send()
        .await
        .expect_problem(404, "not-found");
    api.get("/v1/memberships/not-an-id")
        .send()
        .await
        .expect_problem(404, "not-found");
    // A plan priced in two currencies: the one asked for, in any case.
    let body = json!({
        "name": "Duo",
        "prices": [monthly(), { "currency": "JPY", "amount": 1800, "interval": "month" }],
    });
    api.call(Method::PUT, "/v1/plans/duo")
        .json(body)
        .send()
        .await
        .expect(201);
    let joined = join(
        &api,
        member,
        json!({ "plan": "duo", "currency": "jpy", "payment_method": "pm_card_visa" }),
    )
    .await;
    let joined = joined.expect(201);
    assert_eq!(joined["price"]["currency"], "JPY");
    assert_eq!(joined["status"], "pending_payment");
}

async fn a_hundred_members_racing_for_the_last_three_places(backend: Backend) {
    let api = spawn_api(backend).await;
    plan(&api, "workshop", free(), Some(5)).await;
    for n in 0..2 {
        let early = api.active_member(&format!("early{n}@example.com")).await;
        let joined = join(&api, early, json!({ "plan": "workshop" })).await;
        assert_eq!(joined.expect(201)["status"], "active");
    }
    let mut racers = Vec::new();
    for n in 0..100 {
        racers.push(api.active_member(&format!("racer{n}@example.com")).await);
    }
    let answers = futures::future::join_all(
        racers
            .iter()
            .map(|member| join(&api, *member, json!({ "plan": "workshop" }))),
    )
    .await;
    let mut active = 0;
    let mut positions = std::collections::BTreeSet::new();
    for answer in &answers {
        let body = answer.expect(201);
        match body["status"].as_str() {
            Some("active") => active += 1,
            Some("waitlisted") => {
                let position = body["waitlist_position"].as_u64().unwrap();
                assert!(positions.insert(position), "position {position} twice");
            }
            other => panic!("{other:?}: {body}"),
        }
    }
    assert_eq!(active, 3);
    assert_eq!(positions, (1..=97).collect());
    let plan = api.get("/v1/plans/workshop").send().await;
    let plan = plan.expect(200);
    assert_eq!(plan["places_taken"], 5);
    assert_eq!(plan["waitlist_length"], 97);
}

async fn a_renewal_declined_until_the_re_attempts_run_out_lapses_and_revokes_access(
    backend: Backend,
) {
    let api = spawn_api(backend).await;
    let stripe = LocalStripe::start();
    let drain = drain(&api, Some(&stripe)).await;
    let (member, joined) = paid_join(&api, "dunning@example.com").await;
    let path = format!("/v1/memberships/{}", id_of(&joined));
    drain.run_due().await.unwrap();
    let access = || async {
        let head = api.head().await;
        let answer = api
            .get(&format!(
                "/v1/check?member={member}&content_tag=courses&min_position={head}"
            ))
            .send()
            .await;
        answer.expect(200)["allowed"].as_bool().unwrap()
    };
    assert!(access().await);

    // The card on file is replaced by one that will be declined at every attempt.
    let changed = api
        .call(Method::PUT, &format!("{path}/payment-method"))
        .json(json!({ "payment_method": "pm_card_chargeCustomerFail" }))
        .send()
        .await;
    assert_eq!(changed.expect(200)["status"], "active");
    let period_end = api
        .roster
        .memberships
        .get(id_of(&joined).parse().unwrap())
        .await
        .unwrap()
        .state
        .period_end
        .unwrap();
    api.clock.set(period_end);
    drain.run_due().await.unwrap();
    let past_due = api.get(&path).send().await;
    assert_eq!(past_due.expect(200)["status"], "past_due");
    assert!(access().await, "access stays while re-attempts run");

    for days in [1, 3, 5] {
        api.clock.advance(Duration::days(days));
        drain.run_due().await.unwrap();
    }
    assert_eq!(
        stripe.payment_intent_count(),
        5,
        "the first period, then four attempts"
    );
    let lapsed = api.get(&path).send().await;
    assert_eq!(lapsed.expect(200)["status"], "lapsed");
    assert!(!access().await, "access ends with the lapse");
}

async fn erasing_a_member_ends_their_memberships_and_offers_the_place_to_the_next_in_line(
    backend: Backend,
) {
    let api = spawn_api(backend).await;
    let drain = drain(&api, None).await;
    plan(&api, "tiny", free(), Some(1)).await;
    let leaving = api.active_member("leaving@example.com").await;
    let waiting = api.active_member("waiting@example.com").await;
    let body = json!({ "plan": "tiny" });
    let placed = join(&api, leaving, body.clone()).await.expect(201).clone();
    assert_eq!(placed["status"], "active");
    let queued = join(&api, waiting, body).await.expect(201).clone();
    assert_eq!(queued["waitlist_position"], 1);

    let erased = api.delete(&format!("/v1/members/{leaving}")).send().await;
    assert_eq!(erased.expect(200)["status"], "erased");
    let ended = api
        .get(&format!("/v1/memberships/{}", id_of(&placed)))
        .send()
        .await;
    assert_eq!(ended.expect(200)["status"], "cancelled");
    drain.run_due().await.unwrap();
    let offered = api
        .get(&format!("/v1/memberships/{}", id_of(&queued)))
        .send()
        .await;
    assert!(
        offered.expect(200)["offer_expires_at"].is_string(),
        "{:?}",
        offered.body
    );
    // Erasing again ends nothing more.
    api.delete(&format!("/v1/members/{leaving}"))
        .send()
        .await
        .expect(200);
    let content = format!("/v1/check?member={leaving}&content_tag=courses");
    assert_eq!(api.get(&content).send().await.expect(200)["allowed"], false);
}
