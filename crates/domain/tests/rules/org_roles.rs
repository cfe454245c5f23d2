use roster_domain::ErrorKind;
use roster_domain::org::{
    AssignOrgRole, DefineOrgRole, OrgCommand, OrgEvent, OrgRoleRevoked, RevokeOrgRole,
};
use roster_domain::{DomainError, check};

use crate::fixtures::{admin, assign, assigned, bob, carol, defined, org, owner, staffed};
use crate::support::{by, days, given, now, trusted};

fn define(name: &str, permissions: &[&str]) -> OrgCommand {
    OrgCommand::DefineRole(DefineOrgRole {
        name: name.into(),
        permissions: permissions.iter().map(|p| (*p).into()).collect(),
        occupies_seat: true,
    })
}

fn revoke(role: &str, scope: Option<&str>) -> OrgCommand {
    OrgCommand::RevokeRole(RevokeOrgRole {
        member_id: bob(),
        role: role.into(),
        scope: scope.map(Into::into),
    })
}

#[test]
fn an_owner_defines_a_custom_role_with_sorted_unique_permissions() {
    let command = define(
        "editor",
        &[
            "content.posts.edit",
            "content.pages.edit",
            "content.posts.edit",
        ],
    );
    given(staffed(5)).when(command, by(owner())).then([defined(
        "editor",
        &["content.pages.edit", "content.posts.edit"],
        true,
    )]);
}

#[test]
fn a_role_cannot_be_defined_twice() {
    let mut history = staffed(5);
    history.push(defined("editor", &["content.pages.edit"], true));
    given(history)
        .when(define("editor", &[]), by(owner()))
        .then_err(ErrorKind::AlreadyExists);
}

#[test]
fn a_custom_role_cannot_take_the_name_of_a_built_in_role() {
    given(staffed(5))
        .when(define("owner", &[]), by(owner()))
        .then_err(ErrorKind::AlreadyExists);
}

#[test]
fn a_role_name_is_1_to_64_characters_of_lowercase_digits_dashes_and_underscores() {
    for name in ["", "Editor", "content editor", &"r".repeat(65)] {
        given(staffed(5))
            .when(define(name, &[]), by(owner()))
            .then_err(ErrorKind::InvalidInput);
    }
    given(staffed(5))
        .when(define("editor_2-b", &[]), by(owner()))
        .then_state();
}

#[test]
fn a_permission_outside_the_catalog_is_unknown_permission() {
    let command = define("editor", &["content.videos.edit"]);
    given(staffed(5))
        .when(command, by(owner()))
        .then_err(ErrorKind::UnknownPermission);
}

#[test]
fn a_malformed_permission_is_invalid_input() {
    for permission in [
        "content",
        "Content.pages.edit",
        "a.b.c.d",
        "content..edit",
        "content.pages-edit",
    ] {
        let command = define("editor", &[permission]);
        given(staffed(5))
            .when(command, by(owner()))
            .then_err(ErrorKind::InvalidInput);
    }
}

#[test]
fn an_administrator_cannot_define_roles() {
    given(staffed(5))
        .when(define("editor", &[]), by(admin()))
        .then_err(ErrorKind::Forbidden);
}

#[test]
fn an_owner_assigns_a_scoped_expiring_role() {
    let expires_at = now() + days(30);
    let command = OrgCommand::AssignRole(AssignOrgRole {
        scope: Some("channel:42".into()),
        expires_at: Some(expires_at),
        ..assign(bob(), "guest")
    });
    given(staffed(5)).when(command, by(owner())).then([assigned(
        bob(),
        "guest",
        Some("channel:42"),
        Some(expires_at),
    )]);
}

#[test]
fn an_administrator_cannot_assign_roles() {
    let command = OrgCommand::AssignRole(assign(bob(), "administrator"));
    let error = given(staffed(5))
        .when(command, by(admin()))
        .then_err(ErrorKind::Forbidden);
    assert_eq!(
        error,
        DomainError::Forbidden {
            permission: "members.roles.assign".into()
        }
    );
}

#[test]
fn a_member_cannot_assign_themselves_a_role() {
    let command = OrgCommand::AssignRole(assign(bob(), "owner"));
    given(staffed(5))
        .when(command, by(bob()))
        .then_err(ErrorKind::Forbidden);
}

#[test]
fn assigning_an_unknown_role_is_unknown_role() {
    let command = OrgCommand::AssignRole(assign(bob(), "wizard"));
    given(staffed(5))
        .when(command, by(owner()))
        .then_err(ErrorKind::UnknownRole);
}

#[test]
fn assigning_to_someone_outside_the_org_is_not_a_member() {
    let command = OrgCommand::AssignRole(assign(carol(), "member"));
    given(staffed(5))
        .when(command, by(owner()))
        .then_err(ErrorKind::NotAMember);
}

#[test]
fn an_expiry_that_is_not_in_the_future_is_invalid_input() {
    let command = OrgCommand::AssignRole(AssignOrgRole {
        expires_at: Some(now()),
        ..assign(bob(), "guest")
    });
    given(staffed(5))
        .when(command, by(owner()))
        .then_err(ErrorKind::InvalidInput);
}

#[test]
fn a_scope_with_whitespace_is_invalid_input() {
    let command = OrgCommand::AssignRole(AssignOrgRole {
        scope: Some("channel 42".into()),
        ..assign(bob(), "guest")
    });
    given(staffed(5))
        .when(command, by(owner()))
        .then_err(ErrorKind::InvalidInput);
}

#[test]
fn assigning_a_grant_the_member_already_has_is_already_exists() {
    let command = OrgCommand::AssignRole(assign(bob(), "member"));
    given(staffed(5))
        .when(command, by(owner()))
        .then_err(ErrorKind::AlreadyExists);
}

#[test]
fn reassigning_with_another_expiry_replaces_the_grant() {
    let mut history = staffed(5);
    history.push(assigned(bob(), "guest", None, Some(now() + days(1))));
    let command = OrgCommand::AssignRole(AssignOrgRole {
        expires_at: Some(now() + days(9)),
        ..assign(bob(), "guest")
    });
    let state = given(history).when(command, by(owner())).then_state();
    let guest: Vec<_> = state.members[&bob()]
        .grants
        .iter()
        .filter(|g| g.role == "guest")
        .collect();
    assert_eq!(guest.len(), 1);
    assert_eq!(guest[0].expires_at, Some(now() + days(9)));
}

#[test]
fn an_owner_makes_another_owner() {
    let command = OrgCommand::AssignRole(assign(bob(), "owner"));
    given(staffed(5))
        .when(command, by(owner()))
        .then([assigned(bob(), "owner", None, None)]);
}

#[test]
fn an_owner_revokes_a_role() {
    given(staffed(5))
        .when(revoke("member", None), by(owner()))
        .then([OrgEvent::RoleRevoked(OrgRoleRevoked {
            org_id: org(),
            member_id: bob(),
            role: "member".into(),
            scope: None,
            at: now(),
        })]);
}

#[test]
fn revoking_a_grant_the_member_does_not_hold_is_not_found() {
    given(staffed(5))
        .when(revoke("owner", None), by(owner()))
        .then_err(ErrorKind::NotFound);
    given(staffed(5))
        .when(revoke("member", Some("channel:1")), by(owner()))
        .then_err(ErrorKind::NotFound);
}

#[test]
fn an_administrator_cannot_revoke_roles() {
    given(staffed(5))
        .when(revoke("member", None), by(admin()))
        .then_err(ErrorKind::Forbidden);
}

#[test]
fn a_custom_role_grants_its_permissions() {
    let mut history = staffed(5);
    history.push(defined("reporter", &["reports.view"], true));
    let command = OrgCommand::AssignRole(assign(bob(), "reporter"));
    let state = given(history).when(command, trusted()).then_state();
    assert!(check(&state, bob(), "reports.view", None, now()).allowed);
    assert!(!check(&state, bob(), "orders.view", None, now()).allowed);
}
