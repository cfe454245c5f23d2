//! Roster's background work. Reactors ([`reactor`]) follow the log with checkpoints of their
//! own and turn events into apalis jobs ([`queue`]); workers run the jobs ([`jobs`]) and report
//! back only by sending commands. Mail goes out through [`mail`].
//!
//! Architecture invariants:
//! - Replaying projections never runs a reactor: they share no checkpoint and no code path.
//! - A job's id derives from the event that caused it, so an event delivered twice enqueues
//!   one job; delivery to the worker is at least once, so handlers check the log before acting
//!   and a crash between sending and acknowledging costs at most one duplicate, never the mail.
//! - Jobs carry ids, never personal data; handlers read it from the log when they run.
//! - Workers change state only through `CommandHandler::execute`.

pub mod config;
pub mod job;
pub mod jobs;
pub mod mail;
pub mod queue;
pub mod reactor;

use std::sync::Arc;
use std::time::Duration;

use apalis::prelude::{Monitor, WorkerBuilder, WorkerBuilderExt};
use apalis_core::backend::ext::BackendExt;
use roster_app::Runtime;
use roster_app::sidedb::SideDb;
use roster_app::verification::Verification;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use config::{RetrySchedule, WorkerConfig};
use job::Job;
use jobs::Context;
use jobs::verification_email::VerificationEmail;
use jobs::welcome_email::WelcomeEmail;
use mail::Mailer;
use queue::Queues;

/// How long a stopping process waits for jobs in flight (a mail being handed over).
const SHUTDOWN: Duration = Duration::from_secs(20);

/// Why the workers cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Mail(#[from] mail::MailConfigError),
    #[error(transparent)]
    Queue(#[from] queue::QueueError),
    #[error(transparent)]
    Store(#[from] roster_store::StoreError),
}

/// The running reactors and workers of one process.
pub struct Workers {
    stop: watch::Sender<bool>,
    reactor: JoinHandle<()>,
    monitor: JoinHandle<()>,
}

impl Workers {
    /// Starts the mail reactor and one worker per queue. `mailer` decides where mail goes.
    pub async fn start(
        runtime: &Runtime,
        side: SideDb,
        queues: Queues,
        verification: Verification,
        mailer: Mailer,
        config: WorkerConfig,
    ) -> Result<Self, StartError> {
        reactor::install(&side, &runtime.store).await?;
        let (stop, stopped) = watch::channel(false);
        let reactor = reactor::Reactor {
            store: runtime.store.clone(),
            side,
            queues: queues.clone(),
            mail_retry: config.mail_retry.clone(),
        };
        let reactor = tokio::spawn({
            let stopped = stopped.clone();
            async move {
                if let Err(e) = reactor.run(stopped).await {
                    tracing::error!(error = %e, "the mail reactor stopped");
                }
            }
        });
        let ctx = Context {
            commands: runtime.commands.clone(),
            verification,
            mailer,
            queues: queues.clone(),
            config: Arc::new(config),
        };
        let monitor = monitor(&queues, &ctx);
        let monitor = tokio::spawn(async move {
            let mut stopped = stopped;
            let signal = async move {
                let _ = stopped.wait_for(|stop| *stop).await;
                Ok(())
            };
            if let Err(e) = monitor.run_with_signal(signal).await {
                tracing::error!(error = %e, "the job workers stopped with an error");
            }
        });
        tracing::info!("workers started");
        Ok(Self {
            stop,
            reactor,
            monitor,
        })
    }

    /// Stops the reactor and the workers; jobs in flight finish first (up to a time limit).
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        if let Err(e) = self.reactor.await {
            tracing::error!(error = %e, "the mail reactor task failed");
        }
        if let Err(e) = self.monitor.await {
            tracing::error!(error = %e, "the job worker task failed");
        }
        tracing::info!("workers stopped");
    }
}

/// Every queue this build runs a worker for.
pub const QUEUES: &[&str] = &[VerificationEmail::QUEUE, WelcomeEmail::QUEUE];

/// A name no other worker has: apalis keys liveness and job locks by it.
fn worker_name(queue: &str) -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "host".into());
    let nonce = uuid::Uuid::now_v7().simple().to_string();
    format!("{queue}@{host}:{}:{}", std::process::id(), &nonce[20..])
}

/// Registers the worker of one job type on `$queues` (either backend: their storages differ in
/// type, so this is a macro rather than a function with apalis's long bounds).
macro_rules! register {
    ($monitor:expr, $queues:expr, $ctx:expr, $job:ty, $handler:path) => {{
        let backend = $queues
            .storage::<$job>()
            .poll_with_interval($ctx.config.poll_interval);
        let ctx = $ctx.clone();
        let name = worker_name(<$job as Job>::QUEUE);
        let concurrency = ctx.config.concurrency;
        $monitor.register(move |_restarts| {
            WorkerBuilder::new(name.clone())
                .backend(backend.clone())
                .catch_panic()
                .concurrency(concurrency)
                .data(ctx.clone())
                .build($handler)
        })
    }};
}

fn monitor(queues: &Queues, ctx: &Context) -> Monitor {
    let monitor = Monitor::new().shutdown_timeout(SHUTDOWN);
    match queues {
        Queues::Sqlite(q) => {
            let monitor = register!(
                monitor,
                q,
                ctx,
                VerificationEmail,
                jobs::verification_email::run
            );
            register!(monitor, q, ctx, WelcomeEmail, jobs::welcome_email::run)
        }
        Queues::Postgres(q) => {
            let monitor = register!(
                monitor,
                q,
                ctx,
                VerificationEmail,
                jobs::verification_email::run
            );
            register!(monitor, q, ctx, WelcomeEmail, jobs::welcome_email::run)
        }
    }
}
