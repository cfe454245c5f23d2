//! Facts about a plan: its definition, and who holds, waits for or is offered its places.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::DomainEvent;

crate::tagged_enum! {
    pub enum PlanEvent {
        Defined(PlanDefined) = "PlanDefined.v1",
        Changed(PlanChanged) = "PlanChanged.v1",
        Retired(PlanRetired) = "PlanRetired.v1",
        PlaceTaken(PlanPlaceTaken) = "PlanPlaceTaken.v1",
        Waitlisted(PlanWaitlisted) = "PlanWaitlisted.v1",
        PlaceReleased(PlanPlaceReleased) = "PlanPlaceReleased.v1",
        WaitlistLeft(PlanWaitlistLeft) = "PlanWaitlistLeft.v1",
        PlaceOffered(PlanPlaceOffered) = "PlanPlaceOffered.v1",
        OfferClaimed(PlanOfferClaimed) = "PlanOfferClaimed.v1",
        OfferLapsed(PlanOfferLapsed) = "PlanOfferLapsed.v1",
    }
}

impl DomainEvent for PlanEvent {}

/// How often a price is charged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Interval {
    Month,
    Year,
    Once,
    /// No charge (the amount is 0).
    Free,
}

impl Interval {
    /// What `amount` charged at this interval comes to per month, in minor units, rounded half
    /// up: a yearly price is a twelfth of it; a one-off or free price recurs not at all.
    pub fn monthly(self, amount: u64) -> u64 {
        match self {
            Self::Month => amount,
            Self::Year => amount / 12 + u64::from(amount % 12 >= 6),
            Self::Once | Self::Free => 0,
        }
    }
}

/// A price in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Price {
    /// ISO 4217.
    pub currency: String,
    /// In minor units; 0 for a free plan.
    pub amount: u64,
    pub interval: Interval,
}

/// A plan's terms, as defined or changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PlanTerms {
    pub name: String,
    pub prices: Vec<Price>,
    pub capacity: Option<u32>,
    pub seat_limit: Option<u32>,
    pub content_tags: Vec<String>,
    pub claim_window_hours: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PlanDefined {
    pub plan_id: Uuid,
    pub slug: String,
    pub terms: PlanTerms,
    pub defined_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PlanChanged {
    pub plan_id: Uuid,
    pub terms: PlanTerms,
    pub changed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PlanRetired {
    pub plan_id: Uuid,
    pub retired_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PlanPlaceTaken {
    pub plan_id: Uuid,
    pub membership_id: Uuid,
    pub member_id: Uuid,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PlanWaitlisted {
    pub plan_id: Uuid,
    pub membership_id: Uuid,
    pub member_id: Uuid,
    /// 1 for the first in line, when it joined.
    pub position: u32,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PlanPlaceReleased {
    pub plan_id: Uuid,
    pub membership_id: Uuid,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PlanWaitlistLeft {
    pub plan_id: Uuid,
    pub membership_id: Uuid,
    pub at: DateTime<Utc>,
}

/// A freed place held for the first in line until `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PlanPlaceOffered {
    pub plan_id: Uuid,
    pub membership_id: Uuid,
    pub member_id: Uuid,
    pub expires_at: DateTime<Utc>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PlanOfferClaimed {
    pub plan_id: Uuid,
    pub membership_id: Uuid,
    pub at: DateTime<Utc>,
}

/// An offer not claimed within its window (or declined): the membership leaves the line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PlanOfferLapsed {
    pub plan_id: Uuid,
    pub membership_id: Uuid,
    pub at: DateTime<Utc>,
}
