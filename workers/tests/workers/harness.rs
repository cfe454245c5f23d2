//! `env()`: Roster opened per test on SQLite or PostgreSQL (through `roster_app::open`, like the
//! binary), on a manual clock. The workers run either in-process by that clock
//! ([`Env::drain`]: the test moves time and says when due jobs run) or as real apalis workers
//! in the background ([`Env::workers`], for what only a running worker shows).

use std::sync::Arc;
use std::time::{Duration, Instant};

use roster_app::clock::ManualClock;
use roster_app::members::{Client, Registration};
use roster_app::testing::{self, TestRoster};
use roster_app::{CommandMeta, RetrySchedule, Roster, Settings};
use roster_domain::{Member, MemberState};
use roster_store::{ActorRef, RecordedEvent};
use roster_workers::queue::{JobRow, Liveness, Queues};
use roster_workers::{Catalog, Drain, WorkerConfig, Workers};
use tempfile::TempDir;
use uuid::Uuid;

pub use roster_app::testing::Backend;

pub const PUBLIC_URL: &str = "https://members.example.com";

/// Liveness fast enough for tests: a worker silent for 3 s is dead.
const HEARTBEAT: Duration = Duration::from_secs(1);

pub struct Env {
    pub roster: Roster,
    pub clock: Arc<ManualClock>,
    pub dir: TempDir,
}

pub async fn env(backend: Backend) -> Env {
    env_with(backend, |_| {}).await
}

/// As [`env`], with the settings changed first.
pub async fn env_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> Env {
    // The workers' logs, shown with a failing test's output (`ROSTER_LOG` filters).
    let filter = tracing_subscriber::EnvFilter::try_from_env("ROSTER_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("roster_workers=info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
    let TestRoster { roster, clock, dir } = testing::open_with(backend, adjust).await;
    Env { roster, clock, dir }
}

/// A worker configuration for tests: links to [`PUBLIC_URL`], quick polls, `retry` waits.
pub fn config(smtp_url: Option<String>, retry: &str) -> WorkerConfig {
    let settings = Settings {
        public_url: Some(PUBLIC_URL.into()),
        mail_from: "Roster <roster@example.com>".into(),
        smtp_url,
        worker_poll: "100ms".into(),
        ..Settings::default()
    };
    let mut config = WorkerConfig::from_settings(&settings, PUBLIC_URL).unwrap();
    config.mail_retry = RetrySchedule::parse(retry).unwrap();
    config.heartbeat = HEARTBEAT;
    // The daily reminder run only where a test asks for it (it would count among the runs).
    config.reminder_run = None;
    config
}

fn system() -> CommandMeta {
    CommandMeta::new(ActorRef::System)
}

impl Env {
    /// The reactors and workers of this build, started in the background.
    pub async fn workers(&self, config: WorkerConfig) -> Workers {
        roster_workers::prepare(&self.roster, Catalog::builtin(), config)
            .await
            .unwrap()
            .start()
    }

    /// The reactors and jobs of this build, run when the test says (by the manual clock).
    pub async fn drain(&self, config: WorkerConfig) -> Drain {
        self.drain_catalog(Catalog::builtin(), config).await
    }

    pub async fn drain_catalog(&self, catalog: Catalog, config: WorkerConfig) -> Drain {
        roster_workers::prepare(&self.roster, catalog, config)
            .await
            .unwrap()
            .drain()
    }

    /// The queues, to look at the jobs.
    pub async fn queues(&self) -> Queues {
        let liveness = Liveness {
            heartbeat: HEARTBEAT,
            missed: 3,
        };
        Queues::open(&self.roster, liveness).await.unwrap()
    }

    /// Registers a member as the API does: with the first verification token.
    pub async fn register(&self, email: &str) -> Uuid {
        let form = Registration {
            email: email.into(),
            name: "Ada Lovelace".into(),
            ..Registration::default()
        };
        let handled = self.roster.members.register(form, &system()).await.unwrap();
        handled.state.member_id.unwrap()
    }

    /// Issues a new token, as a resend does.
    pub async fn resend(&self, member: Uuid) {
        self.roster
            .members
            .resend_verification(member, &system())
            .await
            .unwrap();
    }

    /// Confirms with `token` as the API does.
    pub async fn confirm(&self, token: &str) -> Uuid {
        let client = Client::new("test", None);
        let handled = self
            .roster
            .members
            .confirm(token, &client, &system())
            .await
            .unwrap();
        handled.state.member_id.unwrap()
    }

    pub async fn erase(&self, member: Uuid) {
        self.roster.members.erase(member, &system()).await.unwrap();
    }

    pub async fn member(&self, member: Uuid) -> MemberState {
        self.roster
            .commands
            .load::<Member>(member)
            .await
            .unwrap()
            .state
    }

    /// The token of the member's newest verification ticket, as the mail carries it.
    pub async fn newest_token(&self, member: Uuid) -> String {
        let nonce = self.member(member).await.verification.unwrap().nonce;
        self.roster.members.tickets().token(member, &nonce)
    }

    /// The member's stream as stored.
    pub async fn stream(&self, member: Uuid) -> Vec<RecordedEvent> {
        self.stream_of(&roster_app::stream_name::<Member>(member))
            .await
    }

    /// A stream as stored.
    pub async fn stream_of(&self, stream: &str) -> Vec<RecordedEvent> {
        self.roster.log.read_stream(stream, 0, 1000).await.unwrap()
    }

    /// The member's events of `event_type`, as stored.
    pub async fn events(&self, member: Uuid, event_type: &str) -> Vec<RecordedEvent> {
        let stream = self.stream(member).await;
        stream
            .into_iter()
            .filter(|e| e.event_type == event_type)
            .collect()
    }

    /// Waits (polling the member's stream) until it holds an event of `event_type`: for tests
    /// with workers running in the background.
    pub async fn wait_for_event(&self, member: Uuid, event_type: &str) -> RecordedEvent {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(event) = self.events(member, event_type).await.pop() {
                return event;
            }
            assert!(Instant::now() < deadline, "no {event_type} within 30 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn jobs(&self, queue: &str) -> Vec<JobRow> {
        self.queues().await.jobs(queue).await.unwrap()
    }

    /// Waits until some job of `queue` satisfies `done`: for tests with workers running in the
    /// background.
    pub async fn wait_for_job(&self, queue: &str, done: impl Fn(&JobRow) -> bool) -> JobRow {
        let queues = self.queues().await;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let jobs = queues.jobs(queue).await.unwrap();
            if let Some(job) = jobs.iter().find(|j| done(j)) {
                return job.clone();
            }
            assert!(
                Instant::now() < deadline,
                "no such job within 30 s; jobs: {jobs:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
