//! Commands addressed to an organization. One struct per command, so each has its own schema.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::event::OrgPackage;

crate::tagged_enum! {
    pub enum OrgCommand {
        Create(CreateOrg) = "CreateOrg",
        AddMember(AddOrgMember) = "AddOrgMember",
        RemoveMember(RemoveOrgMember) = "RemoveOrgMember",
        DefineRole(DefineOrgRole) = "DefineOrgRole",
        AssignRole(AssignOrgRole) = "AssignOrgRole",
        RevokeRole(RevokeOrgRole) = "RevokeOrgRole",
        CreateGroup(CreateOrgGroup) = "CreateOrgGroup",
        GrantGroupRole(GrantOrgGroupRole) = "GrantOrgGroupRole",
        RevokeGroupRole(RevokeOrgGroupRole) = "RevokeOrgGroupRole",
        JoinGroup(JoinOrgGroup) = "JoinOrgGroup",
        LeaveGroup(LeaveOrgGroup) = "LeaveOrgGroup",
        ChangeSeatLimit(ChangeOrgSeatLimit) = "ChangeOrgSeatLimit",
        ChangePackage(ChangeOrgPackage) = "ChangeOrgPackage",
        SettleGrantExpiries(SettleOrgGrantExpiries) = "SettleOrgGrantExpiries",
    }
}

/// Creates the organization with `owner_id` as its first member, holding the `owner` role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CreateOrg {
    pub org_id: Uuid,
    pub name: String,
    pub owner_id: Uuid,
    /// At least 1: the owner takes a seat.
    pub seat_limit: u32,
}

/// Adds a member with one role, held directly, unscoped and without expiry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AddOrgMember {
    pub member_id: Uuid,
    pub role: String,
}

/// Removes a member with all their grants and group memberships.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RemoveOrgMember {
    pub member_id: Uuid,
}

/// Defines a custom role: a named subset of the permission catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DefineOrgRole {
    /// `[a-z0-9_-]`, 1 to 64 characters, not the name of a built-in role.
    pub name: String,
    pub permissions: Vec<String>,
    /// Whether holders count against the seat limit; staff roles do, client roles do not.
    #[serde(default = "yes")]
    pub occupies_seat: bool,
}

fn yes() -> bool {
    true
}

/// Grants a role to a member directly. Assigning the same role and scope again replaces the
/// expiry; an identical grant is rejected as `already-exists`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AssignOrgRole {
    pub member_id: Uuid,
    pub role: String,
    /// E.g. `channel:42`. An unscoped grant applies everywhere.
    #[serde(default)]
    pub scope: Option<String>,
    /// Must be in the future. The grant stops counting at this instant.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// Withdraws the direct grant of `role` with exactly this `scope`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RevokeOrgRole {
    pub member_id: Uuid,
    pub role: String,
    #[serde(default)]
    pub scope: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CreateOrgGroup {
    pub group_id: Uuid,
    /// Unique within the organization, because checks report the group by name.
    pub name: String,
}

/// Lets every member of the group hold `role` (optionally scoped).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct GrantOrgGroupRole {
    pub group_id: Uuid,
    pub role: String,
    #[serde(default)]
    pub scope: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RevokeOrgGroupRole {
    pub group_id: Uuid,
    pub role: String,
    #[serde(default)]
    pub scope: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct JoinOrgGroup {
    pub group_id: Uuid,
    pub member_id: Uuid,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LeaveOrgGroup {
    pub group_id: Uuid,
    pub member_id: Uuid,
}

/// Changes the organization's own seat limit; lowering it below the seats in use is refused.
/// Refused while the organization is on a package, whose plan sets the limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ChangeOrgSeatLimit {
    pub seat_limit: u32,
}

/// Puts the organization on an organization plan (a package), moves it to another (upgrade or
/// downgrade), or takes it off one (`package: None`, back to its own seat limit). The package's
/// seat limit is the plan's at the time of the change, read by the application from the plan:
/// a later change of the plan does not rewrite it. A lower limit keeps the seats already taken
/// and refuses new ones. Needs `billing.plan.manage`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ChangeOrgPackage {
    pub package: Option<OrgPackage>,
}

/// Direct grants whose expiry has passed are settled: each leaves the state with an
/// `OrgRoleExpired` fact (nothing any check answers changes: an expired grant already counted
/// for nothing). Sent by the scheduler when a grant's expiry falls due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SettleOrgGrantExpiries {}
