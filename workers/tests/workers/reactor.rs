//! The reactor loop: one job per event however often the event is delivered, a start at the
//! head of the log, and a checkpoint of its own.

use std::time::Duration;

use roster_app::clock::Clock;
use roster_workers::job::Job;
use roster_workers::jobs::verification_email::VerificationEmail;
use roster_workers::reactor::ReactorRunner;
use roster_workers::reactors::mail::{MAIL, MailReactor};

use crate::harness::{Backend, config, env};
use crate::on_both_backends;
use crate::smtp::{SmtpSink, header};

on_both_backends!(
    an_event_delivered_twice_enqueues_one_job,
    a_new_reactor_starts_at_the_head_and_acts_only_on_what_follows,
    the_reactor_keeps_a_checkpoint_of_its_own,
);

async fn an_event_delivered_twice_enqueues_one_job(backend: Backend) {
    let env = env(backend).await;
    let member = env.register("once@example.com").await;
    let issued = &env.events(member, "MemberVerificationIssued.v1").await[0];
    let config = config(None, "1s,1s");
    let runner = ReactorRunner {
        reactor: std::sync::Arc::new(MailReactor),
        roster: env.roster.clone(),
        queues: env.queues().await,
        config: std::sync::Arc::new(config.clone()),
    };
    let jobs = runner.jobs_for(issued);
    let [job] = jobs.as_slice() else {
        panic!("one verification mail job, got {jobs:?}");
    };
    assert_eq!(job.job::<VerificationEmail>().unwrap().member_id, member);
    let queues = env.queues().await;
    let now = env.clock.now();
    assert!(
        queues.push(job, &config, now).await.unwrap(),
        "new the first time"
    );
    assert!(
        !queues.push(job, &config, now).await.unwrap(),
        "a no-op the second time"
    );
    // Decoding the event again (a re-delivery) gives the same job, with the same id.
    let again = runner.jobs_for(issued);
    assert!(!queues.push(&again[0], &config, now).await.unwrap());
    let stored = env.jobs(VerificationEmail::QUEUE).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(
        stored[0].id,
        job.cause.task_id(VerificationEmail::QUEUE).to_string()
    );
    assert_eq!(stored[0].max_attempts, 3, "the mail schedule's attempts");
}

async fn a_new_reactor_starts_at_the_head_and_acts_only_on_what_follows(backend: Backend) {
    let env = env(backend).await;
    let sink = SmtpSink::start();
    // Registered before any reactor was known to this database: history, not acted on.
    env.register("before@example.com").await;
    let drain = env.drain(config(Some(sink.url()), "1s")).await;
    env.register("after@example.com").await;
    assert_eq!(drain.run_due().await.unwrap().enqueued, 1);
    let mails = sink.wait_for(1, std::time::Duration::from_secs(30));
    assert_eq!(mails.len(), 1);
    assert_eq!(header(&mails[0], "To"), Some("after@example.com"));
    assert_eq!(env.jobs(VerificationEmail::QUEUE).await.len(), 1);
}

async fn the_reactor_keeps_a_checkpoint_of_its_own(backend: Backend) {
    let env = env(backend).await;
    let drain = env.drain(config(None, "1s")).await;
    let member = env.register("cp@example.com").await;
    drain.run_due().await.unwrap();
    let head = env.roster.log.head().await.unwrap();
    let issued = &env.events(member, "MemberVerificationIssued.v1").await[0];
    let positions = env.roster.side.reactor_positions().await.unwrap();
    let (_, position) = positions
        .iter()
        .find(|(name, _)| name == MAIL)
        .expect("the mail reactor's checkpoint");
    assert!(
        *position >= issued.position && *position <= head,
        "checkpoint {position}, issued at {}, head {head}",
        issued.position
    );
    // Opened again, the reactor goes on from its checkpoint: the next registration makes a
    // job, and (events being handled in order) nothing before it makes one again.
    let again = env.drain(config(None, "1s")).await;
    env.register("next@example.com").await;
    assert_eq!(again.run_due().await.unwrap().enqueued, 1);
    assert_eq!(env.jobs(VerificationEmail::QUEUE).await.len(), 2);
}

/// A job worker whose queue database fails (here: a lock held past the busy timeout) ends, as
/// apalis workers do; its supervisor starts it again, and mail flows once the database is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_whose_queue_database_failed_is_started_again() {
    use sqlx::Connection;

    let env = env(Backend::Sqlite).await;
    let sink = SmtpSink::start();
    let workers = env.workers(config(Some(sink.url()), "1s")).await;
    let mut blocker = sqlx::SqliteConnection::connect(&format!(
        "sqlite://{}",
        env.dir.path().join("jobs.db").display()
    ))
    .await
    .unwrap();
    sqlx::raw_sql("BEGIN EXCLUSIVE")
        .execute(&mut blocker)
        .await
        .unwrap();
    // Longer than the 5 s busy timeout: the workers' next fetch fails.
    let restarted = workers
        .health()
        .wait_until(Duration::from_secs(30), |parts| {
            parts
                .iter()
                .any(|p| p.name == VerificationEmail::QUEUE && p.restarts > 0)
        })
        .await;
    assert!(restarted, "{:?}", workers.health().parts());
    sqlx::raw_sql("ROLLBACK")
        .execute(&mut blocker)
        .await
        .unwrap();

    let member = env.register("back@example.com").await;
    env.wait_for_event(member, "MemberVerificationEmailSent.v1")
        .await;
    assert_eq!(sink.messages().len(), 1);
    // Every worker whose fetch failed is started again after its own pause (they failed at
    // slightly different moments), so wait for the last restart rather than expect it done.
    let running = workers
        .health()
        .wait_until(Duration::from_secs(30), |parts| {
            parts.iter().all(|p| p.failure.is_none())
        })
        .await;
    assert!(running, "{:?}", workers.health().parts());
    workers.shutdown().await;
}
