//! Events and commands the tests are written with. Ids are fixed so expected events can be
//! spelled out in full.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use roster_domain::member::{
    ConfirmMemberEmail, EditMemberProfile, IssueMemberVerification, MemberCommand,
    MemberEmailConfirmed, MemberErasureRequested, MemberEvent, MemberPersonal, MemberRegistered,
    MemberStatus, MemberSuspended, MemberVerificationIssued, ReactivateMember, RegisterMember,
    RequestMemberErasure, SuspendMember, VerificationTicket,
};
use roster_domain::org::{
    AddOrgMember, AssignOrgRole, OrgCommand, OrgCreated, OrgEvent, OrgGroupCreated, OrgGroupJoined,
    OrgGroupRoleGranted, OrgMemberAdded, OrgRoleAssigned, OrgRoleDefined,
};
use uuid::Uuid;

use crate::support::{given, now, v7};

// ---- members ----

pub fn alice() -> Uuid {
    v7(1)
}

pub fn register_alice() -> RegisterMember {
    RegisterMember {
        member_id: alice(),
        email: "alice@example.org".into(),
        name: "Alice Liddell".into(),
        fields: BTreeMap::new(),
        company: None,
        location: None,
        verification: None,
        referred_by: None,
    }
}

pub fn alice_personal() -> MemberPersonal {
    MemberPersonal {
        email: "alice@example.org".into(),
        name: "Alice Liddell".into(),
        ..MemberPersonal::default()
    }
}

pub fn registered() -> MemberEvent {
    MemberEvent::Registered(MemberRegistered {
        member_id: alice(),
        personal: Some(alice_personal()),
        registered_at: now(),
        referred_by: None,
    })
}

pub fn confirmed() -> MemberEvent {
    MemberEvent::EmailConfirmed(MemberEmailConfirmed {
        member_id: alice(),
        confirmed_at: now(),
    })
}

pub fn suspended() -> MemberEvent {
    MemberEvent::Suspended(MemberSuspended {
        member_id: alice(),
        reason: "chargeback fraud".into(),
        suspended_at: now(),
    })
}

pub fn erased() -> MemberEvent {
    MemberEvent::ErasureRequested(MemberErasureRequested {
        member_id: alice(),
        requested_at: now(),
    })
}

/// The hash of token `n` (43 characters of URL-safe base64, as a SHA-256 would be).
pub fn token_hash(n: u8) -> String {
    format!("{}{}", char::from(b'A' + n), "h".repeat(42))
}

/// The nonce of token `n`.
pub fn nonce(n: u8) -> String {
    format!("nonce-{n}-{}", "n".repeat(16))
}

/// A ticket for token `n`, valid for a day.
pub fn ticket(n: u8) -> VerificationTicket {
    VerificationTicket {
        nonce: nonce(n),
        token_hash: token_hash(n),
        ttl_seconds: 86_400,
    }
}

/// Token `n` was issued at `at`, valid for a day.
pub fn issued_at(n: u8, at: DateTime<Utc>) -> MemberEvent {
    MemberEvent::VerificationIssued(MemberVerificationIssued {
        member_id: alice(),
        nonce: nonce(n),
        token_hash: token_hash(n),
        issued_at: at,
        expires_at: at + Duration::days(1),
    })
}

/// Token 1, issued now.
pub fn issued() -> MemberEvent {
    issued_at(1, now())
}

/// Confirms with token 1.
pub fn confirm() -> MemberCommand {
    confirm_with(1)
}

pub fn confirm_with(n: u8) -> MemberCommand {
    MemberCommand::ConfirmEmail(ConfirmMemberEmail {
        token_hash: token_hash(n),
    })
}

pub fn resend(n: u8) -> MemberCommand {
    MemberCommand::IssueVerification(IssueMemberVerification { ticket: ticket(n) })
}

pub fn suspend() -> MemberCommand {
    MemberCommand::Suspend(SuspendMember {
        reason: " chargeback fraud ".into(),
    })
}

pub fn reactivate() -> MemberCommand {
    MemberCommand::Reactivate(ReactivateMember {})
}

pub fn erase() -> MemberCommand {
    MemberCommand::RequestErasure(RequestMemberErasure {})
}

pub fn edit(edit: EditMemberProfile) -> MemberCommand {
    MemberCommand::EditProfile(edit)
}

pub fn status_after(history: Vec<MemberEvent>) -> MemberStatus {
    given(history).state().status
}

// ---- organizations ----

pub fn org() -> Uuid {
    v7(100)
}

/// The founding owner.
pub fn owner() -> Uuid {
    v7(1)
}

pub fn admin() -> Uuid {
    v7(2)
}

pub fn bob() -> Uuid {
    v7(3)
}

pub fn carol() -> Uuid {
    v7(4)
}

pub fn team() -> Uuid {
    v7(200)
}

pub fn created(seat_limit: u32) -> OrgEvent {
    OrgEvent::Created(OrgCreated {
        org_id: org(),
        name: "Acme".into(),
        owner_id: owner(),
        seat_limit,
        at: now(),
    })
}

pub fn added(member_id: Uuid, role: &str) -> OrgEvent {
    OrgEvent::MemberAdded(OrgMemberAdded {
        org_id: org(),
        member_id,
        role: role.into(),
        at: now(),
    })
}

pub fn assigned(
    member_id: Uuid,
    role: &str,
    scope: Option<&str>,
    expires_at: Option<DateTime<Utc>>,
) -> OrgEvent {
    OrgEvent::RoleAssigned(OrgRoleAssigned {
        org_id: org(),
        member_id,
        role: role.into(),
        scope: scope.map(Into::into),
        expires_at,
        at: now(),
    })
}

pub fn defined(name: &str, permissions: &[&str], occupies_seat: bool) -> OrgEvent {
    OrgEvent::RoleDefined(OrgRoleDefined {
        org_id: org(),
        name: name.into(),
        permissions: permissions.iter().map(|p| (*p).into()).collect(),
        occupies_seat,
        at: now(),
    })
}

pub fn group_created(group_id: Uuid, name: &str) -> OrgEvent {
    OrgEvent::GroupCreated(OrgGroupCreated {
        org_id: org(),
        group_id,
        name: name.into(),
        at: now(),
    })
}

pub fn group_granted(group_id: Uuid, role: &str, scope: Option<&str>) -> OrgEvent {
    OrgEvent::GroupRoleGranted(OrgGroupRoleGranted {
        org_id: org(),
        group_id,
        role: role.into(),
        scope: scope.map(Into::into),
        at: now(),
    })
}

pub fn joined(group_id: Uuid, member_id: Uuid) -> OrgEvent {
    OrgEvent::GroupJoined(OrgGroupJoined {
        org_id: org(),
        group_id,
        member_id,
        at: now(),
    })
}

pub fn add(member_id: Uuid, role: &str) -> OrgCommand {
    OrgCommand::AddMember(AddOrgMember {
        member_id,
        role: role.into(),
    })
}

pub fn assign(member_id: Uuid, role: &str) -> AssignOrgRole {
    AssignOrgRole {
        member_id,
        role: role.into(),
        scope: None,
        expires_at: None,
    }
}

/// An organization with a founding owner, an administrator and Bob, a plain member.
pub fn staffed(seat_limit: u32) -> Vec<OrgEvent> {
    vec![
        created(seat_limit),
        added(admin(), "administrator"),
        added(bob(), "member"),
    ]
}

pub fn rename(name: &str) -> EditMemberProfile {
    EditMemberProfile {
        name: Some(name.into()),
        ..Default::default()
    }
}
