//! `roster codes generate --plan P --count N [--uses U] [--expires T]`: a batch of access codes
//! for a plan, printed once as CSV on stdout (`> codes.csv`) and stored only hashed; the
//! batch id goes to stderr (memberships opened with one of its codes name it).

use chrono::{DateTime, Utc};
use clap::Subcommand;
use roster_app::Roster;
use roster_app::access_codes::{CodeBatch, generate};

#[derive(Debug, Subcommand)]
pub enum CodesCommand {
    /// Generate a batch of unique codes for a plan.
    Generate {
        /// The plan's slug.
        #[arg(long)]
        plan: String,
        #[arg(long)]
        count: u32,
        /// Redemptions each code allows (1: single use).
        #[arg(long, default_value_t = 1)]
        uses: u32,
        /// When the codes stop working (RFC 3339).
        #[arg(long)]
        expires: Option<DateTime<Utc>>,
    },
}

pub async fn run(roster: &Roster, command: CodesCommand) -> anyhow::Result<()> {
    let CodesCommand::Generate {
        plan,
        count,
        uses,
        expires,
    } = command;
    let batch = CodeBatch {
        plan,
        count,
        uses,
        expires_at: expires,
    };
    let batch_id = roster.commands.new_id();
    let now = roster.clock.now();
    let generated = generate(&roster.side, &roster.plans, &batch, batch_id, now).await?;
    let expires = batch
        .expires_at
        .map(|at| at.to_rfc3339())
        .unwrap_or_default();
    println!("code,plan,uses,expires_at");
    for code in &generated.codes {
        println!("{code},{},{},{expires}", batch.plan, batch.uses);
    }
    eprintln!(
        "batch {}: {} codes for {} (shown this once; stored hashed)",
        generated.batch_id,
        generated.codes.len(),
        batch.plan
    );
    Ok(())
}
