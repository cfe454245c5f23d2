use roster_domain::DomainError;
use roster_domain::ErrorKind;
use roster_domain::org::{AssignOrgRole, OrgCommand, OrgEvent, RemoveOrgMember, RevokeOrgRole};
use uuid::Uuid;

use crate::fixtures::{
    assign, assigned, bob, created, group_created, group_granted, joined, owner, staffed, team,
};
use crate::support::{by, days, given, now, trusted};

fn remove(member_id: Uuid) -> OrgCommand {
    OrgCommand::RemoveMember(RemoveOrgMember { member_id })
}

fn revoke_owner(member_id: Uuid) -> OrgCommand {
    OrgCommand::RevokeRole(RevokeOrgRole {
        member_id,
        role: "owner".into(),
        scope: None,
    })
}

fn with(mut history: Vec<OrgEvent>, more: impl IntoIterator<Item = OrgEvent>) -> Vec<OrgEvent> {
    history.extend(more);
    history
}

#[test]
fn the_last_owner_cannot_be_removed() {
    let error = given(staffed(5))
        .when(remove(owner()), trusted())
        .then_err(ErrorKind::LastOwner);
    assert_eq!(error, DomainError::LastOwner);
}

#[test]
fn the_last_owner_cannot_remove_themselves() {
    given(staffed(5))
        .when(remove(owner()), by(owner()))
        .then_err(ErrorKind::LastOwner);
}

#[test]
fn the_last_owner_cannot_lose_the_owner_role() {
    given(staffed(5))
        .when(revoke_owner(owner()), by(owner()))
        .then_err(ErrorKind::LastOwner);
}

#[test]
fn the_last_owner_cannot_be_given_an_expiring_ownership() {
    let command = OrgCommand::AssignRole(AssignOrgRole {
        expires_at: Some(now() + days(7)),
        ..assign(owner(), "owner")
    });
    given(staffed(5))
        .when(command, by(owner()))
        .then_err(ErrorKind::LastOwner);
}

#[test]
fn an_owner_may_step_down_while_another_owner_remains() {
    let history = with(staffed(5), [assigned(bob(), "owner", None, None)]);
    given(history.clone())
        .when(revoke_owner(owner()), by(owner()))
        .then_state();
    given(history).when(remove(owner()), by(bob())).then_state();
}

#[test]
fn an_owner_through_a_group_does_not_keep_the_org_owned() {
    let history = with(
        staffed(5),
        [
            group_created(team(), "owners"),
            group_granted(team(), "owner", None),
            joined(team(), bob()),
        ],
    );
    given(history)
        .when(revoke_owner(owner()), by(owner()))
        .then_err(ErrorKind::LastOwner);
}

#[test]
fn an_owner_until_a_date_does_not_keep_the_org_owned() {
    let history = with(
        staffed(5),
        [assigned(bob(), "owner", None, Some(now() + days(30)))],
    );
    given(history)
        .when(remove(owner()), by(owner()))
        .then_err(ErrorKind::LastOwner);
}

#[test]
fn a_scoped_owner_does_not_keep_the_org_owned() {
    let history = with(
        staffed(5),
        [assigned(bob(), "owner", Some("channel:1"), None)],
    );
    given(history)
        .when(revoke_owner(owner()), by(owner()))
        .then_err(ErrorKind::LastOwner);
}

#[test]
fn creating_an_org_gives_it_its_first_owner() {
    assert_eq!(
        roster_domain::org::permanent_owners(&given([created(1)]).state()),
        1
    );
}
