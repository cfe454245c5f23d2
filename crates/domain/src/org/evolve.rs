//! How each organization event changes the state. Events are facts, so a reference to
//! something missing (which valid streams never contain) is skipped rather than refused.

use super::event::{
    OrgCreated, OrgEvent, OrgGroupCreated, OrgGroupRoleGranted, OrgRoleAssigned, OrgRoleDefined,
};
use super::state::{CustomRole, Group, GroupGrant, OrgMember, OrgState, RoleGrant};
use crate::permissions::OWNER;

pub(super) fn evolve(mut state: OrgState, event: &OrgEvent) -> OrgState {
    match event {
        OrgEvent::Created(e) => created(&mut state, e),
        OrgEvent::MemberAdded(e) => {
            state.members.insert(e.member_id, member_with(&e.role));
        }
        OrgEvent::MemberRemoved(e) => {
            state.members.remove(&e.member_id);
            for group in state.groups.values_mut() {
                group.members.remove(&e.member_id);
            }
        }
        OrgEvent::RoleDefined(e) => role_defined(&mut state, e),
        OrgEvent::RoleAssigned(e) => role_assigned(&mut state, e),
        OrgEvent::RoleRevoked(e) => {
            if let Some(member) = state.members.get_mut(&e.member_id) {
                member.grants.retain(|g| !g.is(&e.role, e.scope.as_deref()));
            }
        }
        OrgEvent::GroupCreated(e) => group_created(&mut state, e),
        OrgEvent::GroupRoleGranted(e) => group_role_granted(&mut state, e),
        OrgEvent::GroupRoleRevoked(e) => {
            if let Some(group) = state.groups.get_mut(&e.group_id) {
                group.grants.retain(|g| !g.is(&e.role, e.scope.as_deref()));
            }
        }
        OrgEvent::GroupJoined(e) => {
            if let Some(group) = state.groups.get_mut(&e.group_id) {
                group.members.insert(e.member_id);
            }
        }
        OrgEvent::GroupLeft(e) => {
            if let Some(group) = state.groups.get_mut(&e.group_id) {
                group.members.remove(&e.member_id);
            }
        }
        OrgEvent::SeatLimitChanged(e) => state.seat_limit = e.seat_limit,
        OrgEvent::PackageChanged(e) => state.package.clone_from(&e.package),
        OrgEvent::RoleExpired(e) => {
            if let Some(member) = state.members.get_mut(&e.member_id) {
                member.grants.retain(|g| !g.is(&e.role, e.scope.as_deref()));
            }
        }
    }
    state
}

fn created(state: &mut OrgState, e: &OrgCreated) {
    state.org_id = Some(e.org_id);
    state.name.clone_from(&e.name);
    state.seat_limit = e.seat_limit;
    state.members.insert(e.owner_id, member_with(OWNER));
}

fn member_with(role: &str) -> OrgMember {
    OrgMember {
        grants: vec![RoleGrant {
            role: role.to_owned(),
            scope: None,
            expires_at: None,
        }],
    }
}

fn role_defined(state: &mut OrgState, e: &OrgRoleDefined) {
    let role = CustomRole {
        permissions: e.permissions.clone(),
        occupies_seat: e.occupies_seat,
    };
    state.roles.insert(e.name.clone(), role);
}

/// A new grant of the same role and scope replaces the old one, so re-assigning is how an
/// expiry is extended or removed.
fn role_assigned(state: &mut OrgState, e: &OrgRoleAssigned) {
    let Some(member) = state.members.get_mut(&e.member_id) else {
        return;
    };
    member.grants.retain(|g| !g.is(&e.role, e.scope.as_deref()));
    member.grants.push(RoleGrant {
        role: e.role.clone(),
        scope: e.scope.clone(),
        expires_at: e.expires_at,
    });
}

fn group_created(state: &mut OrgState, e: &OrgGroupCreated) {
    let group = Group {
        name: e.name.clone(),
        ..Group::default()
    };
    state.groups.insert(e.group_id, group);
}

fn group_role_granted(state: &mut OrgState, e: &OrgGroupRoleGranted) {
    let Some(group) = state.groups.get_mut(&e.group_id) else {
        return;
    };
    group.grants.retain(|g| !g.is(&e.role, e.scope.as_deref()));
    group.grants.push(GroupGrant {
        role: e.role.clone(),
        scope: e.scope.clone(),
    });
}
