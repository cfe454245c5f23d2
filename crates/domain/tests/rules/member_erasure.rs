use roster_domain::ErrorKind;
use roster_domain::member::{
    EditMemberProfile, MemberCommand, MemberErasureRequested, MemberEvent, MemberProfileEdited,
    MemberRegistered, MemberStatus, Visibility,
};
use roster_domain::{Aggregate, DomainEvent, Member};

use crate::fixtures::{
    alice, confirm, confirmed, edit, erase, erased, reactivate, register_alice, registered,
    status_after, suspend, suspended,
};
use crate::support::{given, now, trusted};

#[test]
fn erasure_can_be_requested_in_every_registered_state() {
    for history in [
        vec![registered()],
        vec![registered(), confirmed()],
        vec![registered(), suspended()],
    ] {
        given(history).when(erase(), trusted()).then([erased()]);
    }
}

#[test]
fn erasure_drops_personal_data_and_visibility() {
    let state = given([registered(), confirmed()])
        .when(erase(), trusted())
        .then_state();
    assert_eq!(state.status, MemberStatus::Erased);
    assert_eq!(state.personal, None);
    assert_eq!(state.visibility, Visibility::default());
}

#[test]
fn after_erasure_every_command_is_invalid_state() {
    let commands = [
        MemberCommand::Register(register_alice()),
        confirm(),
        edit(EditMemberProfile {
            name: Some("Ghost".into()),
            ..Default::default()
        }),
        suspend(),
        reactivate(),
        erase(),
    ];
    for command in commands {
        given([registered(), erased()])
            .when(command, trusted())
            .then_err(ErrorKind::InvalidState);
    }
}

/// What the store hands back once the member's key is destroyed: every `personal` is null.
#[test]
fn erased_personal_data_folds_without_panicking() {
    let shredded = vec![
        MemberEvent::Registered(MemberRegistered {
            member_id: alice(),
            personal: None,
            registered_at: now(),
            referred_by: None,
        }),
        confirmed(),
        MemberEvent::ProfileEdited(MemberProfileEdited {
            member_id: alice(),
            personal: None,
            visibility: None,
            edited_at: now(),
        }),
    ];
    let before_erasure = Member::fold(&shredded);
    assert_eq!(
        (before_erasure.status, before_erasure.personal),
        (MemberStatus::Active, None)
    );
    let erasure = MemberEvent::ErasureRequested(MemberErasureRequested {
        member_id: alice(),
        requested_at: now(),
    });
    assert_eq!(
        status_after([shredded, vec![erasure]].concat()),
        MemberStatus::Erased
    );
}

#[test]
fn events_with_personal_data_name_their_member_as_subject() {
    assert_eq!(registered().personal_data_subject(), Some(alice()));
    let edited = MemberEvent::ProfileEdited(MemberProfileEdited {
        member_id: alice(),
        personal: None,
        visibility: None,
        edited_at: now(),
    });
    assert_eq!(edited.personal_data_subject(), Some(alice()));
    for event in [confirmed(), suspended(), erased()] {
        assert_eq!(event.personal_data_subject(), None, "{event:?}");
    }
}

#[test]
fn member_streams_are_prefixed_member() {
    assert_eq!(Member::STREAM_PREFIX, "member");
}
