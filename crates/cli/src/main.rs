//! The `roster` binary. Each subcommand lives in its own module; this file only parses
//! arguments, sets up logging and dispatches.

mod events;
mod keys;
mod projections;
mod replay;
mod serve;
mod settings;
mod shutdown;
mod worker;
mod workers_status;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use roster_app::{Runtime, StorageConfig};

#[derive(Debug, Parser)]
#[command(
    name = "roster",
    version,
    about = "Roster: an event-sourced membership backend"
)]
struct Cli {
    #[command(flatten)]
    storage: StorageArgs,
    #[command(subcommand)]
    command: Command,
}

/// Options every subcommand shares: where the data lives.
#[derive(Debug, Args)]
struct StorageArgs {
    /// Directory for the embedded database, the master key and the mail outbox.
    #[arg(
        long,
        global = true,
        env = "ROSTER_DATA_DIR",
        default_value = "roster-data"
    )]
    data_dir: PathBuf,
    /// `postgres://…` to keep the log in PostgreSQL instead of the embedded SQLite file.
    #[arg(
        long,
        global = true,
        env = "ROSTER_DATABASE_URL",
        hide_env_values = true
    )]
    database_url: Option<String>,
    /// Base64 master key (32 bytes); defaults to the file `DATA_DIR/master.key`.
    #[arg(long, global = true, env = "ROSTER_MASTER_KEY", hide_env_values = true)]
    master_key: Option<String>,
}

impl StorageArgs {
    fn config(&self) -> StorageConfig {
        StorageConfig {
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone().filter(|url| !url.is_empty()),
            master_key: self.master_key.clone().filter(|key| !key.is_empty()),
        }
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create or upgrade the database schema, then exit.
    Migrate,
    /// Read the event log.
    #[command(subcommand)]
    Events(events::EventsCommand),
    /// Run the HTTP API, the projections and the workers (prints `listening on http://ADDR`
    /// once bound).
    Serve(serve::ServeArgs),
    /// Run the reactors and job workers only (prints `worker started`).
    Worker(worker::WorkerArgs),
    /// Watch the reactors and job queues.
    #[command(subcommand)]
    Workers(workers_status::WorkersCommand),
    /// Create, list and revoke API keys.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Rebuild read models from the log into shadow tables, then swap them in.
    Replay(replay::ReplayArgs),
    /// Watch and steer the read models: status, parked events, retry, skip, hold.
    #[command(subcommand)]
    Projections(projections::ProjectionsCommand),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_tracing(matches!(
        cli.command,
        Command::Serve(_) | Command::Worker(_)
    ));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(cli))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = cli.storage.config();
    match cli.command {
        Command::Migrate => {
            let roster = Runtime::open(&config).await?;
            let side = roster_app::sidedb::SideDb::open(&config).await?;
            roster_workers::reactor::install(&side, &roster.store).await?;
            println!(
                "migrated {} store; head position {}",
                roster.store.backend_name(),
                roster.store.head().await?
            );
            Ok(())
        }
        Command::Events(command) => events::run(&Runtime::open(&config).await?, command).await,
        Command::Serve(args) => serve::run(config, args).await,
        Command::Worker(args) => worker::run(config, args).await,
        Command::Workers(command) => {
            workers_status::run(&Runtime::open(&config).await?, &config, command).await
        }
        Command::Keys(command) => keys::run(&config, command).await,
        Command::Replay(args) => replay::run(&Runtime::open(&config).await?, &config, args).await,
        Command::Projections(command) => {
            projections::run(&Runtime::open(&config).await?, &config, command).await
        }
    }
}

/// Logs go to stderr so that stdout stays machine-readable; `ROSTER_LOG` is the filter.
/// `serve` logs JSON lines at `info` by default (request id, route, status, latency).
fn init_tracing(serving: bool) {
    let default = if serving { "info" } else { "warn" };
    let filter = tracing_subscriber::EnvFilter::try_from_env("ROSTER_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if serving {
        logs.json()
            .with_current_span(true)
            .with_span_list(false)
            .init();
    } else {
        logs.init();
    }
}
