//! The README's walk-through as a new user does it on the embedded default: no
//! `ROSTER_PUBLIC_URL`, so the mailed link points at Roster itself; opening it shows a page
//! with a button, pressing it confirms the member. No API key is involved, and the token never
//! reaches the server's log.

use reqwest::header::{CONTENT_TYPE, REFERRER_POLICY};

use crate::harness::{Backend, spawn_app_with};

#[tokio::test]
async fn the_mailed_link_opens_a_page_whose_button_confirms_the_member() {
    let app = spawn_app_with(Backend::Sqlite, |serve, _| {
        serve.env_remove("ROSTER_PUBLIC_URL");
    })
    .await;
    let registered = app
        .post(
            "/v1/members",
            None,
            serde_json::json!({ "email": "click@example.com", "name": "Clicker" }),
        )
        .await;
    let member = registered.expect(201)["member_id"]
        .as_str()
        .unwrap()
        .to_owned();

    let mail = app.verification_mail("click@example.com").await;
    let prefix = format!("{}/confirm?token=", app.address);
    let start = mail
        .find(&prefix)
        .expect("a link to this server's own page");
    let link: String = mail[start..]
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '"' && *c != '<')
        .collect();
    let token = link.rsplit('=').next().unwrap().to_owned();
    let link = reqwest::Url::parse(&link).unwrap();

    let page = app.client.get(link.clone()).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()[REFERRER_POLICY], "no-referrer");
    assert!(
        page.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("Confirm my email address"), "{html}");
    let still = app.get(&format!("/v1/members/{member}")).await;
    assert_eq!(still.expect(200)["status"], "pending_confirmation");

    // Press the button as a browser does: post the form's fields to its action, resolved
    // against the page's address.
    let action = link.join(attribute(&html, "action")).unwrap();
    assert_eq!(attribute(&html, "name=\"token\" value"), token);
    let pressed = app
        .client
        .post(action)
        .form(&[("token", attribute(&html, "name=\"token\" value"))])
        .send()
        .await
        .unwrap();
    assert_eq!(pressed.status(), 200);
    let html = pressed.text().await.unwrap();
    assert!(html.contains("Email address confirmed"), "{html}");
    let active = app.get(&format!("/v1/members/{member}")).await;
    assert_eq!(active.expect(200)["status"], "active");

    let log = app.stop();
    assert!(
        log.contains("\"route\":\"/confirm\""),
        "the page's requests are logged"
    );
    assert!(!log.contains(&token), "the token never reaches the log");
}

/// The value of the first `name="…"` attribute in `html` (`name` may carry what precedes it).
fn attribute<'a>(html: &'a str, name: &str) -> &'a str {
    let start = html
        .find(&format!("{name}=\""))
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + name.len()
        + 2;
    let end = start + html[start..].find('"').unwrap();
    &html[start..end]
}
