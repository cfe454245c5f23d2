//! A plan's terms and places: capacity, the waiting list with exact positions, offers of freed
//! places held for the claim window and passed on when unclaimed, one live entry per member,
//! and a lower capacity that keeps the places already taken.

use chrono::{DateTime, Duration, Utc};
use roster_domain::ErrorKind;
use roster_domain::plan::{
    ClaimPlanOffer, DefinePlan, ExpirePlanOffers, Interval, JoinPlan, PlanCommand, PlanDefined,
    PlanEvent, PlanOfferClaimed, PlanOfferLapsed, PlanPlaceOffered, PlanPlaceReleased,
    PlanPlaceTaken, PlanTerms, PlanWaitlisted, Price, ReleasePlanPlace, RetirePlan, Standing,
    plan_id,
};
use uuid::Uuid;

use crate::support::{by, given, now, trusted, trusted_at, v7};

const SLUG: &str = "gold";

fn id() -> Uuid {
    plan_id(SLUG)
}

fn define(capacity: Option<u32>) -> DefinePlan {
    DefinePlan {
        slug: SLUG.into(),
        name: "Gold".into(),
        prices: vec![Price {
            currency: "eur".into(),
            amount: 9900,
            interval: Interval::Year,
        }],
        capacity,
        seat_limit: None,
        content_tags: vec!["courses".into(), "events".into()],
        claim_window_hours: None,
    }
}

fn terms(capacity: Option<u32>) -> PlanTerms {
    PlanTerms {
        name: "Gold".into(),
        prices: vec![Price {
            currency: "EUR".into(),
            amount: 9900,
            interval: Interval::Year,
        }],
        capacity,
        seat_limit: None,
        content_tags: vec!["courses".into(), "events".into()],
        claim_window_hours: 48,
    }
}

fn defined(capacity: Option<u32>) -> PlanEvent {
    PlanEvent::Defined(PlanDefined {
        plan_id: id(),
        slug: SLUG.into(),
        terms: terms(capacity),
        defined_at: now(),
    })
}

/// Membership n belongs to member 100 + n.
fn membership(n: u8) -> Uuid {
    v7(n)
}

fn member(n: u8) -> Uuid {
    v7(100 + n)
}

fn join(n: u8) -> PlanCommand {
    PlanCommand::Join(JoinPlan {
        membership_id: membership(n),
        member_id: member(n),
    })
}

fn taken(n: u8) -> PlanEvent {
    PlanEvent::PlaceTaken(PlanPlaceTaken {
        plan_id: id(),
        membership_id: membership(n),
        member_id: member(n),
        at: now(),
    })
}

fn waitlisted(n: u8, position: u32) -> PlanEvent {
    PlanEvent::Waitlisted(PlanWaitlisted {
        plan_id: id(),
        membership_id: membership(n),
        member_id: member(n),
        position,
        at: now(),
    })
}

fn release(n: u8) -> PlanCommand {
    PlanCommand::Release(ReleasePlanPlace {
        membership_id: membership(n),
    })
}

fn released(n: u8, at: DateTime<Utc>) -> PlanEvent {
    PlanEvent::PlaceReleased(PlanPlaceReleased {
        plan_id: id(),
        membership_id: membership(n),
        at,
    })
}

fn offered(n: u8, at: DateTime<Utc>) -> PlanEvent {
    PlanEvent::PlaceOffered(PlanPlaceOffered {
        plan_id: id(),
        membership_id: membership(n),
        member_id: member(n),
        expires_at: at + Duration::hours(48),
        at,
    })
}

fn lapsed(n: u8, at: DateTime<Utc>) -> PlanEvent {
    PlanEvent::OfferLapsed(PlanOfferLapsed {
        plan_id: id(),
        membership_id: membership(n),
        at,
    })
}

/// A plan of two places, both taken, and three in line.
fn full() -> Vec<PlanEvent> {
    vec![
        defined(Some(2)),
        taken(1),
        taken(2),
        waitlisted(3, 1),
        waitlisted(4, 2),
        waitlisted(5, 3),
    ]
}

#[test]
fn a_plan_is_defined_by_its_slug_with_checked_prices() {
    given::<PlanEvent>([])
        .when(PlanCommand::Define(define(Some(2))), trusted())
        .then([defined(Some(2))]);
    let free_with_a_price = DefinePlan {
        prices: vec![Price {
            currency: "EUR".into(),
            amount: 100,
            interval: Interval::Free,
        }],
        ..define(None)
    };
    given::<PlanEvent>([])
        .when(PlanCommand::Define(free_with_a_price), trusted())
        .then_err(ErrorKind::InvalidInput);
    let bad_slug = DefinePlan {
        slug: "Gold Plan".into(),
        ..define(None)
    };
    given::<PlanEvent>([])
        .when(PlanCommand::Define(bad_slug), trusted())
        .then_err(ErrorKind::InvalidInput);
    // The same definition again (a repeated PUT) changes nothing.
    given([defined(Some(2))])
        .when(PlanCommand::Define(define(Some(2))), trusted())
        .then_nothing();
    given::<PlanEvent>([])
        .when(PlanCommand::Define(define(None)), by(member(1)))
        .then_err(ErrorKind::NotAllowed);
}

#[test]
fn joiners_take_free_places_then_queue_with_exact_positions() {
    given([defined(Some(2))])
        .when(join(1), trusted())
        .then([taken(1)]);
    given([defined(Some(2)), taken(1), taken(2)])
        .when(join(3), trusted())
        .then([waitlisted(3, 1)]);
    given([defined(Some(2)), taken(1), taken(2), waitlisted(3, 1)])
        .when(join(4), trusted())
        .then([waitlisted(4, 2)]);
    let state = given(full()).state();
    assert_eq!(
        state.standing(membership(5)),
        Some(Standing::Waiting { position: 3 })
    );
}

#[test]
fn a_member_has_one_live_entry_per_plan() {
    let again = PlanCommand::Join(JoinPlan {
        membership_id: v7(99),
        member_id: member(3),
    });
    given(full())
        .when(again, trusted())
        .then_err(ErrorKind::AlreadyMember);
    given([defined(None), taken(1)])
        .when(join(1), trusted())
        .then_err(ErrorKind::AlreadyExists);
}

#[test]
fn a_freed_place_is_offered_to_the_first_in_line_for_the_claim_window() {
    given(full())
        .when(release(1), trusted())
        .then([released(1, now()), offered(3, now())]);
    let mut history = full();
    history.extend([released(1, now()), offered(3, now())]);
    let state = given(history.clone()).state();
    assert_eq!(
        state.standing(membership(4)),
        Some(Standing::Waiting { position: 1 })
    );
    // A newcomer queues behind: the place is held for the offer.
    given(history.clone())
        .when(join(6), trusted())
        .then([waitlisted(6, 3)]);
    let claim = PlanCommand::Claim(ClaimPlanOffer {
        membership_id: membership(3),
    });
    given(history.clone())
        .when(claim.clone(), trusted_at(now() + Duration::hours(47)))
        .then([PlanEvent::OfferClaimed(PlanOfferClaimed {
            plan_id: id(),
            membership_id: membership(3),
            at: now() + Duration::hours(47),
        })]);
    given(history)
        .when(claim, trusted_at(now() + Duration::hours(48)))
        .then_err(ErrorKind::InvalidState);
}

#[test]
fn an_unclaimed_offer_passes_to_the_next_in_line() {
    let mut history = full();
    history.extend([released(1, now()), offered(3, now())]);
    let later = now() + Duration::hours(48);
    given(history.clone())
        .when(
            PlanCommand::ExpireOffers(ExpirePlanOffers {}),
            trusted_at(now() + Duration::hours(47)),
        )
        .then_nothing();
    given(history)
        .when(
            PlanCommand::ExpireOffers(ExpirePlanOffers {}),
            trusted_at(later),
        )
        .then([lapsed(3, later), offered(4, later)]);
}

#[test]
fn leaving_the_line_moves_everyone_behind_up() {
    let state = given(full()).when(release(3), trusted()).then_state();
    assert_eq!(
        state.standing(membership(4)),
        Some(Standing::Waiting { position: 1 })
    );
    assert_eq!(
        state.standing(membership(5)),
        Some(Standing::Waiting { position: 2 })
    );
    assert_eq!(state.standing(membership(3)), None);
    given(full()).when(release(9), trusted()).then_nothing();
}

#[test]
fn a_lower_capacity_keeps_the_places_taken_and_refuses_new_ones() {
    let history = [defined(Some(3)), taken(1), taken(2), taken(3)];
    let state = given(history.clone())
        .when(PlanCommand::Define(define(Some(1))), trusted())
        .then_state();
    assert_eq!(state.placed.len(), 3);
    let mut lowered = history.to_vec();
    lowered.push(PlanEvent::Changed(roster_domain::plan::PlanChanged {
        plan_id: id(),
        terms: terms(Some(1)),
        changed_at: now(),
    }));
    given(lowered.clone())
        .when(join(4), trusted())
        .then([waitlisted(4, 1)]);
    // Two leave: still no place free (three held for a capacity of one, now two).
    lowered.push(released(1, now()));
    given(lowered)
        .when(release(2), trusted())
        .then([released(2, now())]);
}

#[test]
fn a_larger_capacity_offers_the_new_places_at_once() {
    let state = given(full())
        .when(PlanCommand::Define(define(Some(4))), trusted())
        .then_state();
    assert_eq!(state.offers.len(), 2);
    assert_eq!(
        state.standing(membership(5)),
        Some(Standing::Waiting { position: 1 })
    );
}

#[test]
fn a_retired_plan_takes_no_new_joiners() {
    let retired = PlanEvent::Retired(roster_domain::plan::PlanRetired {
        plan_id: id(),
        retired_at: now(),
    });
    given([defined(None), retired.clone()])
        .when(join(1), trusted())
        .then_err(ErrorKind::InvalidState);
    given([defined(None), retired])
        .when(PlanCommand::Retire(RetirePlan {}), trusted())
        .then_nothing();
}
