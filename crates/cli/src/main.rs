//! The `roster` binary. Each subcommand lives in its own module; this file only parses
//! arguments, sets up logging and dispatches.

mod codes;
mod events;
mod keys;
mod payments;
mod projections;
mod remind;
mod replay;
mod report;
mod serve;
mod settings;
mod shutdown;
mod worker;
mod workers_status;

use std::sync::Arc;

use clap::{Parser, Subcommand};
use roster_app::clock::{SystemClock, V7Ids};
use roster_app::{Roster, Settings};

#[derive(Debug, Parser)]
#[command(
    name = "roster",
    version,
    about = "Roster: an event-sourced membership backend"
)]
struct Cli {
    #[command(flatten)]
    global: settings::GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create or upgrade every schema (log, side tables, read models, job queues), then exit.
    Migrate,
    /// Read the event log.
    #[command(subcommand)]
    Events(events::EventsCommand),
    /// Run the HTTP API, the projections and the workers (prints `listening on http://ADDR`
    /// once bound).
    Serve(serve::ServeArgs),
    /// Run the reactors and job workers only (prints `worker started`).
    Worker,
    /// Watch the reactors and job queues.
    #[command(subcommand)]
    Workers(workers_status::WorkersCommand),
    /// Show, list and reconcile payments.
    #[command(subcommand)]
    Payments(payments::PaymentsCommand),
    /// Access codes: `codes generate` prints a batch for a plan, once.
    #[command(subcommand)]
    Codes(codes::CodesCommand),
    /// Renewal reminders: `remind run` finds those due and stores their mails.
    #[command(subcommand)]
    Remind(remind::RemindCommand),
    /// Operator reports: `report memberships`, `report access-review`.
    #[command(subcommand)]
    Report(report::ReportCommand),
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
    init_tracing(matches!(cli.command, Command::Serve(_) | Command::Worker));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(cli))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = match &cli.command {
        Command::Serve(args) => cli.global.settings(|s| args.apply(s))?,
        _ => cli.global.settings(|_| {})?,
    };
    let roster = open(settings).await?;
    match cli.command {
        Command::Migrate => migrate(&roster).await,
        Command::Events(command) => events::run(&roster, command).await,
        Command::Serve(_) => serve::run(roster).await,
        Command::Worker => worker::run(roster).await,
        Command::Workers(command) => workers_status::run(&roster, command).await,
        Command::Keys(command) => keys::run(&roster, command).await,
        Command::Payments(command) => payments::run(&roster, command).await,
        Command::Remind(command) => remind::run(&roster, command).await,
        Command::Report(command) => report::run(&roster, command).await,
        Command::Codes(command) => codes::run(&roster, command).await,
        Command::Replay(args) => replay::run(&roster, args).await,
        Command::Projections(command) => projections::run(&roster, command).await,
    }
}

/// Roster on the wall clock: the one place the binary opens it.
async fn open(settings: Settings) -> anyhow::Result<Roster> {
    Ok(roster_app::open(settings, Arc::new(SystemClock), Arc::new(V7Ids)).await?)
}

/// Creates every schema: opening Roster migrates the log and the side tables; the read models'
/// bookkeeping, the reactors' starting points and the job queues follow.
async fn migrate(roster: &Roster) -> anyhow::Result<()> {
    roster_projections::catalog::install(&roster.sql).await?;
    let catalog = roster_workers::Catalog::builtin();
    roster_workers::reactor::install(roster, catalog.reactors()).await?;
    let config = roster_workers::WorkerConfig::from_settings(&roster.settings, "http://127.0.0.1")?;
    let liveness = roster_workers::queue::Liveness::of(&config);
    roster_workers::queue::Queues::open(roster, liveness).await?;
    println!(
        "migrated {} store; head position {}",
        roster.backend_name(),
        roster.log.head().await?
    );
    Ok(())
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
