//! `roster replay`: rebuild read models from the log into shadow tables and swap them in,
//! with a progress bar (events done, events/s, ETA). The live tables keep serving meanwhile.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use roster_app::Roster;
use roster_projections::{RebuildOptions, rebuild};

#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// Rebuild only this projection (repeatable), e.g. `accounts_v1`; all by default.
    #[arg(long = "projection", value_name = "NAME")]
    projections: Vec<String>,
    /// Count the events that would be replayed; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Who is replaying, for the operator log (defaults to $USER).
    #[arg(long, env = "USER", default_value = "operator")]
    operator: String,
}

pub async fn run(roster: &Roster, args: ReplayArgs) -> anyhow::Result<()> {
    let bar = ProgressBar::new(0);
    bar.set_style(ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} events, {per_sec}, ETA {eta}",
    )?);
    bar.enable_steady_tick(Duration::from_millis(200));
    let options = RebuildOptions {
        names: args.projections,
        dry_run: args.dry_run,
        operator: args.operator,
        ..RebuildOptions::default()
    };
    let report = rebuild(roster, options, |p| {
        bar.set_length(p.total);
        bar.set_position(p.done);
    })
    .await;
    bar.finish_and_clear();
    let report = report?;
    let names = report.projections.join(", ");
    if !report.swapped {
        println!(
            "dry run: {} events would be replayed into {names}",
            report.events
        );
        return Ok(());
    }
    let secs = report.elapsed.as_secs_f64();
    let rate = report.events as f64 / secs.max(1e-9);
    println!(
        "rebuilt {names} from {} events in {secs:.2}s ({rate:.0} events/s); live at position {}",
        report.events, report.position
    );
    Ok(())
}
