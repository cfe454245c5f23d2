//! `roster remind run [--dry-run] [--now T] [--json]`: the reminder run by hand, as the daily
//! run does it (see `roster_workers::reminders`): the reminders due are stored as mail jobs a
//! worker sends; a job stored before (by the daily run, or an earlier `remind run`) is not
//! stored twice. `--dry-run` only lists them.

use chrono::{DateTime, Utc};
use clap::Subcommand;
use roster_app::Roster;
use roster_workers::WorkerConfig;
use roster_workers::queue::{Liveness, Queues};

#[derive(Debug, Subcommand)]
pub enum RemindCommand {
    /// Find the renewal reminders due and store their mails for the workers.
    Run {
        /// List what is due; store nothing.
        #[arg(long)]
        dry_run: bool,
        /// Run as of this instant (RFC 3339) instead of now.
        #[arg(long)]
        now: Option<DateTime<Utc>>,
        /// One JSON document instead of a table.
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(roster: &Roster, command: RemindCommand) -> anyhow::Result<()> {
    let RemindCommand::Run { dry_run, now, json } = command;
    let config = WorkerConfig::from_settings(&roster.settings, "http://127.0.0.1")?;
    let queues = Queues::open(roster, Liveness::of(&config)).await?;
    // A data dir no server has opened yet has no read models: made empty, there is nothing due.
    roster_projections::catalog::ensure(&roster.sql, &roster_projections::projection::all())
        .await?;
    let now = now.unwrap_or_else(|| roster.clock.now());
    let report = roster_workers::reminders::run(roster, &queues, &config, now, dry_run).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    for due in &report.due {
        println!(
            "{}  {}  {:<16}  ends {}  {} day(s) before",
            due.membership_id,
            due.member_id,
            due.plan,
            due.period_end.format("%Y-%m-%d %H:%M"),
            due.days_before
        );
    }
    let stored = match dry_run {
        true => "dry run: nothing stored".to_owned(),
        false => format!("{} stored", report.enqueued),
    };
    println!(
        "{} due of {} ending within the reminder window; {stored}",
        report.due.len(),
        report.looked_at
    );
    if !report.overdue.is_empty() {
        println!(
            "{} active membership(s) past their period end: {}",
            report.overdue.len(),
            match dry_run {
                true => "would be settled",
                false => "settling stored",
            }
        );
    }
    Ok(())
}
