use roster_domain::ErrorKind;
use roster_domain::org::{ChangeOrgSeatLimit, JoinOrgGroup, OrgCommand, RemoveOrgMember};
use roster_domain::{DomainError, seats_used};

use crate::fixtures::{
    add, added, admin, assign, assigned, bob, carol, created, defined, group_created,
    group_granted, joined, owner, team,
};
use crate::support::{by, days, given, now, trusted, trusted_at};

#[test]
fn owners_administrators_freelancers_and_members_take_seats() {
    let history = [
        created(9),
        added(admin(), "administrator"),
        added(bob(), "freelancer"),
        added(carol(), "member"),
    ];
    assert_eq!(seats_used(&given(history).state(), now()), 4);
}

#[test]
fn a_customer_does_not_take_a_seat() {
    given([created(1)])
        .when(add(bob(), "customer"), by(owner()))
        .then([added(bob(), "customer")]);
    assert_eq!(
        seats_used(
            &given([created(1), added(bob(), "customer")]).state(),
            now()
        ),
        1
    );
}

#[test]
fn a_guest_does_not_take_a_seat() {
    given([created(1)])
        .when(add(bob(), "guest"), by(owner()))
        .then([added(bob(), "guest")]);
}

#[test]
fn a_custom_role_takes_a_seat_unless_defined_not_to() {
    let history = [
        created(9),
        defined("client", &["orders.view"], false),
        defined("editor", &["content.pages.edit"], true),
        added(bob(), "client"),
        added(carol(), "editor"),
    ];
    assert_eq!(seats_used(&given(history).state(), now()), 2);
}

#[test]
fn a_member_holding_several_seat_roles_takes_one_seat() {
    let history = [
        created(9),
        added(bob(), "member"),
        assigned(bob(), "freelancer", None, None),
    ];
    assert_eq!(seats_used(&given(history).state(), now()), 2);
}

#[test]
fn adding_a_member_beyond_the_seat_limit_is_refused() {
    let error = given([created(2), added(admin(), "administrator")])
        .when(add(bob(), "member"), by(owner()))
        .then_err(ErrorKind::SeatLimitReached);
    assert_eq!(error, DomainError::SeatLimitReached { limit: 2 });
}

#[test]
fn the_seat_limit_binds_trusted_parties_too() {
    given([created(1)])
        .when(add(bob(), "member"), trusted())
        .then_err(ErrorKind::SeatLimitReached);
}

#[test]
fn assigning_a_seat_role_to_a_customer_in_a_full_org_is_refused() {
    let command = OrgCommand::AssignRole(assign(bob(), "freelancer"));
    given([created(1), added(bob(), "customer")])
        .when(command, by(owner()))
        .then_err(ErrorKind::SeatLimitReached);
}

#[test]
fn joining_a_group_that_grants_a_seat_role_in_a_full_org_is_refused() {
    let history = [
        created(1),
        added(bob(), "customer"),
        group_created(team(), "team"),
        group_granted(team(), "member", None),
    ];
    let command = OrgCommand::JoinGroup(JoinOrgGroup {
        group_id: team(),
        member_id: bob(),
    });
    given(history)
        .when(command, by(owner()))
        .then_err(ErrorKind::SeatLimitReached);
}

#[test]
fn granting_a_seat_role_to_a_group_of_customers_in_a_full_org_is_refused() {
    let history = [
        created(1),
        added(bob(), "customer"),
        group_created(team(), "team"),
        joined(team(), bob()),
    ];
    let command = OrgCommand::GrantGroupRole(roster_domain::org::GrantOrgGroupRole {
        group_id: team(),
        role: "member".into(),
        scope: None,
    });
    given(history)
        .when(command, by(owner()))
        .then_err(ErrorKind::SeatLimitReached);
}

#[test]
fn lowering_the_limit_below_the_seats_in_use_is_refused() {
    let command = OrgCommand::ChangeSeatLimit(ChangeOrgSeatLimit { seat_limit: 1 });
    given([created(3), added(bob(), "member")])
        .when(command, by(owner()))
        .then_err(ErrorKind::SeatLimitReached);
}

#[test]
fn lowering_the_limit_to_the_seats_in_use_is_allowed() {
    let command = OrgCommand::ChangeSeatLimit(ChangeOrgSeatLimit { seat_limit: 2 });
    given([created(3), added(bob(), "member")])
        .when(command, by(owner()))
        .then_state();
}

#[test]
fn an_expired_seat_role_frees_its_seat() {
    let expiry = now() + days(1);
    let history = vec![
        created(2),
        added(bob(), "customer"),
        assigned(bob(), "member", None, Some(expiry)),
    ];
    assert_eq!(seats_used(&given(history.clone()).state(), now()), 2);
    assert_eq!(seats_used(&given(history.clone()).state(), expiry), 1);
    given(history.clone())
        .when(add(carol(), "member"), trusted())
        .then_err(ErrorKind::SeatLimitReached);
    let state = given(history)
        .when(add(carol(), "member"), trusted_at(expiry))
        .then_state();
    assert!(state.is_member(carol()));
}

/// An organization may end up over its limit (a plan imported from elsewhere): it must still be
/// able to shrink.
#[test]
fn an_org_over_its_limit_may_still_remove_members() {
    let over = [created(1), added(bob(), "member"), added(carol(), "member")];
    let remove = OrgCommand::RemoveMember(RemoveOrgMember { member_id: bob() });
    given(over.clone()).when(remove, by(owner())).then_state();
    given(over)
        .when(add(admin(), "member"), by(owner()))
        .then_err(ErrorKind::SeatLimitReached);
}
