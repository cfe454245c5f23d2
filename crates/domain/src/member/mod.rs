//! The member aggregate: registration, double opt-in, profile, suspension and erasure.
//! Streams are `member-<uuid>`.

mod command;
mod decide;
mod event;
mod profile;
mod state;

pub use command::{
    ConfirmMemberEmail, EditMemberProfile, MemberCommand, ReactivateMember, RegisterMember,
    RequestMemberErasure, SuspendMember,
};
pub use event::{
    MemberEmailConfirmed, MemberErasureRequested, MemberEvent, MemberPersonal,
    MemberProfileChanges, MemberProfileEdited, MemberReactivated, MemberRegistered,
    MemberSuspended,
};
pub use state::{MemberState, MemberStatus, Visibility};

use crate::{Aggregate, Ctx, DomainError};

/// The member aggregate. It knows nothing of other members: "one account per email" is the
/// application's reservation, not a rule this stream can check.
#[derive(Debug, Clone, Copy, Default)]
pub struct Member;

impl Aggregate for Member {
    const STREAM_PREFIX: &'static str = "member";
    type State = MemberState;
    type Command = MemberCommand;
    type Event = MemberEvent;

    fn decide(
        state: &MemberState,
        command: &MemberCommand,
        ctx: &Ctx,
    ) -> Result<Vec<MemberEvent>, DomainError> {
        decide::decide(state, command, ctx)
    }

    fn evolve(state: MemberState, event: &MemberEvent) -> MemberState {
        state::evolve(state, event)
    }
}
