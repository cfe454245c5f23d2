//! `roster serve` configuration: a TOML file under the environment, flags over both.

use serde_json::json;

use crate::harness::{Backend, TestApp, spawn_app_with};

#[tokio::test]
async fn a_config_file_sets_what_the_environment_does_not() {
    let app = spawn_app_with(Backend::Sqlite, |serve, dir| {
        let file = dir.join("roster.toml");
        std::fs::write(
            &file,
            "public_url = \"https://from-file.example\"\ntoken_ttl = \"1h\"\nlisten = \"127.0.0.1:1\"\n",
        )
        .unwrap();
        serve.env("ROSTER_CONFIG", &file).env_remove("ROSTER_PUBLIC_URL");
    })
    .await;
    // The flag (`--listen 127.0.0.1:0`) beat the file's `listen`, or the app would not answer.
    let mail = register_and_read_mail(&app, "cfg@example.com").await;
    assert!(
        mail.contains("https://from-file.example/confirm?token="),
        "{mail}"
    );

    let app = spawn_app_with(Backend::Sqlite, |serve, dir| {
        let file = dir.join("roster.toml");
        std::fs::write(&file, "public_url = \"https://from-file.example\"\n").unwrap();
        serve
            .env("ROSTER_CONFIG", &file)
            .env("ROSTER_PUBLIC_URL", "https://from-env.example");
    })
    .await;
    let mail = register_and_read_mail(&app, "env@example.com").await;
    assert!(
        mail.contains("https://from-env.example/confirm?token="),
        "{mail}"
    );
}

/// Registers a member on a fresh app and returns the verification mail the worker writes.
async fn register_and_read_mail(app: &TestApp, email: &str) -> String {
    app.post("/v1/members", None, json!({ "email": email, "name": "C" }))
        .await
        .expect(201);
    app.verification_mail(email).await
}
