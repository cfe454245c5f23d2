//! Groups: named sets of members that hold roles together. Shaping groups and their roles is
//! role assignment (`members.roles.assign`); moving members in and out is user management
//! (`members.users.manage`), except that members may always leave a group themselves.

use uuid::Uuid;

use super::command::{
    CreateOrgGroup, GrantOrgGroupRole, JoinOrgGroup, LeaveOrgGroup, RevokeOrgGroupRole,
};
use super::event::{
    OrgEvent, OrgGroupCreated, OrgGroupJoined, OrgGroupLeft, OrgGroupRoleGranted,
    OrgGroupRoleRevoked,
};
use super::state::OrgState;
use super::{lookup, rights};
use crate::permissions::{MEMBERS_ROLES_ASSIGN, MEMBERS_USERS_MANAGE};
use crate::{Ctx, DomainError, validate};

const MAX_NAME: usize = 200;

/// Group names are unique because checks report the group by name.
pub(super) fn create(
    state: &OrgState,
    org_id: Uuid,
    c: &CreateOrgGroup,
    ctx: &Ctx,
) -> Result<OrgEvent, DomainError> {
    let group_id = validate::not_nil("group_id", c.group_id)?;
    let name = validate::text("name", &c.name, MAX_NAME)?;
    rights::require(state, ctx, MEMBERS_ROLES_ASSIGN)?;
    if state.groups.contains_key(&group_id) {
        return Err(DomainError::already_exists(format!("group {group_id}")));
    }
    if state.groups.values().any(|g| g.name == name) {
        return Err(DomainError::already_exists(format!("group named {name}")));
    }
    Ok(OrgEvent::GroupCreated(OrgGroupCreated {
        org_id,
        group_id,
        name,
        at: ctx.now,
    }))
}

pub(super) fn grant(
    state: &OrgState,
    org_id: Uuid,
    c: &GrantOrgGroupRole,
    ctx: &Ctx,
) -> Result<OrgEvent, DomainError> {
    let scope = validate::scope(c.scope.as_deref())?;
    lookup::known_role(state, &c.role)?;
    rights::require(state, ctx, MEMBERS_ROLES_ASSIGN)?;
    let group = lookup::group(state, c.group_id)?;
    if group.grants.iter().any(|g| g.is(&c.role, scope.as_deref())) {
        return Err(DomainError::already_exists(format!(
            "group grant of role {}",
            c.role
        )));
    }
    Ok(OrgEvent::GroupRoleGranted(OrgGroupRoleGranted {
        org_id,
        group_id: c.group_id,
        role: c.role.clone(),
        scope,
        at: ctx.now,
    }))
}

pub(super) fn revoke(
    state: &OrgState,
    org_id: Uuid,
    c: &RevokeOrgGroupRole,
    ctx: &Ctx,
) -> Result<OrgEvent, DomainError> {
    let scope = validate::scope(c.scope.as_deref())?;
    rights::require(state, ctx, MEMBERS_ROLES_ASSIGN)?;
    let group = lookup::group(state, c.group_id)?;
    if !group.grants.iter().any(|g| g.is(&c.role, scope.as_deref())) {
        return Err(DomainError::not_found(format!(
            "group grant of role {}",
            c.role
        )));
    }
    Ok(OrgEvent::GroupRoleRevoked(OrgGroupRoleRevoked {
        org_id,
        group_id: c.group_id,
        role: c.role.clone(),
        scope,
        at: ctx.now,
    }))
}

/// Joining confers the group's roles, so the actor must be allowed to confer each of them,
/// even when joining themselves.
pub(super) fn join(
    state: &OrgState,
    org_id: Uuid,
    c: &JoinOrgGroup,
    ctx: &Ctx,
) -> Result<OrgEvent, DomainError> {
    let group = lookup::group(state, c.group_id)?;
    rights::require_unless_self(state, ctx, c.member_id, MEMBERS_USERS_MANAGE)?;
    for grant in &group.grants {
        let role = lookup::known_role(state, &grant.role)?;
        rights::require_may_confer(state, ctx, role, grant.scope.as_deref())?;
    }
    lookup::member(state, c.member_id)?;
    if group.members.contains(&c.member_id) {
        return Err(DomainError::already_exists(format!(
            "membership of group {}",
            group.name
        )));
    }
    let (group_id, member_id) = (c.group_id, c.member_id);
    Ok(OrgEvent::GroupJoined(OrgGroupJoined {
        org_id,
        group_id,
        member_id,
        at: ctx.now,
    }))
}

pub(super) fn leave(
    state: &OrgState,
    org_id: Uuid,
    c: &LeaveOrgGroup,
    ctx: &Ctx,
) -> Result<OrgEvent, DomainError> {
    let group = lookup::group(state, c.group_id)?;
    rights::require_unless_self(state, ctx, c.member_id, MEMBERS_USERS_MANAGE)?;
    lookup::member(state, c.member_id)?;
    if !group.members.contains(&c.member_id) {
        return Err(DomainError::not_found(format!(
            "membership of group {}",
            group.name
        )));
    }
    let (group_id, member_id) = (c.group_id, c.member_id);
    Ok(OrgEvent::GroupLeft(OrgGroupLeft {
        org_id,
        group_id,
        member_id,
        at: ctx.now,
    }))
}
