//! The grants reactor: a direct role grant given with an expiry sets a timer at that instant,
//! which settles the organization's expired grants (`OrgRoleExpired`). Checks never count an
//! expired grant whether or not it is settled; settling makes the expiry a fact in the log, so
//! the audit trail and the organization's state show it.

use roster_domain::{AnyEvent, OrgEvent};

use crate::job::{Cause, Enqueue};
use crate::jobs::membership_timer::{MembershipTimer, Timer};
use crate::reactor::Reactor;

pub struct GrantsReactor;

/// The grants reactor's name and checkpoint.
pub const GRANTS: &str = "grants";

impl Reactor for GrantsReactor {
    fn name(&self) -> &'static str {
        GRANTS
    }

    fn react(&self, event: &AnyEvent, cause: Cause) -> Result<Vec<Enqueue>, serde_json::Error> {
        let AnyEvent::Org(OrgEvent::RoleAssigned(e)) = event else {
            return Ok(Vec::new());
        };
        let Some(expires_at) = e.expires_at else {
            return Ok(Vec::new());
        };
        let timer = Timer::GrantExpiry {
            org_id: e.org_id,
            expires_at,
        };
        Ok(vec![
            Enqueue::of(&MembershipTimer { timer, cause })?.at(expires_at),
        ])
    }
}
