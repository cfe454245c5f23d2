//! The membership aggregate: a member on a plan for a period, with the plan's terms of the
//! moment they joined. Statuses `waitlisted`, `pending_payment`, `active`, `past_due`,
//! `lapsed`, `cancelled`. Streams are `membership-<uuid>`.
//!
//! The plan's stream decides places and the line; a membership follows what the plan decided
//! and what its payments came to.

mod command;
mod decide;
mod event;
mod state;

pub use command::{
    ActivateMembership, CancelMembership, ChangeMembershipPaymentMethod, EndMembershipPeriod,
    JoinStanding, LapseMembership, MarkMembershipPastDue, MembershipCommand, OfferMembershipPlace,
    OpenMembership, PlaceMembership, RecordMembershipReminder, RecordMembershipRenewal,
    RequestMembershipRenewal,
};
pub use decide::{needs_payment, period_end, reminder_due};
pub use event::{
    MembershipActivated, MembershipCancellationScheduled, MembershipCancelled, MembershipEvent,
    MembershipLapsed, MembershipOffered, MembershipOpened, MembershipPastDue,
    MembershipPaymentMethodChanged, MembershipPlaced, MembershipReminded,
    MembershipRenewalRequested, MembershipRenewed,
};
pub use state::{MembershipState, MembershipStatus, grants_access};

crate::aggregate! {
    /// The membership aggregate.
    pub struct Membership: "membership", MembershipState, MembershipCommand, MembershipEvent,
        decide::decide, state::evolve
}
