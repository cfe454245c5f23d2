//! Double opt-in over HTTP: confirming with the emailed token, and asking for a new one.
//!
//! Failed confirmations are counted per client (the API key, and the end user's address as the
//! upstream app saw it: the last entry of `X-Forwarded-For`, the one its own proxy adds; the
//! entries before it are whatever the end user sent): after [`CONFIRM_FAILURES`] in
//! [`CONFIRM_WINDOW`] the client gets 429 `rate-limited`, even for a good token, until the window
//! ends; after [`KEY_CONFIRM_FAILURES`] the whole key does. Tokens are 256-bit MACs, so this is
//! defence in depth rather than what makes guessing hopeless. How often one member gets a new
//! token is the domain's rule.

use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use roster_app::AppError;
use roster_app::apikeys::Principal;
use roster_app::sidedb::Throttle;
use roster_domain::member::{ConfirmMemberEmail, IssueMemberVerification};
use roster_domain::{DomainError, Member, MemberCommand};

use super::{ConfirmRequest, MemberStatusDto, MemberWritten, member_command};
use crate::ApiState;
use crate::extract::{CommandCtx, JsonBody, id};
use crate::problem::{ApiError, Problem, ProblemType};
use crate::routes::written;

/// Failed confirmations a client may make in one [`CONFIRM_WINDOW`].
pub const CONFIRM_FAILURES: u32 = 10;
/// Failed confirmations one API key may make in one [`CONFIRM_WINDOW`], whatever the clients:
/// a ceiling for callers that vary the client address.
pub const KEY_CONFIRM_FAILURES: u32 = 500;
pub const CONFIRM_WINDOW: chrono::Duration = chrono::Duration::minutes(15);

const FORWARDED_FOR: &str = "x-forwarded-for";

#[utoipa::path(post, path = "/v1/members/confirm", tag = "members", request_body = ConfirmRequest,
    params(super::CommandHeaders), security(("api_key" = ["commands"])),
    responses((status = 200, body = MemberWritten),
        (status = 400, body = Problem, description = "invalid-token: unknown, used or expired"),
        (status = 429, body = Problem, description = "rate-limited: too many failed confirmations from this client")))]
pub async fn confirm(
    State(state): State<ApiState>,
    ctx: CommandCtx,
    client: Client,
    JsonBody(body): JsonBody<ConfirmRequest>,
) -> Result<Response, ApiError> {
    let now = state.commands().clock().now();
    let buckets = [
        (client.bucket(), CONFIRM_FAILURES),
        (client.key_bucket(), KEY_CONFIRM_FAILURES),
    ];
    let mut taken = Vec::new();
    for (bucket, limit) in &buckets {
        taken.push(bucket.as_str());
        if let Throttle::Limited { until } = state
            .side()
            .take_attempt(bucket, *limit, CONFIRM_WINDOW, now)
            .await?
        {
            give_back(&state, &taken).await;
            let millis = (until - now).num_milliseconds();
            let seconds = u64::try_from((millis + 999) / 1000).unwrap_or(1);
            return Err(ApiError::rate_limited(
                seconds,
                "too many failed confirmations from this client",
            ));
        }
    }
    let confirmed = match state.verification().find(&body.token).await {
        Err(e) => Err(e.into()),
        Ok(None) => Err(invalid_token(
            "the token is unknown, already used or expired",
        )),
        Ok(Some((member_id, token_hash))) => {
            let command = MemberCommand::ConfirmEmail(ConfirmMemberEmail { token_hash });
            member_command(&state, member_id, command, &ctx, StatusCode::OK).await
        }
    };
    // Only a bad token counts against the client.
    if !confirmed
        .as_ref()
        .is_err_and(|e| e.kind == ProblemType::InvalidToken)
    {
        give_back(&state, &taken).await;
    }
    confirmed
}

/// Returns attempts that did not fail on the token. Best effort: a lost give-back costs the
/// client one attempt of its allowance, not a wrong answer.
async fn give_back(state: &ApiState, buckets: &[&str]) {
    for bucket in buckets {
        if let Err(e) = state.side().give_back(bucket).await {
            tracing::warn!(error = %e, "cannot give a confirmation attempt back");
        }
    }
}

/// Issues a new token (its mail follows from a worker); older links stop working. At most one
/// a minute and five a day per member (429 `rate-limited` with `Retry-After`).
#[utoipa::path(post, path = "/v1/members/{member}/verification-email", tag = "members",
    params(("member" = uuid::Uuid, Path), super::CommandHeaders), security(("api_key" = ["commands"])),
    responses((status = 202, body = MemberWritten),
        (status = 404, body = Problem),
        (status = 409, body = Problem, description = "invalid-state: not pending"),
        (status = 429, body = Problem, description = "rate-limited: asked too often for this member")))]
pub async fn resend_verification(
    State(state): State<ApiState>,
    ctx: CommandCtx,
    Path(member): Path<String>,
) -> Result<Response, ApiError> {
    let member_id = id("member", &member)?;
    let ticket = state.verification().ticket(member_id);
    let command = MemberCommand::IssueVerification(IssueMemberVerification { ticket });
    let handled = state
        .commands()
        .execute::<Member>(member_id, &command, &ctx.meta)
        .await
        .map_err(|e| match e {
            AppError::Domain(DomainError::NotFound { .. }) => {
                ApiError::not_found(format!("member {member_id}"))
            }
            other => other.into(),
        })?;
    let answer = MemberWritten {
        member_id,
        status: MemberStatusDto::PendingConfirmation,
        position: handled.position,
    };
    Ok(written(StatusCode::ACCEPTED, handled.position, answer))
}

fn invalid_token(detail: &str) -> ApiError {
    ApiError::new(ProblemType::InvalidToken, detail)
}

/// Who is confirming, for the failure count: the API key, and the end user's address when the
/// upstream app forwards it.
pub struct Client {
    key_id: String,
    forwarded_for: Option<String>,
}

impl Client {
    fn bucket(&self) -> String {
        match &self.forwarded_for {
            Some(address) => format!("confirm:{}:{address}", self.key_id),
            None => format!("confirm:{}:-", self.key_id),
        }
    }

    fn key_bucket(&self) -> String {
        format!("confirm:{}", self.key_id)
    }
}

impl<St: Send + Sync> FromRequestParts<St> for Client {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &St) -> Result<Self, ApiError> {
        let key_id = parts
            .extensions
            .get::<Principal>()
            .map(|p| p.key_id.to_string())
            .unwrap_or_default();
        // The last entry is the address the upstream app's own proxy saw; earlier entries are
        // the end user's to choose. Bounded, so a caller cannot make rows of any size.
        let forwarded_for = parts
            .headers
            .get_all(FORWARDED_FOR)
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(|v| v.chars().take(64).collect());
        Ok(Client {
            key_id,
            forwarded_for,
        })
    }
}
