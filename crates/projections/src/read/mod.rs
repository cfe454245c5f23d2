//! The query side: what the HTTP layer and the CLI read. Every query reads the views (the
//! live generation), never the log.

mod accounts;
mod audit;
mod memberships;
mod payments;
mod plans;
mod reports;
mod status;

use std::time::{Duration, Instant};

use roster_app::Roster;
use serde::Serialize;

pub use accounts::{Account, Visibility};
pub use audit::{AuditEntry, AuditFilter};
pub use memberships::{MembershipRecord, Reminded};
pub use payments::{AttemptRecord, PaymentFilter, PaymentRecord, PaymentTotals, RefundRecord};
pub use plans::{PlanRecord, PriceRecord};
pub use reports::{
    AccessReview, MembershipsReport, MonthRow, PlanStatusCount, RevenueRow, ReviewedMember,
    ReviewedRole, WaitingRow,
};
pub use status::{ProjectionStatus, ShadowStatus};

use crate::ProjectionError;

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
    roster: Roster,
}

impl ReadModels {
    /// The read models of `roster`, their bookkeeping tables created if missing.
    pub async fn open(roster: &Roster) -> Result<Self, ProjectionError> {
        crate::catalog::install(&roster.sql).await?;
        Ok(Self {
            roster: roster.clone(),
        })
    }

    pub fn db(&self) -> &roster_sql::Db {
        &self.roster.sql
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
            let position = status::live_position(self.db(), projection).await?;
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

    /// Position, lag (events and seconds) and state of every projection of this build.
    pub async fn status(&self) -> Result<Vec<ProjectionStatus>, ProjectionError> {
        status::status(self.db(), &self.roster.log, self.roster.clock.now()).await
    }
}
