use std::collections::BTreeMap;

use roster_domain::ErrorKind;
use roster_domain::member::{
    EditMemberProfile, MemberEvent, MemberProfileChanges, MemberProfileEdited, Visibility,
};

use crate::fixtures::{alice, edit, registered, suspended};
use crate::support::{given, now, trusted};

#[test]
fn a_member_edits_their_profile() {
    let command = edit(EditMemberProfile {
        name: Some(" Alice L. ".into()),
        company: Some("".into()),
        fields: Some(BTreeMap::from([("team".into(), "red".into())])),
        ..Default::default()
    });
    given([registered()])
        .when(command, trusted())
        .then([MemberEvent::ProfileEdited(MemberProfileEdited {
            member_id: alice(),
            personal: Some(MemberProfileChanges {
                name: Some("Alice L.".into()),
                company: Some(String::new()),
                fields: Some(BTreeMap::from([("team".into(), "red".into())])),
                location: None,
            }),
            visibility: None,
            edited_at: now(),
        })]);
}

#[test]
fn an_edit_applies_to_the_personal_data() {
    let history = [registered()];
    let command = edit(EditMemberProfile {
        name: Some("Alice L.".into()),
        location: Some("Oxford".into()),
        ..Default::default()
    });
    let personal = given(history)
        .when(command, trusted())
        .then_state()
        .personal
        .unwrap();
    assert_eq!(
        (personal.name.as_str(), personal.location.as_deref()),
        ("Alice L.", Some("Oxford"))
    );
}

#[test]
fn a_visibility_only_edit_carries_no_personal_part() {
    let visibility = Visibility {
        public: true,
        searchable: true,
    };
    let command = edit(EditMemberProfile {
        visibility: Some(visibility),
        ..Default::default()
    });
    given([registered()])
        .when(command, trusted())
        .then([MemberEvent::ProfileEdited(MemberProfileEdited {
            member_id: alice(),
            personal: None,
            visibility: Some(visibility),
            edited_at: now(),
        })]);
}

#[test]
fn an_empty_edit_appends_nothing() {
    given([registered()])
        .when(edit(Default::default()), trusted())
        .then_nothing();
}

#[test]
fn an_edit_is_validated_like_registration() {
    let command = edit(EditMemberProfile {
        name: Some(" ".into()),
        ..Default::default()
    });
    given([registered()])
        .when(command, trusted())
        .then_err(ErrorKind::InvalidInput);
}

#[test]
fn a_suspended_member_may_still_edit_their_profile() {
    let command = edit(EditMemberProfile {
        name: Some("Al".into()),
        ..Default::default()
    });
    given([registered(), suspended()])
        .when(command, trusted())
        .then_state();
}
