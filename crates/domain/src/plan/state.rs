//! A plan folded from its events: its terms, and its places: taken, offered, waited for.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::event::{PlanEvent, PlanTerms};

/// A freed place held for a membership until `expires_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offer {
    pub member_id: Uuid,
    pub expires_at: DateTime<Utc>,
}

/// Where a membership stands on the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Placed,
    Offered(Offer),
    /// In line; 1 is the first.
    Waiting {
        position: u32,
    },
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanState {
    pub plan_id: Option<Uuid>,
    pub slug: String,
    pub terms: Option<PlanTerms>,
    pub retired: bool,
    /// Membership -> member, for each place taken.
    pub placed: BTreeMap<Uuid, Uuid>,
    pub offers: BTreeMap<Uuid, Offer>,
    /// (membership, member), first in line first.
    pub waiting: Vec<(Uuid, Uuid)>,
}

impl PlanState {
    pub fn exists(&self) -> bool {
        self.plan_id.is_some()
    }

    /// Places nobody holds and nobody is offered; `None` when the plan has no capacity.
    pub fn free_places(&self) -> Option<u32> {
        let capacity = self.terms.as_ref()?.capacity?;
        let used = self.placed.len() + self.offers.len();
        Some(capacity.saturating_sub(u32::try_from(used).unwrap_or(u32::MAX)))
    }

    pub fn standing(&self, membership_id: Uuid) -> Option<Standing> {
        if self.placed.contains_key(&membership_id) {
            return Some(Standing::Placed);
        }
        if let Some(offer) = self.offers.get(&membership_id) {
            return Some(Standing::Offered(*offer));
        }
        let index = self.waiting.iter().position(|(m, _)| *m == membership_id)?;
        Some(Standing::Waiting {
            position: u32::try_from(index + 1).unwrap_or(u32::MAX),
        })
    }

    /// The member's live entry on the plan (a place, an offer or a spot in line), if any.
    pub fn entry_of(&self, member_id: Uuid) -> Option<Uuid> {
        let placed = self.placed.iter().find(|(_, m)| **m == member_id);
        let offered = self.offers.iter().find(|(_, o)| o.member_id == member_id);
        let waiting = self.waiting.iter().find(|(_, m)| *m == member_id);
        placed
            .map(|(id, _)| *id)
            .or(offered.map(|(id, _)| *id))
            .or(waiting.map(|(id, _)| *id))
    }
}

pub(super) fn evolve(mut state: PlanState, event: &PlanEvent) -> PlanState {
    match event {
        PlanEvent::Defined(e) => {
            state.plan_id = Some(e.plan_id);
            state.slug.clone_from(&e.slug);
            state.terms = Some(e.terms.clone());
        }
        PlanEvent::Changed(e) => state.terms = Some(e.terms.clone()),
        PlanEvent::Retired(_) => state.retired = true,
        PlanEvent::PlaceTaken(e) => {
            state.placed.insert(e.membership_id, e.member_id);
        }
        PlanEvent::Waitlisted(e) => state.waiting.push((e.membership_id, e.member_id)),
        PlanEvent::PlaceReleased(e) => {
            state.placed.remove(&e.membership_id);
        }
        PlanEvent::WaitlistLeft(e) => state.waiting.retain(|(m, _)| *m != e.membership_id),
        PlanEvent::PlaceOffered(e) => {
            state.waiting.retain(|(m, _)| *m != e.membership_id);
            state.offers.insert(
                e.membership_id,
                Offer {
                    member_id: e.member_id,
                    expires_at: e.expires_at,
                },
            );
        }
        PlanEvent::OfferClaimed(e) => {
            if let Some(offer) = state.offers.remove(&e.membership_id) {
                state.placed.insert(e.membership_id, offer.member_id);
            }
        }
        PlanEvent::OfferLapsed(e) => {
            state.offers.remove(&e.membership_id);
        }
    }
    state
}
