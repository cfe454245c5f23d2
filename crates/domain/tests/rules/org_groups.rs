use roster_domain::DomainError;
use roster_domain::ErrorKind;
use roster_domain::org::{
    CreateOrgGroup, GrantOrgGroupRole, JoinOrgGroup, LeaveOrgGroup, OrgCommand, OrgEvent,
    OrgGroupLeft, OrgGroupRoleRevoked, RevokeOrgGroupRole,
};
use uuid::Uuid;

use crate::fixtures::{
    admin, bob, carol, group_created, group_granted, joined, org, owner, staffed, team,
};
use crate::support::{by, given, now, v7};

fn create_group(group_id: Uuid, name: &str) -> OrgCommand {
    OrgCommand::CreateGroup(CreateOrgGroup {
        group_id,
        name: name.into(),
    })
}

fn grant(role: &str, scope: Option<&str>) -> OrgCommand {
    OrgCommand::GrantGroupRole(GrantOrgGroupRole {
        group_id: team(),
        role: role.into(),
        scope: scope.map(Into::into),
    })
}

fn revoke(role: &str) -> OrgCommand {
    OrgCommand::RevokeGroupRole(RevokeOrgGroupRole {
        group_id: team(),
        role: role.into(),
        scope: None,
    })
}

fn join(member_id: Uuid) -> OrgCommand {
    OrgCommand::JoinGroup(JoinOrgGroup {
        group_id: team(),
        member_id,
    })
}

fn leave(member_id: Uuid) -> OrgCommand {
    OrgCommand::LeaveGroup(LeaveOrgGroup {
        group_id: team(),
        member_id,
    })
}

/// Staff plus an empty group called "team".
fn with_team() -> Vec<OrgEvent> {
    let mut history = staffed(5);
    history.push(group_created(team(), "team"));
    history
}

fn with(mut history: Vec<OrgEvent>, more: impl IntoIterator<Item = OrgEvent>) -> Vec<OrgEvent> {
    history.extend(more);
    history
}

#[test]
fn an_owner_creates_a_group() {
    given(staffed(5))
        .when(create_group(team(), " team "), by(owner()))
        .then([group_created(team(), "team")]);
}

#[test]
fn an_administrator_cannot_create_groups() {
    given(staffed(5))
        .when(create_group(team(), "team"), by(admin()))
        .then_err(ErrorKind::Forbidden);
}

#[test]
fn group_ids_and_names_are_unique() {
    given(with_team())
        .when(create_group(team(), "other"), by(owner()))
        .then_err(ErrorKind::AlreadyExists);
    given(with_team())
        .when(create_group(v7(201), "team"), by(owner()))
        .then_err(ErrorKind::AlreadyExists);
}

#[test]
fn an_owner_grants_a_role_to_a_group() {
    given(with_team())
        .when(grant("guest", Some("channel:7")), by(owner()))
        .then([group_granted(team(), "guest", Some("channel:7"))]);
}

#[test]
fn an_administrator_cannot_grant_or_revoke_group_roles() {
    let history = with(with_team(), [group_granted(team(), "guest", None)]);
    given(with_team())
        .when(grant("guest", None), by(admin()))
        .then_err(ErrorKind::Forbidden);
    given(history)
        .when(revoke("guest"), by(admin()))
        .then_err(ErrorKind::Forbidden);
}

#[test]
fn granting_to_a_group_that_does_not_exist_is_not_found() {
    given(staffed(5))
        .when(grant("guest", None), by(owner()))
        .then_err(ErrorKind::NotFound);
}

#[test]
fn granting_an_unknown_role_to_a_group_is_unknown_role() {
    given(with_team())
        .when(grant("wizard", None), by(owner()))
        .then_err(ErrorKind::UnknownRole);
}

#[test]
fn granting_the_same_group_role_twice_is_already_exists() {
    let history = with(with_team(), [group_granted(team(), "guest", None)]);
    given(history)
        .when(grant("guest", None), by(owner()))
        .then_err(ErrorKind::AlreadyExists);
}

#[test]
fn an_owner_revokes_a_group_role() {
    let history = with(with_team(), [group_granted(team(), "guest", None)]);
    given(history)
        .when(revoke("guest"), by(owner()))
        .then([OrgEvent::GroupRoleRevoked(OrgGroupRoleRevoked {
            org_id: org(),
            group_id: team(),
            role: "guest".into(),
            scope: None,
            at: now(),
        })]);
}

#[test]
fn revoking_a_group_role_it_does_not_have_is_not_found() {
    given(with_team())
        .when(revoke("guest"), by(owner()))
        .then_err(ErrorKind::NotFound);
}

#[test]
fn an_owner_puts_a_member_in_a_group() {
    given(with_team())
        .when(join(bob()), by(owner()))
        .then([joined(team(), bob())]);
}

#[test]
fn joining_a_group_twice_is_already_exists() {
    given(with(with_team(), [joined(team(), bob())]))
        .when(join(bob()), by(owner()))
        .then_err(ErrorKind::AlreadyExists);
}

#[test]
fn only_members_of_the_org_can_join_its_groups() {
    given(with_team())
        .when(join(carol()), by(owner()))
        .then_err(ErrorKind::NotAMember);
}

#[test]
fn a_member_cannot_put_another_member_in_a_group() {
    let error = given(with_team())
        .when(join(admin()), by(bob()))
        .then_err(ErrorKind::Forbidden);
    assert_eq!(
        error,
        DomainError::Forbidden {
            permission: "members.users.manage".into()
        }
    );
}

#[test]
fn a_member_cannot_join_a_group_that_grants_more_than_they_hold() {
    let history = with(with_team(), [group_granted(team(), "administrator", None)]);
    let error = given(history)
        .when(join(bob()), by(bob()))
        .then_err(ErrorKind::Forbidden);
    assert_eq!(
        error,
        DomainError::Forbidden {
            permission: "members.roles.assign".into()
        }
    );
}

#[test]
fn a_member_may_join_a_group_that_grants_nothing_they_lack() {
    let history = with(
        with_team(),
        [group_granted(team(), "guest", Some("channel:7"))],
    );
    given(history)
        .when(join(bob()), by(bob()))
        .then([joined(team(), bob())]);
}

#[test]
fn a_member_may_leave_a_group_themselves() {
    let history = with(with_team(), [joined(team(), bob())]);
    given(history)
        .when(leave(bob()), by(bob()))
        .then([OrgEvent::GroupLeft(OrgGroupLeft {
            org_id: org(),
            group_id: team(),
            member_id: bob(),
            at: now(),
        })]);
}

#[test]
fn a_member_cannot_take_another_member_out_of_a_group() {
    let history = with(with_team(), [joined(team(), admin())]);
    given(history)
        .when(leave(admin()), by(bob()))
        .then_err(ErrorKind::Forbidden);
}

#[test]
fn leaving_a_group_one_is_not_in_is_not_found() {
    given(with_team())
        .when(leave(bob()), by(owner()))
        .then_err(ErrorKind::NotFound);
    given(staffed(5))
        .when(leave(bob()), by(owner()))
        .then_err(ErrorKind::NotFound);
}
