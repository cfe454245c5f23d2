//! `roster workers status`: where each reactor is in the log (and how far behind), and how
//! many jobs of each queue are in each state.

use roster_app::Roster;
use roster_workers::queue::{Liveness, Queues};
use roster_workers::{Catalog, WorkerConfig, reactor};

#[derive(Debug, clap::Subcommand)]
pub enum WorkersCommand {
    /// Reactor positions and lag; job counts by state per queue.
    Status {
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(roster: &Roster, command: WorkersCommand) -> anyhow::Result<()> {
    let WorkersCommand::Status { json } = command;
    let reactors = reactor::status(roster).await?;
    let config = WorkerConfig::from_settings(&roster.settings, "http://127.0.0.1")?;
    let queues = Queues::open(roster, Liveness::of(&config)).await?;
    let mut counts = Vec::new();
    for queue in Catalog::builtin().queues() {
        counts.push((queue, queues.counts(queue).await?));
    }
    if json {
        let queues: serde_json::Map<_, _> = counts
            .iter()
            .map(|(queue, counts)| {
                let by_status: serde_json::Map<_, _> = counts
                    .iter()
                    .map(|(status, n)| (status.clone(), serde_json::json!(n)))
                    .collect();
                ((*queue).to_owned(), serde_json::Value::Object(by_status))
            })
            .collect();
        let out = serde_json::json!({ "reactors": reactors, "queues": queues });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    for r in &reactors {
        println!(
            "reactor {:<20} position {:>8}  lag {} events, {:.1}s",
            r.name, r.position, r.lag_events, r.lag_seconds
        );
    }
    for (queue, counts) in &counts {
        let counts: Vec<String> = counts.iter().map(|(s, n)| format!("{n} {s}")).collect();
        let counts = if counts.is_empty() {
            "no jobs".to_owned()
        } else {
            counts.join(", ")
        };
        println!("queue   {queue:<20} {counts}");
    }
    Ok(())
}
