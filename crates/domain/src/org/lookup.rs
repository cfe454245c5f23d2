//! Lookups that turn a missing thing into the rejection the API reports for it.

use uuid::Uuid;

use super::state::{Group, OrgMember, OrgState, RoleRef};
use crate::DomainError;

pub(super) fn known_role<'a>(state: &'a OrgState, name: &str) -> Result<RoleRef<'a>, DomainError> {
    state.role(name).ok_or_else(|| DomainError::UnknownRole {
        role: name.to_owned(),
    })
}

pub(super) fn member(state: &OrgState, member_id: Uuid) -> Result<&OrgMember, DomainError> {
    state
        .members
        .get(&member_id)
        .ok_or(DomainError::NotAMember { member_id })
}

pub(super) fn group(state: &OrgState, group_id: Uuid) -> Result<&Group, DomainError> {
    state
        .groups
        .get(&group_id)
        .ok_or_else(|| DomainError::not_found(format!("group {group_id}")))
}
