//! `roster worker`: the reactors and job workers without the API, for deployments that run
//! them apart (several on one PostgreSQL database; or beside `roster serve --no-workers`).
//! Prints `worker started` once running; stops gracefully on SIGTERM or SIGINT, letting jobs
//! in flight finish.

use std::io::Write;
use std::path::PathBuf;

use roster_app::sidedb::SideDb;
use roster_app::verification::Verification;
use roster_app::{Runtime, StorageConfig};
use roster_workers::Workers;
use roster_workers::mail::{FileOutbox, Mailer};
use roster_workers::queue::Queues;

use crate::settings::{Settings, with_file};
use crate::shutdown::shutdown_signal;

#[derive(Debug, clap::Args)]
pub struct WorkerArgs {
    /// A TOML file with the same keys as the environment, without `ROSTER_`, lower-cased.
    #[arg(long, env = "ROSTER_CONFIG")]
    config: Option<PathBuf>,
}

pub async fn run(storage: StorageConfig, args: WorkerArgs) -> anyhow::Result<()> {
    let (settings, file) = Settings::load(args.config.as_deref(), None)?;
    let storage = with_file(storage, &file);
    let runtime = Runtime::open(&storage).await?;
    let side = SideDb::open(&storage).await?;
    let public_url = settings.public_url(|| format!("http://{}", settings.listen))?;
    let workers = start(&runtime, &side, &storage, &settings, &public_url).await?;
    println!("worker started");
    std::io::stdout().flush()?;
    shutdown_signal().await;
    workers.shutdown().await;
    tracing::info!("stopped");
    Ok(())
}

/// The reactors and workers of this process, configured from `settings`.
pub async fn start(
    runtime: &Runtime,
    side: &SideDb,
    storage: &StorageConfig,
    settings: &Settings,
    public_url: &str,
) -> anyhow::Result<Workers> {
    let config = settings.worker_config(public_url)?;
    let queues = Queues::open(storage, &config).await?;
    let outbox = FileOutbox::new(storage.data_dir.join("outbox"));
    let mailer = Mailer::new(config.smtp.as_ref(), outbox, &config.mail_from)?;
    let verification = Verification::new(
        runtime.vault.clone(),
        runtime.store.clone(),
        settings.token_ttl()?,
    );
    let workers =
        Workers::start(runtime, side.clone(), queues, verification, mailer, config).await?;
    Ok(workers)
}
