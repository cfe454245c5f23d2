//! Roster's background work. Reactors ([`reactor`]) follow the log with checkpoints of their
//! own and turn events into apalis jobs ([`queue`]); workers run the jobs ([`jobs`]) and report
//! back only by sending commands. Mail goes out through [`mail`]. What a process runs is one
//! list, the [`Catalog`].
//!
//! [`prepare`] opens what the workers need beside Roster; the result either starts the
//! reactors and one apalis worker per queue in the background ([`Prepared::start`]), or runs
//! what is due in the caller's task by Roster's clock ([`Prepared::drain`], for tests).
//!
//! Architecture invariants:
//! - Replaying projections never runs a reactor: they share no checkpoint and no code path.
//! - A job's id derives from the event that caused it, so an event delivered twice enqueues
//!   one job. Delivery to the worker is at least once: a crash between sending and
//!   acknowledging costs at most one duplicate, never the mail. The verification handler also
//!   checks the log before sending (a mail already recorded as sent is not sent again); the
//!   welcome mail records nothing, so a rerun of its job sends it again.
//! - Jobs carry ids, never personal data; handlers read it from the log when they run.
//! - Workers change state only through the application's use cases.
//! - Time is Roster's clock: schedules, checkpoints and mail dates never read the wall clock.

pub mod catalog;
pub mod config;
pub mod drain;
pub mod gateway;
pub mod job;
pub mod jobs;
pub mod mail;
pub mod queue;
pub mod reactor;
pub mod reactors;
pub mod reconcile;
pub mod reminders;
pub mod supervise;

use std::sync::Arc;
use std::time::Duration;

use roster_app::Roster;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use catalog::Catalog;
pub use config::WorkerConfig;
pub use drain::{Drain, Drained};
use jobs::Context;
use mail::{FileOutbox, Mailer};
use queue::{Liveness, Queues};
use reactor::ReactorRunner;
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
    Reactor(#[from] reactor::ReactorError),
}

/// The workers' parts, opened and ready to run.
pub struct Prepared {
    ctx: Context,
    catalog: Catalog,
}

/// Opens the job queues beside `roster`'s SQL side and the mailer (SMTP, or the outbox in the
/// data dir), and installs the catalog's reactors (a new one starts at the log's head).
pub async fn prepare(
    roster: &Roster,
    catalog: Catalog,
    config: WorkerConfig,
) -> Result<Prepared, StartError> {
    reactor::install(roster, catalog.reactors()).await?;
    let queues = Queues::open(roster, Liveness::of(&config)).await?;
    jobs::reminder_run::schedule(&queues, &config, roster.clock.now()).await?;
    let outbox = FileOutbox::new(roster.settings.data_dir.join("outbox"));
    let mailer = Mailer::new(
        config.smtp.as_ref(),
        outbox,
        &config.mail_from,
        roster.clock.clone(),
    )?;
    let ctx = Context {
        roster: roster.clone(),
        mailer,
        queues,
        config: Arc::new(config),
    };
    Ok(Prepared { ctx, catalog })
}

impl Prepared {
    pub fn context(&self) -> &Context {
        &self.ctx
    }

    fn runners(&self) -> Vec<ReactorRunner> {
        self.catalog
            .reactors()
            .iter()
            .map(|reactor| ReactorRunner {
                reactor: reactor.clone(),
                roster: self.ctx.roster.clone(),
                queues: self.ctx.queues.clone(),
                config: self.ctx.config.clone(),
            })
            .collect()
    }

    /// Starts every reactor and one worker per queue, each kept alive by a supervisor.
    pub fn start(self) -> Workers {
        let (stop, stopped) = watch::channel(false);
        let health = Health::default();
        let mut tasks: Vec<JoinHandle<()>> = self
            .runners()
            .into_iter()
            .map(|runner| supervise::reactor(runner, stopped.clone(), health.clone()))
            .collect();
        for kind in self.catalog.jobs() {
            tasks.push(kind.spawn(self.ctx.clone(), stopped.clone(), health.clone()));
        }
        tracing::info!(queues = ?self.catalog.queues(), "workers started");
        Workers {
            stop,
            tasks,
            health,
        }
    }

    /// Runs nothing in the background: [`Drain::run_due`] runs what is due when asked.
    pub fn drain(self) -> Drain {
        Drain {
            runners: self.runners(),
            ctx: self.ctx,
            catalog: self.catalog,
        }
    }
}

/// The running reactors and workers of one process.
pub struct Workers {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    health: Health,
}

impl Workers {
    /// Which parts are running (reactors as `reactor:<name>`, workers by queue).
    pub fn health(&self) -> Health {
        self.health.clone()
    }

    /// Stops the reactors and the workers; jobs in flight finish first (up to a time limit).
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let all = futures::future::join_all(self.tasks);
        if tokio::time::timeout(SHUTDOWN, all).await.is_err() {
            tracing::warn!("jobs still running after {SHUTDOWN:?}; they will run again elsewhere");
        }
        tracing::info!("workers stopped");
    }
}
