//! What the acting party may do in an organization. A trusted party (API key, operator,
//! worker) has been checked by the API layer already; a member's rights are checked here,
//! against the same [`check`] the check API answers with.

use uuid::Uuid;

use super::state::{OrgState, RoleRef};
use crate::effective::check;
use crate::permissions::MEMBERS_ROLES_ASSIGN;
use crate::{Actor, Ctx, DomainError};

/// The acting member must hold `permission`, unscoped, at `ctx.now`.
pub(super) fn require(state: &OrgState, ctx: &Ctx, permission: &str) -> Result<(), DomainError> {
    let Actor::Member(actor) = ctx.actor else {
        return Ok(());
    };
    if check(state, actor, permission, None, ctx.now).allowed {
        return Ok(());
    }
    Err(DomainError::forbidden(permission))
}

/// Like [`require`], except that members may always act on themselves (leave a group).
pub(super) fn require_unless_self(
    state: &OrgState,
    ctx: &Ctx,
    member_id: Uuid,
    permission: &str,
) -> Result<(), DomainError> {
    if ctx.actor == Actor::Member(member_id) {
        return Ok(());
    }
    require(state, ctx, permission)
}

/// Adding a member with a role or putting them in a group confers that role, which is role
/// assignment by another door. So the actor must hold `members.roles.assign`, or already hold
/// every permission the role confers (in that scope): nobody can hand out more than they have.
pub(super) fn require_may_confer(
    state: &OrgState,
    ctx: &Ctx,
    role: RoleRef<'_>,
    scope: Option<&str>,
) -> Result<(), DomainError> {
    let Actor::Member(actor) = ctx.actor else {
        return Ok(());
    };
    if check(state, actor, MEMBERS_ROLES_ASSIGN, None, ctx.now).allowed {
        return Ok(());
    }
    let holds = |permission: &&str| check(state, actor, permission, scope, ctx.now).allowed;
    if role.permissions().iter().all(holds) {
        return Ok(());
    }
    Err(DomainError::forbidden(MEMBERS_ROLES_ASSIGN))
}
