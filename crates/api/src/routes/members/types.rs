//! The shapes of the member routes' bodies and answers.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use roster_domain::{MemberState, MemberStatus};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
/// A member's lifecycle status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MemberStatusDto {
    PendingConfirmation,
    Active,
    Suspended,
    Erased,
}

impl MemberStatusDto {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PendingConfirmation => "pending_confirmation",
            Self::Active => "active",
            Self::Suspended => "suspended",
            Self::Erased => "erased",
        }
    }

    pub(crate) fn of(status: MemberStatus) -> Option<Self> {
        match status {
            MemberStatus::Unregistered => None,
            MemberStatus::PendingConfirmation => Some(Self::PendingConfirmation),
            MemberStatus::Active => Some(Self::Active),
            MemberStatus::Suspended => Some(Self::Suspended),
            MemberStatus::Erased => Some(Self::Erased),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    pub email: String,
    pub name: String,
    /// Custom form fields: at most 50, keys of `[a-z0-9_]`.
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub location: Option<String>,
    /// Another member's referral code: they are recorded as the referrer, and rewarded on
    /// this member's first successful payment. A code nobody has is 422.
    #[serde(default)]
    pub referral_code: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmRequest {
    /// The token from the verification mail's link.
    pub token: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisibilityDto {
    pub public: bool,
    pub searchable: bool,
}

/// A partial profile change: absent parts stay; an empty `company`/`location` clears it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditRequest {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub fields: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub visibility: Option<VisibilityDto>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuspendRequest {
    /// Describes the conduct, never the person: it is kept after erasure.
    pub reason: String,
}

/// The answer to a member command.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MemberWritten {
    pub member_id: Uuid,
    pub status: MemberStatusDto,
    /// Global log position of the write (read-your-writes).
    pub position: u64,
}

/// A member. Personal fields are `null` once the member is erased.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MemberView {
    pub member_id: Uuid,
    pub status: MemberStatusDto,
    pub email_verified: bool,
    pub email: Option<String>,
    pub name: Option<String>,
    pub company: Option<String>,
    pub location: Option<String>,
    pub fields: BTreeMap<String, String>,
    pub visibility: VisibilityDto,
    pub registered_at: Option<DateTime<Utc>>,
    pub suspension_reason: Option<String>,
    /// Who referred them and whom they were rewarded for: read from the member's stream, so
    /// a single read has it and lists leave it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referral: Option<ReferralView>,
    /// Position of the member's last event.
    pub position: u64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReferralView {
    /// The member who referred them.
    pub referred_by: Option<Uuid>,
    /// Members they referred whose first payment earned them a reward.
    pub rewarded_for: Vec<Uuid>,
}

/// A member's referral code.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReferralCodeView {
    pub member_id: Uuid,
    /// `XXXX-XXXX-XXXX` (Crockford base32; dashes and case do not matter when it is given).
    pub referral_code: String,
}

impl MemberView {
    pub(crate) fn of(member_id: Uuid, state: MemberState, position: u64) -> Option<Self> {
        let status = MemberStatusDto::of(state.status)?;
        let personal = state.personal.unwrap_or_default();
        let erased = state.status == MemberStatus::Erased;
        let keep = |s: String| (!erased).then_some(s);
        Some(Self {
            member_id,
            status,
            email_verified: state.email_verified,
            email: keep(personal.email),
            name: keep(personal.name),
            company: personal.company,
            location: personal.location,
            fields: personal.fields,
            visibility: VisibilityDto {
                public: state.visibility.public,
                searchable: state.visibility.searchable,
            },
            registered_at: state.registered_at,
            suspension_reason: state.suspension_reason,
            referral: Some(ReferralView {
                referred_by: state.referred_by,
                rewarded_for: state.referrals_rewarded.into_iter().collect(),
            }),
            position,
        })
    }
}

#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Header)]
pub struct CommandHeaders {
    /// Replays the first answer to a retried request (same key and body), see the
    /// `idempotency-key-reused` problem.
    #[param(rename = "Idempotency-Key")]
    pub idempotency_key: Option<String>,
    /// The acting member: the domain checks this member's own rights.
    #[param(rename = "X-Roster-Actor")]
    pub actor: Option<Uuid>,
}
