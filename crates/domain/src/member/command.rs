//! Commands addressed to a member. Each variant wraps its own struct so that every command has
//! a JSON Schema of its own under `schemas/commands/`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{MailFailure, Visibility};

crate::tagged_enum! {
    /// Everything a member's stream accepts.
    pub enum MemberCommand {
        Register(RegisterMember) = "RegisterMember",
        ConfirmEmail(ConfirmMemberEmail) = "ConfirmMemberEmail",
        EditProfile(EditMemberProfile) = "EditMemberProfile",
        Suspend(SuspendMember) = "SuspendMember",
        Reactivate(ReactivateMember) = "ReactivateMember",
        RequestErasure(RequestMemberErasure) = "RequestMemberErasure",
        IssueVerification(IssueMemberVerification) = "IssueMemberVerification",
        RecordVerificationEmailSent(RecordVerificationEmailSent) = "RecordVerificationEmailSent",
        RecordVerificationEmailFailed(RecordVerificationEmailFailed) = "RecordVerificationEmailFailed",
        RewardReferral(RewardMemberReferral) = "RewardMemberReferral",
    }
}

/// Registers a new member from the registration form. The caller picks the id (a UUIDv7) so a
/// retried request lands on the same stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RegisterMember {
    pub member_id: Uuid,
    /// Trimmed and lowercased before it is validated and stored.
    pub email: String,
    pub name: String,
    /// Custom form fields: at most 50, keys of `[a-z0-9_]`.
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub location: Option<String>,
    /// The first verification token, issued with the registration (see
    /// [`VerificationTicket`]). Without it the member waits for an
    /// [`IssueMemberVerification`].
    #[serde(default)]
    pub verification: Option<VerificationTicket>,
    /// The member whose referral code the newcomer registered with (the application resolves
    /// the code).
    #[serde(default)]
    pub referred_by: Option<Uuid>,
}

/// Records the referrer's reward for a member they referred, on that member's first
/// successful payment; once per referred member. Sent by a worker, addressed to the referrer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RewardMemberReferral {
    pub referred_member_id: Uuid,
    pub payment_id: Uuid,
}

/// A verification token to issue, as the application prepared it. The token itself is never
/// part of a command or an event: the mailer derives it from `nonce` with a key kept outside the
/// database, and the member's stream keeps only its hash, which confirmations are checked
/// against. Randomness and keys are inputs of the domain, so the application makes both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct VerificationTicket {
    /// Random, URL-safe base64, 16 to 64 characters.
    pub nonce: String,
    /// SHA-256 of the token, URL-safe base64 without padding (43 characters).
    pub token_hash: String,
    /// How long the token works, counted from the decision: 1 s to 30 days.
    pub ttl_seconds: u32,
}

/// Confirms the email with the token from the verification mail, given as its hash. The
/// token must be the member's newest one, unused and unexpired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ConfirmMemberEmail {
    /// SHA-256 of the presented token, URL-safe base64 without padding.
    pub token_hash: String,
}

/// Issues a new verification token (a resend); the older ones stop working. Rate-limited per
/// member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct IssueMemberVerification {
    pub ticket: VerificationTicket,
}

/// A worker reports that the verification mail for the token issued with `nonce` was handed
/// to the mail server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RecordVerificationEmailSent {
    pub nonce: String,
}

/// A worker reports that the verification mail for `nonce` could not be delivered: a permanent
/// refusal, or its last attempt failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RecordVerificationEmailFailed {
    pub nonce: String,
    pub failure: MailFailure,
    /// Attempts made, the failed one included.
    pub attempts: u32,
}

/// Changes the profile. `None` leaves a part unchanged; for `company` and `location` an empty
/// string clears the value. `fields`, when given, replaces all custom fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EditMemberProfile {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub fields: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub visibility: Option<Visibility>,
}

/// Suspends an active or pending member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SuspendMember {
    /// Why, in operator words. Stored in clear and kept after erasure, so it must describe the
    /// conduct, never the person (see `MemberSuspended`).
    pub reason: String,
}

/// Lifts a suspension.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ReactivateMember {}

/// Erases the member: the store destroys the member's data key, so every `personal` field in
/// the stream becomes unreadable, and the member id is never used again.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RequestMemberErasure {}
