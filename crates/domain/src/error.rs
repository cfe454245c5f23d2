//! Business rejections. Storage and transport failures live in other crates' error types, so a
//! `DomainError` always means "the rules said no" and maps to a 4xx answer.

use thiserror::Error;
use uuid::Uuid;

/// Why a command was rejected. [`DomainError::code`] is the stable slug the API puts in the
/// problem `type`; the variants' messages are for people and may change. [`ErrorKind`] names a
/// variant without its details, for tests that say which rule refused
/// (`then_err(ErrorKind::SeatLimitReached)`).
#[derive(Debug, Clone, PartialEq, Eq, Error, strum::EnumDiscriminants)]
#[strum_discriminants(name(ErrorKind), derive(Hash))]
pub enum DomainError {
    /// A command field failed validation.
    #[error("invalid {field}: {reason}")]
    InvalidInput { field: String, reason: String },

    /// The addressed aggregate (or a thing inside it, like a group or a grant) does not exist.
    #[error("{what} not found")]
    NotFound { what: String },

    /// Creating something that exists already: registering twice, defining a role twice.
    #[error("{what} already exists")]
    AlreadyExists { what: String },

    /// The command does not fit the aggregate's current lifecycle state.
    #[error("{message}")]
    InvalidState { message: String },

    /// The acting member lacks the permission the command needs.
    #[error("forbidden: requires permission {permission}")]
    Forbidden { permission: String },

    /// The acting member may not do this at all (it is not about a catalog permission):
    /// acting on another member's record, or a command only a trusted caller may send.
    #[error("forbidden: {reason}")]
    NotAllowed { reason: String },

    /// The decision would put more members in seats than the organization's plan allows.
    #[error("seat limit of {limit} reached")]
    SeatLimitReached { limit: u32 },

    /// The decision would leave the organization without an owner.
    #[error("an organization must keep at least one owner")]
    LastOwner,

    /// The member already belongs to the organization.
    #[error("member {member_id} is already a member of the organization")]
    AlreadyMember { member_id: Uuid },

    /// The member does not belong to the organization.
    #[error("member {member_id} is not a member of the organization")]
    NotAMember { member_id: Uuid },

    /// Neither a built-in role nor one defined in the organization.
    #[error("unknown role {role}")]
    UnknownRole { role: String },

    /// A well-formed permission that is not in the catalog.
    #[error("unknown permission {permission}")]
    UnknownPermission { permission: String },

    /// A verification token that is not the member's newest, was used, or has expired.
    #[error("invalid token: {reason}")]
    InvalidToken { reason: String },

    /// An access code that is unknown, for another plan, used up or expired.
    #[error("invalid access code: {reason}")]
    InvalidAccessCode { reason: String },

    /// A refund larger than what remains: captured minus refunded minus refunds pending.
    #[error("refund of {requested} exceeds the {refundable} that may still be refunded")]
    RefundExceedsCaptured { requested: u64, refundable: u64 },

    /// The refund window closed; only an operator, with a reason, may refund now.
    #[error("the refund window closed at {closed_at}")]
    RefundWindowClosed {
        closed_at: chrono::DateTime<chrono::Utc>,
    },

    /// Asked too often; the same request may succeed after `retry_after_seconds`.
    #[error("too many requests; retry in {retry_after_seconds} s")]
    RateLimited { retry_after_seconds: u64 },
}

impl DomainError {
    /// Which rule refused, without the details.
    pub fn kind(&self) -> ErrorKind {
        self.into()
    }

    /// The stable slug of this rejection, used as the HTTP problem `type`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidInput { .. } => "invalid-input",
            Self::NotFound { .. } => "not-found",
            Self::AlreadyExists { .. } => "already-exists",
            Self::InvalidState { .. } => "invalid-state",
            Self::Forbidden { .. } | Self::NotAllowed { .. } => "forbidden",
            Self::SeatLimitReached { .. } => "seat-limit-reached",
            Self::LastOwner => "last-owner",
            Self::AlreadyMember { .. } => "already-member",
            Self::NotAMember { .. } => "not-a-member",
            Self::UnknownRole { .. } => "unknown-role",
            Self::UnknownPermission { .. } => "unknown-permission",
            Self::InvalidToken { .. } => "invalid-token",
            Self::InvalidAccessCode { .. } => "invalid-access-code",
            Self::RateLimited { .. } => "rate-limited",
            Self::RefundExceedsCaptured { .. } => "refund-exceeds-captured",
            Self::RefundWindowClosed { .. } => "refund-window-closed",
        }
    }

    pub(crate) fn invalid(field: &str, reason: impl Into<String>) -> Self {
        Self::InvalidInput {
            field: field.to_owned(),
            reason: reason.into(),
        }
    }

    pub(crate) fn not_found(what: impl Into<String>) -> Self {
        Self::NotFound { what: what.into() }
    }

    pub(crate) fn already_exists(what: impl Into<String>) -> Self {
        Self::AlreadyExists { what: what.into() }
    }

    pub(crate) fn invalid_state(message: impl Into<String>) -> Self {
        Self::InvalidState {
            message: message.into(),
        }
    }

    pub(crate) fn forbidden(permission: &str) -> Self {
        Self::Forbidden {
            permission: permission.to_owned(),
        }
    }
}
