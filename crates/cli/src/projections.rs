//! `roster projections status|parked|retry|skip|hold|release`: watch and steer the read
//! models. Every action is recorded in the projections' operator log.

use clap::Subcommand;
use roster_app::Roster;
use roster_projections::{ReadModels, catalog, operator, projection};

#[derive(Debug, Subcommand)]
pub enum ProjectionsCommand {
    /// Position, lag (events and seconds), state and parked events of each projection.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Events projections could not apply.
    Parked {
        #[arg(long)]
        projection: Option<String>,
        /// Also list parked events already retried or skipped.
        #[arg(long)]
        all: bool,
        #[arg(long)]
        json: bool,
    },
    /// Apply a parked event again.
    Retry {
        projection: String,
        position: u64,
    },
    /// Give up on a parked event.
    Skip {
        projection: String,
        position: u64,
    },
    /// Stop applying events to a projection until it is released.
    Hold {
        projection: String,
    },
    Release {
        projection: String,
    },
}

pub async fn run(roster: &Roster, command: ProjectionsCommand) -> anyhow::Result<()> {
    let read_models = ReadModels::open(roster).await?;
    let db = read_models.db();
    // A database no runner has opened yet gets its (empty) projections, so that status lists
    // them and operator actions find them.
    catalog::ensure(db, &projection::all()).await?;
    let who = std::env::var("USER").unwrap_or_else(|_| "operator".into());
    match command {
        ProjectionsCommand::Status { json } => status(&read_models, json).await?,
        ProjectionsCommand::Parked {
            projection,
            all,
            json,
        } => {
            let parked = operator::parked(db, projection.as_deref(), all).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&parked)?);
            }
            for p in parked.iter().filter(|_| !json) {
                let resolution = p.resolution.as_deref().unwrap_or("parked");
                println!(
                    "{:<16} {:>8}  {:<28} {:<10} {} ({} attempts): {}",
                    p.name, p.position, p.event_type, resolution, p.stream, p.attempts, p.error
                );
            }
        }
        ProjectionsCommand::Retry {
            projection,
            position,
        } => {
            operator::retry(roster, &projection, position, &who).await?;
            println!("{projection}: event {position} applied");
        }
        ProjectionsCommand::Skip {
            projection,
            position,
        } => {
            operator::skip(roster, &projection, position, &who).await?;
            println!("{projection}: event {position} skipped");
        }
        ProjectionsCommand::Hold { projection } => {
            operator::hold(roster, &projection, &who).await?;
            println!("{projection}: held");
        }
        ProjectionsCommand::Release { projection } => {
            operator::release(roster, &projection, &who).await?;
            println!("{projection}: released");
        }
    }
    Ok(())
}

async fn status(read_models: &ReadModels, json: bool) -> anyhow::Result<()> {
    let status = read_models.status().await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&status)?);
        return Ok(());
    }
    println!(
        "{:<16} {:>4} {:>10} {:>10} {:>10} {:<10} {:>6}  rebuilding",
        "projection", "gen", "position", "lag", "lag (s)", "state", "parked"
    );
    for s in status {
        let rebuilding = s
            .rebuilding
            .map(|r| {
                format!(
                    "gen {} at {} ({} behind)",
                    r.generation, r.position, r.lag_events
                )
            })
            .unwrap_or_else(|| "-".into());
        // An outdated projection serves its old tables while this build rebuilds it.
        let state = if s.outdated {
            format!("{} (outdated)", s.state)
        } else {
            s.state
        };
        println!(
            "{:<16} {:>4} {:>10} {:>10} {:>10.1} {:<10} {:>6}  {rebuilding}",
            s.name, s.generation, s.position, s.lag_events, s.lag_seconds, state, s.parked
        );
    }
    Ok(())
}
