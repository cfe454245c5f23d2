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
    RequestMemberErasure, RewardMemberReferral, SuspendMember, VerificationTicket,
};
pub use event::{
    MailFailure, MailFailureKind, MemberEmailConfirmed, MemberErasureRequested, MemberEvent,
    MemberPersonal, MemberProfileChanges, MemberProfileEdited, MemberReactivated,
    MemberReferralRewarded, MemberRegistered, MemberSuspended, MemberVerificationEmailFailed,
    MemberVerificationEmailSent, MemberVerificationIssued,
};
pub use state::{MailOutcome, MemberState, MemberStatus, PendingVerification, Visibility};
pub use verification::{RESEND_BURST, RESEND_INTERVAL, RESEND_WINDOW};

crate::aggregate! {
    /// The member aggregate. It knows nothing of other members: "one account per email" is the
    /// application's reservation, not a rule this stream can check.
    pub struct Member: "member", MemberState, MemberCommand, MemberEvent,
        decide::decide, state::evolve
}
