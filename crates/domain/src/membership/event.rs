//! Facts about a membership. No personal data: it names its member by id.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::command::JoinStanding;
use crate::DomainEvent;
use crate::plan::Price;

crate::tagged_enum! {
    pub enum MembershipEvent {
        Opened(MembershipOpened) = "MembershipOpened.v1",
        Offered(MembershipOffered) = "MembershipOffered.v1",
        Placed(MembershipPlaced) = "MembershipPlaced.v1",
        Activated(MembershipActivated) = "MembershipActivated.v1",
        RenewalRequested(MembershipRenewalRequested) = "MembershipRenewalRequested.v1",
        Renewed(MembershipRenewed) = "MembershipRenewed.v1",
        PastDue(MembershipPastDue) = "MembershipPastDue.v1",
        Lapsed(MembershipLapsed) = "MembershipLapsed.v1",
        CancellationScheduled(MembershipCancellationScheduled) = "MembershipCancellationScheduled.v1",
        Cancelled(MembershipCancelled) = "MembershipCancelled.v1",
        PaymentMethodChanged(MembershipPaymentMethodChanged) = "MembershipPaymentMethodChanged.v1",
        Reminded(MembershipReminded) = "MembershipReminded.v1",
    }
}

impl DomainEvent for MembershipEvent {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MembershipOpened {
    pub membership_id: Uuid,
    pub member_id: Uuid,
    pub plan_id: Uuid,
    pub plan_slug: String,
    pub price: Option<Price>,
    pub content_tags: Vec<String>,
    pub standing: JoinStanding,
    pub payment_id: Option<Uuid>,
    #[serde(default)]
    pub payment_method: Option<String>,
    #[serde(default)]
    pub access_code_batch: Option<Uuid>,
    pub opened_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MembershipOffered {
    pub membership_id: Uuid,
    pub expires_at: DateTime<Utc>,
}

/// A waitlisted membership took a place (it claimed its offer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MembershipPlaced {
    pub membership_id: Uuid,
    pub payment_id: Option<Uuid>,
    pub payment_method: Option<String>,
    pub at: DateTime<Utc>,
}

/// A period runs from `period_start` to `period_end` (`None`: no end, for one-off and free
/// plans).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MembershipActivated {
    pub membership_id: Uuid,
    pub payment_id: Option<Uuid>,
    pub period_start: DateTime<Utc>,
    pub period_end: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MembershipRenewalRequested {
    pub membership_id: Uuid,
    pub payment_id: Uuid,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MembershipRenewed {
    pub membership_id: Uuid,
    pub payment_id: Uuid,
    pub period_start: DateTime<Utc>,
    pub period_end: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MembershipPastDue {
    pub membership_id: Uuid,
    pub payment_id: Uuid,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MembershipLapsed {
    pub membership_id: Uuid,
    pub member_id: Uuid,
    pub plan_id: Uuid,
    pub payment_id: Uuid,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MembershipCancellationScheduled {
    pub membership_id: Uuid,
    pub effective_at: DateTime<Utc>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MembershipCancelled {
    pub membership_id: Uuid,
    pub member_id: Uuid,
    pub plan_id: Uuid,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MembershipPaymentMethodChanged {
    pub membership_id: Uuid,
    pub payment_method: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MembershipReminded {
    pub membership_id: Uuid,
    pub period_end: DateTime<Utc>,
    pub days_before: u32,
    pub at: DateTime<Utc>,
}
