//! `roster worker`: the reactors and job workers without the API, for deployments that run
//! them apart (several on one PostgreSQL database; or beside `roster serve --no-workers`).
//! Prints `worker started` once running; stops gracefully on SIGTERM or SIGINT, letting jobs
//! in flight finish.

use std::io::Write;

use roster_app::Roster;
use roster_workers::{Catalog, WorkerConfig, Workers};

use crate::shutdown::shutdown_signal;

pub async fn run(roster: Roster) -> anyhow::Result<()> {
    let settings = &roster.settings;
    let public_url = settings.public_url(|| crate::serve::local_url(&settings.listen))?;
    let workers = start(&roster, &public_url).await?;
    println!("worker started");
    std::io::stdout().flush()?;
    shutdown_signal().await;
    workers.shutdown().await;
    tracing::info!("stopped");
    Ok(())
}

/// Every reactor and worker of this build, in the background; links point at `public_url`.
pub async fn start(roster: &Roster, public_url: &str) -> anyhow::Result<Workers> {
    let config = WorkerConfig::from_settings(&roster.settings, public_url)?;
    let prepared = roster_workers::prepare(roster, Catalog::builtin(), config).await?;
    Ok(prepared.start())
}
