//! Commands addressed to a membership. One struct per command, so each has its own schema.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::plan::Price;

crate::tagged_enum! {
    pub enum MembershipCommand {
        Open(OpenMembership) = "OpenMembership",
        Offer(OfferMembershipPlace) = "OfferMembershipPlace",
        Place(PlaceMembership) = "PlaceMembership",
        Activate(ActivateMembership) = "ActivateMembership",
        RequestRenewal(RequestMembershipRenewal) = "RequestMembershipRenewal",
        RecordRenewal(RecordMembershipRenewal) = "RecordMembershipRenewal",
        MarkPastDue(MarkMembershipPastDue) = "MarkMembershipPastDue",
        Lapse(LapseMembership) = "LapseMembership",
        Cancel(CancelMembership) = "CancelMembership",
        ChangeMethod(ChangeMembershipPaymentMethod) = "ChangeMembershipPaymentMethod",
        RecordReminder(RecordMembershipReminder) = "RecordMembershipReminder",
        EndPeriod(EndMembershipPeriod) = "EndMembershipPeriod",
    }
}

/// Where the plan put the membership when it joined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum JoinStanding {
    /// It took a place.
    Placed,
    /// It queues at `position` (1 is the first in line).
    Waitlisted { position: u32 },
}

/// Opens a membership after the plan placed or queued it, with the plan's terms of that moment
/// (a later change of the plan never rewrites them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OpenMembership {
    pub membership_id: Uuid,
    pub member_id: Uuid,
    pub plan_id: Uuid,
    pub plan_slug: String,
    /// The price the member pays (in their currency); `None` for a free plan or an access code.
    pub price: Option<Price>,
    pub content_tags: Vec<String>,
    pub standing: JoinStanding,
    /// The payment asked for the first period, when one is due.
    pub payment_id: Option<Uuid>,
    /// The gateway's payment method (`pm_…`) the member pays with: the first period's and the
    /// renewals'.
    #[serde(default)]
    pub payment_method: Option<String>,
    /// The batch of the access code redeemed to join (the code itself is kept nowhere).
    #[serde(default)]
    pub access_code_batch: Option<Uuid>,
}

/// The plan holds a freed place for this membership until `expires_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OfferMembershipPlace {
    pub expires_at: DateTime<Utc>,
}

/// The membership took the place offered to it (it claimed the offer): a paid plan now waits
/// for the first payment, a free one is active at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PlaceMembership {
    /// The payment asked for the first period, when one is due.
    pub payment_id: Option<Uuid>,
    /// A method to pay with instead of the one given when joining.
    pub payment_method: Option<String>,
}

/// The first period starts: its payment succeeded, or it needs none (a free plan, an access
/// code, a claimed offer on a free plan).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ActivateMembership {
    pub payment_id: Option<Uuid>,
}

/// The renewal charge for the next period was asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RequestMembershipRenewal {
    pub payment_id: Uuid,
}

/// The renewal charge succeeded: the next period follows the current one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RecordMembershipRenewal {
    pub payment_id: Uuid,
}

/// The renewal charge was declined; re-attempts run. Access stays meanwhile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MarkMembershipPastDue {
    pub payment_id: Uuid,
}

/// The payment failed for good (every re-attempt declined): access ends at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LapseMembership {
    pub payment_id: Uuid,
}

/// Ends the membership now, or at the end of the period already paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CancelMembership {
    pub at_period_end: bool,
}

/// The member pays with another method from now on (renewals; a re-attempt running is
/// switched by the use case).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ChangeMembershipPaymentMethod {
    pub payment_method: String,
}

/// The member was reminded `days_before` days ahead that the period ending at `period_end`
/// ends (a renewal is coming, or the membership ends with it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RecordMembershipReminder {
    pub period_end: DateTime<Utc>,
    pub days_before: u32,
}

/// Settles a membership whose period is over: a scheduled cancellation takes effect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EndMembershipPeriod {}
