//! Organization plans (packages): the seat limit follows the package, a downgrade keeps the
//! seats already taken and refuses new ones; expired grants are settled by the scheduler.

use roster_domain::org::{
    ChangeOrgPackage, ChangeOrgSeatLimit, OrgCommand, OrgEvent, OrgPackage, OrgPackageChanged,
    OrgRoleExpired, RemoveOrgMember, SettleOrgGrantExpiries,
};
use roster_domain::{DomainError, ErrorKind, check, seats_used};

use crate::fixtures::{add, added, admin, assigned, bob, carol, org, owner, staffed};
use crate::support::{by, days, given, now, trusted, trusted_at};

fn package(plan: &str, seat_limit: u32) -> Option<OrgPackage> {
    Some(OrgPackage {
        plan: plan.into(),
        seat_limit,
    })
}

fn change(package: Option<OrgPackage>) -> OrgCommand {
    OrgCommand::ChangePackage(ChangeOrgPackage { package })
}

fn changed(package: Option<OrgPackage>) -> OrgEvent {
    OrgEvent::PackageChanged(OrgPackageChanged {
        org_id: org(),
        package,
        at: now(),
    })
}

/// Staffed with three seats taken (owner, administrator, Bob) on a five-seat package.
fn on_team5() -> Vec<OrgEvent> {
    let mut history = staffed(3);
    history.push(changed(package("team-5", 5)));
    history
}

#[test]
fn an_owner_puts_the_organization_on_a_package_whose_seat_limit_then_counts() {
    given(staffed(3))
        .when(change(package("team-5", 5)), by(owner()))
        .then([changed(package("team-5", 5))]);
    let state = given(on_team5()).state();
    assert_eq!(state.limit(), 5);
    assert_eq!(state.seat_limit, 3, "the organization's own limit is kept");
}

#[test]
fn an_upgrade_lets_new_members_take_seats() {
    let mut history = staffed(3);
    history.push(changed(package("team-2", 2)));
    given(history.clone())
        .when(add(carol(), "member"), by(owner()))
        .then_err(ErrorKind::SeatLimitReached);
    history.push(changed(package("team-5", 5)));
    given(history)
        .when(add(carol(), "member"), by(owner()))
        .then([added(carol(), "member")]);
}

#[test]
fn a_downgrade_below_the_seats_in_use_keeps_them_and_refuses_new_ones() {
    given(on_team5())
        .when(change(package("team-2", 2)), by(owner()))
        .then([changed(package("team-2", 2))]);
    let mut history = on_team5();
    history.push(changed(package("team-2", 2)));
    assert_eq!(seats_used(&given(history.clone()).state(), now()), 3);
    let error = given(history.clone())
        .when(add(carol(), "member"), by(owner()))
        .then_err(ErrorKind::SeatLimitReached);
    assert_eq!(error, DomainError::SeatLimitReached { limit: 2 });
    // Bob keeps working: his permissions still hold.
    let state = given(history.clone()).state();
    assert!(check(&state, bob(), "content.pages.edit", None, now()).allowed);
    // A customer takes no seat, so one may still be added.
    given(history.clone())
        .when(add(carol(), "customer"), by(owner()))
        .then([added(carol(), "customer")]);
    // Removing a member is never refused, though the organization stays over its limit.
    let remove = OrgCommand::RemoveMember(RemoveOrgMember { member_id: bob() });
    assert_eq!(given(history).when(remove, by(owner())).events().len(), 1);
}

#[test]
fn only_billing_plan_manage_changes_the_package() {
    let error = given(on_team5())
        .when(change(package("team-2", 2)), by(admin()))
        .then_err(ErrorKind::Forbidden);
    assert_eq!(
        error,
        DomainError::Forbidden {
            permission: "billing.plan.manage".into()
        }
    );
    given(on_team5())
        .when(change(package("team-9", 9)), trusted())
        .then([changed(package("team-9", 9))]);
}

#[test]
fn choosing_the_package_it_is_on_appends_nothing() {
    given(on_team5())
        .when(change(package("team-5", 5)), by(owner()))
        .then_nothing();
    given(staffed(3))
        .when(change(None), by(owner()))
        .then_nothing();
}

#[test]
fn a_package_of_no_seats_is_invalid() {
    given(staffed(3))
        .when(change(package("empty", 0)), by(owner()))
        .then_err(ErrorKind::InvalidInput);
}

#[test]
fn leaving_the_package_returns_to_the_own_limit_and_keeps_the_seats_taken() {
    let mut history = staffed(1);
    history.push(changed(package("team-5", 5)));
    given(history.clone())
        .when(change(None), by(owner()))
        .then([changed(None)]);
    history.push(changed(None));
    let state = given(history.clone()).state();
    assert_eq!(state.limit(), 1);
    assert_eq!(seats_used(&state, now()), 3);
    given(history)
        .when(add(carol(), "member"), by(owner()))
        .then_err(ErrorKind::SeatLimitReached);
}

#[test]
fn the_own_seat_limit_cannot_be_changed_while_on_a_package() {
    let command = OrgCommand::ChangeSeatLimit(ChangeOrgSeatLimit { seat_limit: 9 });
    given(on_team5())
        .when(command, by(owner()))
        .then_err(ErrorKind::InvalidState);
}

fn settle() -> OrgCommand {
    OrgCommand::SettleGrantExpiries(SettleOrgGrantExpiries {})
}

#[test]
fn the_scheduler_settles_grants_whose_expiry_has_passed() {
    let ends = now() + days(1);
    let history = {
        let mut h = staffed(9);
        h.push(assigned(bob(), "administrator", None, Some(ends)));
        h.push(assigned(
            bob(),
            "freelancer",
            Some("channel:1"),
            Some(ends + days(5)),
        ));
        h
    };
    given(history.clone())
        .when(settle(), trusted())
        .then_nothing();
    let expired = OrgEvent::RoleExpired(OrgRoleExpired {
        org_id: org(),
        member_id: bob(),
        role: "administrator".into(),
        scope: None,
        expired_at: ends,
        at: ends,
    });
    given(history.clone())
        .when(settle(), trusted_at(ends))
        .then([expired.clone()]);
    let mut settled = history;
    settled.push(expired);
    let state = given(settled.clone()).state();
    let grants = &state.members[&bob()].grants;
    assert!(grants.iter().all(|g| g.role != "administrator"));
    assert!(grants.iter().any(|g| g.role == "freelancer"));
    given(settled)
        .when(settle(), trusted_at(ends))
        .then_nothing();
}
