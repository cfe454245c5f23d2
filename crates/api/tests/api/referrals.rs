//! Referrals over HTTP: every member has a stable referral code; registering with it (typed
//! loosely) records the referrer; an unknown code is refused; the referred member's first
//! successful payment records one reward for the referrer, a second payment none.

use serde_json::json;
use uuid::Uuid;

use crate::memberships::{drain, join, monthly, plan};
use crate::on_both_backends;
use crate::stripe::LocalStripe;
use crate::support::{Backend, spawn_api};

on_both_backends!(a_referred_members_first_payment_rewards_the_referrer);

async fn a_referred_members_first_payment_rewards_the_referrer(backend: Backend) {
    let api = spawn_api(backend).await;
    let stripe = LocalStripe::start();
    let drain = drain(&api, Some(&stripe)).await;
    let referrer = api.active_member("referrer@example.com").await;
    let path = format!("/v1/members/{referrer}/referral-code");
    let code = api.get(&path).send().await.expect(200)["referral_code"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(code.len(), 14, "XXXX-XXXX-XXXX: {code}");
    assert!(code.chars().all(|c| c == '-' || c.is_ascii_alphanumeric()));
    assert_eq!(
        api.get(&path).send().await.expect(200)["referral_code"],
        code
    );
    api.get(&format!("/v1/members/{}/referral-code", Uuid::now_v7()))
        .send()
        .await
        .expect_problem(404, "not-found");

    let unknown =
        json!({ "email": "x@example.com", "name": "X", "referral_code": "0000-0000-0000" });
    let refused = api.post("/v1/members", unknown).send().await;
    assert_eq!(
        refused.expect_problem(422, "invalid-input")["field"],
        "referral_code"
    );

    let typed = code.to_lowercase().replace('-', " ");
    let form = json!({ "email": "newcomer@example.com", "name": "New", "referral_code": typed });
    let registered = api.post("/v1/members", form).send().await;
    let newcomer: Uuid = registered.expect(201)["member_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let view = api.get(&format!("/v1/members/{newcomer}")).send().await;
    assert_eq!(
        view.expect(200)["referral"]["referred_by"],
        referrer.to_string()
    );

    // The first payment (a membership's) earns the reward.
    plan(&api, "gold", monthly(), None).await;
    let body = json!({ "plan": "gold", "payment_method": "pm_card_visa" });
    join(&api, newcomer, body).await.expect(201);
    drain.run_due().await.unwrap();
    let rewarded_for = |body: &serde_json::Value| body["referral"]["rewarded_for"].clone();
    let view = api.get(&format!("/v1/members/{referrer}")).send().await;
    assert_eq!(rewarded_for(view.expect(200)), json!([newcomer]));

    // A second payment earns nothing more.
    let payment = json!({ "member_id": newcomer, "amount": 500, "currency": "eur",
                          "payment_method": "pm_card_visa", "description": "Extra" });
    api.post("/v1/payments", payment).send().await.expect(202);
    drain.run_due().await.unwrap();
    assert_eq!(stripe.payment_intent_count(), 2);
    let head = api.head().await;
    let audit = api
        .get(&format!("/v1/audit?member={referrer}&min_position={head}"))
        .send()
        .await;
    let rewards: Vec<_> = audit.expect(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["type"] == "MemberReferralRewarded.v1")
        .cloned()
        .collect();
    assert_eq!(rewards.len(), 1, "{rewards:?}");
    let summary = rewards[0]["summary"].as_str().unwrap();
    assert!(summary.contains(&newcomer.to_string()), "{summary}");
}
