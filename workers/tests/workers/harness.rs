//! `env()`: a fresh log, side tables and job queues per test, on SQLite or PostgreSQL, with the
//! workers started against a real SMTP server (or the file outbox) when the test says so.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use roster_app::clock::{ManualClock, V7Ids};
use roster_app::sidedb::SideDb;
use roster_app::verification::{DEFAULT_TOKEN_TTL, Verification};
use roster_app::{CommandHandler, CommandMeta, Runtime};
use roster_domain::member::{
    ConfirmMemberEmail, IssueMemberVerification, RegisterMember, RequestMemberErasure,
};
use roster_domain::{Member, MemberCommand, MemberState};
use roster_store::pii::{MasterKey, Vault};
use roster_store::{ActorRef, DynStore, RecordedEvent, testing};
use roster_workers::mail::{FileOutbox, Mailer, SmtpSettings};
use roster_workers::queue::{JobRow, Liveness, Queues};
use roster_workers::{RetrySchedule, WorkerConfig, Workers};
use tempfile::TempDir;
use uuid::Uuid;

pub const PUBLIC_URL: &str = "https://members.example.com";

pub use roster_store::testing::Backend;

pub struct Env {
    pub runtime: Runtime,
    pub side: SideDb,
    pub queues: Queues,
    pub verification: Verification,
    pub clock: Arc<ManualClock>,
    pub dir: TempDir,
}

/// Liveness fast enough for tests: a worker silent for 3 s is dead.
const LIVENESS: Liveness = Liveness {
    heartbeat: Duration::from_secs(1),
    missed: 3,
};

pub async fn env(backend: Backend) -> Env {
    // The workers' logs, shown with a failing test's output (`ROSTER_LOG` filters).
    let filter = tracing_subscriber::EnvFilter::try_from_env("ROSTER_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("roster_workers=info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
    let dir = tempfile::tempdir().unwrap();
    let (store, side, queues): (DynStore, SideDb, Queues) = match backend {
        Backend::Sqlite => {
            let store =
                roster_store::sqlite::SqliteStore::open(dir.path().join("roster.db")).unwrap();
            let side = SideDb::sqlite(&dir.path().join("side.db")).await.unwrap();
            let queues = Queues::sqlite(&dir.path().join("jobs.db"), LIVENESS)
                .await
                .unwrap();
            (Arc::new(store), side, queues)
        }
        Backend::Postgres => {
            let store = testing::postgres_temp().await;
            let options = store.connect_options().clone();
            let side = SideDb::postgres(options.clone()).await.unwrap();
            let queues = Queues::postgres(options, LIVENESS).await.unwrap();
            (Arc::new(store), side, queues)
        }
    };
    let vault = Vault::new(&MasterKey::generate(), store.clone());
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let commands =
        CommandHandler::new(store.clone(), vault.clone(), clock.clone(), Arc::new(V7Ids));
    let verification = Verification::new(vault.clone(), store.clone(), DEFAULT_TOKEN_TTL);
    Env {
        runtime: Runtime {
            store,
            vault,
            commands,
        },
        side,
        queues,
        verification,
        clock,
        dir,
    }
}

/// A worker configuration for tests: links to [`PUBLIC_URL`], quick polls, `retry` waits.
pub fn config(smtp_url: Option<String>, retry: &str) -> WorkerConfig {
    let mut config = WorkerConfig::new(PUBLIC_URL);
    config.mail_from = "Roster <roster@example.com>".into();
    config.smtp = smtp_url.map(|url| SmtpSettings { url, ca_file: None });
    config.mail_retry = RetrySchedule::parse(retry).unwrap();
    config.poll_interval = Duration::from_millis(100);
    config.heartbeat = LIVENESS.heartbeat;
    config
}

fn system() -> CommandMeta {
    CommandMeta::new(ActorRef::System)
}

impl Env {
    /// Starts the reactor and the workers.
    pub async fn workers(&self, config: WorkerConfig) -> Workers {
        let outbox = FileOutbox::new(self.dir.path().join("outbox"));
        let mailer = Mailer::new(config.smtp.as_ref(), outbox, &config.mail_from).unwrap();
        Workers::start(
            &self.runtime,
            self.side.clone(),
            self.queues.clone(),
            self.verification.clone(),
            mailer,
            config,
        )
        .await
        .unwrap()
    }

    pub fn commands(&self) -> &CommandHandler {
        &self.runtime.commands
    }

    /// Registers a member as the API does: with the first verification token.
    pub async fn register(&self, email: &str) -> Uuid {
        let id = self.commands().new_id();
        let command = MemberCommand::Register(RegisterMember {
            member_id: id,
            email: email.into(),
            name: "Ada Lovelace".into(),
            fields: Default::default(),
            company: None,
            location: None,
            verification: Some(self.verification.ticket(id)),
        });
        self.commands()
            .execute::<Member>(id, &command, &system())
            .await
            .unwrap();
        id
    }

    /// Issues a new token, as a resend does.
    pub async fn resend(&self, member: Uuid) {
        let ticket = self.verification.ticket(member);
        let command = MemberCommand::IssueVerification(IssueMemberVerification { ticket });
        self.commands()
            .execute::<Member>(member, &command, &system())
            .await
            .unwrap();
    }

    /// Confirms with `token` as the API does: finds the member by the token, then confirms.
    pub async fn confirm(&self, token: &str) -> Uuid {
        let (member, token_hash) = self
            .verification
            .find(token)
            .await
            .unwrap()
            .expect("a live token");
        let command = MemberCommand::ConfirmEmail(ConfirmMemberEmail { token_hash });
        self.commands()
            .execute::<Member>(member, &command, &system())
            .await
            .unwrap();
        member
    }

    pub async fn erase(&self, member: Uuid) {
        let command = MemberCommand::RequestErasure(RequestMemberErasure {});
        self.commands()
            .execute::<Member>(member, &command, &system())
            .await
            .unwrap();
        self.runtime.vault.shred(member).await.unwrap();
    }

    pub async fn member(&self, member: Uuid) -> MemberState {
        self.commands().load::<Member>(member).await.unwrap().state
    }

    /// The member's stream as stored.
    pub async fn stream(&self, member: Uuid) -> Vec<RecordedEvent> {
        self.runtime
            .store
            .read_stream(&format!("member-{member}"), 0, 1000)
            .await
            .unwrap()
    }

    /// Waits (polling the member's stream) until it holds an event of `event_type`.
    pub async fn wait_for_event(&self, member: Uuid, event_type: &str) -> RecordedEvent {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(event) = self
                .stream(member)
                .await
                .into_iter()
                .find(|e| e.event_type == event_type)
            {
                return event;
            }
            assert!(Instant::now() < deadline, "no {event_type} within 30 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn jobs(&self, queue: &str) -> Vec<JobRow> {
        self.queues.jobs(queue).await.unwrap()
    }

    /// Waits until `queue` holds exactly `count` jobs, all done.
    pub async fn wait_for_jobs_done(&self, queue: &str, count: usize) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let jobs = self.jobs(queue).await;
            if jobs.len() == count && jobs.iter().all(|j| j.status == "Done") {
                return;
            }
            assert!(Instant::now() < deadline, "jobs: {jobs:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until some job of `queue` satisfies `done`.
    pub async fn wait_for_job(&self, queue: &str, done: impl Fn(&JobRow) -> bool) -> JobRow {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(job) = self.jobs(queue).await.into_iter().find(|j| done(j)) {
                return job;
            }
            assert!(
                Instant::now() < deadline,
                "no such job within 30 s; jobs: {:?}",
                self.jobs(queue).await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
