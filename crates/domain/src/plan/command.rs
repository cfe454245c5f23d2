//! Commands addressed to a plan. One struct per command, so each has its own schema.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::event::Price;

crate::tagged_enum! {
    pub enum PlanCommand {
        Define(DefinePlan) = "DefinePlan",
        Retire(RetirePlan) = "RetirePlan",
        Join(JoinPlan) = "JoinPlan",
        Release(ReleasePlanPlace) = "ReleasePlanPlace",
        Claim(ClaimPlanOffer) = "ClaimPlanOffer",
        ExpireOffers(ExpirePlanOffers) = "ExpirePlanOffers",
    }
}

/// Creates the plan, or changes it (a PUT): the terms of memberships already on it stay as they
/// were; a lower capacity keeps the places already taken and refuses new ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DefinePlan {
    /// `[a-z0-9-]`, 1 to 64 characters; the plan's name in URLs and its stream's key.
    pub slug: String,
    pub name: String,
    /// At least one; one per currency.
    pub prices: Vec<Price>,
    /// Live memberships at most (places); `None` is unlimited.
    pub capacity: Option<u32>,
    /// For organization plans: the seat limit an organization on the plan gets.
    pub seat_limit: Option<u32>,
    /// What the plan grants access to (`[a-z0-9_-]`).
    pub content_tags: Vec<String>,
    /// How long a freed place is held for the first in line; `None`: 48 hours.
    pub claim_window_hours: Option<u32>,
}

/// Stops new joins; memberships on the plan stay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RetirePlan {}

/// A membership asks for a place: it takes one if one is free, else it queues.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct JoinPlan {
    pub membership_id: Uuid,
    pub member_id: Uuid,
}

/// A membership gives up its place, its offer or its spot in the queue (cancelled, lapsed,
/// erased, or it left the waiting list). A freed place is offered to the first in line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ReleasePlanPlace {
    pub membership_id: Uuid,
}

/// The first in line takes the place held for them, within the claim window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ClaimPlanOffer {
    pub membership_id: Uuid,
}

/// Offers whose claim window has passed go to the next in line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ExpirePlanOffers {}
