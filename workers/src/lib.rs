//! Roster's background work. Reactors ([`reactor`]) follow the log with checkpoints of their
//! own and turn events into apalis jobs ([`queue`]); workers run the jobs ([`jobs`]) and report
//! back only by sending commands. Mail goes out through [`mail`].
//!
//! Architecture invariants:
//! - Replaying projections never runs a reactor: they share no checkpoint and no code path.
//! - A job's id derives from the event that caused it, so an event delivered twice enqueues
//!   one job. Delivery to the worker is at least once: a crash between sending and
//!   acknowledging costs at most one duplicate, never the mail. The verification handler also
//!   checks the log before sending (a mail already recorded as sent is not sent again); the
//!   welcome mail records nothing, so a rerun of its job sends it again.
//! - Jobs carry ids, never personal data; handlers read it from the log when they run.
//! - Workers change state only through `CommandHandler::execute`.

pub mod config;
pub mod job;
pub mod jobs;
pub mod mail;
pub mod queue;
pub mod reactor;
pub mod supervise;

use std::sync::Arc;
use std::time::Duration;

use apalis::layers::catch_panic::CatchPanicLayer;
use apalis::prelude::{WorkerBuilder, WorkerBuilderExt};
use apalis_core::backend::ext::BackendExt;
use apalis_core::error::AbortError;
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
pub use supervise::{Health, PartHealth};

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

/// Spawns the supervisor of one job type's worker on `$queues` (either backend: their storages
/// differ in type, so this is a macro rather than a function with apalis's long bounds). The
/// worker runs until told to stop; when it ends with an error it is built again (under a new
/// name, so apalis sees a new worker) after a growing pause.
macro_rules! supervise {
    ($queues:expr, $ctx:expr, $stopped:expr, $health:expr, $job:ty, $handler:path) => {{
        let (queues, ctx, health) = ($queues.clone(), $ctx.clone(), $health.clone());
        let mut stop = $stopped.clone();
        tokio::spawn(async move {
            let queue = <$job as Job>::QUEUE;
            let mut restarts = 0u32;
            loop {
                let backend = queues
                    .storage::<$job>()
                    .poll_with_interval(ctx.config.poll_interval);
                let worker = WorkerBuilder::new(worker_name(queue, restarts))
                    .backend(backend)
                    .layer(CatchPanicLayer::with_panic_handler(on_panic))
                    .concurrency(ctx.config.concurrency)
                    .data(ctx.clone())
                    .build($handler);
                let mut signal = stop.clone();
                health.running(queue);
                let ran = worker
                    .run_until(async move {
                        let _ = signal.wait_for(|stop| *stop).await;
                        Ok::<(), std::io::Error>(())
                    })
                    .await;
                if *stop.borrow() {
                    return;
                }
                restarts += 1;
                let why = match ran {
                    Ok(()) => "the worker stopped by itself".to_owned(),
                    Err(e) => e.to_string(),
                };
                tracing::error!(queue, error = %why, restarts, "a job worker failed; restarting");
                health.failed(queue, why);
                if supervise::pause(&mut stop, supervise::backoff(restarts)).await {
                    return;
                }
            }
        })
    }};
}

/// The running reactors and workers of one process.
pub struct Workers {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    health: Health,
}

impl Workers {
    /// Starts the mail reactor and one worker per queue, each kept alive by a supervisor.
    /// `mailer` decides where mail goes.
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
        let health = Health::default();
        let reactor = reactor::Reactor {
            store: runtime.store.clone(),
            side,
            queues: queues.clone(),
            mail_retry: config.mail_retry.clone(),
        };
        let mut tasks = vec![tokio::spawn(supervise_reactor(
            reactor,
            stopped.clone(),
            health.clone(),
        ))];
        let ctx = Context {
            commands: runtime.commands.clone(),
            verification,
            mailer,
            queues: queues.clone(),
            config: Arc::new(config),
        };
        // One supervised worker per job type; the storages differ in type per backend.
        macro_rules! supervise_all {
            ($q:expr) => {{
                tasks.push(supervise!(
                    $q,
                    ctx,
                    stopped,
                    health,
                    VerificationEmail,
                    jobs::verification_email::run
                ));
                tasks.push(supervise!(
                    $q,
                    ctx,
                    stopped,
                    health,
                    WelcomeEmail,
                    jobs::welcome_email::run
                ));
            }};
        }
        match &queues {
            Queues::Sqlite(q) => supervise_all!(q),
            Queues::Postgres(q) => supervise_all!(q),
        }
        tracing::info!("workers started");
        Ok(Self {
            stop,
            tasks,
            health,
        })
    }

    /// Which parts are running (the reactor as `reactor:<name>`, workers by queue).
    pub fn health(&self) -> Health {
        self.health.clone()
    }

    /// Stops the reactor and the workers; jobs in flight finish first (up to a time limit).
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let all = futures::future::join_all(self.tasks);
        if tokio::time::timeout(SHUTDOWN, all).await.is_err() {
            tracing::warn!("jobs still running after {SHUTDOWN:?}; they will run again elsewhere");
        }
        tracing::info!("workers stopped");
    }
}

/// Runs the reactor, starting it again after a pause whenever it fails, until told to stop.
async fn supervise_reactor(
    reactor: reactor::Reactor,
    mut stop: watch::Receiver<bool>,
    health: Health,
) {
    let name = format!("reactor:{}", reactor::MAIL);
    let mut restarts = 0;
    loop {
        health.running(&name);
        match reactor.run(stop.clone()).await {
            Ok(()) => return,
            Err(e) => {
                restarts += 1;
                tracing::error!(reactor = reactor::MAIL, error = %e, restarts, "the reactor failed; restarting");
                health.failed(&name, e.to_string());
                if supervise::pause(&mut stop, supervise::backoff(restarts)).await {
                    return;
                }
            }
        }
    }
}

/// Every queue this build runs a worker for.
pub const QUEUES: &[&str] = &[VerificationEmail::QUEUE, WelcomeEmail::QUEUE];

/// A handler that panics fails its job for good (a bug will not fix itself on a retry); the
/// worker goes on.
fn on_panic(panic: &Box<dyn std::any::Any + Send>) -> AbortError {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a job handler panicked".to_owned());
    tracing::error!(panic = %message, "a job handler panicked");
    AbortError::new(message)
}

/// A name no other worker has: apalis keys liveness and job locks by it.
fn worker_name(queue: &str, restarts: u32) -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "host".into());
    let nonce = uuid::Uuid::now_v7().simple().to_string();
    format!(
        "{queue}@{host}:{}:{}:r{restarts}",
        std::process::id(),
        &nonce[20..]
    )
}
