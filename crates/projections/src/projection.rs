//! What a projection is: a pure function from one decoded event (and its aggregate's state) to
//! row operations on its own tables. It never sees a connection, a clock or a checkpoint, so
//! running it twice yields the same rows, and a rebuild equals the live tables.
//!
//! Architecture invariant: projections are replayable and have no side effects. Mail, charges
//! and reminders are reactors (`roster-workers`); they are never registered here and replay
//! never runs them.

use std::sync::Arc;

use crate::models::{
    accounts::Accounts, audit::Audit, memberships::Memberships, payments::Payments, plans::Plans,
};
use crate::pipeline::Envelope;
use crate::rows::{RowOp, TableDef};

/// What the runner does when a projection keeps failing on one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Record the event as parked, with the error, and go on with the next one.
    Park,
    /// Stop this projection (the others go on) until an operator retries or skips the event.
    Stop,
}

pub trait Projection: Send + Sync + 'static {
    /// The projection's name, schema version included (`accounts_v1`): a changed table shape
    /// is a new name, built beside the old one.
    fn name(&self) -> &'static str;

    /// Its tables. The first one's name is the projection's name.
    fn tables(&self) -> &'static [TableDef];

    /// Bumped when `project` changes what it writes while the tables keep their shape: the
    /// live tables then count as outdated and are rebuilt in the background at start-up.
    fn revision(&self) -> u32 {
        1
    }

    fn policy(&self) -> Policy {
        Policy::Park
    }

    /// Whether the projection reads events of this type. A poison event of a type it reads
    /// is its failure; others pass it by.
    fn handles(&self, event_type: &str) -> bool;

    /// The row operations for one event, or why it cannot be applied.
    fn project(&self, envelope: &Envelope<'_>) -> Result<Vec<RowOp>, String>;
}

pub type DynProjection = Arc<dyn Projection>;

/// Every projection of this build, in the order they are applied.
pub fn all() -> Vec<DynProjection> {
    vec![
        Arc::new(Accounts),
        Arc::new(Audit),
        Arc::new(Payments),
        Arc::new(Plans),
        Arc::new(Memberships),
    ]
}

/// The projections named, or all of them when `names` is empty.
pub fn select(names: &[String]) -> Result<Vec<DynProjection>, crate::ProjectionError> {
    let all = all();
    if names.is_empty() {
        return Ok(all);
    }
    names
        .iter()
        .map(|name| {
            all.iter()
                .find(|p| p.name() == name)
                .cloned()
                .ok_or_else(|| crate::ProjectionError::UnknownProjection(name.clone()))
        })
        .collect()
}

pub const ACCOUNTS: &str = "accounts_v1";
pub const AUDIT: &str = "audit_v1";
pub const PAYMENTS: &str = "payments_v1";
pub const PLANS: &str = "plans_v1";
pub const MEMBERSHIPS: &str = "memberships_v1";
