//! Verification and welcome mails over SMTP: delivered, recorded, retried while the server is
//! away, refused for good, and never sent when no longer wanted. Time is the manual clock:
//! a retry runs when the test moves the clock past its wait and drains the due jobs.

use std::time::Duration;

use chrono::Duration as Span;
use roster_app::clock::Clock;
use roster_domain::member::{MailOutcome, MemberStatus};
use roster_store::ActorRef;
use roster_workers::Drained;
use roster_workers::job::Job;
use roster_workers::jobs::verification_email::VerificationEmail;
use roster_workers::jobs::welcome_email::WelcomeEmail;

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
    workers_in_the_background_deliver_the_mail_too,
);

const WAIT: Duration = Duration::from_secs(30);

async fn a_registration_is_mailed_over_smtp_and_its_token_confirms_the_member(backend: Backend) {
    let env = env(backend).await;
    let sink = SmtpSink::start();
    let drain = env.drain(config(Some(sink.url()), "1m")).await;
    let member = env.register("ada@example.com").await;
    let drained = drain.run_due().await.unwrap();
    assert_eq!((drained.enqueued, drained.done), (1, 1), "{drained:?}");

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
    let sent = env.events(member, "MemberVerificationEmailSent.v1").await;
    let issued = env.events(member, "MemberVerificationIssued.v1").await;
    let (sent, issued) = (&sent[0], &issued[0]);
    assert_eq!(
        sent.metadata.actor,
        ActorRef::Worker(VerificationEmail::QUEUE.into())
    );
    assert_eq!(sent.metadata.causation_id, Some(issued.event_id));
    assert_eq!(sent.metadata.correlation_id, issued.metadata.correlation_id);
    assert_eq!(sent.metadata.recorded_at, env.clock.now());
    assert_eq!(
        env.member(member).await.verification.unwrap().mail,
        MailOutcome::Sent
    );

    assert_eq!(env.confirm(&token).await, member);
    assert_eq!(env.member(member).await.status, MemberStatus::Active);
    // The confirmation brings the welcome mail.
    drain.run_due().await.unwrap();
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
    assert_eq!(drain.run_due().await.unwrap(), Drained::default());
    assert_eq!(sink.messages().len(), 2, "nothing is sent twice");
    assert_eq!(env.jobs(WelcomeEmail::QUEUE).await[0].status, "Done");
}

async fn with_the_smtp_server_down_then_up_the_mail_arrives_once(backend: Backend) {
    let env = env(backend).await;
    let port = free_port();
    let url = format!("smtp://127.0.0.1:{port}");
    let drain = env.drain(config(Some(url), "10m,10m,10m")).await;
    let member = env.register("patient@example.com").await;

    // Nothing listens: the attempt fails and the job waits ten minutes for its next one.
    let drained = drain.run_due().await.unwrap();
    assert_eq!(drained.failed, 1, "{drained:?}");
    let sink = SmtpSink::start_on(port);
    env.clock.advance(Span::minutes(9));
    assert_eq!(drain.run_due().await.unwrap().runs(), 0, "not due yet");
    env.clock.advance(Span::minutes(1));
    assert_eq!(drain.run_due().await.unwrap().done, 1);

    let mails = sink.wait_for(1, WAIT);
    assert_eq!(header(&mails[0], "To"), Some("patient@example.com"));
    assert_eq!(
        env.events(member, "MemberVerificationEmailSent.v1")
            .await
            .len(),
        1
    );
    let job = &env.jobs(VerificationEmail::QUEUE).await[0];
    assert_eq!((job.status.as_str(), job.attempts), ("Done", 2));
    assert_eq!(sink.messages().len(), 1, "the mail arrives once");
}

async fn a_permanent_refusal_is_recorded_at_once_and_never_retried(backend: Backend) {
    let env = env(backend).await;
    let sink = SmtpSink::start();
    sink.reject(true);
    let drain = env.drain(config(Some(sink.url()), "1s,1s,1s")).await;
    let member = env.register("nobody@example.com").await;
    assert_eq!(drain.run_due().await.unwrap().killed, 1);

    let failed = &env.events(member, "MemberVerificationEmailFailed.v1").await[0];
    assert_eq!(failed.payload["failure"]["kind"], "rejected");
    assert_eq!(failed.payload["failure"]["smtp_code"], 550);
    assert_eq!(failed.payload["attempts"], 1);
    assert!(
        !failed.payload.to_string().contains("nobody@example.com"),
        "the server's words (which may quote the address) are not stored"
    );
    env.clock.advance(Span::hours(1));
    assert_eq!(drain.run_due().await.unwrap().runs(), 0, "never retried");
    let job = &env.jobs(VerificationEmail::QUEUE).await[0];
    assert_eq!((job.status.as_str(), job.attempts), ("Killed", 1));
    assert!(sink.messages().is_empty());
}

async fn when_the_last_attempt_fails_the_failure_is_recorded(backend: Backend) {
    let env = env(backend).await;
    let sink = SmtpSink::start();
    sink.defer(true);
    let drain = env.drain(config(Some(sink.url()), "1m,5m")).await;
    let member = env.register("busy@example.com").await;

    for wait in [Span::zero(), Span::minutes(1), Span::minutes(5)] {
        env.clock.advance(wait);
        assert_eq!(drain.run_due().await.unwrap().runs(), 1);
    }
    let failed = &env.events(member, "MemberVerificationEmailFailed.v1").await[0];
    assert_eq!(failed.payload["failure"]["kind"], "deferred");
    assert_eq!(failed.payload["failure"]["smtp_code"], 451);
    assert_eq!(failed.payload["attempts"], 3);
    assert_eq!(
        env.member(member).await.verification.unwrap().mail,
        MailOutcome::Failed
    );
    env.clock.advance(Span::days(1));
    assert_eq!(drain.run_due().await.unwrap().runs(), 0, "out of attempts");
    assert!(sink.messages().is_empty());
}

async fn a_token_replaced_by_a_newer_one_is_not_mailed(backend: Backend) {
    let env = env(backend).await;
    let sink = SmtpSink::start();
    // Both tokens are issued before any job runs: two jobs, of which only the newer mails.
    let drain = env.drain(config(Some(sink.url()), "1s")).await;
    let member = env.register("twice@example.com").await;
    env.clock.advance(Span::seconds(61));
    env.resend(member).await;

    let drained = drain.run_due().await.unwrap();
    assert_eq!((drained.enqueued, drained.done), (2, 2), "{drained:?}");
    let mails = sink.wait_for(1, WAIT);
    assert_eq!(sink.messages().len(), 1);
    assert_eq!(token_in(&mails[0]), env.newest_token(member).await);
}

async fn an_erased_member_is_sent_nothing(backend: Backend) {
    let env = env(backend).await;
    let sink = SmtpSink::start();
    let drain = env.drain(config(Some(sink.url()), "1s")).await;
    let erased = env.register("gone@example.com").await;
    env.erase(erased).await;
    let kept = env.register("kept@example.com").await;

    let drained = drain.run_due().await.unwrap();
    assert_eq!((drained.enqueued, drained.done), (2, 2), "{drained:?}");
    let mails = sink.wait_for(1, WAIT);
    assert_eq!(mails.len(), 1);
    assert_eq!(header(&mails[0], "To"), Some("kept@example.com"));
    assert_eq!(
        env.events(kept, "MemberVerificationEmailSent.v1")
            .await
            .len(),
        1
    );
    assert!(
        env.events(erased, "MemberVerificationEmailSent.v1")
            .await
            .is_empty()
    );
}

/// The same path through real apalis workers polling their queues in the background.
async fn workers_in_the_background_deliver_the_mail_too(backend: Backend) {
    let env = env(backend).await;
    let sink = SmtpSink::start();
    let workers = env.workers(config(Some(sink.url()), "1s")).await;
    let member = env.register("background@example.com").await;
    let mails = sink.wait_for(1, WAIT);
    assert_eq!(header(&mails[0], "To"), Some("background@example.com"));
    env.wait_for_event(member, "MemberVerificationEmailSent.v1")
        .await;
    env.wait_for_job(VerificationEmail::QUEUE, |j| j.status == "Done")
        .await;
    workers.shutdown().await;
    assert_eq!(sink.messages().len(), 1);
}
