//! A member folded from its stream, and how each event changes it.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::event::{MemberEvent, MemberPersonal, MemberProfileChanges, MemberVerificationIssued};

/// Where a member is in its lifecycle. Serialised in snake_case (`pending_confirmation`), the
/// words of the HTTP contract.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MemberStatus {
    /// No stream yet.
    #[default]
    Unregistered,
    PendingConfirmation,
    Active,
    Suspended,
    Erased,
}

impl MemberStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unregistered => "unregistered",
            Self::PendingConfirmation => "pending_confirmation",
            Self::Active => "active",
            Self::Suspended => "suspended",
            Self::Erased => "erased",
        }
    }
}

/// Who may see a profile. Private and unsearchable unless the member says otherwise.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct Visibility {
    pub public: bool,
    pub searchable: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberState {
    /// `None` until registered.
    pub member_id: Option<Uuid>,
    pub status: MemberStatus,
    pub email_verified: bool,
    pub visibility: Visibility,
    /// `None` before registration, after erasure, and whenever the store could not unseal the
    /// data (the key was destroyed): readers show such a member as erased, never crash.
    pub personal: Option<MemberPersonal>,
    pub registered_at: Option<DateTime<Utc>>,
    /// Why the member is suspended, while they are.
    pub suspension_reason: Option<String>,
    /// The newest verification token (kept after confirmation, which used it up: the member's
    /// status says so), until erasure.
    pub verification: Option<PendingVerification>,
    /// When the most recent tokens were issued, oldest first (at most
    /// [`RECENT_ISSUES`]): the resend rate limit counts them.
    pub recent_issues: Vec<DateTime<Utc>>,
    /// The member who referred them.
    pub referred_by: Option<Uuid>,
    /// Members they referred whose first payment earned them a reward.
    pub referrals_rewarded: std::collections::BTreeSet<Uuid>,
}

/// How many issue times [`MemberState::recent_issues`] keeps.
pub const RECENT_ISSUES: usize = 8;

/// The member's newest verification token, by hash, and what became of its mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingVerification {
    pub nonce: String,
    pub token_hash: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub mail: MailOutcome,
}

/// What is known of the verification mail of the newest token.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MailOutcome {
    #[default]
    Pending,
    Sent,
    Failed,
}

pub(super) fn evolve(mut state: MemberState, event: &MemberEvent) -> MemberState {
    match event {
        MemberEvent::Registered(e) => {
            state.member_id = Some(e.member_id);
            state.status = MemberStatus::PendingConfirmation;
            state.personal = e.personal.clone();
            state.registered_at = Some(e.registered_at);
            state.referred_by = e.referred_by;
        }
        MemberEvent::ReferralRewarded(e) => {
            state.referrals_rewarded.insert(e.referred_member_id);
        }
        MemberEvent::EmailConfirmed(_) => {
            state.email_verified = true;
            state.status = MemberStatus::Active;
        }
        MemberEvent::ProfileEdited(e) => {
            if let (Some(personal), Some(changes)) = (state.personal.as_mut(), &e.personal) {
                apply_changes(personal, changes);
            }
            if let Some(visibility) = e.visibility {
                state.visibility = visibility;
            }
        }
        MemberEvent::Suspended(e) => {
            state.status = MemberStatus::Suspended;
            state.suspension_reason = Some(e.reason.clone());
        }
        MemberEvent::Reactivated(_) => {
            state.status = reactivated_status(state.email_verified);
            state.suspension_reason = None;
        }
        MemberEvent::ErasureRequested(_) => erase(&mut state),
        MemberEvent::VerificationIssued(e) => issue(&mut state, e),
        MemberEvent::VerificationEmailSent(e) => {
            mail_outcome(&mut state, &e.nonce, MailOutcome::Sent)
        }
        MemberEvent::VerificationEmailFailed(e) => {
            mail_outcome(&mut state, &e.nonce, MailOutcome::Failed);
        }
    }
    state
}

/// A suspended member goes back to where they were: active only with a verified email, so a
/// suspension can never be used to skip the double opt-in.
pub(super) fn reactivated_status(email_verified: bool) -> MemberStatus {
    if email_verified {
        MemberStatus::Active
    } else {
        MemberStatus::PendingConfirmation
    }
}

fn apply_changes(personal: &mut MemberPersonal, changes: &MemberProfileChanges) {
    if let Some(name) = &changes.name {
        personal.name.clone_from(name);
    }
    if let Some(fields) = &changes.fields {
        personal.fields.clone_from(fields);
    }
    if let Some(company) = &changes.company {
        personal.company = non_empty(company);
    }
    if let Some(location) = &changes.location {
        personal.location = non_empty(location);
    }
}

fn non_empty(value: &str) -> Option<String> {
    (!value.is_empty()).then(|| value.to_owned())
}

fn issue(state: &mut MemberState, e: &MemberVerificationIssued) {
    state.verification = Some(PendingVerification {
        nonce: e.nonce.clone(),
        token_hash: e.token_hash.clone(),
        issued_at: e.issued_at,
        expires_at: e.expires_at,
        mail: MailOutcome::Pending,
    });
    state.recent_issues.push(e.issued_at);
    if state.recent_issues.len() > RECENT_ISSUES {
        state.recent_issues.remove(0);
    }
}

/// Only the newest token's mail is tracked; a report about an older one changes nothing.
fn mail_outcome(state: &mut MemberState, nonce: &str, outcome: MailOutcome) {
    if let Some(pending) = state.verification.as_mut().filter(|v| v.nonce == nonce)
        && pending.mail != MailOutcome::Sent
    {
        pending.mail = outcome;
    }
}

/// Erasure keeps only what is not personal: the id (never reused) and the status.
fn erase(state: &mut MemberState) {
    state.status = MemberStatus::Erased;
    state.personal = None;
    state.visibility = Visibility::default();
    state.email_verified = false;
    state.verification = None;
}
