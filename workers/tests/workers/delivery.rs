//! Verification and welcome mails over SMTP: delivered, recorded, retried while the server is
//! away, refused for good, and never sent when no longer wanted.

use std::time::Duration;

use roster_domain::member::{MailOutcome, MemberStatus};
use roster_store::ActorRef;
use roster_workers::job::Job;
use roster_workers::jobs::verification_email::VerificationEmail;

use crate::harness::{Backend, PUBLIC_URL, config, env};
use crate::on_both_backends;
use crate::smtp::{SmtpSink, free_port, header, token_in};

on_both_backends!(
    a_registration_is_mailed_over_smtp_and_its_token_confirms_the_member,
    with_the_smtp_server_down_then_up_the_mail_arrives_once,
    a_permanent_refusal_is_recorded_at_once_and_never_retried,
    when_the_last_attempt_fails_the_failure_is_recorded,
    a_token_replaced_by_a_newer_one_is_not_mailed,
    an_erased_member_is_sent_nothing,
);

const WAIT: Duration = Duration::from_secs(30);

async fn a_registration_is_mailed_over_smtp_and_its_token_confirms_the_member(backend: Backend) {
    let env = env(backend).await;
    let sink = SmtpSink::start();
    let workers = env.workers(config(Some(sink.url()), "1s")).await;
    let member = env.register("ada@example.com").await;

    let mails = sink.wait_for(1, WAIT);
    let mail = &mails[0];
    assert_eq!(header(mail, "To"), Some("ada@example.com"));
    assert_eq!(header(mail, "Subject"), Some("Confirm your email address"));
    assert!(mail.contains("multipart/alternative"), "{mail}");
    assert!(
        mail.contains("text/plain") && mail.contains("text/html"),
        "{mail}"
    );
    assert!(
        mail.contains(&format!("{PUBLIC_URL}/confirm?token=")),
        "{mail}"
    );
    assert!(mail.contains("Hello Ada Lovelace"), "{mail}");
    let token = token_in(mail);
    assert_eq!(token.len(), 43);

    // The delivery is in the log, by the worker, in the registration's correlation.
    let sent = env
        .wait_for_event(member, "MemberVerificationEmailSent.v1")
        .await;
    let issued = env
        .wait_for_event(member, "MemberVerificationIssued.v1")
        .await;
    assert_eq!(
        sent.metadata.actor,
        ActorRef::Worker(VerificationEmail::QUEUE.into())
    );
    assert_eq!(sent.metadata.causation_id, Some(issued.event_id));
    assert_eq!(sent.metadata.correlation_id, issued.metadata.correlation_id);
    assert_eq!(
        env.member(member).await.verification.unwrap().mail,
        MailOutcome::Sent
    );

    assert_eq!(env.confirm(&token).await, member);
    assert_eq!(env.member(member).await.status, MemberStatus::Active);
    // The confirmation brings the welcome mail.
    let mails = sink.wait_for(2, WAIT);
    assert_eq!(
        header(&mails[1], "Subject"),
        Some("Welcome: your account is active")
    );
    assert!(
        mails[1].contains("https://members.example.com/terms"),
        "{}",
        mails[1]
    );
    workers.shutdown().await;
    assert_eq!(sink.messages().len(), 2, "nothing is sent twice");
}

async fn with_the_smtp_server_down_then_up_the_mail_arrives_once(backend: Backend) {
    let env = env(backend).await;
    let port = free_port();
    let url = format!("smtp://127.0.0.1:{port}");
    // Enough attempts to outlast the outage, one a second.
    let workers = env.workers(config(Some(url), &["1s"; 30].join(","))).await;
    let member = env.register("patient@example.com").await;

    // Nothing listens: the attempt fails and the job waits for its next one.
    env.wait_for_job(VerificationEmail::QUEUE, |j| {
        j.status == "Failed" && j.attempts >= 1
    })
    .await;
    let sink = SmtpSink::start_on(port);
    let mails = sink.wait_for(1, WAIT);
    assert_eq!(header(&mails[0], "To"), Some("patient@example.com"));
    env.wait_for_event(member, "MemberVerificationEmailSent.v1")
        .await;
    let job = env
        .wait_for_job(VerificationEmail::QUEUE, |j| j.status == "Done")
        .await;
    assert!(job.attempts >= 2, "{job:?}");
    workers.shutdown().await;
    assert_eq!(sink.messages().len(), 1, "the mail arrives once");
}

async fn a_permanent_refusal_is_recorded_at_once_and_never_retried(backend: Backend) {
    let env = env(backend).await;
    let sink = SmtpSink::start();
    sink.reject(true);
    let workers = env.workers(config(Some(sink.url()), "1s,1s,1s")).await;
    let member = env.register("nobody@example.com").await;

    let failed = env
        .wait_for_event(member, "MemberVerificationEmailFailed.v1")
        .await;
    assert_eq!(failed.payload["failure"]["kind"], "rejected");
    assert_eq!(failed.payload["failure"]["smtp_code"], 550);
    assert_eq!(failed.payload["attempts"], 1);
    assert!(
        !failed.payload.to_string().contains("nobody@example.com"),
        "the server's words (which may quote the address) are not stored"
    );
    let job = env
        .wait_for_job(VerificationEmail::QUEUE, |j| j.status == "Killed")
        .await;
    assert_eq!(job.attempts, 1, "{job:?}");
    workers.shutdown().await;
    assert!(sink.messages().is_empty());
}

async fn when_the_last_attempt_fails_the_failure_is_recorded(backend: Backend) {
    let env = env(backend).await;
    let sink = SmtpSink::start();
    sink.defer(true);
    let workers = env.workers(config(Some(sink.url()), "1s,1s")).await;
    let member = env.register("busy@example.com").await;

    let failed = env
        .wait_for_event(member, "MemberVerificationEmailFailed.v1")
        .await;
    assert_eq!(failed.payload["failure"]["kind"], "deferred");
    assert_eq!(failed.payload["failure"]["smtp_code"], 451);
    assert_eq!(failed.payload["attempts"], 3);
    assert_eq!(
        env.member(member).await.verification.unwrap().mail,
        MailOutcome::Failed
    );
    workers.shutdown().await;
    assert!(sink.messages().is_empty());
}

async fn a_token_replaced_by_a_newer_one_is_not_mailed(backend: Backend) {
    let env = env(backend).await;
    let sink = SmtpSink::start();
    // Both tokens are issued before any worker runs: two jobs, of which only the newer mails.
    roster_workers::reactor::install(&env.side, &env.runtime.store)
        .await
        .unwrap();
    let member = env.register("twice@example.com").await;
    env.clock.advance(chrono::Duration::seconds(61));
    env.resend(member).await;
    let newest = env.member(member).await.verification.unwrap().nonce;
    let workers = env.workers(config(Some(sink.url()), "1s")).await;

    let mails = sink.wait_for(1, WAIT);
    env.wait_for_jobs_done(VerificationEmail::QUEUE, 2).await;
    workers.shutdown().await;
    assert_eq!(sink.messages().len(), 1);
    assert_eq!(token_in(&mails[0]), env.verification.token(member, &newest));
}

async fn an_erased_member_is_sent_nothing(backend: Backend) {
    let env = env(backend).await;
    let sink = SmtpSink::start();
    roster_workers::reactor::install(&env.side, &env.runtime.store)
        .await
        .unwrap();
    let erased = env.register("gone@example.com").await;
    env.erase(erased).await;
    let kept = env.register("kept@example.com").await;
    let workers = env.workers(config(Some(sink.url()), "1s")).await;

    env.wait_for_event(kept, "MemberVerificationEmailSent.v1")
        .await;
    env.wait_for_jobs_done(VerificationEmail::QUEUE, 2).await;
    workers.shutdown().await;
    let mails = sink.messages();
    assert_eq!(mails.len(), 1);
    assert_eq!(header(&mails[0], "To"), Some("kept@example.com"));
    assert!(
        env.stream(erased)
            .await
            .iter()
            .all(|e| e.event_type != "MemberVerificationEmailSent.v1")
    );
}
