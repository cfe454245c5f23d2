use roster_domain::effective::{Via, check, effective_permissions};
use roster_domain::{Aggregate, Organization, permissions};

use crate::fixtures::{
    admin, assigned, bob, carol, created, group_created, group_granted, joined, staffed, team,
};
use crate::support::{days, given, now};

fn via(role: &str, group: Option<&str>, scope: Option<&str>) -> Via {
    Via {
        role: role.into(),
        group: group.map(Into::into),
        group_id: group.map(|_| team()),
        scope: scope.map(Into::into),
    }
}

#[test]
fn effective_permissions_combine_direct_and_group_grants() {
    let history = [
        created(5),
        crate::fixtures::added(bob(), "customer"),
        group_created(team(), "support"),
        group_granted(team(), "guest", Some("channel:7")),
        joined(team(), bob()),
        assigned(bob(), "guest", Some("channel:9"), None),
    ];
    let grants = effective_permissions(&given(history).state(), bob(), now());
    let scopes: Vec<_> = grants
        .iter()
        .map(|g| (g.permission.as_str(), g.scope.as_deref()))
        .collect();
    assert_eq!(scopes.len(), 2);
    assert!(scopes.contains(&("channels.read", Some("channel:7"))));
    assert!(scopes.contains(&("channels.read", Some("channel:9"))));
    assert!(
        grants
            .iter()
            .any(|g| g.group.as_deref() == Some("support") && g.group_id == Some(team()))
    );
}

#[test]
fn an_owner_effectively_holds_the_whole_catalog() {
    let grants = effective_permissions(
        &given([created(1)]).state(),
        crate::fixtures::owner(),
        now(),
    );
    let mut held: Vec<_> = grants.iter().map(|g| g.permission.as_str()).collect();
    let mut catalog = permissions::CATALOG.to_vec();
    held.sort_unstable();
    catalog.sort_unstable();
    assert_eq!(held, catalog);
}

#[test]
fn a_customer_has_no_effective_permissions() {
    let history = [created(5), crate::fixtures::added(bob(), "customer")];
    assert!(effective_permissions(&given(history).state(), bob(), now()).is_empty());
}

#[test]
fn an_expired_grant_no_longer_allows() {
    let expiry = now() + days(1);
    let history = [
        created(5),
        crate::fixtures::added(bob(), "customer"),
        assigned(bob(), "member", None, Some(expiry)),
    ];
    let state = given(history).state();
    assert!(check(&state, bob(), "content.pages.edit", None, now()).allowed);
    assert!(
        check(
            &state,
            bob(),
            "content.pages.edit",
            None,
            expiry - days(1) / 24
        )
        .allowed
    );
    assert!(!check(&state, bob(), "content.pages.edit", None, expiry).allowed);
    assert!(effective_permissions(&state, bob(), expiry).is_empty());
}

#[test]
fn a_scoped_guest_grant_allows_only_its_channel() {
    let history = [
        created(5),
        crate::fixtures::added(bob(), "customer"),
        assigned(bob(), "guest", Some("channel:42"), None),
    ];
    let state = given(history).state();
    let allowed = check(&state, bob(), "channels.read", Some("channel:42"), now());
    assert_eq!(allowed.via, vec![via("guest", None, Some("channel:42"))]);
    assert!(!check(&state, bob(), "channels.read", Some("channel:43"), now()).allowed);
    assert!(!check(&state, bob(), "channels.read", None, now()).allowed);
}

#[test]
fn an_unscoped_grant_allows_every_scope() {
    let state = given(staffed(5)).state();
    assert!(check(&state, bob(), "channels.read", Some("channel:42"), now()).allowed);
    assert!(check(&state, bob(), "channels.read", None, now()).allowed);
}

#[test]
fn via_lists_every_grant_that_allows() {
    let history = [
        created(5),
        crate::fixtures::added(bob(), "member"),
        assigned(bob(), "guest", Some("channel:42"), None),
        group_created(team(), "readers"),
        group_granted(team(), "guest", None),
        joined(team(), bob()),
    ];
    let result = check(
        &given(history).state(),
        bob(),
        "channels.read",
        Some("channel:42"),
        now(),
    );
    assert!(result.allowed);
    assert_eq!(
        result.via,
        vec![
            via("member", None, None),
            via("guest", None, Some("channel:42")),
            via("guest", Some("readers"), None),
        ]
    );
}

#[test]
fn a_denied_check_has_no_via() {
    let result = check(
        &given(staffed(5)).state(),
        admin(),
        "billing.plan.manage",
        None,
        now(),
    );
    assert!(!result.allowed && result.via.is_empty());
}

#[test]
fn someone_outside_the_org_is_denied() {
    assert!(
        !check(
            &given(staffed(5)).state(),
            carol(),
            "channels.read",
            None,
            now()
        )
        .allowed
    );
}

#[test]
fn leaving_a_group_takes_its_permissions_away() {
    let joined_history = vec![
        created(5),
        crate::fixtures::added(bob(), "customer"),
        group_created(team(), "readers"),
        group_granted(team(), "guest", None),
        joined(team(), bob()),
    ];
    let left = roster_domain::OrgEvent::GroupLeft(roster_domain::org::OrgGroupLeft {
        org_id: crate::fixtures::org(),
        group_id: team(),
        member_id: bob(),
        at: now(),
    });
    assert!(
        check(
            &given(joined_history.clone()).state(),
            bob(),
            "channels.read",
            None,
            now()
        )
        .allowed
    );
    let state = Organization::fold(&[joined_history, vec![left]].concat());
    assert!(!check(&state, bob(), "channels.read", None, now()).allowed);
}

/// The audit question "who could do X on date D" folds the stream up to D and asks at D.
#[test]
fn who_could_do_something_on_a_past_date_is_answered_from_the_state_then() {
    let expiry = now() + days(10);
    let history = [
        created(5),
        crate::fixtures::added(bob(), "customer"),
        assigned(bob(), "administrator", None, Some(expiry)),
    ];
    let state = given(history).state();
    assert!(check(&state, bob(), "orders.view", None, now() + days(5)).allowed);
    assert!(!check(&state, bob(), "orders.view", None, now() + days(15)).allowed);
}
