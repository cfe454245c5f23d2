//! The hosted confirmation page, where the mailed link lands when `ROSTER_PUBLIC_URL` is
//! Roster's own address: GET changes nothing, POST confirms; no API key; the token never
//! leaves in a URL the page links to, nor in `Referer`.

use axum::http::Method;

use crate::on_both_backends;
use crate::support::{Answer, Backend, TestApi, spawn_api};

on_both_backends!(
    the_link_shows_a_button_and_confirms_nothing_by_itself,
    pressing_the_button_confirms_the_member_once,
    a_link_that_is_not_a_token_is_refused_before_anything_is_looked_up,
    failed_confirmations_from_one_browser_are_throttled,
);

const FORM: &str = "application/x-www-form-urlencoded";

async fn press(api: &TestApi, token: &str, forwarded_for: &str) -> Answer {
    api.call(Method::POST, "/confirm")
        .without_key()
        .header("x-forwarded-for", forwarded_for)
        .raw(FORM, format!("token={token}"))
        .send()
        .await
}

fn html(answer: &Answer) -> &str {
    assert_eq!(
        answer.headers["content-type"].to_str().unwrap(),
        "text/html; charset=utf-8"
    );
    assert_eq!(answer.headers["referrer-policy"], "no-referrer");
    assert_eq!(answer.headers["cache-control"], "no-store");
    answer.body.as_str().unwrap()
}

async fn the_link_shows_a_button_and_confirms_nothing_by_itself(backend: Backend) {
    let api = spawn_api(backend).await;
    let member = api.register("link@example.com").await;
    let token = api.token_for(member).await;
    let page = api
        .get(&format!("/confirm?token={token}"))
        .without_key()
        .send()
        .await;
    assert_eq!(page.status, 200);
    let body = html(&page);
    assert!(
        body.contains("<form method=\"post\" action=\"confirm\">"),
        "{body}"
    );
    assert!(
        body.contains(&format!("name=\"token\" value=\"{token}\"")),
        "{body}"
    );
    assert!(body.contains("Confirm my email address"), "{body}");
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
    // Opening the link (as a mail scanner would) changed nothing.
    let view = api.get(&format!("/v1/members/{member}")).send().await;
    assert_eq!(view.expect(200)["status"], "pending_confirmation");
}

async fn pressing_the_button_confirms_the_member_once(backend: Backend) {
    let api = spawn_api(backend).await;
    let member = api.register("button@example.com").await;
    let token = api.token_for(member).await;
    let done = press(&api, &token, "203.0.113.7").await;
    assert_eq!(done.status, 200);
    assert!(html(&done).contains("Email address confirmed"));
    let view = api.get(&format!("/v1/members/{member}")).send().await;
    assert_eq!(view.expect(200)["status"], "active");

    let again = press(&api, &token, "203.0.113.7").await;
    assert_eq!(again.status, 400);
    assert!(html(&again).contains("This link cannot be used"));
}

async fn a_link_that_is_not_a_token_is_refused_before_anything_is_looked_up(backend: Backend) {
    let api = spawn_api(backend).await;
    for link in [
        "/confirm",
        "/confirm?token=",
        "/confirm?token=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    ] {
        let page = api.get(link).without_key().send().await;
        assert_eq!(page.status, 400, "{link}");
        let body = html(&page);
        assert!(body.contains("This link cannot be used"), "{body}");
        assert!(!body.contains("<script>"), "{body}");
    }
}

async fn failed_confirmations_from_one_browser_are_throttled(backend: Backend) {
    let api = spawn_api(backend).await;
    let member = api.register("patient@example.com").await;
    let token = api.token_for(member).await;
    let wrong = "A".repeat(43);
    for _ in 0..10 {
        assert_eq!(press(&api, &wrong, "198.51.100.1").await.status, 400);
    }
    let limited = press(&api, &token, "198.51.100.1").await;
    assert_eq!(limited.status, 429);
    assert!(limited.headers.contains_key("retry-after"));
    assert!(html(&limited).contains("Too many attempts"));
    // Another browser is not held back by the first one's failures.
    let other = press(&api, &token, "198.51.100.2").await;
    assert_eq!(other.status, 200, "{}", html(&other));
}
