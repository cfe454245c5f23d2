//! A member folded from its stream, and how each event changes it.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::event::{MemberEvent, MemberPersonal, MemberProfileChanges};

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
}

pub(super) fn evolve(mut state: MemberState, event: &MemberEvent) -> MemberState {
    match event {
        MemberEvent::Registered(e) => {
            state.member_id = Some(e.member_id);
            state.status = MemberStatus::PendingConfirmation;
            state.personal = e.personal.clone();
            state.registered_at = Some(e.registered_at);
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

/// Erasure keeps only what is not personal: the id (never reused) and the status.
fn erase(state: &mut MemberState) {
    state.status = MemberStatus::Erased;
    state.personal = None;
    state.visibility = Visibility::default();
    state.email_verified = false;
}
