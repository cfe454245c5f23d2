//! Operator actions on projections: list parked events, retry or skip one, hold or release a
//! projection. Each action is recorded in `projection_operator_log` in the same transaction
//! as its effect. (A table rather than events in the log: these are facts about read models,
//! not about members or organizations, and the log's only writer is the command handler.)

use roster_app::Roster;
use serde::Serialize;

use crate::catalog::{self, Slot, checkpoint};
use crate::engine::render;
use crate::pipeline::{Body, Folder};
use crate::projection::{self, Policy};
use crate::rebuild::action_stmt;
use crate::rows::Val;
use crate::{ProjectionError, State};
use roster_sql::{Db, Stmt};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Parked {
    pub name: String,
    pub generation: i64,
    pub position: u64,
    pub stream: String,
    pub event_type: String,
    pub error: String,
    pub attempts: i64,
    pub parked_at: String,
    /// `None` while parked; `retried` or `skipped` once resolved.
    pub resolution: Option<String>,
}

/// Parked events of the live generations (of one projection if named), oldest first.
pub async fn parked(
    db: &Db,
    name: Option<&str>,
    include_resolved: bool,
) -> Result<Vec<Parked>, ProjectionError> {
    let mut sql = String::from(
        "SELECT p.name, p.generation, p.position, p.stream, p.event_type, p.error, p.attempts, p.parked_at, \
         p.resolution FROM projection_parked p JOIN projection_live l ON p.name = l.name AND p.generation = l.generation \
         WHERE p.name LIKE $1",
    );
    if !include_resolved {
        sql.push_str(" AND p.resolution IS NULL");
    }
    sql.push_str(" ORDER BY p.position, p.name");
    let rows = db.query(&sql, vec![Val::text(name.unwrap_or("%"))]).await?;
    rows.iter()
        .map(|r| {
            let text = |i: usize| {
                r.get(i)
                    .and_then(Val::as_text)
                    .unwrap_or_default()
                    .to_owned()
            };
            Ok(Parked {
                name: text(0),
                generation: catalog::int(r, 1)?,
                position: u64::try_from(catalog::int(r, 2)?).unwrap_or(0),
                stream: text(3),
                event_type: text(4),
                error: text(5),
                attempts: catalog::int(r, 6)?,
                parked_at: text(7),
                resolution: r.get(8).and_then(Val::as_text).map(str::to_owned),
            })
        })
        .collect()
}

/// Applies a parked event again (after a fix, say a new build that decodes it). For a
/// projection that parks, the event is projected, then the stream's latest applied event is
/// projected again so the rows show the current state; for one that stopped, the projection
/// is restarted at the event. Fails, leaving it parked, if the event still fails.
pub async fn retry(
    roster: &Roster,
    name: &str,
    position: u64,
    operator: &str,
) -> Result<(), ProjectionError> {
    let db = &roster.sql;
    let (slot, parked) = find(db, name, position).await?;
    let mut stmts = vec![checkpoint(&slot, slot.position, slot.state, None)];
    if slot.projection.policy() == Policy::Stop && slot.state == State::Stopped {
        stmts[0] = checkpoint(&slot, slot.position, State::Running, None);
    } else {
        stmts.extend(reproject(roster, &slot, &parked).await?);
    }
    stmts.push(resolve(&parked, "retried"));
    stmts.push(action_stmt(
        roster.clock.now(),
        operator,
        "retry",
        name,
        Some(position),
        &parked.error,
    ));
    Ok(db.transaction(stmts).await?)
}

/// Gives up on a parked event: it stays out of the read model. A stopped projection moves
/// past it and runs again.
pub async fn skip(
    roster: &Roster,
    name: &str,
    position: u64,
    operator: &str,
) -> Result<(), ProjectionError> {
    let db = &roster.sql;
    let (slot, parked) = find(db, name, position).await?;
    let stmt = if slot.state == State::Stopped && slot.position < position {
        checkpoint(&slot, position, State::Running, None)
    } else {
        checkpoint(&slot, slot.position, slot.state, None)
    };
    let stmts = vec![
        stmt,
        resolve(&parked, "skipped"),
        action_stmt(
            roster.clock.now(),
            operator,
            "skip",
            name,
            Some(position),
            &parked.error,
        ),
    ];
    Ok(db.transaction(stmts).await?)
}

/// Holds a projection: the runner leaves it where it is (its lag grows) until released.
pub async fn hold(roster: &Roster, name: &str, operator: &str) -> Result<(), ProjectionError> {
    set_state(roster, name, State::Running, State::Held, operator, "hold").await
}

pub async fn release(roster: &Roster, name: &str, operator: &str) -> Result<(), ProjectionError> {
    set_state(
        roster,
        name,
        State::Held,
        State::Running,
        operator,
        "release",
    )
    .await
}

async fn set_state(
    roster: &Roster,
    name: &str,
    from: State,
    to: State,
    operator: &str,
    action: &str,
) -> Result<(), ProjectionError> {
    let db = &roster.sql;
    let slot = live_slot(db, name).await?;
    if slot.state != from {
        return Err(ProjectionError::Conflict(format!(
            "{name} is {}, not {}",
            slot.state.as_str(),
            from.as_str()
        )));
    }
    let stmts = vec![
        checkpoint(&slot, slot.position, to, None),
        action_stmt(roster.clock.now(), operator, action, name, None, ""),
    ];
    Ok(db.transaction(stmts).await?)
}

async fn live_slot(db: &Db, name: &str) -> Result<Slot, ProjectionError> {
    let projections = projection::select(&[name.to_owned()])?;
    catalog::live_slots(db, &projections)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ProjectionError::UnknownProjection(name.to_owned()))
}

async fn find(db: &Db, name: &str, position: u64) -> Result<(Slot, Parked), ProjectionError> {
    let slot = live_slot(db, name).await?;
    let parked = parked(db, Some(name), false)
        .await?
        .into_iter()
        .find(|p| p.position == position)
        .ok_or_else(|| ProjectionError::NotFound(format!("parked event {position} of {name}")))?;
    Ok((slot, parked))
}

async fn reproject(
    roster: &Roster,
    slot: &Slot,
    parked: &Parked,
) -> Result<Vec<Stmt>, ProjectionError> {
    let stream = roster
        .log
        .read_stream(&parked.stream, 0, usize::MAX)
        .await?;
    let applied: Vec<_> = stream
        .iter()
        .filter(|e| e.position <= slot.position)
        .collect();
    let target = applied.iter().find(|e| e.position == parked.position);
    let latest = applied.last().filter(|e| e.position > parked.position);
    let mut folder = Folder::new(roster.log.clone(), roster.vault.clone());
    let mut stmts = Vec::new();
    for recorded in target.into_iter().chain(latest) {
        let envelope = folder.envelope(recorded).await?;
        let ops = match &envelope.body {
            Body::Undecodable(reason) => Err(reason.clone()),
            _ => slot.projection.project(&envelope),
        }
        .map_err(|reason| ProjectionError::Event {
            position: recorded.position,
            reason,
        })?;
        stmts.extend(
            ops.iter()
                .map(|op| render(op, slot.projection.tables(), slot.generation)),
        );
    }
    Ok(stmts)
}

fn resolve(parked: &Parked, resolution: &str) -> Stmt {
    Stmt::new(
        "UPDATE projection_parked SET resolution = $1 WHERE name = $2 AND generation = $3 AND position = $4",
        vec![
            Val::text(resolution),
            Val::text(parked.name.clone()),
            Val::Int(parked.generation),
            Val::int(parked.position),
        ],
    )
    .expect(1)
}
