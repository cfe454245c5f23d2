//! How mail leaves, whatever the backend (these run on SQLite): STARTTLS and implicit TLS with
//! credentials against a server whose certificate comes from a private CA; refused credentials
//! and an untrusted certificate are retried like an outage, then recorded.

use std::time::Duration;

use chrono::Duration as Span;
use roster_workers::WorkerConfig;
use roster_workers::mail::SmtpSettings;

use crate::harness::{Backend, config, env};
use crate::smtp::{SinkOptions, SmtpSink, TlsMode, header};

const WAIT: Duration = Duration::from_secs(30);

fn over(url: String, ca_file: Option<std::path::PathBuf>, retry: &str) -> WorkerConfig {
    let mut config = config(None, retry);
    config.smtp = Some(SmtpSettings { url, ca_file });
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_with_credentials_delivers_to_a_server_of_a_private_ca() {
    let env = env(Backend::Sqlite).await;
    let sink = SmtpSink::start_with(SinkOptions {
        tls: Some(TlsMode::StartTls),
        auth: Some(("roster", "s3cret")),
    });
    let url = format!("smtp://roster:s3cret@localhost:{}?tls=required", sink.port);
    let drain = env.drain(over(url, Some(sink.ca_file()), "1s")).await;
    let member = env.register("tls@example.com").await;
    assert_eq!(drain.run_due().await.unwrap().done, 1);
    let mails = sink.wait_for(1, WAIT);
    assert_eq!(header(&mails[0], "To"), Some("tls@example.com"));
    let sent = env.events(member, "MemberVerificationEmailSent.v1").await;
    assert_eq!(sent.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn implicit_tls_delivers() {
    let env = env(Backend::Sqlite).await;
    let sink = SmtpSink::start_with(SinkOptions {
        tls: Some(TlsMode::Implicit),
        auth: Some(("roster", "s3cret")),
    });
    let url = format!("smtps://roster:s3cret@localhost:{}", sink.port);
    let drain = env.drain(over(url, Some(sink.ca_file()), "1s")).await;
    let member = env.register("smtps@example.com").await;
    assert_eq!(drain.run_due().await.unwrap().done, 1);
    sink.wait_for(1, WAIT);
    let sent = env.events(member, "MemberVerificationEmailSent.v1").await;
    assert_eq!(sent.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_credentials_are_retried_then_recorded_as_unauthorized() {
    let env = env(Backend::Sqlite).await;
    let sink = SmtpSink::start_with(SinkOptions {
        tls: None,
        auth: Some(("roster", "s3cret")),
    });
    let url = format!("smtp://roster:wrong@127.0.0.1:{}", sink.port);
    let drain = env.drain(over(url, None, "30s,30s")).await;
    let member = env.register("auth@example.com").await;
    for _ in 0..3 {
        assert_eq!(drain.run_due().await.unwrap().runs(), 1);
        env.clock.advance(Span::seconds(30));
    }
    let failed = &env.events(member, "MemberVerificationEmailFailed.v1").await[0];
    assert_eq!(failed.payload["failure"]["kind"], "unauthorized");
    assert_eq!(failed.payload["failure"]["smtp_code"], 535);
    assert_eq!(
        failed.payload["attempts"], 3,
        "retried, not given up at once"
    );
    assert!(sink.messages().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_nobody_vouches_for_is_refused() {
    let env = env(Backend::Sqlite).await;
    let sink = SmtpSink::start_with(SinkOptions {
        tls: Some(TlsMode::StartTls),
        auth: None,
    });
    // No ROSTER_SMTP_CA_FILE: the private CA is not trusted, so nothing is sent in clear or
    // to an impostor; the attempts fail as if the server were unreachable.
    let url = format!("smtp://localhost:{}?tls=required", sink.port);
    let drain = env.drain(over(url, None, "1m")).await;
    let member = env.register("mitm@example.com").await;
    assert_eq!(drain.run_due().await.unwrap().failed, 1);
    env.clock.advance(Span::minutes(1));
    assert_eq!(drain.run_due().await.unwrap().runs(), 1);
    let failed = &env.events(member, "MemberVerificationEmailFailed.v1").await[0];
    assert_eq!(failed.payload["failure"]["kind"], "unreachable");
    assert_eq!(failed.payload["attempts"], 2);
    assert!(sink.messages().is_empty());
}
