//! Facts about an organization. None of them holds personal data: members appear by id only.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::DomainEvent;

crate::tagged_enum! {
    pub enum OrgEvent {
        Created(OrgCreated) = "OrgCreated.v1",
        MemberAdded(OrgMemberAdded) = "OrgMemberAdded.v1",
        MemberRemoved(OrgMemberRemoved) = "OrgMemberRemoved.v1",
        RoleDefined(OrgRoleDefined) = "OrgRoleDefined.v1",
        RoleAssigned(OrgRoleAssigned) = "OrgRoleAssigned.v1",
        RoleRevoked(OrgRoleRevoked) = "OrgRoleRevoked.v1",
        GroupCreated(OrgGroupCreated) = "OrgGroupCreated.v1",
        GroupRoleGranted(OrgGroupRoleGranted) = "OrgGroupRoleGranted.v1",
        GroupRoleRevoked(OrgGroupRoleRevoked) = "OrgGroupRoleRevoked.v1",
        GroupJoined(OrgGroupJoined) = "OrgGroupJoined.v1",
        GroupLeft(OrgGroupLeft) = "OrgGroupLeft.v1",
        SeatLimitChanged(OrgSeatLimitChanged) = "OrgSeatLimitChanged.v1",
        PackageChanged(OrgPackageChanged) = "OrgPackageChanged.v1",
        RoleExpired(OrgRoleExpired) = "OrgRoleExpired.v1",
    }
}

/// The organization exists; `owner_id` is its first member and holds `owner` directly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OrgCreated {
    pub org_id: Uuid,
    pub name: String,
    pub owner_id: Uuid,
    pub seat_limit: u32,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OrgMemberAdded {
    pub org_id: Uuid,
    pub member_id: Uuid,
    /// Held directly, unscoped, without expiry.
    pub role: String,
    pub at: DateTime<Utc>,
}

/// The member left with every grant and group membership they had here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OrgMemberRemoved {
    pub org_id: Uuid,
    pub member_id: Uuid,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OrgRoleDefined {
    pub org_id: Uuid,
    pub name: String,
    /// Sorted and without duplicates, each from the catalog.
    pub permissions: Vec<String>,
    pub occupies_seat: bool,
    pub at: DateTime<Utc>,
}

/// A direct grant. It replaces an earlier grant of the same role and scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OrgRoleAssigned {
    pub org_id: Uuid,
    pub member_id: Uuid,
    pub role: String,
    pub scope: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OrgRoleRevoked {
    pub org_id: Uuid,
    pub member_id: Uuid,
    pub role: String,
    pub scope: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OrgGroupCreated {
    pub org_id: Uuid,
    pub group_id: Uuid,
    pub name: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OrgGroupRoleGranted {
    pub org_id: Uuid,
    pub group_id: Uuid,
    pub role: String,
    pub scope: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OrgGroupRoleRevoked {
    pub org_id: Uuid,
    pub group_id: Uuid,
    pub role: String,
    pub scope: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OrgGroupJoined {
    pub org_id: Uuid,
    pub group_id: Uuid,
    pub member_id: Uuid,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OrgGroupLeft {
    pub org_id: Uuid,
    pub group_id: Uuid,
    pub member_id: Uuid,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OrgSeatLimitChanged {
    pub org_id: Uuid,
    pub seat_limit: u32,
    pub at: DateTime<Utc>,
}

/// An organization plan the organization is on, with the seat limit it gives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OrgPackage {
    /// The plan's slug.
    pub plan: String,
    pub seat_limit: u32,
}

/// The organization moved to `package`, or off its package (`None`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OrgPackageChanged {
    pub org_id: Uuid,
    pub package: Option<OrgPackage>,
    pub at: DateTime<Utc>,
}

/// A direct grant passed its expiry and was settled: it leaves the member's grants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OrgRoleExpired {
    pub org_id: Uuid,
    pub member_id: Uuid,
    pub role: String,
    pub scope: Option<String>,
    pub expired_at: DateTime<Utc>,
    pub at: DateTime<Utc>,
}

impl OrgEvent {
    /// The organization the event is about.
    pub fn org_id(&self) -> Uuid {
        match self {
            Self::Created(e) => e.org_id,
            Self::MemberAdded(e) => e.org_id,
            Self::MemberRemoved(e) => e.org_id,
            Self::RoleDefined(e) => e.org_id,
            Self::RoleAssigned(e) => e.org_id,
            Self::RoleRevoked(e) => e.org_id,
            Self::GroupCreated(e) => e.org_id,
            Self::GroupRoleGranted(e) => e.org_id,
            Self::GroupRoleRevoked(e) => e.org_id,
            Self::GroupJoined(e) => e.org_id,
            Self::GroupLeft(e) => e.org_id,
            Self::SeatLimitChanged(e) => e.org_id,
            Self::PackageChanged(e) => e.org_id,
            Self::RoleExpired(e) => e.org_id,
        }
    }

    /// The member the event is about, if it is about one (the owner, for the creation).
    pub fn member_id(&self) -> Option<Uuid> {
        match self {
            Self::Created(e) => Some(e.owner_id),
            Self::MemberAdded(e) => Some(e.member_id),
            Self::MemberRemoved(e) => Some(e.member_id),
            Self::RoleAssigned(e) => Some(e.member_id),
            Self::RoleRevoked(e) => Some(e.member_id),
            Self::RoleExpired(e) => Some(e.member_id),
            Self::GroupJoined(e) => Some(e.member_id),
            Self::GroupLeft(e) => Some(e.member_id),
            _ => None,
        }
    }
}

impl DomainEvent for OrgEvent {}
