//! Where each projection is: position, lag in events and in seconds (age of the oldest event
//! it has not applied), state, parked events, and the shadow a rebuild is filling.

use chrono::{DateTime, Utc};
use roster_store::DynLog;
use serde::Serialize;

use crate::ProjectionError;
use crate::catalog::{fingerprint, int};
use crate::projection;
use crate::rows::Val;
use roster_sql::Db;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProjectionStatus {
    pub name: String,
    pub generation: i64,
    pub position: u64,
    pub head: u64,
    /// Events in the log after `position` (counted, not subtracted, where positions are not
    /// dense).
    pub lag_events: u64,
    /// Age of the oldest event not applied yet; 0 when caught up.
    pub lag_seconds: f64,
    /// `running`, `held` or `stopped`.
    pub state: String,
    /// Events parked and not yet retried or skipped.
    pub parked: u64,
    pub error: Option<String>,
    /// The live tables were built by another version of the projection; they keep serving
    /// until the rebuild this build starts in the background takes over.
    pub outdated: bool,
    /// A rebuild in progress.
    pub rebuilding: Option<ShadowStatus>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShadowStatus {
    pub generation: i64,
    pub position: u64,
    pub lag_events: u64,
}

pub(super) async fn status(
    db: &Db,
    store: &DynLog,
    now: DateTime<Utc>,
) -> Result<Vec<ProjectionStatus>, ProjectionError> {
    let head = store.head().await?;
    let live = db
        .query(
            "SELECT l.name, l.generation, c.position, c.state, c.error, c.fingerprint FROM projection_live l \
             JOIN projection_checkpoints c ON c.name = l.name AND c.generation = l.generation ORDER BY l.name",
            Vec::new(),
        )
        .await?;
    let shadows = db
        .query(
            "SELECT name, generation, position FROM projection_checkpoints WHERE state = 'rebuilding'",
            Vec::new(),
        )
        .await?;
    let parked = db
        .query(
            "SELECT p.name, COUNT(*) FROM projection_parked p JOIN projection_live l \
             ON p.name = l.name AND p.generation = l.generation WHERE p.resolution IS NULL GROUP BY p.name",
            Vec::new(),
        )
        .await?;
    let known = projection::all();
    let mut out = Vec::new();
    for row in &live {
        let name = row
            .first()
            .and_then(Val::as_text)
            .unwrap_or_default()
            .to_owned();
        // Tables of a projection this build no longer has stay as they were, unread.
        let Some(built_by) = known.iter().find(|p| p.name() == name) else {
            continue;
        };
        let position = to_u64(int(row, 2)?);
        let lag = store.lag(position).await?;
        let rebuilding = match shadows
            .iter()
            .find(|s| s.first().and_then(Val::as_text) == Some(&name))
        {
            Some(shadow) => {
                let position = to_u64(int(shadow, 2)?);
                Some(ShadowStatus {
                    generation: int(shadow, 1)?,
                    position,
                    lag_events: store.lag(position).await?.events,
                })
            }
            None => None,
        };
        let parked = parked
            .iter()
            .find(|p| p.first().and_then(Val::as_text) == Some(&name))
            .map(|p| int(p, 1))
            .transpose()?
            .map_or(0, to_u64);
        out.push(ProjectionStatus {
            generation: int(row, 1)?,
            position,
            head,
            lag_events: lag.events,
            lag_seconds: lag.seconds(now),
            state: row
                .get(3)
                .and_then(Val::as_text)
                .unwrap_or_default()
                .to_owned(),
            parked,
            error: row.get(4).and_then(Val::as_text).map(str::to_owned),
            outdated: row.get(5).and_then(Val::as_text) != Some(fingerprint(built_by).as_str()),
            rebuilding,
            name,
        });
    }
    Ok(out)
}

/// The live checkpoint of one projection.
pub(super) async fn live_position(db: &Db, name: &str) -> Result<u64, ProjectionError> {
    let rows = db
        .query(
            "SELECT c.position FROM projection_live l JOIN projection_checkpoints c \
             ON c.name = l.name AND c.generation = l.generation WHERE l.name = $1",
            vec![Val::text(name)],
        )
        .await?;
    let row = rows
        .first()
        .ok_or_else(|| ProjectionError::UnknownProjection(name.to_owned()))?;
    Ok(to_u64(int(row, 0)?))
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}
