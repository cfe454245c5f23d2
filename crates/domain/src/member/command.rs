//! Commands addressed to a member. Each variant wraps its own struct so that every command has
//! a JSON Schema of its own under `schemas/commands/`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Visibility;

/// Everything a member's stream accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", content = "data")]
pub enum MemberCommand {
    #[serde(rename = "RegisterMember")]
    Register(RegisterMember),
    #[serde(rename = "ConfirmMemberEmail")]
    ConfirmEmail(ConfirmMemberEmail),
    #[serde(rename = "EditMemberProfile")]
    EditProfile(EditMemberProfile),
    #[serde(rename = "SuspendMember")]
    Suspend(SuspendMember),
    #[serde(rename = "ReactivateMember")]
    Reactivate(ReactivateMember),
    #[serde(rename = "RequestMemberErasure")]
    RequestErasure(RequestMemberErasure),
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
}

/// Marks the email as verified. The token check (single use, expiry) happens before this
/// command is sent, because tokens are not part of the member's stream.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ConfirmMemberEmail {}

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
