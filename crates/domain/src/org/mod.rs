//! The organization aggregate: a team or company account with a seat limit (its own, or its
//! package's: an organization plan), members holding roles directly or through groups, and
//! custom roles. Streams are `org-<uuid>`.
//!
//! Invariants, enforced for every decision by `invariants::ensure`: seats used never rise
//! above the seat limit, and at least one member holds `owner` directly, unscoped, with no
//! expiry.

mod command;
mod decide;
mod decide_groups;
mod decide_roles;
mod event;
mod evolve;
mod invariants;
mod lookup;
mod rights;
mod state;

pub use command::{
    AddOrgMember, AssignOrgRole, ChangeOrgPackage, ChangeOrgSeatLimit, CreateOrg, CreateOrgGroup,
    DefineOrgRole, GrantOrgGroupRole, JoinOrgGroup, LeaveOrgGroup, OrgCommand, RemoveOrgMember,
    RevokeOrgGroupRole, RevokeOrgRole, SettleOrgGrantExpiries,
};
pub use event::{
    OrgCreated, OrgEvent, OrgGroupCreated, OrgGroupJoined, OrgGroupLeft, OrgGroupRoleGranted,
    OrgGroupRoleRevoked, OrgMemberAdded, OrgMemberRemoved, OrgPackage, OrgPackageChanged,
    OrgRoleAssigned, OrgRoleDefined, OrgRoleExpired, OrgRoleRevoked, OrgSeatLimitChanged,
};
pub use invariants::{permanent_owners, seats_used};
pub use state::{CustomRole, Group, GroupGrant, OrgMember, OrgState, RoleGrant, RoleRef};

crate::aggregate! {
    /// The organization aggregate. Whether `member_id`s refer to registered members is the
    /// application's check: this stream knows only its own members.
    pub struct Organization: "org", OrgState, OrgCommand, OrgEvent,
        decide::decide, evolve::evolve
}
