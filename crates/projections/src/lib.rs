//! Roster's read models: projections of the event log into tables that answer "who is this
//! member, what may they do", kept in the same database as the log.
//!
//! - [`projection`]: the [`Projection`] trait and the projections of this build
//!   (`accounts_v1`, `audit_v1`), pure functions in [`models`] over the decoded events of
//!   [`pipeline`].
//! - [`runner`]: [`Projections::start`], the live runner `roster serve` starts.
//! - [`rebuild`]: blue-green rebuilds into shadow tables (`roster replay`).
//! - [`read`]: [`ReadModels`], the queries the HTTP API and the CLI call.
//! - [`operator`]: parked events, retry, skip, hold and release (`roster projections`).
//!
//! Architecture invariants:
//! - A projection writes its rows and its checkpoint in one transaction; the checkpoint is
//!   compare-and-set, so running a step twice, or in two processes, changes nothing.
//! - Projections are pure: no I/O, no clock, no side effects. Replaying the log gives the same
//!   tables, table by table.
//! - Readers read views that show the live generation; a rebuild never empties a live table.
//! - Read models hold personal data only in `accounts_v1`, and clear it when a member is erased.

pub mod catalog;
mod coalesce;
pub mod engine;
mod error;
pub mod models;
pub mod operator;
pub mod pipeline;
pub mod projection;
pub mod read;
pub mod rebuild;
pub mod rows;
pub mod runner;

pub use engine::EngineConfig;
pub use error::ProjectionError;
pub use projection::{ACCOUNTS, AUDIT, MEMBERSHIPS, PAYMENTS, PLANS, Policy, Projection};
pub use read::{Lag, ReadModels};
pub use rebuild::{Progress, RebuildOptions, RebuildReport, rebuild};
pub use roster_sql::Db;
pub use runner::{Projections, RunnerConfig};

/// The state of a projection generation, as stored with its checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Live and applied by the runner.
    Running,
    /// A shadow generation being filled by a rebuild.
    Rebuilding,
    /// Held by an operator: not applied until released.
    Held,
    /// Stopped on an event it could not apply (policy `Stop`).
    Stopped,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Rebuilding => "rebuilding",
            Self::Held => "held",
            Self::Stopped => "stopped",
        }
    }

    pub fn parse(text: &str) -> Self {
        match text {
            "rebuilding" => Self::Rebuilding,
            "held" => Self::Held,
            "stopped" => Self::Stopped,
            _ => Self::Running,
        }
    }

    /// Whether the runner (or a rebuild) applies events to it.
    pub fn is_active(self) -> bool {
        matches!(self, Self::Running | Self::Rebuilding)
    }
}
