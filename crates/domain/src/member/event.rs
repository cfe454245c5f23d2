//! Facts about a member. Personal data lives only in the top-level `personal` field of an event,
//! which the store seals with the member's own key; after erasure the key is gone and the store
//! hands back `personal: null`, so every reader must treat `None` as "unknown, erased".

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Visibility;
use crate::DomainEvent;

crate::tagged_enum! {
    pub enum MemberEvent {
        Registered(MemberRegistered) = "MemberRegistered.v1",
        EmailConfirmed(MemberEmailConfirmed) = "MemberEmailConfirmed.v1",
        ProfileEdited(MemberProfileEdited) = "MemberProfileEdited.v1",
        Suspended(MemberSuspended) = "MemberSuspended.v1",
        Reactivated(MemberReactivated) = "MemberReactivated.v1",
        ErasureRequested(MemberErasureRequested) = "MemberErasureRequested.v1",
        VerificationIssued(MemberVerificationIssued) = "MemberVerificationIssued.v1",
        VerificationEmailSent(MemberVerificationEmailSent) = "MemberVerificationEmailSent.v1",
        VerificationEmailFailed(MemberVerificationEmailFailed) = "MemberVerificationEmailFailed.v1",
        ReferralRewarded(MemberReferralRewarded) = "MemberReferralRewarded.v1",
    }
}

/// The personal data given at registration. Sealed with the member's key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MemberPersonal {
    pub email: String,
    pub name: String,
    pub fields: BTreeMap<String, String>,
    pub company: Option<String>,
    pub location: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MemberRegistered {
    pub member_id: Uuid,
    /// `None` once the member's key is destroyed (crypto-shredding).
    pub personal: Option<MemberPersonal>,
    pub registered_at: DateTime<Utc>,
    /// The member who referred them (by their referral code), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referred_by: Option<Uuid>,
}

/// The member (the referrer) earned a reward: `referred_member_id`, whom they referred, made
/// their first successful payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MemberReferralRewarded {
    pub member_id: Uuid,
    pub referred_member_id: Uuid,
    pub payment_id: Uuid,
    pub rewarded_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MemberEmailConfirmed {
    pub member_id: Uuid,
    pub confirmed_at: DateTime<Utc>,
}

/// The personal part of a profile edit: only what changed. An empty `company` or `location`
/// means the value was cleared; `fields`, when present, replaces all custom fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MemberProfileChanges {
    pub name: Option<String>,
    pub fields: Option<BTreeMap<String, String>>,
    pub company: Option<String>,
    pub location: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MemberProfileEdited {
    pub member_id: Uuid,
    /// `None` when only the visibility changed, or once the member's key is destroyed.
    pub personal: Option<MemberProfileChanges>,
    /// Visibility is a setting, not personal data, so it stays readable after erasure.
    pub visibility: Option<Visibility>,
    pub edited_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MemberSuspended {
    pub member_id: Uuid,
    /// Not personal data: operators describe the conduct ("chargeback fraud"), never the
    /// person. It is stored in clear and survives erasure, which is what the audit trail needs.
    pub reason: String,
    pub suspended_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MemberReactivated {
    pub member_id: Uuid,
    pub reactivated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MemberErasureRequested {
    pub member_id: Uuid,
    pub requested_at: DateTime<Utc>,
}

/// A verification token was issued; older ones stop working. The event holds no usable token:
/// the mailer derives the token from `nonce` with a key that is not in the database, and
/// `token_hash` (SHA-256 of the token) is only good for checking one that is presented.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MemberVerificationIssued {
    pub member_id: Uuid,
    pub nonce: String,
    pub token_hash: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// The verification mail for the token issued with `nonce` was accepted by the mail server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MemberVerificationEmailSent {
    pub member_id: Uuid,
    pub nonce: String,
    pub sent_at: DateTime<Utc>,
}

/// The verification mail for `nonce` could not be delivered, and no more attempts follow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MemberVerificationEmailFailed {
    pub member_id: Uuid,
    pub nonce: String,
    pub failure: MailFailure,
    pub attempts: u32,
    pub failed_at: DateTime<Utc>,
}

/// Why a mail could not be delivered, without the server's words: those may quote the
/// address, and this is stored in clear.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MailFailure {
    pub kind: MailFailureKind,
    /// The SMTP reply code, when the server answered.
    pub smtp_code: Option<u16>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MailFailureKind {
    /// The server refused the mail for good (an SMTP 5xx reply).
    Rejected,
    /// The server kept deferring it (SMTP 4xx) until the last attempt.
    Deferred,
    /// No server could be reached (connection, TLS or timeout) until the last attempt.
    Unreachable,
    /// The server refused Roster's credentials (SMTP 530, 534, 535, 538) until the last
    /// attempt: a configuration to fix, retried meanwhile.
    Unauthorized,
    /// The address or the message could not be put into a mail at all.
    Unsendable,
}

impl MailFailureKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rejected => "rejected",
            Self::Deferred => "deferred",
            Self::Unreachable => "unreachable",
            Self::Unauthorized => "unauthorized",
            Self::Unsendable => "unsendable",
        }
    }
}

impl MemberEvent {
    pub fn member_id(&self) -> Uuid {
        match self {
            Self::Registered(e) => e.member_id,
            Self::EmailConfirmed(e) => e.member_id,
            Self::ProfileEdited(e) => e.member_id,
            Self::Suspended(e) => e.member_id,
            Self::Reactivated(e) => e.member_id,
            Self::ErasureRequested(e) => e.member_id,
            Self::VerificationIssued(e) => e.member_id,
            Self::VerificationEmailSent(e) => e.member_id,
            Self::VerificationEmailFailed(e) => e.member_id,
            Self::ReferralRewarded(e) => e.member_id,
        }
    }
}

impl DomainEvent for MemberEvent {
    fn personal_data_subject(&self) -> Option<Uuid> {
        match self {
            Self::Registered(e) => Some(e.member_id),
            Self::ProfileEdited(e) => Some(e.member_id),
            _ => None,
        }
    }
}
