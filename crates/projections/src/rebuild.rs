//! Blue-green rebuilds (`roster replay`): fill fresh shadow tables from the start of the log
//! while the live ones keep serving (and a live runner keeps them current), then swap them in
//! in one transaction once the shadow has caught up. Only projections run: reactors and
//! workers are never registered with the engine, so a replay sends no mail and charges nothing.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use roster_app::Roster;
use tokio::task::JoinHandle;

use crate::catalog::{self, Slot};
use crate::engine::{Engine, EngineConfig, Outcome, advance};
use crate::projection;
use crate::rows::{Val, time_text};
use crate::{ProjectionError, State};
use roster_sql::Stmt;

#[derive(Debug, Clone, Default)]
pub struct RebuildOptions {
    /// Projections to rebuild; all when empty.
    pub names: Vec<String>,
    /// Count the events only; write nothing.
    pub dry_run: bool,
    /// Who asked, for the operator log.
    pub operator: String,
    pub engine: EngineConfig,
}

/// Where a rebuild is, for progress bars.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub done: u64,
    pub total: u64,
}

#[derive(Debug, Clone)]
pub struct RebuildReport {
    pub projections: Vec<String>,
    /// Events read (for a dry run: events in the log).
    pub events: u64,
    /// The checkpoint the new tables went live at.
    pub position: u64,
    pub elapsed: Duration,
    pub swapped: bool,
}

/// Rebuilds the chosen projections into shadow tables and swaps them in.
pub async fn rebuild(
    roster: &Roster,
    options: RebuildOptions,
    mut on_progress: impl FnMut(Progress),
) -> Result<RebuildReport, ProjectionError> {
    let started = Instant::now();
    let projections = projection::select(&options.names)?;
    let names: Vec<String> = projections.iter().map(|p| p.name().to_owned()).collect();
    let db = &roster.sql;
    catalog::install(db).await?;
    let total = roster.log.lag(0).await?.events;
    if options.dry_run {
        return Ok(RebuildReport {
            projections: names,
            events: total,
            position: roster.log.head().await?,
            elapsed: started.elapsed(),
            swapped: false,
        });
    }
    catalog::ensure(db, &projections).await?;
    let mut shadows = Vec::new();
    for projection in &projections {
        shadows.push(catalog::create_shadow(db, projection).await?);
    }
    let mut engine = Engine::new(roster, options.engine);
    // Fill without secondary indexes, index in one pass, then catch up on what arrived
    // meanwhile (with the indexes in place) and swap.
    let mut done = fill(&mut engine, roster, &mut shadows, total, &mut on_progress).await?;
    for shadow in &shadows {
        catalog::index_shadow(db, shadow).await?;
    }
    done += fill(&mut engine, roster, &mut shadows, total, &mut |p| {
        on_progress(Progress {
            done: done + p.done,
            total: total.max(done + p.done),
        })
    })
    .await?;
    let retired = catalog::swap(db, &shadows).await?;
    for (shadow, old) in shadows.iter().zip(retired) {
        catalog::drop_generation(db, &shadow.projection, old).await?;
    }
    let position = shadows.iter().map(|s| s.position).min().unwrap_or(0);
    log_action(
        roster,
        &options.operator,
        "replay",
        &names.join(","),
        Some(position),
        &format!("{done} events"),
    )
    .await?;
    Ok(RebuildReport {
        projections: names,
        events: done,
        position,
        elapsed: started.elapsed(),
        swapped: true,
    })
}

/// Applies the log to the shadows until they reach the head. The transaction of one page
/// runs while the next page is decoded and projected, so decoding and writing overlap.
async fn fill(
    engine: &mut Engine,
    roster: &Roster,
    shadows: &mut [Slot],
    total: u64,
    on_progress: &mut impl FnMut(Progress),
) -> Result<u64, ProjectionError> {
    let mut done = 0u64;
    let mut in_flight: Option<JoinHandle<Result<(), ProjectionError>>> = None;
    loop {
        let prepared = engine.prepare(shadows).await?;
        if let Some(commit) = in_flight.take() {
            commit
                .await
                .map_err(|e| ProjectionError::Closed(e.to_string()))??;
        }
        advance(shadows, &prepared.updates);
        if !prepared.stmts.is_empty() {
            let db = roster.sql.clone();
            in_flight = Some(tokio::spawn(async move {
                Ok(db.transaction(prepared.stmts).await?)
            }));
        }
        match prepared.outcome {
            Outcome::Progress(n) => {
                done += n as u64;
                on_progress(Progress {
                    done,
                    total: total.max(done),
                });
            }
            Outcome::Backoff(pause) => tokio::time::sleep(pause).await,
            Outcome::Idle => {
                if let Some(commit) = in_flight.take() {
                    commit
                        .await
                        .map_err(|e| ProjectionError::Closed(e.to_string()))??;
                }
                if caught_up(roster, shadows).await? {
                    return Ok(done);
                }
                // Nothing to read yet the head is ahead (events committing right now): pause
                // briefly rather than spin on the database.
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        }
    }
}

/// Every shadow is at the head, or stopped (which fails the rebuild).
async fn caught_up(roster: &Roster, shadows: &[Slot]) -> Result<bool, ProjectionError> {
    if let Some(stopped) = shadows.iter().find(|s| s.state == State::Stopped) {
        // The event it stopped at is the one after its checkpoint (positions need not be
        // dense, so it is read rather than computed).
        let next = roster.log.read_all(stopped.position, 1).await?;
        return Err(ProjectionError::Event {
            position: next.first().map_or(stopped.position, |e| e.position),
            reason: format!(
                "{} stopped during the rebuild; see `roster projections parked`",
                stopped.name()
            ),
        });
    }
    let head = roster.log.head().await?;
    Ok(shadows.iter().all(|s| s.position >= head))
}

/// Records an operator action on projections.
pub async fn log_action(
    roster: &Roster,
    operator: &str,
    action: &str,
    name: &str,
    position: Option<u64>,
    note: &str,
) -> Result<(), ProjectionError> {
    let at = roster.clock.now();
    let stmt = action_stmt(at, operator, action, name, position, note);
    roster.sql.transaction(vec![stmt]).await.map_err(Into::into)
}

pub fn action_stmt(
    at: DateTime<Utc>,
    operator: &str,
    action: &str,
    name: &str,
    position: Option<u64>,
    note: &str,
) -> Stmt {
    Stmt::new(
        "INSERT INTO projection_operator_log (at, operator, action, name, position, note) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        vec![
            Val::text(time_text(at)),
            Val::text(operator),
            Val::text(action),
            Val::text(name),
            position.map_or(Val::Null, Val::int),
            Val::text(note),
        ],
    )
    .typed(vec![
        crate::rows::Col::Text,
        crate::rows::Col::Text,
        crate::rows::Col::Text,
        crate::rows::Col::Text,
        crate::rows::Col::Int,
        crate::rows::Col::Text,
    ])
}
