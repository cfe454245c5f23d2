//! JSON Schemas of every event payload and command, checked in under `schemas/` at the
//! workspace root. The `schemas` integration test keeps the files equal to these.

use schemars::JsonSchema;
use serde_json::Value;

use crate::member::{
    ConfirmMemberEmail, EditMemberProfile, IssueMemberVerification, MemberEmailConfirmed,
    MemberErasureRequested, MemberProfileEdited, MemberReactivated, MemberRegistered,
    MemberSuspended, MemberVerificationEmailFailed, MemberVerificationEmailSent,
    MemberVerificationIssued, ReactivateMember, RecordVerificationEmailFailed,
    RecordVerificationEmailSent, RegisterMember, RequestMemberErasure, SuspendMember,
};
use crate::org::{
    AddOrgMember, AssignOrgRole, ChangeOrgSeatLimit, CreateOrg, CreateOrgGroup, DefineOrgRole,
    GrantOrgGroupRole, JoinOrgGroup, LeaveOrgGroup, OrgCreated, OrgGroupCreated, OrgGroupJoined,
    OrgGroupLeft, OrgGroupRoleGranted, OrgGroupRoleRevoked, OrgMemberAdded, OrgMemberRemoved,
    OrgRoleAssigned, OrgRoleDefined, OrgRoleRevoked, OrgSeatLimitChanged, RemoveOrgMember,
    RevokeOrgGroupRole, RevokeOrgRole,
};

fn schema<T: JsonSchema>() -> Value {
    schemars::schema_for!(T).to_value()
}

/// The schema of each event's `data`, by versioned type name (`MemberRegistered.v1`).
pub fn event_schemas() -> Vec<(&'static str, Value)> {
    vec![
        ("MemberRegistered.v1", schema::<MemberRegistered>()),
        ("MemberEmailConfirmed.v1", schema::<MemberEmailConfirmed>()),
        ("MemberProfileEdited.v1", schema::<MemberProfileEdited>()),
        ("MemberSuspended.v1", schema::<MemberSuspended>()),
        ("MemberReactivated.v1", schema::<MemberReactivated>()),
        (
            "MemberErasureRequested.v1",
            schema::<MemberErasureRequested>(),
        ),
        (
            "MemberVerificationIssued.v1",
            schema::<MemberVerificationIssued>(),
        ),
        (
            "MemberVerificationEmailSent.v1",
            schema::<MemberVerificationEmailSent>(),
        ),
        (
            "MemberVerificationEmailFailed.v1",
            schema::<MemberVerificationEmailFailed>(),
        ),
        ("OrgCreated.v1", schema::<OrgCreated>()),
        ("OrgMemberAdded.v1", schema::<OrgMemberAdded>()),
        ("OrgMemberRemoved.v1", schema::<OrgMemberRemoved>()),
        ("OrgRoleDefined.v1", schema::<OrgRoleDefined>()),
        ("OrgRoleAssigned.v1", schema::<OrgRoleAssigned>()),
        ("OrgRoleRevoked.v1", schema::<OrgRoleRevoked>()),
        ("OrgGroupCreated.v1", schema::<OrgGroupCreated>()),
        ("OrgGroupRoleGranted.v1", schema::<OrgGroupRoleGranted>()),
        ("OrgGroupRoleRevoked.v1", schema::<OrgGroupRoleRevoked>()),
        ("OrgGroupJoined.v1", schema::<OrgGroupJoined>()),
        ("OrgGroupLeft.v1", schema::<OrgGroupLeft>()),
        ("OrgSeatLimitChanged.v1", schema::<OrgSeatLimitChanged>()),
    ]
}

/// The schema of each command, by the command's name (`RegisterMember`), which is also its
/// `type` tag in the serde form of [`crate::member::MemberCommand`] and
/// [`crate::org::OrgCommand`].
pub fn command_schemas() -> Vec<(&'static str, Value)> {
    vec![
        ("RegisterMember", schema::<RegisterMember>()),
        ("ConfirmMemberEmail", schema::<ConfirmMemberEmail>()),
        ("EditMemberProfile", schema::<EditMemberProfile>()),
        ("SuspendMember", schema::<SuspendMember>()),
        ("ReactivateMember", schema::<ReactivateMember>()),
        ("RequestMemberErasure", schema::<RequestMemberErasure>()),
        (
            "IssueMemberVerification",
            schema::<IssueMemberVerification>(),
        ),
        (
            "RecordVerificationEmailSent",
            schema::<RecordVerificationEmailSent>(),
        ),
        (
            "RecordVerificationEmailFailed",
            schema::<RecordVerificationEmailFailed>(),
        ),
        ("CreateOrg", schema::<CreateOrg>()),
        ("AddOrgMember", schema::<AddOrgMember>()),
        ("RemoveOrgMember", schema::<RemoveOrgMember>()),
        ("DefineOrgRole", schema::<DefineOrgRole>()),
        ("AssignOrgRole", schema::<AssignOrgRole>()),
        ("RevokeOrgRole", schema::<RevokeOrgRole>()),
        ("CreateOrgGroup", schema::<CreateOrgGroup>()),
        ("GrantOrgGroupRole", schema::<GrantOrgGroupRole>()),
        ("RevokeOrgGroupRole", schema::<RevokeOrgGroupRole>()),
        ("JoinOrgGroup", schema::<JoinOrgGroup>()),
        ("LeaveOrgGroup", schema::<LeaveOrgGroup>()),
        ("ChangeOrgSeatLimit", schema::<ChangeOrgSeatLimit>()),
    ]
}
