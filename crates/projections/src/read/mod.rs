//! The query side: what the HTTP layer and the CLI read. Every query reads the views (the
//! live generation), never the log, except the point-in-time permission questions, which
//! fold the organization's stream up to the instant asked about.

mod accounts;
mod audit;
mod orgs;
mod permissions;
mod status;

use std::sync::Arc;
use std::time::{Duration, Instant};

use roster_app::Runtime;
use roster_app::clock::{Clock, SystemClock};
use roster_store::DynStore;
use roster_store::pii::Vault;
use serde::Serialize;

pub use accounts::{Account, Visibility};
pub use audit::{AuditEntry, AuditFilter};
pub use orgs::{OrgGroupView, OrgMemberView, OrgView};
pub use status::{ProjectionStatus, ShadowStatus};

use crate::ProjectionError;
use crate::db::Db;

/// Interval between checks while waiting for a projection to reach a position.
const WAIT_STEP: Duration = Duration::from_millis(10);

/// A page of results and the cursor of the next one (`None` on the last page).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

/// A projection is behind the position a caller wants to read: the API answers 503 with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lag {
    pub projection: String,
    pub wanted: u64,
    pub position: u64,
}

impl std::fmt::Display for Lag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} is at position {}, behind the requested {}",
            self.projection, self.position, self.wanted
        )
    }
}

/// Queries over the read models.
#[derive(Clone)]
pub struct ReadModels {
    db: Db,
    store: DynStore,
    vault: Vault,
    clock: Arc<dyn Clock>,
}

impl ReadModels {
    /// Queries with the wall clock (expiry of grants, lag in seconds).
    pub fn new(runtime: &Runtime, db: Db) -> Self {
        Self::with_clock(runtime, db, Arc::new(SystemClock))
    }

    pub fn with_clock(runtime: &Runtime, db: Db, clock: Arc<dyn Clock>) -> Self {
        Self {
            db,
            store: runtime.store.clone(),
            vault: runtime.vault.clone(),
            clock,
        }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Waits until `projection` has applied every event up to `min_position`, at most
    /// `timeout`. On timeout the error is [`ProjectionError::Behind`] with the lag.
    pub async fn wait_for(
        &self,
        projection: &str,
        min_position: u64,
        timeout: Duration,
    ) -> Result<(), ProjectionError> {
        let deadline = Instant::now() + timeout;
        loop {
            let position = status::live_position(&self.db, projection).await?;
            if position >= min_position {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(ProjectionError::Behind(Lag {
                    projection: projection.to_owned(),
                    wanted: min_position,
                    position,
                }));
            }
            tokio::time::sleep(WAIT_STEP).await;
        }
    }

    /// Position, lag (events and seconds) and state of every projection.
    pub async fn status(&self) -> Result<Vec<ProjectionStatus>, ProjectionError> {
        status::status(&self.db, &self.store, self.clock.now()).await
    }
}
