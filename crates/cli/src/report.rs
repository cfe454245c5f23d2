//! `roster report memberships` and `roster report access-review [--inactive-days N]` (each
//! with `--json` and `--now T`): the
//! operator reports `GET /v1/reports/...` answers, as a readable table or (`--json`) the same
//! JSON document. They read the read models the serving process keeps; the table's last line
//! says how far behind the log they are.

use chrono::{DateTime, Utc};
use clap::Subcommand;
use roster_app::Roster;
use roster_projections::read::{AccessReview, MembershipsReport, ReadModels};

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Members per plan and status, joins and cancellations per month, recurring revenue per
    /// currency, waiting-list lengths.
    Memberships {
        /// One JSON document instead of tables.
        #[arg(long)]
        json: bool,
        /// Report as of this instant (RFC 3339) instead of now.
        #[arg(long)]
        now: Option<DateTime<Utc>>,
    },
    /// Members with no activity for N days and the privileged roles they still hold.
    AccessReview {
        /// Days without activity (1 to 3650).
        #[arg(long, default_value_t = 90, value_parser = clap::value_parser!(u32).range(1..=3650))]
        inactive_days: u32,
        #[arg(long)]
        json: bool,
        /// Review as of this instant (RFC 3339) instead of now: idle days count up to it.
        #[arg(long)]
        now: Option<DateTime<Utc>>,
    },
}

pub async fn run(roster: &Roster, command: ReportCommand) -> anyhow::Result<()> {
    // A data dir no server has opened yet has no read models: made empty, they report nothing.
    roster_projections::catalog::ensure(&roster.sql, &roster_projections::projection::all())
        .await?;
    let read_models = ReadModels::open(roster).await?;
    let (json, projection) = match command {
        ReportCommand::Memberships { json, now } => {
            let now = now.unwrap_or_else(|| roster.clock.now());
            let report = read_models.memberships_report(now).await?;
            match json {
                true => println!("{}", serde_json::to_string_pretty(&report)?),
                false => print_memberships(&report),
            }
            (json, roster_projections::MEMBERSHIPS)
        }
        ReportCommand::AccessReview {
            inactive_days,
            json,
            now,
        } => {
            let now = now.unwrap_or_else(|| roster.clock.now());
            let review = read_models
                .access_review(roster, inactive_days, now)
                .await?;
            match json {
                true => println!("{}", serde_json::to_string_pretty(&review)?),
                false => print_review(&review, now),
            }
            (json, roster_projections::AUDIT)
        }
    };
    if !json {
        let status = read_models.status().await?;
        if let Some(s) = status.iter().find(|s| s.name == projection) {
            println!(
                "read from {} at log position {} of {} ({} event(s) behind)",
                s.name, s.position, s.head, s.lag_events
            );
        }
    }
    Ok(())
}

fn print_memberships(report: &MembershipsReport) {
    println!("{:<24} {:<16} {:>8}", "PLAN", "STATUS", "MEMBERS");
    for row in &report.by_plan_and_status {
        println!("{:<24} {:<16} {:>8}", row.plan, row.status, row.members);
    }
    println!();
    println!(
        "{:<8} {:>8} {:>14} {:>8}",
        "MONTH", "JOINS", "CANCELLATIONS", "LAPSES"
    );
    for row in &report.monthly {
        println!(
            "{:<8} {:>8} {:>14} {:>8}",
            row.month, row.joins, row.cancellations, row.lapses
        );
    }
    println!();
    println!(
        "{:<8} {:>20} {:>12}",
        "CURRENCY", "MONTHLY (MINOR)", "MEMBERSHIPS"
    );
    for row in &report.recurring_revenue {
        println!(
            "{:<8} {:>20} {:>12}",
            row.currency, row.monthly_amount, row.memberships
        );
    }
    println!();
    println!("{:<24} {:>8} {:>8}", "WAITING LIST", "WAITING", "OFFERED");
    for row in &report.waiting_lists {
        println!("{:<24} {:>8} {:>8}", row.plan, row.waiting, row.offered);
    }
}

fn print_review(review: &AccessReview, now: DateTime<Utc>) {
    println!(
        "members inactive for {} day(s) or more who hold privileged roles: {}",
        review.inactive_days,
        review.members.len()
    );
    println!(
        "{:<36}  {:<10}  {:<36}  {:<14}  VIA",
        "MEMBER", "IDLE DAYS", "ORGANIZATION", "ROLE"
    );
    for member in &review.members {
        let idle = member
            .last_active_at
            .map_or("never".to_owned(), |at| (now - at).num_days().to_string());
        for role in &member.roles {
            let scope = role
                .scope
                .as_deref()
                .map_or(String::new(), |s| format!(" ({s})"));
            let via = role
                .group
                .as_deref()
                .map_or("direct".to_owned(), |g| format!("group {g}"));
            println!(
                "{:<36}  {:<10}  {:<36}  {:<14}  {via}",
                member.member_id,
                idle,
                role.org_name,
                format!("{}{scope}", role.role)
            );
        }
    }
}
