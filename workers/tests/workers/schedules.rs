//! Time moves when the test says: a failed job waits its schedule's time by Roster's clock and
//! runs again once the clock has passed it, with no sleep. Each job has its own schedule: the
//! mail retry schedule and a made-up job's are independent.

use chrono::Duration as Span;
use roster_app::RetrySchedule;
use roster_domain::{AnyEvent, MemberEvent};
use roster_workers::job::{Cause, Enqueue, Job, JobResult, Run, retry};
use roster_workers::jobs::Context;
use roster_workers::jobs::verification_email::VerificationEmail;
use roster_workers::reactor::Reactor;
use roster_workers::{Catalog, WorkerConfig};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::harness::{Backend, Env, config, env_with};
use crate::on_both_backends;
use crate::smtp::free_port;

on_both_backends!(
    a_failed_job_runs_again_once_the_clock_passes_its_wait,
    each_job_keeps_to_its_own_retry_schedule,
);

/// A made-up job with a schedule of its own (2 days, then 3), which fails until its third run.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct FollowUp {
    member_id: Uuid,
    cause: Cause,
}

impl Job for FollowUp {
    const QUEUE: &'static str = "test.follow_up";

    fn schedule(_: &WorkerConfig) -> RetrySchedule {
        RetrySchedule::parse("2d,3d").unwrap()
    }

    fn cause(&self) -> &Cause {
        &self.cause
    }

    async fn run(self, run: Run, _: Context) -> JobResult {
        if run.attempt < 3 {
            return Err(retry("not yet"));
        }
        Ok(())
    }
}

/// Makes a follow-up for every registration.
struct FollowUps;

impl Reactor for FollowUps {
    fn name(&self) -> &'static str {
        "test.follow_ups"
    }

    fn react(&self, event: &AnyEvent, cause: Cause) -> Result<Vec<Enqueue>, serde_json::Error> {
        match event {
            AnyEvent::Member(MemberEvent::Registered(e)) => Ok(vec![Enqueue::of(&FollowUp {
                member_id: e.member_id,
                cause,
            })?]),
            _ => Ok(Vec::new()),
        }
    }
}

/// (status, attempts) of the one job of `queue`.
async fn job(env: &Env, queue: &str) -> (String, i64) {
    let jobs = env.jobs(queue).await;
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    (jobs[0].status.clone(), jobs[0].attempts)
}

fn state(status: &str, attempts: i64) -> (String, i64) {
    (status.to_owned(), attempts)
}

/// Verification tokens that live longer than these tests' days, so the mail stays wanted.
async fn env(backend: Backend) -> Env {
    env_with(backend, |settings| settings.token_ttl = "30d".into()).await
}

async fn a_failed_job_runs_again_once_the_clock_passes_its_wait(backend: Backend) {
    let env = env(backend).await;
    // Nothing listens on the SMTP port: every attempt fails for now.
    let url = format!("smtp://127.0.0.1:{}", free_port());
    let drain = env.drain(config(Some(url), "3d")).await;
    env.register("later@example.com").await;
    assert_eq!(drain.run_due().await.unwrap().failed, 1);
    let queue = VerificationEmail::QUEUE;
    assert_eq!(job(&env, queue).await, state("Failed", 1));

    env.clock.advance(Span::days(3) - Span::seconds(1));
    assert_eq!(drain.run_due().await.unwrap().runs(), 0, "a second early");
    env.clock.advance(Span::seconds(1));
    assert_eq!(drain.run_due().await.unwrap().runs(), 1, "due after 3 days");
    assert_eq!(
        job(&env, queue).await,
        state("Killed", 2),
        "the last attempt"
    );
}

async fn each_job_keeps_to_its_own_retry_schedule(backend: Backend) {
    let env = env(backend).await;
    let url = format!("smtp://127.0.0.1:{}", free_port());
    let catalog = Catalog::builtin().reactor(FollowUps).job::<FollowUp>();
    let drain = env
        .drain_catalog(catalog, config(Some(url), "1m,1m,1m"))
        .await;
    let member = env.register("both@example.com").await;
    let (mail, follow_up) = (VerificationEmail::QUEUE, FollowUp::QUEUE);

    let first = drain.run_due().await.unwrap();
    assert_eq!((first.enqueued, first.failed), (2, 2), "{first:?}");
    assert_eq!(env.jobs(follow_up).await[0].max_attempts, 3);
    assert_eq!(env.jobs(mail).await[0].max_attempts, 4);

    // A minute later the mail is due again; the follow-up waits two days.
    env.clock.advance(Span::minutes(1));
    assert_eq!(drain.run_due().await.unwrap().runs(), 1);
    assert_eq!(job(&env, mail).await, state("Failed", 2));
    assert_eq!(job(&env, follow_up).await, state("Failed", 1));

    env.clock.advance(Span::days(2) - Span::minutes(1));
    assert_eq!(drain.run_due().await.unwrap().runs(), 2);
    assert_eq!(job(&env, mail).await, state("Failed", 3));
    assert_eq!(job(&env, follow_up).await, state("Failed", 2));

    // The mail's last attempt fails for good and is recorded; the follow-up waits three more
    // days.
    env.clock.advance(Span::minutes(1));
    assert_eq!(drain.run_due().await.unwrap().runs(), 1);
    assert_eq!(job(&env, mail).await, state("Killed", 4));
    assert_eq!(
        env.events(member, "MemberVerificationEmailFailed.v1")
            .await
            .len(),
        1
    );
    env.clock.advance(Span::days(3));
    assert_eq!(drain.run_due().await.unwrap().done, 1);
    assert_eq!(job(&env, follow_up).await, state("Done", 3));
    assert_eq!(job(&env, mail).await, state("Killed", 4), "out of attempts");
}
