//! The plan aggregate: a membership level with its prices, an optional capacity of places
//! with a waiting list, an optional seat limit for organizations, and the content it grants.
//! Streams are `plan-<uuid>`, the id derived from the slug ([`plan_id`]).
//!
//! The plan's stream serialises everything about its places, so positions in line are exact
//! under concurrency. A freed place is offered to the first in line for the plan's claim window
//! (48 hours unless defined otherwise); unclaimed, it goes to the next. A member has one live
//! entry per plan (a place, an offer or a spot in line).

mod command;
mod decide;
mod event;
mod state;

pub use command::{
    ClaimPlanOffer, DefinePlan, ExpirePlanOffers, JoinPlan, PlanCommand, ReleasePlanPlace,
    RetirePlan,
};
pub use decide::{DEFAULT_CLAIM_WINDOW_HOURS, plan_id};
pub use event::{
    Interval, PlanChanged, PlanDefined, PlanEvent, PlanOfferClaimed, PlanOfferLapsed,
    PlanPlaceOffered, PlanPlaceReleased, PlanPlaceTaken, PlanRetired, PlanTerms, PlanWaitlistLeft,
    PlanWaitlisted, Price,
};
pub use state::{Offer, PlanState, Standing};

crate::aggregate! {
    /// The plan aggregate.
    pub struct Plan: "plan", PlanState, PlanCommand, PlanEvent,
        decide::decide, state::evolve
}
