//! Rules that hold after every decision, whatever the command. Rather than each command
//! reasoning about seats and owners, [`ensure`] folds the decided events onto a copy of the
//! state and compares: adding a member, assigning a seat role to a customer, joining a group
//! that grants one and lowering the limit all meet the same check.

use chrono::{DateTime, Utc};

use super::event::OrgEvent;
use super::evolve::evolve;
use super::state::OrgState;
use crate::DomainError;
use crate::effective::held_roles;
use crate::permissions::OWNER;

/// How many members occupy a seat at `now`: those holding, directly or through a group and
/// unexpired, at least one role that occupies a seat.
pub fn seats_used(state: &OrgState, now: DateTime<Utc>) -> u32 {
    let occupies = |member_id| {
        held_roles(state, member_id, now).iter().any(|held| {
            state
                .role(held.role)
                .is_some_and(|role| role.occupies_seat())
        })
    };
    let used = state.members.keys().filter(|id| occupies(**id)).count();
    u32::try_from(used).unwrap_or(u32::MAX)
}

/// How many members own the organization for good: `owner` held directly, unscoped and without
/// expiry. Owners through a group or until a date do not count, because a group can be
/// emptied and a date passes without anyone deciding anything.
pub fn permanent_owners(state: &OrgState) -> usize {
    let is_owner = |g: &super::state::RoleGrant| g.is(OWNER, None) && g.expires_at.is_none();
    state
        .members
        .values()
        .filter(|m| m.grants.iter().any(is_owner))
        .count()
}

/// Rejects `events` if applying them to `before` breaks the seat limit or the last owner rule.
pub(super) fn ensure(
    before: &OrgState,
    events: &[OrgEvent],
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    if events.is_empty() {
        return Ok(());
    }
    let after = events.iter().fold(before.clone(), evolve);
    ensure_an_owner_remains(before, &after)?;
    ensure_seats(before, &after, now)
}

fn ensure_an_owner_remains(before: &OrgState, after: &OrgState) -> Result<(), DomainError> {
    if permanent_owners(after) == 0 && permanent_owners(before) > 0 {
        return Err(DomainError::LastOwner);
    }
    Ok(())
}

/// Only a decision that makes things worse is refused: an organization that is over its limit
/// (after a downgrade of its package, which keeps the seats already taken) may still remove
/// members or raise the limit, and takes no one new into a seat. Lowering the organization's
/// own limit below the seats in use is refused; a package change never is.
fn ensure_seats(
    before: &OrgState,
    after: &OrgState,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    let used_before = seats_used(before, now);
    let used_after = seats_used(after, now);
    let own_limit_lowered = after.package.is_none() && after.seat_limit < before.seat_limit;
    let worse = used_after > used_before || own_limit_lowered;
    if used_after > after.limit() && worse {
        return Err(DomainError::SeatLimitReached {
            limit: after.limit(),
        });
    }
    Ok(())
}
