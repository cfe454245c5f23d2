//! Errors as `application/problem+json` (RFC 9457) with a stable `type` slug. This module is
//! the one table that maps every failure to a status and a slug: business rejections
//! ([`DomainError::code`]) to 4xx, conflicts to 409, missing things to 404, and anything else to
//! 500 with the cause logged and not shown.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use roster_app::AppError;
use roster_domain::DomainError;
use serde::Serialize;
use utoipa::ToSchema;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// Every problem `type` the API answers with. The slugs are stable; titles may change.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema, strum::IntoStaticStr, strum::EnumIter,
)]
#[serde(rename_all = "kebab-case")]
#[strum(serialize_all = "kebab-case")]
pub enum ProblemType {
    /// A field failed validation; `field` names it.
    InvalidInput,
    /// The body is not well-formed JSON.
    MalformedJson,
    NotFound,
    /// The email belongs to another member.
    EmailTaken,
    AlreadyExists,
    /// The command does not fit the current state (e.g. suspending an erased member).
    InvalidState,
    /// The acting member (`X-Roster-Actor`) lacks the permission the command needs.
    Forbidden,
    SeatLimitReached,
    LastOwner,
    AlreadyMember,
    NotAMember,
    UnknownRole,
    UnknownPermission,
    /// The aggregate kept changing concurrently; retry.
    VersionConflict,
    /// Verification token unknown, used or expired.
    InvalidToken,
    /// An access code unknown, for another plan, used up or expired.
    InvalidAccessCode,
    /// No API key, or an unknown or revoked one.
    Unauthorized,
    /// The API key lacks the scope this route needs.
    InsufficientScope,
    PayloadTooLarge,
    UnsupportedMediaType,
    /// The `Idempotency-Key` was used before with a different request.
    IdempotencyKeyReused,
    /// A request with this `Idempotency-Key` is still running.
    IdempotencyKeyInProgress,
    MethodNotAllowed,
    /// The store is not reachable, or a projection has failed (readiness).
    NotReady,
    /// A read model has not reached the `min_position` asked for within the wait; retry.
    ProjectionBehind,
    /// Too many requests of this kind (verification mails for one member, failed
    /// confirmations from one client); `Retry-After` says when to try again.
    RateLimited,
    /// A refund larger than what was captured minus what is refunded or being refunded.
    RefundExceedsCaptured,
    /// The payment is older than the refund window; an operator may override with a reason.
    RefundWindowClosed,
    /// A webhook whose signature is missing, wrong or too old.
    InvalidSignature,
    Internal,
}

impl ProblemType {
    /// The one table of statuses.
    pub fn status(self) -> StatusCode {
        use ProblemType::*;
        match self {
            MalformedJson | InvalidToken | InvalidAccessCode | InvalidSignature => {
                StatusCode::BAD_REQUEST
            }
            Unauthorized => StatusCode::UNAUTHORIZED,
            Forbidden | InsufficientScope => StatusCode::FORBIDDEN,
            NotFound | NotAMember => StatusCode::NOT_FOUND,
            MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            EmailTaken
            | AlreadyExists
            | InvalidState
            | SeatLimitReached
            | LastOwner
            | AlreadyMember
            | VersionConflict
            | IdempotencyKeyInProgress
            | RefundExceedsCaptured
            | RefundWindowClosed => StatusCode::CONFLICT,
            PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            InvalidInput | UnknownRole | UnknownPermission | IdempotencyKeyReused => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            NotReady | ProjectionBehind => StatusCode::SERVICE_UNAVAILABLE,
            RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable slug; the same string serde writes (both derive it from the variant name).
    pub fn slug(self) -> &'static str {
        self.into()
    }

    /// Every problem type, for documentation and tests.
    pub fn all() -> impl Iterator<Item = ProblemType> {
        <ProblemType as strum::IntoEnumIterator>::iter()
    }

    /// The slug of a business rejection, as the domain names it.
    fn of_domain(error: &DomainError) -> ProblemType {
        use ProblemType::*;
        match error {
            DomainError::InvalidInput { .. } => InvalidInput,
            DomainError::NotFound { .. } => NotFound,
            DomainError::AlreadyExists { .. } => AlreadyExists,
            DomainError::InvalidState { .. } => InvalidState,
            DomainError::Forbidden { .. } | DomainError::NotAllowed { .. } => Forbidden,
            DomainError::SeatLimitReached { .. } => SeatLimitReached,
            DomainError::LastOwner => LastOwner,
            DomainError::AlreadyMember { .. } => AlreadyMember,
            DomainError::NotAMember { .. } => NotAMember,
            DomainError::UnknownRole { .. } => UnknownRole,
            DomainError::UnknownPermission { .. } => UnknownPermission,
            DomainError::InvalidToken { .. } => InvalidToken,
            DomainError::InvalidAccessCode { .. } => InvalidAccessCode,
            DomainError::RateLimited { .. } => RateLimited,
            DomainError::RefundExceedsCaptured { .. } => RefundExceedsCaptured,
            DomainError::RefundWindowClosed { .. } => RefundWindowClosed,
        }
    }
}

/// The body of an error answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// The stable slug; branch on this.
    #[serde(rename = "type")]
    pub kind: ProblemType,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The offending field, for `invalid-input`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For `rate-limited`: seconds until the request may succeed (also the `Retry-After`
    /// header).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u64>,
}

/// An error a handler returns; becomes a [`Problem`].
#[derive(Debug, Clone)]
pub struct ApiError {
    pub kind: ProblemType,
    pub detail: String,
    pub field: Option<String>,
    pub retry_after_seconds: Option<u64>,
}

impl ApiError {
    pub fn new(kind: ProblemType, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: detail.into(),
            field: None,
            retry_after_seconds: None,
        }
    }

    pub fn invalid(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            field: Some(field.into()),
            ..Self::new(ProblemType::InvalidInput, detail)
        }
    }

    /// 429 `rate-limited`, to be retried after `seconds`.
    pub fn rate_limited(seconds: u64, detail: impl Into<String>) -> Self {
        Self {
            retry_after_seconds: Some(seconds.max(1)),
            ..Self::new(ProblemType::RateLimited, detail)
        }
    }

    pub fn not_found(what: impl std::fmt::Display) -> Self {
        Self::new(ProblemType::NotFound, format!("{what} not found"))
    }

    /// A failure whose cause is logged here and not shown to the caller.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "request failed");
        Self::new(ProblemType::Internal, "internal error; see the server log")
    }

    pub fn problem(&self) -> Problem {
        Problem {
            kind: self.kind,
            title: self.kind.slug().replace('-', " "),
            status: self.kind.status().as_u16(),
            detail: self.detail.clone(),
            field: self.field.clone(),
            retry_after_seconds: self.retry_after_seconds,
        }
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        match error {
            AppError::Domain(DomainError::InvalidInput { field, reason }) => {
                Self::invalid(field.clone(), format!("{field}: {reason}"))
            }
            AppError::Domain(DomainError::RateLimited {
                retry_after_seconds,
            }) => Self::rate_limited(
                retry_after_seconds,
                format!("too many requests; retry in {retry_after_seconds} s"),
            ),
            AppError::Domain(domain) => {
                Self::new(ProblemType::of_domain(&domain), domain.to_string())
            }
            AppError::Taken { scope } if scope == roster_app::EMAIL_SCOPE => Self::new(
                ProblemType::EmailTaken,
                "another member is registered with this email",
            ),
            AppError::Taken { scope } => Self::new(
                ProblemType::AlreadyExists,
                format!("{scope} is already taken"),
            ),
            e @ AppError::Contended { .. } => {
                Self::new(ProblemType::VersionConflict, e.to_string())
            }
            AppError::NotFound { what } => Self::not_found(what),
            AppError::InvalidSignature(reason) => Self::new(
                ProblemType::InvalidSignature,
                format!("webhook signature: {reason}"),
            ),
            AppError::Throttled {
                retry_after_seconds,
                reason,
            } => Self::rate_limited(retry_after_seconds, reason),
            e @ (AppError::Decode { .. }
            | AppError::Encode(_)
            | AppError::Store(_)
            | AppError::Sql(_)) => Self::internal(&e),
        }
    }
}

impl From<roster_store::StoreError> for ApiError {
    fn from(error: roster_store::StoreError) -> Self {
        Self::internal(&error)
    }
}

impl From<roster_sql::SqlError> for ApiError {
    fn from(error: roster_sql::SqlError) -> Self {
        Self::internal(&error)
    }
}

impl From<roster_projections::ProjectionError> for ApiError {
    fn from(error: roster_projections::ProjectionError) -> Self {
        match error {
            roster_projections::ProjectionError::Behind(lag) => {
                Self::new(ProblemType::ProjectionBehind, lag.to_string())
            }
            other => Self::internal(&other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = self.problem();
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (self.kind.status(), body).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(seconds) = self.retry_after_seconds {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        // Middleware (idempotency) reads the kind instead of parsing the body back.
        response.extensions_mut().insert(self.kind);
        response
    }
}

impl ProblemType {
    /// Whether the same request may succeed when sent again unchanged: then an
    /// `Idempotency-Key` must not pin this answer.
    pub fn is_transient(self) -> bool {
        self.status().is_server_error()
            || matches!(
                self,
                ProblemType::VersionConflict | ProblemType::RateLimited
            )
    }
}
