//! The member aggregate: registration, double opt-in (verification tokens and the reports of
//! their mails), profile, suspension and erasure.
//! Streams are `member-<uuid>`.

mod command;
mod decide;
mod event;
mod profile;
mod state;
mod verification;

pub use command::{
    ConfirmMemberEmail, EditMemberProfile, IssueMemberVerification, MemberCommand,
    ReactivateMember, RecordVerificationEmailFailed, RecordVerificationEmailSent, RegisterMember,
    RequestMemberErasure, SuspendMember, VerificationTicket,
};
pub use event::{
    MailFailure, MailFailureKind, MemberEmailConfirmed, MemberErasureRequested, MemberEvent,
    MemberPersonal, MemberProfileChanges, MemberProfileEdited, MemberReactivated, MemberRegistered,
    MemberSuspended, MemberVerificationEmailFailed, MemberVerificationEmailSent,
    MemberVerificationIssued,
};
pub use state::{MailOutcome, MemberState, MemberStatus, PendingVerification, Visibility};
pub use verification::{RESEND_BURST, RESEND_INTERVAL, RESEND_WINDOW};

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
