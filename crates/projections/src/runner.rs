//! The live runner: one task that keeps every projection's live generation caught up with the
//! log. `roster serve` starts it with [`Projections::start`] and stops it with
//! [`Projections::shutdown`].
//!
//! On PostgreSQL one runner at a time holds the lease [`LEASE`]; the others (in other
//! processes) stand by and take over within about a second of its holder's session ending.
//! Runners may still overlap (a holder that lost its session mid-step, or a runner beside
//! `roster replay`): checkpoints are compare-and-set, so a step that lost a race commits
//! nothing and the runner reloads its checkpoints and carries on.

use std::time::Duration;

use roster_app::Roster;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::ProjectionError;
use crate::catalog::{self, Slot};
use crate::engine::{Engine, EngineConfig, Outcome};
use crate::projection::{self, DynProjection};
use crate::rebuild::{RebuildOptions, rebuild};

/// Longest wait for a change notification before the log is read anyway (appends from
/// another process do not wake an SQLite store's notifications).
const POLL: Duration = Duration::from_millis(250);
/// Longest pause after repeated infrastructure failures.
const MAX_PAUSE: Duration = Duration::from_secs(5);

/// How the runner runs.
#[derive(Debug, Clone, Default)]
pub struct RunnerConfig {
    pub engine: EngineConfig,
}

/// A running set of projections. Dropping it without [`Projections::shutdown`] stops the task
/// at its next await point.
pub struct Projections {
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
    /// The background rebuild of outdated projections, if any.
    upgrade: Option<JoinHandle<()>>,
}

impl Projections {
    /// Creates the tables of projections that have none yet and starts the runner for every
    /// projection of this build.
    pub async fn start(roster: &Roster, config: RunnerConfig) -> Result<Self, ProjectionError> {
        Self::start_with(roster, projection::all(), config).await
    }

    /// As [`Projections::start`], for a chosen set of projections.
    pub async fn start_with(
        roster: &Roster,
        projections: Vec<DynProjection>,
        config: RunnerConfig,
    ) -> Result<Self, ProjectionError> {
        catalog::install(&roster.sql).await?;
        catalog::ensure(&roster.sql, &projections).await?;
        let upgrade = upgrade_outdated(roster, &projections, &config).await?;
        let engine = Engine::new(roster, config.engine);
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(run(engine, roster.sql.clone(), projections, stopped));
        Ok(Self {
            stop,
            task: Some(task),
            upgrade,
        })
    }

    /// Stops after the step in progress (its transaction commits or rolls back whole).
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        // An interrupted rebuild leaves only its shadow tables, which the next one replaces.
        if let Some(upgrade) = self.upgrade.take() {
            upgrade.abort();
        }
        if let Some(task) = self.task.take()
            && let Err(e) = task.await
        {
            tracing::error!(error = %e, "projection runner ended abnormally");
        }
    }
}

impl Drop for Projections {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(upgrade) = self.upgrade.take() {
            upgrade.abort();
        }
    }
}

/// Starts a background rebuild of every projection whose live tables were built by another
/// version of it. The old tables keep serving until the rebuild has caught up and swaps.
async fn upgrade_outdated(
    roster: &Roster,
    projections: &[DynProjection],
    config: &RunnerConfig,
) -> Result<Option<JoinHandle<()>>, ProjectionError> {
    let outdated: Vec<String> = catalog::live_slots(&roster.sql, projections)
        .await?
        .into_iter()
        .filter(|slot| !slot.current)
        .map(|slot| slot.name().to_owned())
        .collect();
    if outdated.is_empty() {
        return Ok(None);
    }
    tracing::info!(projections = ?outdated, "rebuilding outdated projections in the background");
    let options = RebuildOptions {
        names: outdated,
        operator: "startup".into(),
        engine: config.engine.clone(),
        ..RebuildOptions::default()
    };
    let roster = roster.clone();
    Ok(Some(tokio::spawn(async move {
        match rebuild(&roster, options, |_| {}).await {
            Ok(report) => {
                tracing::info!(projections = ?report.projections, position = report.position, "upgraded projections took over")
            }
            Err(e) => {
                tracing::error!(error = %e, "background rebuild of outdated projections failed")
            }
        }
    })))
}

/// The lease a live runner holds while it runs: on PostgreSQL one process's runner keeps the
/// read models up to date, the others stand by and take over once it is gone.
pub const LEASE: &str = "projections";

async fn run(
    mut engine: Engine,
    db: roster_sql::Db,
    projections: Vec<DynProjection>,
    mut stop: watch::Receiver<bool>,
) {
    while let Some(mut lease) = roster_sql::wait_for_lease(&db, LEASE, &mut stop).await {
        tracing::info!(lease = lease.name(), "projection runner holds the lease");
        run_held(&mut engine, &db, &projections, &mut stop, &mut lease).await;
        if *stop.borrow() {
            // Stopping cleanly: a standby takes over at its next try.
            lease.release().await;
        }
    }
}

/// Runs until `stop`, or until the lease is lost (its session ended): then another process
/// may hold it, and this one goes back to standing by.
async fn run_held(
    engine: &mut Engine,
    db: &roster_sql::Db,
    projections: &[DynProjection],
    stop: &mut watch::Receiver<bool>,
    lease: &mut roster_sql::Lease,
) {
    let mut changes = engine.log().changes();
    let mut slots: Vec<Slot> = Vec::new();
    let mut failures = 0u32;
    let mut checked = std::time::Instant::now();
    while !*stop.borrow() {
        if checked.elapsed() >= roster_sql::LEASE_RETRY {
            if !lease.alive().await {
                tracing::warn!(lease = lease.name(), "lost the lease; standing by");
                return;
            }
            checked = std::time::Instant::now();
        }
        let pause = match cycle(engine, db, projections, &mut slots).await {
            Ok(Outcome::Progress(_)) => {
                failures = 0;
                continue;
            }
            Ok(Outcome::Idle) => {
                failures = 0;
                changes.borrow_and_update();
                tokio::select! {
                    _ = changes.changed() => {}
                    _ = tokio::time::sleep(POLL) => {}
                    _ = stop.changed() => {}
                }
                continue;
            }
            Ok(Outcome::Backoff(pause)) => pause,
            Err(ProjectionError::Conflict(reason)) => {
                tracing::debug!(%reason, "checkpoint moved under the runner; reloading");
                continue;
            }
            Err(e) => {
                failures += 1;
                tracing::warn!(error = %e, failures, "projection step failed; backing off");
                (Duration::from_millis(100) * 2u32.saturating_pow(failures.min(6))).min(MAX_PAUSE)
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = stop.changed() => {}
        }
    }
}

/// Reloads the checkpoints (an operator may have held, released or rebuilt a projection since
/// the last step) and takes one step.
async fn cycle(
    engine: &mut Engine,
    db: &roster_sql::Db,
    projections: &[DynProjection],
    slots: &mut Vec<Slot>,
) -> Result<Outcome, ProjectionError> {
    *slots = catalog::live_slots(db, projections).await?;
    // An outdated generation is left as it is (still serving) until its rebuild swaps in.
    slots.retain(|slot| slot.current);
    engine.step(slots).await
}
