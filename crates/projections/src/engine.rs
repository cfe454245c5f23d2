//! One step of the projection machinery, shared by the live runner and by rebuilds: read a
//! page of the log after the lowest checkpoint, decode and fold each event once, let every
//! slot that has not seen it project it, and commit all rows and all checkpoints in one
//! transaction. Each checkpoint is compare-and-set, so a step that raced with a swap or with
//! another process commits nothing and the caller reloads.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use roster_app::Roster;
use roster_app::clock::Clock;
use roster_store::{DynLog, RecordedEvent};

use crate::catalog::{Slot, checkpoint};
use crate::coalesce::OpBuffer;
use crate::pipeline::{Body, Envelope, Folder};
use crate::projection::Policy;
use crate::rows::{Col, RowOp, TableDef, Val, physical, time_text};
use crate::{ProjectionError, State};
use roster_sql::{Db, Stmt};

/// How steps read and retry.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Events read and committed per transaction.
    pub batch: usize,
    /// Attempts at one event before its projection parks it (or stops).
    pub attempts: u32,
    /// Pause before the second attempt; doubled for each further one.
    pub backoff: Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            batch: 500,
            attempts: 3,
            backoff: Duration::from_millis(200),
        }
    }
}

/// What a step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing to do: every active slot is at the head of the log.
    Idle,
    /// This many events were read and applied.
    Progress(usize),
    /// A projection failed on an event and will try it again after this pause.
    Backoff(Duration),
}

pub struct Engine {
    log: DynLog,
    db: Db,
    clock: std::sync::Arc<dyn Clock>,
    folder: Folder,
    config: EngineConfig,
    /// Failed attempts per (projection, position) not yet parked.
    failures: HashMap<(&'static str, u64), u32>,
}

/// What one slot collected during a step.
struct Pending {
    position: u64,
    state: State,
    error: Option<String>,
    ops: OpBuffer,
    /// Parked events.
    stmts: Vec<Stmt>,
}

impl Engine {
    pub fn new(roster: &Roster, config: EngineConfig) -> Self {
        Self {
            folder: Folder::new(roster.log.clone(), roster.vault.clone()),
            log: roster.log.clone(),
            db: roster.sql.clone(),
            clock: roster.clock.clone(),
            config,
            failures: HashMap::new(),
        }
    }

    pub fn log(&self) -> &DynLog {
        &self.log
    }

    /// Applies the next page of events to the active slots and commits. On success the slots'
    /// positions and states are updated; on error they are unchanged (reload them on conflict).
    pub async fn step(&mut self, slots: &mut [Slot]) -> Result<Outcome, ProjectionError> {
        let prepared = self.prepare(slots).await?;
        if !prepared.stmts.is_empty() {
            self.db.transaction(prepared.stmts).await?;
        }
        advance(slots, &prepared.updates);
        Ok(prepared.outcome)
    }

    /// Reads the next page and computes its transaction without running it. A rebuild runs
    /// the transaction of one page while it prepares the next ([`advance`] the slots first).
    pub async fn prepare(&mut self, slots: &[Slot]) -> Result<Prepared, ProjectionError> {
        let idle = Prepared {
            outcome: Outcome::Idle,
            stmts: Vec::new(),
            updates: Vec::new(),
        };
        let Some(from) = slots
            .iter()
            .filter(|s| s.state.is_active())
            .map(|s| s.position)
            .min()
        else {
            return Ok(idle);
        };
        let events = self.log.read_all(from, self.config.batch).await?;
        if events.is_empty() {
            return Ok(idle);
        }
        let mut pending: Vec<Pending> = slots
            .iter()
            .map(|s| Pending {
                position: s.position,
                state: s.state,
                error: None,
                ops: OpBuffer::default(),
                stmts: Vec::new(),
            })
            .collect();
        let mut outcome = Outcome::Progress(events.len());
        let decoded = self.folder.decode_page(&events).await?;
        'events: for (recorded, decoded) in events.iter().zip(decoded) {
            let envelope = self.folder.envelope_of(recorded, decoded).await?;
            for (slot, pending) in slots.iter().zip(pending.iter_mut()) {
                if !pending.state.is_active() || pending.position >= recorded.position {
                    continue;
                }
                if let Some(pause) = self.apply(slot, pending, &envelope) {
                    outcome = Outcome::Backoff(pause);
                    break 'events;
                }
            }
        }
        let mut stmts = Vec::new();
        for (slot, p) in slots.iter().zip(pending.iter_mut()) {
            if p.position != slot.position || p.state != slot.state {
                stmts.push(checkpoint(slot, p.position, p.state, p.error.take()));
                let tables = slot.projection.tables();
                let ops = std::mem::take(&mut p.ops).into_ops();
                stmts.extend(ops.iter().map(|op| render(op, tables, slot.generation)));
                stmts.append(&mut p.stmts);
            }
        }
        let updates = pending.iter().map(|p| (p.position, p.state)).collect();
        Ok(Prepared {
            outcome,
            stmts,
            updates,
        })
    }

    /// Projects one event for one slot. `Some(pause)` when the event failed and will be tried
    /// again: the step ends before it.
    fn apply(
        &mut self,
        slot: &Slot,
        pending: &mut Pending,
        envelope: &Envelope<'_>,
    ) -> Option<Duration> {
        let recorded = envelope.recorded;
        let projection = &slot.projection;
        let result = match &envelope.body {
            Body::Undecodable(reason) if projection.handles(&recorded.event_type) => {
                Err(reason.clone())
            }
            _ => projection.project(envelope),
        };
        let reason = match result {
            Ok(ops) => {
                for op in ops {
                    pending.ops.push(op, projection.tables());
                }
                pending.position = recorded.position;
                return None;
            }
            Err(reason) => reason,
        };
        let key = (projection.name(), recorded.position);
        let attempts = self.failures.entry(key).or_insert(0);
        *attempts += 1;
        if *attempts < self.config.attempts {
            let pause = self.config.backoff * 2u32.saturating_pow(*attempts - 1);
            tracing::warn!(projection = key.0, position = key.1, attempt = *attempts, %reason, "projection failed on an event; retrying");
            return Some(pause);
        }
        let attempts = *attempts;
        self.failures.remove(&key);
        tracing::error!(projection = key.0, position = key.1, %reason, policy = ?projection.policy(), "projection gave up on an event");
        pending
            .stmts
            .push(park(slot, recorded, &reason, attempts, self.clock.now()));
        match projection.policy() {
            Policy::Park => pending.position = recorded.position,
            Policy::Stop => {
                pending.state = State::Stopped;
                pending.error = Some(format!("position {}: {reason}", recorded.position));
            }
        }
        None
    }
}

/// A page's transaction, prepared by [`Engine::prepare`].
pub struct Prepared {
    pub outcome: Outcome,
    /// Checkpoints first, then rows; empty when nothing changed.
    pub stmts: Vec<Stmt>,
    /// Each slot's position and state once the transaction commits.
    pub updates: Vec<(u64, State)>,
}

/// Moves the slots to where a committed [`Prepared`] left them.
pub fn advance(slots: &mut [Slot], updates: &[(u64, State)]) {
    for (slot, (position, state)) in slots.iter_mut().zip(updates) {
        slot.position = *position;
        slot.state = *state;
    }
}

fn park(
    slot: &Slot,
    recorded: &RecordedEvent,
    reason: &str,
    attempts: u32,
    at: DateTime<Utc>,
) -> Stmt {
    Stmt::new(
        "INSERT INTO projection_parked (name, generation, position, stream, event_type, error, attempts, parked_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
        vec![
            Val::text(slot.name()),
            Val::Int(slot.generation),
            Val::int(recorded.position),
            Val::text(recorded.stream.clone()),
            Val::text(recorded.event_type.clone()),
            Val::text(reason),
            Val::int(attempts),
            Val::text(time_text(at)),
        ],
    )
}

/// Renders a row operation on a logical table into SQL on its physical table.
pub fn render(op: &RowOp, tables: &[TableDef], generation: i64) -> Stmt {
    let table = physical(op.table(), generation);
    let def = tables.iter().find(|t| t.name == op.table());
    let col_type = |name: &str| {
        def.and_then(|d| d.columns.iter().find(|(c, _, _)| *c == name))
            .map_or(Col::Text, |(_, ty, _)| *ty)
    };
    match op {
        RowOp::Delete { filter, .. } => {
            let clauses: Vec<String> = filter
                .iter()
                .enumerate()
                .map(|(i, (col, _))| format!("{col} = ${}", i + 1))
                .collect();
            let sql = format!("DELETE FROM {table} WHERE {}", clauses.join(" AND "));
            Stmt::new(sql, filter.iter().map(|(_, v)| v.clone()).collect())
                .typed(filter.iter().map(|(c, _)| col_type(c)).collect())
        }
        RowOp::Insert { row, .. } | RowOp::Upsert { row, .. } => {
            let cols: Vec<&str> = row.iter().map(|(c, _)| *c).collect();
            let params: Vec<String> = (1..=row.len()).map(|i| format!("${i}")).collect();
            let mut sql = format!(
                "INSERT INTO {table} ({}) VALUES ({})",
                cols.join(", "),
                params.join(", ")
            );
            if let (RowOp::Upsert { .. }, Some(def)) = (op, def) {
                let updates: Vec<String> = cols
                    .iter()
                    .filter(|c| !def.key.contains(c))
                    .map(|c| format!("{c} = excluded.{c}"))
                    .collect();
                sql.push_str(&format!(
                    " ON CONFLICT ({}) DO UPDATE SET {}",
                    def.key.join(", "),
                    updates.join(", ")
                ));
            }
            Stmt::new(sql, row.iter().map(|(_, v)| v.clone()).collect())
                .typed(cols.iter().map(|c| col_type(c)).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::render;
    use crate::models::accounts::TABLE;
    use crate::rows::{RowOp, Val};

    #[test]
    fn an_upsert_renders_to_one_statement_on_the_generation_table() {
        let op = RowOp::Upsert {
            table: "accounts_v1",
            row: vec![
                ("member_id", Val::text("m")),
                ("status", Val::text("active")),
            ],
        };
        let stmt = render(&op, &[TABLE], 3);
        assert_eq!(
            stmt.sql,
            "INSERT INTO accounts_v1_g3 (member_id, status) VALUES ($1, $2) \
             ON CONFLICT (member_id) DO UPDATE SET status = excluded.status"
        );
        assert_eq!(stmt.params.len(), 2);
    }

    #[test]
    fn a_delete_matches_every_filter_column() {
        let op = RowOp::Delete {
            table: "accounts_v1",
            filter: vec![("member_id", Val::text("m")), ("status", Val::Null)],
        };
        let stmt = render(&op, &[TABLE], 1);
        assert_eq!(
            stmt.sql,
            "DELETE FROM accounts_v1_g1 WHERE member_id = $1 AND status = $2"
        );
    }
}
