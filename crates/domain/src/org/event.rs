//! Facts about an organization. None of them holds personal data: members appear by id only.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::DomainEvent;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", content = "data")]
pub enum OrgEvent {
    #[serde(rename = "OrgCreated.v1")]
    Created(OrgCreated),
    #[serde(rename = "OrgMemberAdded.v1")]
    MemberAdded(OrgMemberAdded),
    #[serde(rename = "OrgMemberRemoved.v1")]
    MemberRemoved(OrgMemberRemoved),
    #[serde(rename = "OrgRoleDefined.v1")]
    RoleDefined(OrgRoleDefined),
    #[serde(rename = "OrgRoleAssigned.v1")]
    RoleAssigned(OrgRoleAssigned),
    #[serde(rename = "OrgRoleRevoked.v1")]
    RoleRevoked(OrgRoleRevoked),
    #[serde(rename = "OrgGroupCreated.v1")]
    GroupCreated(OrgGroupCreated),
    #[serde(rename = "OrgGroupRoleGranted.v1")]
    GroupRoleGranted(OrgGroupRoleGranted),
    #[serde(rename = "OrgGroupRoleRevoked.v1")]
    GroupRoleRevoked(OrgGroupRoleRevoked),
    #[serde(rename = "OrgGroupJoined.v1")]
    GroupJoined(OrgGroupJoined),
    #[serde(rename = "OrgGroupLeft.v1")]
    GroupLeft(OrgGroupLeft),
    #[serde(rename = "OrgSeatLimitChanged.v1")]
    SeatLimitChanged(OrgSeatLimitChanged),
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

impl DomainEvent for OrgEvent {
    fn event_type(&self) -> &'static str {
        match self {
            Self::Created(_) => "OrgCreated.v1",
            Self::MemberAdded(_) => "OrgMemberAdded.v1",
            Self::MemberRemoved(_) => "OrgMemberRemoved.v1",
            Self::RoleDefined(_) => "OrgRoleDefined.v1",
            Self::RoleAssigned(_) => "OrgRoleAssigned.v1",
            Self::RoleRevoked(_) => "OrgRoleRevoked.v1",
            Self::GroupCreated(_) => "OrgGroupCreated.v1",
            Self::GroupRoleGranted(_) => "OrgGroupRoleGranted.v1",
            Self::GroupRoleRevoked(_) => "OrgGroupRoleRevoked.v1",
            Self::GroupJoined(_) => "OrgGroupJoined.v1",
            Self::GroupLeft(_) => "OrgGroupLeft.v1",
            Self::SeatLimitChanged(_) => "OrgSeatLimitChanged.v1",
        }
    }
}
