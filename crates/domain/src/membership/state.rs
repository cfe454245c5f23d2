//! A membership folded from its events.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::command::JoinStanding;
use super::event::MembershipEvent;
use crate::plan::Price;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MembershipStatus {
    #[default]
    Unknown,
    /// Queued for a place (or offered one, not yet claimed).
    Waitlisted,
    /// Placed; the first period's payment is running.
    PendingPayment,
    Active,
    /// A renewal charge was declined; re-attempts run; access stays.
    PastDue,
    /// The payment failed for good; no access.
    Lapsed,
    Cancelled,
}

impl MembershipStatus {
    /// Every status a membership reads as once it exists.
    pub const ALL: [MembershipStatus; 6] = [
        Self::Waitlisted,
        Self::PendingPayment,
        Self::Active,
        Self::PastDue,
        Self::Lapsed,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Waitlisted => "waitlisted",
            Self::PendingPayment => "pending_payment",
            Self::Active => "active",
            Self::PastDue => "past_due",
            Self::Lapsed => "lapsed",
            Self::Cancelled => "cancelled",
        }
    }

    /// Over for good: it holds no place and grants nothing.
    pub fn is_ended(self) -> bool {
        matches!(self, Self::Lapsed | Self::Cancelled)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MembershipState {
    pub membership_id: Option<Uuid>,
    pub member_id: Option<Uuid>,
    pub plan_id: Option<Uuid>,
    pub plan_slug: String,
    pub price: Option<Price>,
    pub content_tags: Vec<String>,
    pub status: MembershipStatus,
    /// Position in line when it joined (the plan's stream has the current one).
    pub joined_at_position: Option<u32>,
    pub offer_expires_at: Option<DateTime<Utc>>,
    pub period_start: Option<DateTime<Utc>>,
    pub period_end: Option<DateTime<Utc>>,
    /// The payment running for the first period or the next one.
    pub pending_payment: Option<Uuid>,
    /// The gateway's payment method renewals are charged to.
    pub payment_method: Option<String>,
    /// When a scheduled cancellation takes effect.
    pub cancels_at: Option<DateTime<Utc>>,
    /// The reminder sent last: the end of the period it was about, and how many days ahead.
    pub reminded: Option<(DateTime<Utc>, u32)>,
    /// When the member joined (the membership was opened).
    pub opened_at: Option<DateTime<Utc>>,
    /// When it ended (lapsed or cancelled).
    pub ended_at: Option<DateTime<Utc>>,
}

impl MembershipState {
    pub fn exists(&self) -> bool {
        self.membership_id.is_some()
    }

    /// Whether the membership grants its content at `at` ([`grants_access`]).
    pub fn grants_access(&self, at: DateTime<Utc>) -> bool {
        grants_access(self.status, self.period_start, self.period_end, at)
    }
}

/// Whether a membership in `status` with this period grants its content at `at`: active or
/// past due (re-attempts running), inside a period that has begun; past due keeps access after
/// the period's end until the payment fails for good.
pub fn grants_access(
    status: MembershipStatus,
    period_start: Option<DateTime<Utc>>,
    period_end: Option<DateTime<Utc>>,
    at: DateTime<Utc>,
) -> bool {
    matches!(status, MembershipStatus::Active | MembershipStatus::PastDue)
        && period_start.is_some_and(|start| start <= at)
        && period_end.is_none_or(|end| at < end || status == MembershipStatus::PastDue)
}

pub(super) fn evolve(mut state: MembershipState, event: &MembershipEvent) -> MembershipState {
    match event {
        MembershipEvent::Opened(e) => {
            state.membership_id = Some(e.membership_id);
            state.member_id = Some(e.member_id);
            state.plan_id = Some(e.plan_id);
            state.plan_slug.clone_from(&e.plan_slug);
            state.price.clone_from(&e.price);
            state.content_tags.clone_from(&e.content_tags);
            state.pending_payment = e.payment_id;
            state.payment_method.clone_from(&e.payment_method);
            state.opened_at = Some(e.opened_at);
            (state.status, state.joined_at_position) = match e.standing {
                JoinStanding::Placed => (MembershipStatus::PendingPayment, None),
                JoinStanding::Waitlisted { position } => {
                    (MembershipStatus::Waitlisted, Some(position))
                }
            };
        }
        MembershipEvent::Offered(e) => state.offer_expires_at = Some(e.expires_at),
        MembershipEvent::Placed(e) => {
            state.status = MembershipStatus::PendingPayment;
            state.pending_payment = e.payment_id;
            state.offer_expires_at = None;
            if e.payment_method.is_some() {
                state.payment_method.clone_from(&e.payment_method);
            }
        }
        MembershipEvent::Activated(e) => {
            state.status = MembershipStatus::Active;
            state.period_start = Some(e.period_start);
            state.period_end = e.period_end;
            state.pending_payment = None;
            state.offer_expires_at = None;
        }
        MembershipEvent::RenewalRequested(e) => state.pending_payment = Some(e.payment_id),
        MembershipEvent::Renewed(e) => {
            state.status = MembershipStatus::Active;
            state.period_start = Some(e.period_start);
            state.period_end = e.period_end;
            state.pending_payment = None;
        }
        MembershipEvent::PastDue(_) => state.status = MembershipStatus::PastDue,
        MembershipEvent::Lapsed(e) => {
            state.status = MembershipStatus::Lapsed;
            state.pending_payment = None;
            state.ended_at = Some(e.at);
        }
        MembershipEvent::CancellationScheduled(e) => state.cancels_at = Some(e.effective_at),
        MembershipEvent::Reminded(e) => state.reminded = Some((e.period_end, e.days_before)),
        MembershipEvent::PaymentMethodChanged(e) => {
            state.payment_method = Some(e.payment_method.clone());
        }
        MembershipEvent::Cancelled(e) => {
            state.status = MembershipStatus::Cancelled;
            state.pending_payment = None;
            state.offer_expires_at = None;
            state.ended_at = Some(e.at);
        }
    }
    state
}
