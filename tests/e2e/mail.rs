//! Mail end to end: the real binary registers over HTTP, a worker delivers over SMTP to a real
//! server (aiosmtpd), the test takes the token from what arrived and confirms. Then the hard
//! cases: a worker killed between sending and acknowledging, a replay, an expired token.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::json;
use uuid::Uuid;

use crate::harness::{Backend, TestApp, WAIT, spawn_app_with};
use crate::smtp::{SinkOptions, SmtpSink, TlsMode, free_port, header, token_in};

/// Serve with its workers delivering to `sink`, polling and beating fast.
pub(crate) fn with_smtp(sink: &SmtpSink) -> impl Fn(&mut Command, &Path) + Clone + use<> {
    let url = sink.url();
    move |serve: &mut Command, _: &Path| {
        serve
            .env("ROSTER_SMTP_URL", &url)
            .env("ROSTER_WORKER_POLL", "100ms")
            .env("ROSTER_WORKER_HEARTBEAT", "1s")
            .env("ROSTER_MAIL_RETRY_SCHEDULE", "1s,1s,1s,1s,1s");
    }
}

/// Polls `roster workers status --json` until `done` holds for it.
pub(crate) async fn wait_for_workers_status(
    app: &TestApp,
    done: impl Fn(&serde_json::Value) -> bool,
) {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let status: serde_json::Value =
            serde_json::from_str(&app.cli(&["workers", "status", "--json"])).unwrap();
        if done(&status) {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "{status}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn register(app: &TestApp, email: &str) -> Uuid {
    let answer = app
        .post(
            "/v1/members",
            None,
            json!({ "email": email, "name": "Grace Hopper" }),
        )
        .await;
    assert_eq!(answer.expect(201)["status"], "pending_confirmation");
    answer.body["member_id"].as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_registration_over_http_is_mailed_over_smtp_and_confirms_on_sqlite() {
    registration_is_mailed_and_confirms(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_registration_over_http_is_mailed_over_smtp_and_confirms_on_postgres() {
    registration_is_mailed_and_confirms(Backend::Postgres).await;
}

async fn registration_is_mailed_and_confirms(backend: Backend) {
    let sink = SmtpSink::start();
    let app = spawn_app_with(backend, with_smtp(&sink)).await;
    let member = register(&app, "grace@example.com").await;

    let mail = sink.wait_for(1, WAIT).remove(0);
    assert_eq!(header(&mail, "To"), Some("grace@example.com"));
    assert!(
        mail.contains("https://members.example.com/confirm?token="),
        "{mail}"
    );
    let token = token_in(&mail);
    let confirmed = app
        .post("/v1/members/confirm", None, json!({ "token": token }))
        .await;
    assert_eq!(confirmed.expect(200)["status"], "active");
    let view = app.get(&format!("/v1/members/{member}")).await;
    assert_eq!(view.expect(200)["email_verified"], true);
    app.post("/v1/members/confirm", None, json!({ "token": token }))
        .await
        .expect_problem(400, "invalid-token");

    let sent = app
        .wait_for_audit(member, "MemberVerificationEmailSent.v1")
        .await;
    assert_eq!(sent["actor_kind"], "worker");
    let welcome = sink.wait_for(2, WAIT).remove(1);
    assert_eq!(header(&welcome, "To"), Some("grace@example.com"));
    let log = app.stop();
    assert!(!log.contains("grace@example.com"), "no address in the log");
    assert!(!log.contains(&token), "no token in the log");
}

#[tokio::test]
async fn a_worker_killed_after_sending_but_before_acknowledging_mails_at_most_twice_on_sqlite() {
    // The embedded default: `roster serve` is the worker process.
    let sink = SmtpSink::start();
    let adjust = with_smtp(&sink);
    let mut app = spawn_app_with(Backend::Sqlite, adjust.clone()).await;
    sink.hold(true);
    let member = register(&app, "held@example.com").await;
    // The server has the mail, but the worker is still waiting for its reply when it dies.
    sink.wait_for(1, WAIT);
    app.kill_and_restart(adjust);
    sink.hold(false);
    killed_worker_outcome(&app, &sink, member).await;
}

#[tokio::test]
async fn a_worker_killed_after_sending_but_before_acknowledging_mails_at_most_twice_on_postgres() {
    // The scaled-out shape: the API without workers, and `roster worker` processes beside it.
    let sink = SmtpSink::start();
    let smtp = with_smtp(&sink);
    let app = spawn_app_with(Backend::Postgres, |serve, dir| {
        smtp(serve, dir);
        serve.arg("--no-workers");
    })
    .await;
    let worker_env = |worker: &mut Command| {
        smtp(worker, Path::new("."));
    };
    let first = app.worker(worker_env);
    sink.hold(true);
    let member = register(&app, "held@example.com").await;
    sink.wait_for(1, WAIT);
    first.kill();
    sink.hold(false);
    let _second = app.worker(worker_env);
    killed_worker_outcome(&app, &sink, member).await;
}

/// After the kill: the job is taken back from the dead worker (its heartbeat stopped) and run
/// again. The dead worker never learnt that its mail went out, so the mail arrives exactly
/// twice here: one duplicate, with the same Message-ID, never none. And it works.
async fn killed_worker_outcome(app: &TestApp, sink: &SmtpSink, member: Uuid) {
    app.wait_for_audit(member, "MemberVerificationEmailSent.v1")
        .await;
    let mails = sink.messages();
    assert_eq!(mails.len(), 2, "the mail, and one duplicate");
    let ids: Vec<_> = mails.iter().map(|m| header(m, "Message-ID")).collect();
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");
    let token = token_in(mails.last().unwrap());
    app.post("/v1/members/confirm", None, json!({ "token": token }))
        .await
        .expect(200);
}

#[tokio::test]
async fn roster_replay_sends_no_mail_on_sqlite() {
    replay_sends_no_mail(Backend::Sqlite).await;
}

#[tokio::test]
async fn roster_replay_sends_no_mail_on_postgres() {
    replay_sends_no_mail(Backend::Postgres).await;
}

async fn replay_sends_no_mail(backend: Backend) {
    let sink = SmtpSink::start();
    let app = spawn_app_with(backend, with_smtp(&sink)).await;
    for email in ["r1@example.com", "r2@example.com"] {
        let member = register(&app, email).await;
        app.wait_for_audit(member, "MemberVerificationEmailSent.v1")
            .await;
    }
    assert_eq!(sink.messages().len(), 2);

    let replayed = app.cli(&["replay"]);
    assert!(replayed.starts_with("rebuilt "), "{replayed}");

    // Events are handled in order: once the next registration is mailed, anything the replay
    // could have caused would have been mailed before it.
    let next = register(&app, "r3@example.com").await;
    app.wait_for_audit(next, "MemberVerificationEmailSent.v1")
        .await;
    let mails = sink.messages();
    assert_eq!(mails.len(), 3, "the replay sent nothing");
    assert_eq!(header(&mails[2], "To"), Some("r3@example.com"));

    // Operators see the reactor's checkpoint and the jobs, apart from the projections. The
    // last job is acknowledged (and the checkpoint saved) just after the mail is recorded.
    wait_for_workers_status(&app, |status| {
        let reactors = status["reactors"].as_array().cloned().unwrap_or_default();
        let mail = reactors.iter().find(|r| r["name"] == "mail");
        status["queues"]["mail.verification"]["Done"] == 3
            && mail.is_some_and(|reactor| reactor["lag_events"] == 0)
    })
    .await;
    let status = app.cli(&["workers", "status"]);
    assert!(status.contains("reactor mail"), "{status}");
    assert!(
        status.contains("queue   mail.verification    3 Done"),
        "{status}"
    );
    let metrics = app.get("/metrics").await;
    let metrics = metrics.body.as_str().unwrap_or_default().to_owned();
    assert!(
        metrics.contains("roster_projection_lag_events{projection=\"reactor:mail\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("roster_mails_sent_total{mail=\"verification\"} 3"),
        "{metrics}"
    );
}

#[tokio::test]
async fn with_the_smtp_server_down_then_up_the_mail_arrives_once_on_sqlite() {
    smtp_down_then_up(Backend::Sqlite).await;
}

#[tokio::test]
async fn with_the_smtp_server_down_then_up_the_mail_arrives_once_on_postgres() {
    smtp_down_then_up(Backend::Postgres).await;
}

async fn smtp_down_then_up(backend: Backend) {
    let port = free_port();
    let app = spawn_app_with(backend, move |serve, _| {
        serve
            .env("ROSTER_SMTP_URL", format!("smtp://127.0.0.1:{port}"))
            .env("ROSTER_WORKER_POLL", "100ms")
            .env("ROSTER_MAIL_RETRY_SCHEDULE", ["1s"; 30].join(","));
    })
    .await;
    let member = register(&app, "patient@example.com").await;
    // Nothing listens yet: wait until an attempt has failed and the job waits for the next.
    wait_for_workers_status(&app, |status| {
        status["queues"]["mail.verification"]["Failed"] == 1
    })
    .await;
    let sink = SmtpSink::start_on(port);
    app.wait_for_audit(member, "MemberVerificationEmailSent.v1")
        .await;
    let mails = sink.messages();
    assert_eq!(mails.len(), 1, "the mail arrives once");
    assert_eq!(header(&mails[0], "To"), Some("patient@example.com"));
}

#[tokio::test]
async fn mail_goes_over_starttls_with_credentials_to_a_relay_of_a_private_ca() {
    let sink = SmtpSink::start_with(SinkOptions {
        tls: Some(TlsMode::StartTls),
        auth: Some(("roster", "s3cret")),
    });
    let url = format!("smtp://roster:s3cret@localhost:{}?tls=required", sink.port);
    let ca_file = sink.ca_file();
    let app = spawn_app_with(Backend::Sqlite, move |serve, _| {
        serve
            .env("ROSTER_SMTP_URL", &url)
            .env("ROSTER_SMTP_CA_FILE", &ca_file)
            .env("ROSTER_WORKER_POLL", "100ms");
    })
    .await;
    let member = register(&app, "secure@example.com").await;
    let mail = sink.wait_for(1, WAIT).remove(0);
    assert_eq!(header(&mail, "To"), Some("secure@example.com"));
    app.wait_for_audit(member, "MemberVerificationEmailSent.v1")
        .await;
    let log = app.stop();
    assert!(!log.contains("s3cret"), "no password in the log");
}

#[tokio::test]
async fn credentials_over_plain_smtp_to_a_remote_relay_stop_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_roster"))
        .args(["--data-dir"])
        .arg(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env_remove("ROSTER_DATABASE_URL")
        .env("ROSTER_PUBLIC_URL", "https://members.example.com")
        .env(
            "ROSTER_SMTP_URL",
            "smtp://roster:s3cret@mail.example.com:587",
        )
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("credentials but no TLS"), "{stderr}");
    assert!(!stderr.contains("s3cret"), "{stderr}");
}

#[tokio::test]
async fn an_expired_token_is_refused_on_sqlite() {
    expired_token_is_refused(Backend::Sqlite).await;
}

#[tokio::test]
async fn an_expired_token_is_refused_on_postgres() {
    expired_token_is_refused(Backend::Postgres).await;
}

async fn expired_token_is_refused(backend: Backend) {
    let sink = SmtpSink::start();
    let smtp = with_smtp(&sink);
    let app = spawn_app_with(backend, move |serve, dir| {
        smtp(serve, dir);
        serve.env("ROSTER_TOKEN_TTL", "1s");
    })
    .await;
    register(&app, "slow@example.com").await;
    let token = token_in(&sink.wait_for(1, WAIT)[0]);
    // The token lives one second of real time; this waits for the clock, not for a worker.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    app.post("/v1/members/confirm", None, json!({ "token": token }))
        .await
        .expect_problem(400, "invalid-token");
}
