use roster_domain::ErrorKind;
use roster_domain::org::{
    ChangeOrgSeatLimit, CreateOrg, OrgCommand, OrgEvent, OrgMemberRemoved, OrgSeatLimitChanged,
    RemoveOrgMember,
};
use roster_domain::{Aggregate, DomainError, Organization, permissions};
use uuid::Uuid;

use crate::fixtures::{
    add, added, admin, bob, carol, created, defined, group_created, joined, org, owner, staffed,
    team,
};
use crate::support::{by, given, now, trusted, v7};

fn create(seat_limit: u32) -> OrgCommand {
    OrgCommand::Create(CreateOrg {
        org_id: org(),
        name: " Acme ".into(),
        owner_id: owner(),
        seat_limit,
    })
}

fn remove(member_id: Uuid) -> OrgCommand {
    OrgCommand::RemoveMember(RemoveOrgMember { member_id })
}

fn seat_limit(seat_limit: u32) -> OrgCommand {
    OrgCommand::ChangeSeatLimit(ChangeOrgSeatLimit { seat_limit })
}

#[test]
fn creating_an_org_records_the_owner_as_a_member_with_role_owner() {
    given::<OrgEvent>([])
        .when(create(3), trusted())
        .then([created(3)]);
    let state = given([created(3)]).state();
    let grants = &state.members[&owner()].grants;
    assert_eq!(grants.len(), 1);
    assert!(grants[0].is(permissions::OWNER, None) && grants[0].expires_at.is_none());
}

#[test]
fn an_org_cannot_be_created_twice() {
    given([created(3)])
        .when(create(3), trusted())
        .then_err(ErrorKind::AlreadyExists);
}

#[test]
fn a_seat_limit_of_zero_is_invalid_input() {
    given::<OrgEvent>([])
        .when(create(0), trusted())
        .then_err(ErrorKind::InvalidInput);
    given([created(3)])
        .when(seat_limit(0), trusted())
        .then_err(ErrorKind::InvalidInput);
}

#[test]
fn an_org_name_must_have_1_to_200_characters() {
    for name in [" ".to_owned(), "n".repeat(201)] {
        let command = OrgCommand::Create(CreateOrg {
            name,
            ..create_org()
        });
        given::<OrgEvent>([])
            .when(command, trusted())
            .then_err(ErrorKind::InvalidInput);
    }
}

fn create_org() -> CreateOrg {
    CreateOrg {
        org_id: org(),
        name: "Acme".into(),
        owner_id: owner(),
        seat_limit: 1,
    }
}

#[test]
fn commands_to_an_org_that_does_not_exist_are_not_found() {
    given::<OrgEvent>([])
        .when(add(bob(), "member"), trusted())
        .then_err(ErrorKind::NotFound);
    given::<OrgEvent>([])
        .when(seat_limit(3), trusted())
        .then_err(ErrorKind::NotFound);
}

#[test]
fn an_owner_adds_a_member() {
    given([created(3)])
        .when(add(bob(), "member"), by(owner()))
        .then([added(bob(), "member")]);
}

#[test]
fn adding_someone_already_in_the_org_is_already_member() {
    let error = given(staffed(5))
        .when(add(bob(), "customer"), by(owner()))
        .then_err(ErrorKind::AlreadyMember);
    assert_eq!(error, DomainError::AlreadyMember { member_id: bob() });
}

#[test]
fn adding_with_an_unknown_role_is_unknown_role() {
    given([created(3)])
        .when(add(bob(), "wizard"), by(owner()))
        .then_err(ErrorKind::UnknownRole);
}

#[test]
fn an_administrator_cannot_add_or_remove_members() {
    let error = given(staffed(5))
        .when(add(carol(), "customer"), by(admin()))
        .then_err(ErrorKind::Forbidden);
    assert_eq!(
        error,
        DomainError::Forbidden {
            permission: "members.users.manage".into()
        }
    );
    given(staffed(5))
        .when(remove(bob()), by(admin()))
        .then_err(ErrorKind::Forbidden);
}

#[test]
fn someone_outside_the_org_has_no_rights_in_it() {
    given(staffed(5))
        .when(add(carol(), "customer"), by(v7(99)))
        .then_err(ErrorKind::Forbidden);
}

#[test]
fn a_trusted_party_passes_the_permission_checks() {
    given([created(3)])
        .when(add(bob(), "member"), trusted())
        .then([added(bob(), "member")]);
}

/// A custom role that manages users but may not assign roles cannot use "add member" to hand
/// out rights it does not have itself.
#[test]
fn a_user_manager_cannot_add_someone_with_more_rights_than_their_own() {
    let history = vec![
        created(5),
        defined("hr", &["members.users.manage", "channels.read"], true),
        added(admin(), "hr"),
    ];
    let error = given(history.clone())
        .when(add(bob(), "owner"), by(admin()))
        .then_err(ErrorKind::Forbidden);
    assert_eq!(
        error,
        DomainError::Forbidden {
            permission: "members.roles.assign".into()
        }
    );
    given(history.clone())
        .when(add(bob(), "customer"), by(admin()))
        .then([added(bob(), "customer")]);
    given(history)
        .when(add(bob(), "guest"), by(admin()))
        .then([added(bob(), "guest")]);
}

#[test]
fn an_owner_removes_a_member() {
    given(staffed(5))
        .when(remove(bob()), by(owner()))
        .then([OrgEvent::MemberRemoved(OrgMemberRemoved {
            org_id: org(),
            member_id: bob(),
            at: now(),
        })]);
}

#[test]
fn removing_a_member_drops_their_grants_and_group_memberships() {
    let mut history = staffed(5);
    history.extend([group_created(team(), "team"), joined(team(), bob())]);
    let state = given(history).when(remove(bob()), by(owner())).then_state();
    assert!(!state.is_member(bob()));
    assert!(state.groups[&team()].members.is_empty());
}

#[test]
fn removing_someone_not_in_the_org_is_not_a_member() {
    given(staffed(5))
        .when(remove(carol()), by(owner()))
        .then_err(ErrorKind::NotAMember);
}

#[test]
fn changing_the_seat_limit_needs_billing_plan_manage() {
    let error = given(staffed(5))
        .when(seat_limit(9), by(admin()))
        .then_err(ErrorKind::Forbidden);
    assert_eq!(
        error,
        DomainError::Forbidden {
            permission: "billing.plan.manage".into()
        }
    );
}

#[test]
fn an_owner_changes_the_seat_limit() {
    given(staffed(5))
        .when(seat_limit(9), by(owner()))
        .then([OrgEvent::SeatLimitChanged(OrgSeatLimitChanged {
            org_id: org(),
            seat_limit: 9,
            at: now(),
        })]);
}

#[test]
fn setting_the_seat_limit_it_already_has_appends_nothing() {
    given(staffed(5))
        .when(seat_limit(5), by(owner()))
        .then_nothing();
}

#[test]
fn org_streams_are_prefixed_org() {
    assert_eq!(Organization::STREAM_PREFIX, "org");
}
