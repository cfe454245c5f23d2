use std::collections::BTreeMap;

use roster_domain::ErrorKind;
use roster_domain::member::{
    MemberCommand, MemberEvent, MemberPersonal, MemberRegistered, MemberStatus, RegisterMember,
    Visibility,
};
use uuid::Uuid;

use crate::fixtures::{alice, alice_personal, register_alice, registered};
use crate::support::{given, now, trusted};

fn register(form: RegisterMember) -> MemberCommand {
    MemberCommand::Register(form)
}

fn rejects(form: RegisterMember, field: &str) {
    let error = given::<MemberEvent>([])
        .when(register(form), trusted())
        .then_err(ErrorKind::InvalidInput);
    assert!(
        matches!(&error, roster_domain::DomainError::InvalidInput { field: f, .. } if f == field),
        "{error:?}"
    );
}

#[test]
fn a_new_member_registers_and_waits_for_confirmation() {
    let state = given::<MemberEvent>([])
        .when(register(register_alice()), trusted())
        .then_state();
    assert_eq!(state.status, MemberStatus::PendingConfirmation);
    assert!(!state.email_verified);
    assert_eq!(state.personal, Some(alice_personal()));
}

#[test]
fn the_default_visibility_is_private_and_unsearchable() {
    let state = given([registered()]).state();
    assert_eq!(
        state.visibility,
        Visibility {
            public: false,
            searchable: false
        }
    );
}

#[test]
fn the_email_is_trimmed_and_lowercased_and_the_name_trimmed() {
    let form = RegisterMember {
        email: "  Alice@Example.ORG ".into(),
        name: "  Alice Liddell\t".into(),
        ..register_alice()
    };
    given::<MemberEvent>([])
        .when(register(form), trusted())
        .then([registered()]);
}

#[test]
fn all_personal_data_lives_in_the_personal_field() {
    let form = RegisterMember {
        fields: BTreeMap::from([("shoe_size".into(), "38".into())]),
        company: Some(" Wonderland Ltd ".into()),
        location: Some("   ".into()),
        ..register_alice()
    };
    given::<MemberEvent>([])
        .when(register(form), trusted())
        .then([MemberEvent::Registered(MemberRegistered {
            member_id: alice(),
            personal: Some(MemberPersonal {
                fields: BTreeMap::from([("shoe_size".into(), "38".into())]),
                company: Some("Wonderland Ltd".into()),
                location: None,
                ..alice_personal()
            }),
            registered_at: now(),
            referred_by: None,
        })]);
}

#[test]
fn registering_twice_is_rejected_as_already_exists() {
    given([registered()])
        .when(register(register_alice()), trusted())
        .then_err(ErrorKind::AlreadyExists);
}

#[test]
fn a_member_id_that_is_not_a_uuid_v7_is_invalid_input() {
    rejects(
        RegisterMember {
            member_id: Uuid::new_v4(),
            ..register_alice()
        },
        "member_id",
    );
    rejects(
        RegisterMember {
            member_id: Uuid::nil(),
            ..register_alice()
        },
        "member_id",
    );
}

#[test]
fn malformed_emails_are_invalid_input() {
    let long_local = format!("{}@example.org", "a".repeat(65));
    let too_long = format!("a@{}.org", "b".repeat(250));
    for email in [
        "",
        "alice.example.org",
        "alice@@example.org",
        "al@ice@example.org",
        "@example.org",
        "alice@example",
        "alice@.example.org",
        "alice@example..org",
        "alice@example.org.",
        "al ice@example.org",
        long_local.as_str(),
        too_long.as_str(),
    ] {
        rejects(
            RegisterMember {
                email: email.into(),
                ..register_alice()
            },
            "email",
        );
    }
}

#[test]
fn a_local_part_of_64_characters_is_accepted() {
    let email = format!("{}@example.org", "a".repeat(64));
    let form = RegisterMember {
        email,
        ..register_alice()
    };
    given::<MemberEvent>([])
        .when(register(form), trusted())
        .then_state();
}

#[test]
fn a_name_must_have_1_to_200_characters() {
    rejects(
        RegisterMember {
            name: "   ".into(),
            ..register_alice()
        },
        "name",
    );
    rejects(
        RegisterMember {
            name: "é".repeat(201),
            ..register_alice()
        },
        "name",
    );
    let form = RegisterMember {
        name: "é".repeat(200),
        ..register_alice()
    };
    given::<MemberEvent>([])
        .when(register(form), trusted())
        .then_state();
}

#[test]
fn at_most_50_custom_fields_are_accepted() {
    let fields = |n: usize| (0..n).map(|i| (format!("f{i}"), "x".to_owned())).collect();
    rejects(
        RegisterMember {
            fields: fields(51),
            ..register_alice()
        },
        "fields",
    );
    let form = RegisterMember {
        fields: fields(50),
        ..register_alice()
    };
    given::<MemberEvent>([])
        .when(register(form), trusted())
        .then_state();
}

#[test]
fn custom_field_keys_are_1_to_64_characters_of_lowercase_digits_and_underscores() {
    for key in ["", "Shoe", "shoe-size", "shoe size", &"k".repeat(65)] {
        let fields = BTreeMap::from([(key.to_owned(), "x".to_owned())]);
        rejects(
            RegisterMember {
                fields,
                ..register_alice()
            },
            "fields",
        );
    }
}

#[test]
fn custom_field_values_are_at_most_1000_characters() {
    let fields = BTreeMap::from([("bio".to_owned(), "x".repeat(1001))]);
    rejects(
        RegisterMember {
            fields,
            ..register_alice()
        },
        "fields",
    );
}

#[test]
fn company_and_location_are_at_most_200_characters() {
    rejects(
        RegisterMember {
            company: Some("c".repeat(201)),
            ..register_alice()
        },
        "company",
    );
    rejects(
        RegisterMember {
            location: Some("l".repeat(201)),
            ..register_alice()
        },
        "location",
    );
}
