//! The plan's rules. After every decision, each free place is offered to the next in line
//! (`offer_free_places`), so no command that frees a place (a release, a lapsed offer, a
//! larger capacity) can forget to.

use std::collections::HashSet;

use chrono::Duration;
use uuid::Uuid;

use super::command::{DefinePlan, JoinPlan, PlanCommand};
use super::event::{
    Interval, PlanChanged, PlanDefined, PlanEvent, PlanOfferClaimed, PlanOfferLapsed,
    PlanPlaceOffered, PlanPlaceReleased, PlanPlaceTaken, PlanRetired, PlanTerms, PlanWaitlistLeft,
    PlanWaitlisted,
};
use super::state::{PlanState, Standing, evolve};
use crate::payment::parse_currency;
use crate::{Actor, Ctx, DomainError};

/// How long a freed place is held for the first in line unless the plan says otherwise.
pub const DEFAULT_CLAIM_WINDOW_HOURS: u32 = 48;

const MAX_TAGS: usize = 32;

/// The plan's id: derived from its slug, so a slug names one stream for good.
pub fn plan_id(slug: &str) -> Uuid {
    Uuid::new_v5(&PLAN_NAMESPACE, slug.as_bytes())
}

const PLAN_NAMESPACE: Uuid = Uuid::from_u128(0x6f1d_3c1e_9b4a_4e52_a0c7_52a1_7e0b_9d11);

pub(super) fn decide(
    state: &PlanState,
    command: &PlanCommand,
    ctx: &Ctx,
) -> Result<Vec<PlanEvent>, DomainError> {
    if let Actor::Member(_) = ctx.actor
        && !matches!(command, PlanCommand::Join(_) | PlanCommand::Claim(_))
    {
        return Err(DomainError::NotAllowed {
            reason: "only a trusted caller may change a plan".into(),
        });
    }
    if !state.exists() && !matches!(command, PlanCommand::Define(_)) {
        return Err(DomainError::not_found("plan"));
    }
    let events = match command {
        PlanCommand::Define(c) => define(state, c, ctx)?,
        PlanCommand::Retire(_) => match state.retired {
            true => Vec::new(),
            false => vec![PlanEvent::Retired(PlanRetired {
                plan_id: id(state),
                retired_at: ctx.now,
            })],
        },
        PlanCommand::Join(c) => join(state, c, ctx)?,
        PlanCommand::Release(c) => release(state, c.membership_id, ctx),
        PlanCommand::Claim(c) => match state.standing(c.membership_id) {
            Some(Standing::Placed) => Vec::new(),
            Some(Standing::Offered(offer)) if ctx.now < offer.expires_at => {
                vec![PlanEvent::OfferClaimed(PlanOfferClaimed {
                    plan_id: id(state),
                    membership_id: c.membership_id,
                    at: ctx.now,
                })]
            }
            Some(Standing::Offered(_)) => {
                return Err(DomainError::invalid_state("the offer has expired"));
            }
            _ => return Err(DomainError::not_found("offer")),
        },
        PlanCommand::ExpireOffers(_) => state
            .offers
            .iter()
            .filter(|(_, offer)| offer.expires_at <= ctx.now)
            .map(|(membership_id, _)| {
                PlanEvent::OfferLapsed(PlanOfferLapsed {
                    plan_id: id(state),
                    membership_id: *membership_id,
                    at: ctx.now,
                })
            })
            .collect(),
    };
    Ok(offer_free_places(state, events, ctx))
}

fn id(state: &PlanState) -> Uuid {
    state.plan_id.unwrap_or_default()
}

fn define(state: &PlanState, c: &DefinePlan, ctx: &Ctx) -> Result<Vec<PlanEvent>, DomainError> {
    let terms = terms(c)?;
    if !state.exists() {
        let slug = slug(&c.slug)?;
        return Ok(vec![PlanEvent::Defined(PlanDefined {
            plan_id: plan_id(&slug),
            slug,
            terms,
            defined_at: ctx.now,
        })]);
    }
    if state.retired {
        return Err(DomainError::invalid_state("the plan is retired"));
    }
    if state.terms.as_ref() == Some(&terms) {
        return Ok(Vec::new());
    }
    Ok(vec![PlanEvent::Changed(PlanChanged {
        plan_id: id(state),
        terms,
        changed_at: ctx.now,
    })])
}

fn slug(slug: &str) -> Result<String, DomainError> {
    let ok = (1..=64).contains(&slug.len())
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    match ok {
        true => Ok(slug.to_owned()),
        false => Err(DomainError::invalid("slug", "1 to 64 of a-z, 0-9 and -")),
    }
}

fn terms(c: &DefinePlan) -> Result<PlanTerms, DomainError> {
    let name = c.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(DomainError::invalid("name", "1 to 200 characters"));
    }
    if c.prices.is_empty() {
        return Err(DomainError::invalid(
            "prices",
            "a plan needs a price (0 for free)",
        ));
    }
    let mut prices = Vec::with_capacity(c.prices.len());
    let mut currencies = HashSet::new();
    for price in &c.prices {
        let currency = parse_currency(&price.currency)?;
        if !currencies.insert(currency.clone()) {
            return Err(DomainError::invalid(
                "prices",
                format!("{currency} is priced twice"),
            ));
        }
        match (price.interval, price.amount) {
            (Interval::Free, 0) => {}
            (Interval::Free, _) => {
                return Err(DomainError::invalid("prices", "a free price has amount 0"));
            }
            (_, amount) => crate::payment::check_amount("prices", amount)?,
        }
        prices.push(super::event::Price {
            currency,
            ..price.clone()
        });
    }
    if c.capacity == Some(0) || c.seat_limit == Some(0) {
        return Err(DomainError::invalid(
            "capacity",
            "a capacity or seat limit is at least 1",
        ));
    }
    if c.content_tags.len() > MAX_TAGS {
        return Err(DomainError::invalid(
            "content_tags",
            format!("at most {MAX_TAGS}"),
        ));
    }
    let mut tags = Vec::with_capacity(c.content_tags.len());
    for tag in &c.content_tags {
        let ok = (1..=64).contains(&tag.len())
            && tag
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !ok {
            return Err(DomainError::invalid(
                "content_tags",
                format!("{tag:?}: 1 to 64 of a-z, 0-9, - and _"),
            ));
        }
        if !tags.contains(tag) {
            tags.push(tag.clone());
        }
    }
    let window = c.claim_window_hours.unwrap_or(DEFAULT_CLAIM_WINDOW_HOURS);
    if !(1..=24 * 30).contains(&window) {
        return Err(DomainError::invalid(
            "claim_window_hours",
            "1 hour to 30 days",
        ));
    }
    Ok(PlanTerms {
        name: name.to_owned(),
        prices,
        capacity: c.capacity,
        seat_limit: c.seat_limit,
        content_tags: tags,
        claim_window_hours: window,
    })
}

fn join(state: &PlanState, c: &JoinPlan, ctx: &Ctx) -> Result<Vec<PlanEvent>, DomainError> {
    if let Actor::Member(actor) = ctx.actor
        && actor != c.member_id
    {
        return Err(DomainError::NotAllowed {
            reason: "a member may join only for themselves".into(),
        });
    }
    if state.retired {
        return Err(DomainError::invalid_state("the plan is retired"));
    }
    if state.standing(c.membership_id).is_some() {
        return Err(DomainError::already_exists(format!(
            "membership {}",
            c.membership_id
        )));
    }
    if state.entry_of(c.member_id).is_some() {
        return Err(DomainError::AlreadyMember {
            member_id: c.member_id,
        });
    }
    let place_free = state.free_places().is_none_or(|free| free > 0) && state.waiting.is_empty();
    Ok(vec![match place_free {
        true => PlanEvent::PlaceTaken(PlanPlaceTaken {
            plan_id: id(state),
            membership_id: c.membership_id,
            member_id: c.member_id,
            at: ctx.now,
        }),
        false => PlanEvent::Waitlisted(PlanWaitlisted {
            plan_id: id(state),
            membership_id: c.membership_id,
            member_id: c.member_id,
            position: u32::try_from(state.waiting.len() + 1).unwrap_or(u32::MAX),
            at: ctx.now,
        }),
    }])
}

/// Gives up whatever the membership holds; releasing twice changes nothing.
fn release(state: &PlanState, membership_id: Uuid, ctx: &Ctx) -> Vec<PlanEvent> {
    let plan_id = id(state);
    let at = ctx.now;
    match state.standing(membership_id) {
        Some(Standing::Placed) => vec![PlanEvent::PlaceReleased(PlanPlaceReleased {
            plan_id,
            membership_id,
            at,
        })],
        Some(Standing::Offered(_)) => vec![PlanEvent::OfferLapsed(PlanOfferLapsed {
            plan_id,
            membership_id,
            at,
        })],
        Some(Standing::Waiting { .. }) => vec![PlanEvent::WaitlistLeft(PlanWaitlistLeft {
            plan_id,
            membership_id,
            at,
        })],
        None => Vec::new(),
    }
}

/// `events`, then an offer to the next in line for every place they leave free.
fn offer_free_places(state: &PlanState, mut events: Vec<PlanEvent>, ctx: &Ctx) -> Vec<PlanEvent> {
    let after = events.iter().fold(state.clone(), evolve);
    let Some(terms) = &after.terms else {
        return events;
    };
    let free = after
        .free_places()
        .map_or(after.waiting.len(), |free| free as usize);
    let window = Duration::hours(i64::from(terms.claim_window_hours));
    for (membership_id, member_id) in after.waiting.iter().take(free) {
        events.push(PlanEvent::PlaceOffered(PlanPlaceOffered {
            plan_id: id(&after),
            membership_id: *membership_id,
            member_id: *member_id,
            expires_at: ctx.now + window,
            at: ctx.now,
        }));
    }
    events
}
