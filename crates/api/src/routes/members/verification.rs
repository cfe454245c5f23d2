//! Double opt-in over HTTP: confirming with the emailed token, and asking for a new one. The
//! rules (the failure count per client, how often a member gets a new token) are the use
//! cases' (`roster_app::members`); this module reads who the client is.

use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use roster_app::apikeys::Principal;
use roster_app::members::Client;

use super::{ConfirmRequest, MemberWritten, member_written};
use crate::ApiState;
use crate::extract::{CommandCtx, JsonBody, id};
use crate::problem::{ApiError, Problem};

const FORWARDED_FOR: &str = "x-forwarded-for";

#[utoipa::path(post, path = "/v1/members/confirm", tag = "members", request_body = ConfirmRequest,
    params(super::CommandHeaders), security(("api_key" = ["commands"])),
    responses((status = 200, body = MemberWritten),
        (status = 400, body = Problem, description = "invalid-token: unknown, used or expired"),
        (status = 429, body = Problem, description = "rate-limited: too many failed confirmations from this client")))]
pub async fn confirm(
    State(state): State<ApiState>,
    ctx: CommandCtx,
    client: ClientOf,
    JsonBody(body): JsonBody<ConfirmRequest>,
) -> Result<Response, ApiError> {
    let members = &state.roster().members;
    let handled = members.confirm(&body.token, &client.0, &ctx.meta).await?;
    member_written(StatusCode::OK, &handled)
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
    let members = &state.roster().members;
    let handled = members.resend_verification(member_id, &ctx.meta).await?;
    member_written(StatusCode::ACCEPTED, &handled)
}

/// Who is confirming, for the failure count: the API key, and the end user's address when the
/// upstream app forwards it.
pub struct ClientOf(pub Client);

impl<St: Send + Sync> FromRequestParts<St> for ClientOf {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &St) -> Result<Self, ApiError> {
        let key_id = parts
            .extensions
            .get::<Principal>()
            .map(|p| p.key_id.to_string())
            .unwrap_or_default();
        Ok(ClientOf(Client::new(key_id, forwarded_for(parts))))
    }
}

/// The end user's address as the caller's own proxy saw it: the last entry of
/// `X-Forwarded-For` (earlier entries are the end user's to choose).
pub(crate) fn forwarded_for(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get_all(FORWARDED_FOR)
        .iter()
        .next_back()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
}
