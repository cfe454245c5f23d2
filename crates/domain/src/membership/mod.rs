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
    ActivateMembership, CancelMembership, EndMembershipPeriod, JoinStanding, LapseMembership,
    MarkMembershipPastDue, MembershipCommand, OfferMembershipPlace, OpenMembership,
    RecordMembershipRenewal, RequestMembershipRenewal,
};
pub use decide::{needs_payment, period_end};
pub use event::{
    MembershipActivated, MembershipCancellationScheduled, MembershipCancelled, MembershipEvent,
    MembershipLapsed, MembershipOffered, MembershipOpened, MembershipPastDue,
    MembershipRenewalRequested, MembershipRenewed,
};
pub use state::{MembershipState, MembershipStatus};

use crate::{Aggregate, Ctx, DomainError};

/// The membership aggregate.
#[derive(Debug, Clone, Copy, Default)]
pub struct Membership;

impl Aggregate for Membership {
    const STREAM_PREFIX: &'static str = "membership";
    type State = MembershipState;
    type Command = MembershipCommand;
    type Event = MembershipEvent;

    fn decide(
        state: &MembershipState,
        command: &MembershipCommand,
        ctx: &Ctx,
    ) -> Result<Vec<MembershipEvent>, DomainError> {
        decide::decide(state, command, ctx)
    }

    fn evolve(state: MembershipState, event: &MembershipEvent) -> MembershipState {
        state::evolve(state, event)
    }
}
