use roster_domain::ErrorKind;
use roster_domain::member::{
    MemberCommand, MemberEvent, MemberReactivated, MemberStatus, SuspendMember,
};

use crate::fixtures::{
    alice, confirm, confirmed, edit, erase, issued, reactivate, registered, status_after, suspend,
    suspended,
};
use crate::support::{given, now, trusted};

#[test]
fn a_pending_member_confirms_their_email_and_becomes_active() {
    given([registered(), issued()])
        .when(confirm(), trusted())
        .then([confirmed()]);
    let state = given([registered(), issued(), confirmed()]).state();
    assert_eq!(
        (state.status, state.email_verified),
        (MemberStatus::Active, true)
    );
}

#[test]
fn confirming_an_active_member_is_an_invalid_token_because_it_was_used() {
    given([registered(), issued(), confirmed()])
        .when(confirm(), trusted())
        .then_err(ErrorKind::InvalidToken);
}

#[test]
fn confirming_a_suspended_member_is_invalid_state() {
    given([registered(), issued(), suspended()])
        .when(confirm(), trusted())
        .then_err(ErrorKind::InvalidState);
}

#[test]
fn commands_to_an_unregistered_member_are_not_found() {
    for command in [
        confirm(),
        suspend(),
        reactivate(),
        erase(),
        edit(Default::default()),
    ] {
        given::<MemberEvent>([])
            .when(command, trusted())
            .then_err(ErrorKind::NotFound);
    }
}

#[test]
fn active_and_pending_members_can_be_suspended() {
    given([registered()])
        .when(suspend(), trusted())
        .then([suspended()]);
    given([registered(), confirmed()])
        .when(suspend(), trusted())
        .then([suspended()]);
}

#[test]
fn a_suspended_member_cannot_be_suspended_again() {
    given([registered(), suspended()])
        .when(suspend(), trusted())
        .then_err(ErrorKind::InvalidState);
}

#[test]
fn a_suspension_needs_a_reason() {
    let command = MemberCommand::Suspend(SuspendMember {
        reason: "  ".into(),
    });
    given([registered()])
        .when(command, trusted())
        .then_err(ErrorKind::InvalidInput);
}

#[test]
fn a_verified_member_is_reactivated_to_active() {
    let reactivated = MemberEvent::Reactivated(MemberReactivated {
        member_id: alice(),
        reactivated_at: now(),
    });
    let history = vec![registered(), confirmed(), suspended()];
    given(history.clone())
        .when(reactivate(), trusted())
        .then([reactivated.clone()]);
    assert_eq!(
        status_after([history, vec![reactivated]].concat()),
        MemberStatus::Active
    );
}

#[test]
fn an_unverified_member_is_reactivated_to_pending_confirmation() {
    let state = given([registered(), suspended()])
        .when(reactivate(), trusted())
        .then_state();
    assert_eq!(state.status, MemberStatus::PendingConfirmation);
}

#[test]
fn only_a_suspended_member_can_be_reactivated() {
    given([registered()])
        .when(reactivate(), trusted())
        .then_err(ErrorKind::InvalidState);
    given([registered(), confirmed()])
        .when(reactivate(), trusted())
        .then_err(ErrorKind::InvalidState);
}

#[test]
fn a_member_may_edit_and_erase_only_their_own_record() {
    use crate::support::by;
    given([registered()])
        .when(edit(crate::fixtures::rename("Ada King")), by(alice()))
        .then_state();
    given([registered()])
        .when(erase(), by(alice()))
        .then_state();
    let mallory = crate::support::v7(99);
    given([registered()])
        .when(edit(crate::fixtures::rename("Mallory")), by(mallory))
        .then_err(ErrorKind::NotAllowed);
    given([registered()])
        .when(erase(), by(mallory))
        .then_err(ErrorKind::NotAllowed);
}

#[test]
fn suspending_reactivating_and_confirming_are_for_trusted_callers_only() {
    use crate::support::by;
    given([registered()])
        .when(confirm(), by(alice()))
        .then_err(ErrorKind::NotAllowed);
    given([registered()])
        .when(suspend(), by(alice()))
        .then_err(ErrorKind::NotAllowed);
    given([registered(), suspended()])
        .when(reactivate(), by(alice()))
        .then_err(ErrorKind::NotAllowed);
}
