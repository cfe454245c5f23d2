//! Custom roles and direct role grants. All of it needs `members.roles.assign`, the owner's
//! right to change who may do what.

use std::collections::BTreeSet;

use uuid::Uuid;

use super::command::{AssignOrgRole, DefineOrgRole, RevokeOrgRole};
use super::event::{OrgEvent, OrgRoleAssigned, OrgRoleDefined, OrgRoleRevoked};
use super::state::OrgState;
use super::{lookup, rights};
use crate::permissions::{MEMBERS_ROLES_ASSIGN, builtin_role, validate_permission};
use crate::{Ctx, DomainError, validate};

pub(super) fn define(
    state: &OrgState,
    org_id: Uuid,
    c: &DefineOrgRole,
    ctx: &Ctx,
) -> Result<OrgEvent, DomainError> {
    let name = validate::slug("name", &c.name)?;
    if builtin_role(&name).is_some() {
        return Err(DomainError::already_exists(format!("built-in role {name}")));
    }
    let permissions = catalog_permissions(&c.permissions)?;
    rights::require(state, ctx, MEMBERS_ROLES_ASSIGN)?;
    if state.roles.contains_key(&name) {
        return Err(DomainError::already_exists(format!("role {name}")));
    }
    let occupies_seat = c.occupies_seat;
    Ok(OrgEvent::RoleDefined(OrgRoleDefined {
        org_id,
        name,
        permissions,
        occupies_seat,
        at: ctx.now,
    }))
}

/// Sorted and deduplicated, so two definitions that mean the same thing record the same list.
fn catalog_permissions(permissions: &[String]) -> Result<Vec<String>, DomainError> {
    let unique: BTreeSet<&String> = permissions.iter().collect();
    for permission in &unique {
        validate_permission(permission)?;
    }
    Ok(unique.into_iter().cloned().collect())
}

pub(super) fn assign(
    state: &OrgState,
    org_id: Uuid,
    c: &AssignOrgRole,
    ctx: &Ctx,
) -> Result<OrgEvent, DomainError> {
    let scope = validate::scope(c.scope.as_deref())?;
    if c.expires_at.is_some_and(|expires_at| expires_at <= ctx.now) {
        return Err(DomainError::invalid("expires_at", "must be in the future"));
    }
    lookup::known_role(state, &c.role)?;
    rights::require(state, ctx, MEMBERS_ROLES_ASSIGN)?;
    let member = lookup::member(state, c.member_id)?;
    let same = |g: &&super::state::RoleGrant| g.is(&c.role, scope.as_deref());
    if member
        .grants
        .iter()
        .find(same)
        .is_some_and(|g| g.expires_at == c.expires_at)
    {
        return Err(DomainError::already_exists(format!(
            "grant of role {}",
            c.role
        )));
    }
    Ok(OrgEvent::RoleAssigned(OrgRoleAssigned {
        org_id,
        member_id: c.member_id,
        role: c.role.clone(),
        scope,
        expires_at: c.expires_at,
        at: ctx.now,
    }))
}

pub(super) fn revoke(
    state: &OrgState,
    org_id: Uuid,
    c: &RevokeOrgRole,
    ctx: &Ctx,
) -> Result<OrgEvent, DomainError> {
    let scope = validate::scope(c.scope.as_deref())?;
    rights::require(state, ctx, MEMBERS_ROLES_ASSIGN)?;
    let member = lookup::member(state, c.member_id)?;
    if !member
        .grants
        .iter()
        .any(|g| g.is(&c.role, scope.as_deref()))
    {
        return Err(DomainError::not_found(format!("grant of role {}", c.role)));
    }
    Ok(OrgEvent::RoleRevoked(OrgRoleRevoked {
        org_id,
        member_id: c.member_id,
        role: c.role.clone(),
        scope,
        at: ctx.now,
    }))
}
