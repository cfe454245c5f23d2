//! The organization's rules: dispatch, creation and membership. Role and group commands live
//! in `decide_roles` and `decide_groups`; seat and owner rules in `invariants`, applied to
//! every decision here.

use uuid::Uuid;

use super::command::{
    AddOrgMember, ChangeOrgPackage, ChangeOrgSeatLimit, CreateOrg, OrgCommand, RemoveOrgMember,
};
use super::event::{
    OrgCreated, OrgEvent, OrgMemberAdded, OrgMemberRemoved, OrgPackageChanged, OrgRoleExpired,
    OrgSeatLimitChanged,
};
use super::state::OrgState;
use super::{decide_groups, decide_roles, invariants, lookup, rights};
use crate::permissions::{BILLING_PLAN_MANAGE, MEMBERS_USERS_MANAGE};
use crate::{Ctx, DomainError, validate};

const MAX_NAME: usize = 200;

pub(super) fn decide(
    state: &OrgState,
    command: &OrgCommand,
    ctx: &Ctx,
) -> Result<Vec<OrgEvent>, DomainError> {
    let events = decide_command(state, command, ctx)?;
    invariants::ensure(state, &events, ctx.now)?;
    Ok(events)
}

fn decide_command(
    state: &OrgState,
    command: &OrgCommand,
    ctx: &Ctx,
) -> Result<Vec<OrgEvent>, DomainError> {
    let org = || {
        state
            .org_id
            .ok_or_else(|| DomainError::not_found("organization"))
    };
    let event = match command {
        OrgCommand::Create(c) => create(state, c, ctx)?,
        OrgCommand::AddMember(c) => add_member(state, org()?, c, ctx)?,
        OrgCommand::RemoveMember(c) => remove_member(state, org()?, c, ctx)?,
        OrgCommand::ChangeSeatLimit(c) => return change_seat_limit(state, org()?, c, ctx),
        OrgCommand::ChangePackage(c) => return change_package(state, org()?, c, ctx),
        OrgCommand::SettleGrantExpiries(_) => return Ok(settle_expiries(state, org()?, ctx)),
        OrgCommand::DefineRole(c) => decide_roles::define(state, org()?, c, ctx)?,
        OrgCommand::AssignRole(c) => decide_roles::assign(state, org()?, c, ctx)?,
        OrgCommand::RevokeRole(c) => decide_roles::revoke(state, org()?, c, ctx)?,
        OrgCommand::CreateGroup(c) => decide_groups::create(state, org()?, c, ctx)?,
        OrgCommand::GrantGroupRole(c) => decide_groups::grant(state, org()?, c, ctx)?,
        OrgCommand::RevokeGroupRole(c) => decide_groups::revoke(state, org()?, c, ctx)?,
        OrgCommand::JoinGroup(c) => decide_groups::join(state, org()?, c, ctx)?,
        OrgCommand::LeaveGroup(c) => decide_groups::leave(state, org()?, c, ctx)?,
    };
    Ok(vec![event])
}

/// Anyone may create an organization; its creator names the owner, who takes the first seat.
fn create(state: &OrgState, c: &CreateOrg, ctx: &Ctx) -> Result<OrgEvent, DomainError> {
    if state.is_created() {
        return Err(DomainError::already_exists("organization"));
    }
    let org_id = validate::not_nil("org_id", c.org_id)?;
    let name = validate::text("name", &c.name, MAX_NAME)?;
    let owner_id = validate::not_nil("owner_id", c.owner_id)?;
    let seat_limit = seat_limit(c.seat_limit)?;
    Ok(OrgEvent::Created(OrgCreated {
        org_id,
        name,
        owner_id,
        seat_limit,
        at: ctx.now,
    }))
}

fn add_member(
    state: &OrgState,
    org_id: Uuid,
    c: &AddOrgMember,
    ctx: &Ctx,
) -> Result<OrgEvent, DomainError> {
    let member_id = validate::not_nil("member_id", c.member_id)?;
    let role = lookup::known_role(state, &c.role)?;
    rights::require(state, ctx, MEMBERS_USERS_MANAGE)?;
    rights::require_may_confer(state, ctx, role, None)?;
    if state.is_member(member_id) {
        return Err(DomainError::AlreadyMember { member_id });
    }
    let role = c.role.clone();
    Ok(OrgEvent::MemberAdded(OrgMemberAdded {
        org_id,
        member_id,
        role,
        at: ctx.now,
    }))
}

fn remove_member(
    state: &OrgState,
    org_id: Uuid,
    c: &RemoveOrgMember,
    ctx: &Ctx,
) -> Result<OrgEvent, DomainError> {
    rights::require(state, ctx, MEMBERS_USERS_MANAGE)?;
    lookup::member(state, c.member_id)?;
    let member_id = c.member_id;
    Ok(OrgEvent::MemberRemoved(OrgMemberRemoved {
        org_id,
        member_id,
        at: ctx.now,
    }))
}

/// Setting the limit it already has appends nothing.
fn change_seat_limit(
    state: &OrgState,
    org_id: Uuid,
    c: &ChangeOrgSeatLimit,
    ctx: &Ctx,
) -> Result<Vec<OrgEvent>, DomainError> {
    let seat_limit = seat_limit(c.seat_limit)?;
    rights::require(state, ctx, BILLING_PLAN_MANAGE)?;
    if let Some(package) = &state.package {
        return Err(DomainError::invalid_state(format!(
            "the seat limit comes from the package `{}`: change the package instead",
            package.plan
        )));
    }
    if seat_limit == state.seat_limit {
        return Ok(Vec::new());
    }
    let event = OrgSeatLimitChanged {
        org_id,
        seat_limit,
        at: ctx.now,
    };
    Ok(vec![OrgEvent::SeatLimitChanged(event)])
}

/// Choosing the package it is already on appends nothing; a package's seat limit is at least 1.
fn change_package(
    state: &OrgState,
    org_id: Uuid,
    c: &ChangeOrgPackage,
    ctx: &Ctx,
) -> Result<Vec<OrgEvent>, DomainError> {
    rights::require(state, ctx, BILLING_PLAN_MANAGE)?;
    if let Some(package) = &c.package {
        seat_limit(package.seat_limit)?;
    }
    if state.package == c.package {
        return Ok(Vec::new());
    }
    let event = OrgPackageChanged {
        org_id,
        package: c.package.clone(),
        at: ctx.now,
    };
    Ok(vec![OrgEvent::PackageChanged(event)])
}

/// One `OrgRoleExpired` per direct grant whose expiry is at or before now.
fn settle_expiries(state: &OrgState, org_id: Uuid, ctx: &Ctx) -> Vec<OrgEvent> {
    let mut events = Vec::new();
    for (member_id, member) in &state.members {
        for grant in &member.grants {
            let Some(expired_at) = grant.expires_at.filter(|_| !grant.is_active(ctx.now)) else {
                continue;
            };
            events.push(OrgEvent::RoleExpired(OrgRoleExpired {
                org_id,
                member_id: *member_id,
                role: grant.role.clone(),
                scope: grant.scope.clone(),
                expired_at,
                at: ctx.now,
            }));
        }
    }
    events
}

/// An organization always has its owner, who takes a seat, so a limit of zero is meaningless.
fn seat_limit(limit: u32) -> Result<u32, DomainError> {
    if limit == 0 {
        return Err(DomainError::invalid("seat_limit", "must be at least 1"));
    }
    Ok(limit)
}
