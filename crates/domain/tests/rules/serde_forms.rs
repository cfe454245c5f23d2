use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use roster_domain::member::{
    MailFailure, MailFailureKind, MemberCommand, MemberEvent, MemberProfileEdited,
    MemberReactivated, MemberReferralRewarded, MemberStatus, MemberVerificationEmailFailed,
    MemberVerificationEmailSent,
};
use roster_domain::org::{
    OrgEvent, OrgGroupLeft, OrgGroupRoleRevoked, OrgMemberRemoved, OrgPackage, OrgPackageChanged,
    OrgRoleExpired, OrgRoleRevoked, OrgSeatLimitChanged,
};
use roster_domain::payment::{
    Decline, OfflineMethod, OfflinePaymentRecorded, PaymentAbandoned, PaymentAttemptFailed,
    PaymentEvent, PaymentMethodChanged, PaymentOutcomeUnknown, PaymentRefundFailed,
    PaymentRefundRequested, PaymentRefundSucceeded,
};
use roster_domain::{
    AnyEvent, AnyState, DomainError, DomainEvent, Member, OrgCommand, Organization, Payment,
    Registered, event_schemas,
};
use serde_json::json;

use crate::fixtures::{
    added, alice, alice_personal, assigned, bob, confirmed, created, defined, erased,
    group_created, group_granted, issued, joined, nonce, org, register_alice, registered,
    suspended, team,
};
use crate::support::{days, now};

fn every_member_event() -> Vec<MemberEvent> {
    vec![
        registered(),
        confirmed(),
        MemberEvent::ProfileEdited(MemberProfileEdited {
            member_id: alice(),
            personal: Some(Default::default()),
            visibility: Some(Default::default()),
            edited_at: now(),
        }),
        suspended(),
        MemberEvent::Reactivated(MemberReactivated {
            member_id: alice(),
            reactivated_at: now(),
        }),
        erased(),
        issued(),
        MemberEvent::VerificationEmailSent(MemberVerificationEmailSent {
            member_id: alice(),
            nonce: nonce(1),
            sent_at: now(),
        }),
        MemberEvent::VerificationEmailFailed(MemberVerificationEmailFailed {
            member_id: alice(),
            nonce: nonce(1),
            failure: MailFailure {
                kind: MailFailureKind::Unreachable,
                smtp_code: None,
            },
            attempts: 7,
            failed_at: now(),
        }),
        MemberEvent::ReferralRewarded(MemberReferralRewarded {
            member_id: bob(),
            referred_member_id: alice(),
            payment_id: crate::support::v7(7),
            rewarded_at: now(),
        }),
    ]
}

fn every_org_event() -> Vec<OrgEvent> {
    let (org_id, at) = (org(), now());
    vec![
        created(3),
        added(bob(), "member"),
        OrgEvent::MemberRemoved(OrgMemberRemoved {
            org_id,
            member_id: bob(),
            at,
        }),
        defined("editor", &["content.pages.edit"], true),
        assigned(bob(), "guest", Some("channel:1"), Some(now() + days(1))),
        OrgEvent::RoleRevoked(OrgRoleRevoked {
            org_id,
            member_id: bob(),
            role: "guest".into(),
            scope: None,
            at,
        }),
        group_created(team(), "team"),
        group_granted(team(), "guest", None),
        OrgEvent::GroupRoleRevoked(OrgGroupRoleRevoked {
            org_id,
            group_id: team(),
            role: "guest".into(),
            scope: None,
            at,
        }),
        joined(team(), bob()),
        OrgEvent::GroupLeft(OrgGroupLeft {
            org_id,
            group_id: team(),
            member_id: bob(),
            at,
        }),
        OrgEvent::SeatLimitChanged(OrgSeatLimitChanged {
            org_id,
            seat_limit: 5,
            at,
        }),
        OrgEvent::PackageChanged(OrgPackageChanged {
            org_id,
            package: Some(OrgPackage {
                plan: "team-5".into(),
                seat_limit: 5,
            }),
            at,
        }),
        OrgEvent::RoleExpired(OrgRoleExpired {
            org_id,
            member_id: bob(),
            role: "administrator".into(),
            scope: None,
            expired_at: at,
            at,
        }),
    ]
}

/// One of each payment event.
fn every_payment_event() -> Vec<PaymentEvent> {
    use crate::payment_attempts::{
        failure_events, member, payment_id, requested, started, succeeded,
    };
    let id = payment_id();
    let at = crate::support::now();
    let refund_id = crate::support::v7(9);
    let mut events = vec![requested(), started(1, at), succeeded(1, "pi_1")];
    events.extend(failure_events(at));
    events.extend([
        PaymentEvent::AttemptFailed(PaymentAttemptFailed {
            payment_id: id,
            attempt: 1,
            gateway_id: None,
            decline: Decline::default(),
            retryable: true,
            failed_at: at,
        }),
        PaymentEvent::OutcomeUnknown(PaymentOutcomeUnknown {
            payment_id: id,
            attempt: 1,
            reason: "timed out".into(),
            at,
        }),
        PaymentEvent::Abandoned(PaymentAbandoned {
            payment_id: id,
            reason: "cancelled".into(),
            at,
        }),
        PaymentEvent::MethodChanged(PaymentMethodChanged {
            payment_id: id,
            payment_method: "pm_2".into(),
            changed_at: at,
        }),
        PaymentEvent::RefundRequested(PaymentRefundRequested {
            payment_id: id,
            refund_id,
            amount: 100,
            reason: Some("duplicate".into()),
            override_reason: None,
            requested_at: at,
        }),
        PaymentEvent::RefundSucceeded(PaymentRefundSucceeded {
            payment_id: id,
            refund_id,
            gateway_id: Some("re_1".into()),
            refunded_at: at,
        }),
        PaymentEvent::RefundFailed(PaymentRefundFailed {
            payment_id: id,
            refund_id,
            reason: "refused".into(),
            failed_at: at,
        }),
        PaymentEvent::OfflineRecorded(OfflinePaymentRecorded {
            payment_id: id,
            member_id: member(),
            amount: 100,
            currency: "JPY".into(),
            method: OfflineMethod::Check,
            reference: "CHK-1".into(),
            received_at: at,
            membership_id: None,
            description: None,
            recorded_at: at,
        }),
    ]);
    events
}

#[test]
fn every_payment_event_round_trips_and_decodes_into_payments() {
    for event in every_payment_event() {
        round_trip(&event);
        let data = serde_json::to_value(&event).unwrap()["data"].clone();
        let decoded = AnyEvent::decode(event.event_type(), data).unwrap().unwrap();
        assert_eq!(Payment::event_of(&decoded), Some(&event));
    }
}

/// One of each plan event.
fn every_plan_event() -> Vec<roster_domain::PlanEvent> {
    use roster_domain::PlanEvent;
    use roster_domain::plan::{
        Interval, PlanChanged, PlanDefined, PlanOfferClaimed, PlanOfferLapsed, PlanPlaceOffered,
        PlanPlaceReleased, PlanPlaceTaken, PlanRetired, PlanTerms, PlanWaitlistLeft,
        PlanWaitlisted, Price,
    };
    let (plan_id, at) = (roster_domain::plan::plan_id("gold"), crate::support::now());
    let (membership_id, member_id) = (crate::support::v7(1), crate::support::v7(2));
    let terms = PlanTerms {
        name: "Gold".into(),
        prices: vec![Price {
            currency: "EUR".into(),
            amount: 100,
            interval: Interval::Month,
        }],
        capacity: Some(3),
        seat_limit: Some(5),
        content_tags: vec!["courses".into()],
        claim_window_hours: 48,
    };
    vec![
        PlanEvent::Defined(PlanDefined {
            plan_id,
            slug: "gold".into(),
            terms: terms.clone(),
            defined_at: at,
        }),
        PlanEvent::Changed(PlanChanged {
            plan_id,
            terms,
            changed_at: at,
        }),
        PlanEvent::Retired(PlanRetired {
            plan_id,
            retired_at: at,
        }),
        PlanEvent::PlaceTaken(PlanPlaceTaken {
            plan_id,
            membership_id,
            member_id,
            at,
        }),
        PlanEvent::Waitlisted(PlanWaitlisted {
            plan_id,
            membership_id,
            member_id,
            position: 1,
            at,
        }),
        PlanEvent::PlaceReleased(PlanPlaceReleased {
            plan_id,
            membership_id,
            at,
        }),
        PlanEvent::WaitlistLeft(PlanWaitlistLeft {
            plan_id,
            membership_id,
            at,
        }),
        PlanEvent::PlaceOffered(PlanPlaceOffered {
            plan_id,
            membership_id,
            member_id,
            expires_at: at,
            at,
        }),
        PlanEvent::OfferClaimed(PlanOfferClaimed {
            plan_id,
            membership_id,
            at,
        }),
        PlanEvent::OfferLapsed(PlanOfferLapsed {
            plan_id,
            membership_id,
            at,
        }),
    ]
}

#[test]
fn every_plan_event_round_trips_and_decodes_into_plans() {
    for event in every_plan_event() {
        round_trip(&event);
        let data = serde_json::to_value(&event).unwrap()["data"].clone();
        let decoded = AnyEvent::decode(event.event_type(), data).unwrap().unwrap();
        assert_eq!(roster_domain::Plan::event_of(&decoded), Some(&event));
    }
}

/// One of each API key event.
fn every_api_key_event() -> Vec<roster_domain::ApiKeyEvent> {
    use roster_domain::apikey::ApiKeyRevoked;
    vec![roster_domain::ApiKeyEvent::Revoked(ApiKeyRevoked {
        key_id: uuid::Uuid::now_v7(),
        name: "shop".into(),
    })]
}

#[test]
fn every_api_key_event_round_trips_and_decodes_into_api_keys() {
    for event in every_api_key_event() {
        round_trip(&event);
        let data = serde_json::to_value(&event).unwrap()["data"].clone();
        let decoded = AnyEvent::decode(event.event_type(), data).unwrap().unwrap();
        assert_eq!(roster_domain::ApiKey::event_of(&decoded), Some(&event));
    }
}

/// One of each membership event.
fn every_membership_event() -> Vec<roster_domain::MembershipEvent> {
    use roster_domain::MembershipEvent;
    use roster_domain::membership::{
        JoinStanding, MembershipActivated, MembershipCancellationScheduled, MembershipCancelled,
        MembershipLapsed, MembershipOffered, MembershipOpened, MembershipPastDue,
        MembershipPaymentMethodChanged, MembershipPlaced, MembershipReminded,
        MembershipRenewalRequested, MembershipRenewed,
    };
    let at = crate::support::now();
    let (membership_id, member_id, plan_id, payment_id) = (
        crate::support::v7(1),
        crate::support::v7(2),
        crate::support::v7(3),
        crate::support::v7(4),
    );
    vec![
        MembershipEvent::Opened(MembershipOpened {
            membership_id,
            member_id,
            plan_id,
            plan_slug: "gold".into(),
            price: None,
            content_tags: vec!["courses".into()],
            standing: JoinStanding::Waitlisted { position: 2 },
            payment_id: None,
            payment_method: Some("pm_card_visa".into()),
            access_code_batch: Some(payment_id),
            opened_at: at,
        }),
        MembershipEvent::Offered(MembershipOffered {
            membership_id,
            expires_at: at,
        }),
        MembershipEvent::Placed(MembershipPlaced {
            membership_id,
            payment_id: Some(payment_id),
            payment_method: None,
            at,
        }),
        MembershipEvent::Activated(MembershipActivated {
            membership_id,
            payment_id: Some(payment_id),
            period_start: at,
            period_end: Some(at),
        }),
        MembershipEvent::RenewalRequested(MembershipRenewalRequested {
            membership_id,
            payment_id,
            at,
        }),
        MembershipEvent::Renewed(MembershipRenewed {
            membership_id,
            payment_id,
            period_start: at,
            period_end: None,
        }),
        MembershipEvent::PastDue(MembershipPastDue {
            membership_id,
            payment_id,
            at,
        }),
        MembershipEvent::Lapsed(MembershipLapsed {
            membership_id,
            member_id,
            plan_id,
            payment_id,
            at,
        }),
        MembershipEvent::CancellationScheduled(MembershipCancellationScheduled {
            membership_id,
            effective_at: at,
            at,
        }),
        MembershipEvent::Cancelled(MembershipCancelled {
            membership_id,
            member_id,
            plan_id,
            at,
        }),
        MembershipEvent::PaymentMethodChanged(MembershipPaymentMethodChanged {
            membership_id,
            payment_method: "pm_card_mastercard".into(),
            at,
        }),
        MembershipEvent::Reminded(MembershipReminded {
            membership_id,
            period_end: at,
            days_before: 7,
            at,
        }),
    ]
}

#[test]
fn every_membership_event_round_trips_and_decodes_into_memberships() {
    for event in every_membership_event() {
        round_trip(&event);
        let data = serde_json::to_value(&event).unwrap()["data"].clone();
        let decoded = AnyEvent::decode(event.event_type(), data).unwrap().unwrap();
        assert_eq!(roster_domain::Membership::event_of(&decoded), Some(&event));
    }
    // A membership event is not mistaken for a member's.
    let opened = &every_membership_event()[0];
    let data = serde_json::to_value(opened).unwrap()["data"].clone();
    let decoded = AnyEvent::decode(opened.event_type(), data)
        .unwrap()
        .unwrap();
    assert_eq!(Member::event_of(&decoded), None);
}

/// Serialises to `{"type": <event type>, "data": {...}}` and reads back unchanged.
fn round_trip<E: DomainEvent + PartialEq + std::fmt::Debug>(event: &E) {
    let value = serde_json::to_value(event).unwrap();
    let object = value.as_object().unwrap();
    assert_eq!(object.len(), 2, "{value}");
    assert_eq!(object["type"], event.event_type());
    assert!(object["data"].is_object());
    assert_eq!(&serde_json::from_value::<E>(value).unwrap(), event);
}

#[test]
fn every_member_event_round_trips_through_type_and_data() {
    every_member_event().iter().for_each(round_trip);
}

#[test]
fn every_org_event_round_trips_through_type_and_data() {
    every_org_event().iter().for_each(round_trip);
}

#[test]
fn every_event_type_has_exactly_one_schema() {
    let mut types: Vec<&str> = every_member_event()
        .iter()
        .map(DomainEvent::event_type)
        .collect();
    types.extend(every_org_event().iter().map(DomainEvent::event_type));
    types.extend(every_payment_event().iter().map(DomainEvent::event_type));
    types.extend(every_plan_event().iter().map(DomainEvent::event_type));
    types.extend(every_membership_event().iter().map(DomainEvent::event_type));
    types.extend(every_api_key_event().iter().map(DomainEvent::event_type));
    types.sort_unstable();
    types.dedup();
    let schemas: BTreeSet<&str> = event_schemas().into_iter().map(|(name, _)| name).collect();
    assert_eq!(types.len(), schemas.len());
    assert_eq!(types.into_iter().collect::<BTreeSet<_>>(), schemas);
}

#[test]
fn a_stored_event_is_decoded_by_its_exact_type_name_into_its_own_aggregate() {
    for event in every_member_event() {
        let data = serde_json::to_value(&event).unwrap()["data"].clone();
        let decoded = AnyEvent::decode(event.event_type(), data).unwrap().unwrap();
        assert_eq!(Member::event_of(&decoded), Some(&event));
        assert_eq!(Organization::event_of(&decoded), None);
    }
    for event in every_org_event() {
        let data = serde_json::to_value(&event).unwrap()["data"].clone();
        let decoded = AnyEvent::decode(event.event_type(), data).unwrap().unwrap();
        assert_eq!(Organization::event_of(&decoded), Some(&event));
    }
    // A name that merely starts like a member event belongs to no aggregate of this build.
    assert!(AnyEvent::decode("MembershipStarted.v1", json!({})).is_none());
    assert!(!AnyEvent::is_known("MemberRegistered.v2"));
    assert!(
        AnyEvent::decode("MemberRegistered.v1", json!({"member_id": 1}))
            .unwrap()
            .is_err()
    );
}

#[test]
fn any_event_folds_into_its_own_aggregates_state() {
    let event = Member::wrap(registered());
    let state = event.evolve(event.initial_state());
    let member = Member::state_of(&state).unwrap();
    assert_eq!(member.status, MemberStatus::PendingConfirmation);
    assert!(Organization::state_of(&state).is_none());
    // An event applied to another aggregate's state starts from its own initial state.
    let org = Organization::wrap(created(3));
    assert!(matches!(org.evolve(state), AnyState::Org(_)));
}

#[test]
fn personal_data_is_a_top_level_field_named_personal() {
    let value = serde_json::to_value(registered()).unwrap();
    assert_eq!(
        value["data"]["personal"],
        serde_json::to_value(alice_personal()).unwrap()
    );
    let keys: BTreeSet<&str> = value["data"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from(["member_id", "personal", "registered_at"])
    );
}

#[test]
fn a_shredded_event_reads_back_with_personal_null() {
    let stored = json!({
        "type": "MemberRegistered.v1",
        "data": { "member_id": alice(), "personal": null, "registered_at": now() },
    });
    let MemberEvent::Registered(event) = serde_json::from_value(stored).unwrap() else {
        panic!("wrong variant");
    };
    assert_eq!(event.personal, None);
}

#[test]
fn member_statuses_serialise_in_snake_case() {
    assert_eq!(
        json!(MemberStatus::PendingConfirmation),
        json!("pending_confirmation")
    );
    assert_eq!(
        json!(MemberStatus::Erased),
        json!(MemberStatus::Erased.as_str())
    );
}

#[test]
fn commands_read_from_json_with_their_defaults() {
    let command: MemberCommand = serde_json::from_value(json!({
        "type": "RegisterMember",
        "data": { "member_id": alice(), "email": "alice@example.org", "name": "Alice Liddell" },
    }))
    .unwrap();
    assert_eq!(command, MemberCommand::Register(register_alice()));
    let define: OrgCommand = serde_json::from_value(json!({
        "type": "DefineOrgRole",
        "data": { "name": "editor", "permissions": [] },
    }))
    .unwrap();
    let OrgCommand::DefineRole(define) = define else {
        panic!("wrong variant")
    };
    assert!(
        define.occupies_seat,
        "custom roles take a seat unless told otherwise"
    );
}

#[test]
fn timestamps_serialise_as_rfc3339() {
    let value = serde_json::to_value(confirmed()).unwrap();
    let at: DateTime<Utc> = value["data"]["confirmed_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(at, now());
}

#[test]
fn error_codes_are_stable_slugs() {
    let cases = [
        (
            DomainError::InvalidInput {
                field: "email".into(),
                reason: "x".into(),
            },
            "invalid-input",
        ),
        (
            DomainError::NotFound {
                what: "member".into(),
            },
            "not-found",
        ),
        (
            DomainError::AlreadyExists {
                what: "member".into(),
            },
            "already-exists",
        ),
        (
            DomainError::InvalidState {
                message: "x".into(),
            },
            "invalid-state",
        ),
        (
            DomainError::Forbidden {
                permission: "p.q".into(),
            },
            "forbidden",
        ),
        (
            DomainError::SeatLimitReached { limit: 2 },
            "seat-limit-reached",
        ),
        (DomainError::LastOwner, "last-owner"),
        (
            DomainError::AlreadyMember { member_id: bob() },
            "already-member",
        ),
        (DomainError::NotAMember { member_id: bob() }, "not-a-member"),
        (
            DomainError::UnknownRole { role: "x".into() },
            "unknown-role",
        ),
        (
            DomainError::UnknownPermission {
                permission: "x.y".into(),
            },
            "unknown-permission",
        ),
    ];
    for (error, code) in cases {
        assert_eq!(error.code(), code);
    }
}
