//! An organization folded from its stream: members with their direct grants, custom roles and
//! groups. Expired grants stay in the state; whether a grant counts is decided at a given
//! instant by [`RoleGrant::is_active`], so point-in-time questions fold the same state.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::event::OrgPackage;
use crate::permissions::{RoleTemplate, builtin_role};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrgState {
    /// `None` until created.
    pub org_id: Option<Uuid>,
    pub name: String,
    /// The organization's own seat limit, which counts while it is on no package.
    pub seat_limit: u32,
    /// The organization plan it is on, whose seat limit counts instead.
    pub package: Option<OrgPackage>,
    pub members: BTreeMap<Uuid, OrgMember>,
    /// Custom roles by name. Built-in roles are not stored: they exist in every organization.
    pub roles: BTreeMap<String, CustomRole>,
    pub groups: BTreeMap<Uuid, Group>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrgMember {
    /// Direct grants, at most one per (role, scope).
    pub grants: Vec<RoleGrant>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleGrant {
    pub role: String,
    pub scope: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

impl RoleGrant {
    /// A grant counts strictly before its expiry instant.
    pub fn is_active(&self, at: DateTime<Utc>) -> bool {
        self.expires_at.is_none_or(|expires_at| at < expires_at)
    }

    pub fn is(&self, role: &str, scope: Option<&str>) -> bool {
        self.role == role && self.scope.as_deref() == scope
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomRole {
    pub permissions: Vec<String>,
    pub occupies_seat: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Group {
    pub name: String,
    /// Roles every member of the group holds; group grants do not expire.
    pub grants: Vec<GroupGrant>,
    pub members: BTreeSet<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupGrant {
    pub role: String,
    pub scope: Option<String>,
}

impl GroupGrant {
    pub fn is(&self, role: &str, scope: Option<&str>) -> bool {
        self.role == role && self.scope.as_deref() == scope
    }
}

/// A role as seen by the rules: built-in or defined in this organization.
#[derive(Debug, Clone, Copy)]
pub enum RoleRef<'a> {
    Builtin(&'static RoleTemplate),
    Custom(&'a CustomRole),
}

impl<'a> RoleRef<'a> {
    pub fn allows(self, permission: &str) -> bool {
        match self {
            Self::Builtin(template) => template.allows(permission),
            Self::Custom(role) => role.permissions.iter().any(|p| p == permission),
        }
    }

    pub fn permissions(self) -> Vec<&'a str> {
        match self {
            Self::Builtin(template) => template.permissions().collect(),
            Self::Custom(role) => role.permissions.iter().map(String::as_str).collect(),
        }
    }

    pub fn occupies_seat(self) -> bool {
        match self {
            Self::Builtin(template) => template.occupies_seat,
            Self::Custom(role) => role.occupies_seat,
        }
    }
}

impl OrgState {
    pub fn is_created(&self) -> bool {
        self.org_id.is_some()
    }

    /// The built-in or custom role called `name`.
    pub fn role(&self, name: &str) -> Option<RoleRef<'_>> {
        builtin_role(name)
            .map(RoleRef::Builtin)
            .or_else(|| self.roles.get(name).map(RoleRef::Custom))
    }

    /// The seat limit in force: the package's, else the organization's own.
    pub fn limit(&self) -> u32 {
        self.package
            .as_ref()
            .map_or(self.seat_limit, |package| package.seat_limit)
    }

    pub fn is_member(&self, member_id: Uuid) -> bool {
        self.members.contains_key(&member_id)
    }
}
