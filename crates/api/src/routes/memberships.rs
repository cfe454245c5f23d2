//! Memberships: join a plan (a place, or a spot in its line), read one (folded from its stream,
//! with its live place in line), list a member's (from `memberships_v1`), cancel (now or at the
//! period's end; a waiting one leaves the line), claim an offered place.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use roster_app::memberships::{JoinRequest, MembershipView};
use roster_projections::MEMBERSHIPS;
use roster_projections::read::MembershipRecord;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::members::CommandHeaders;
use super::members::verification::ClientOf;
use super::{wait_for, written};
use crate::ApiState;
use crate::extract::{CommandCtx, JsonBody, Queries, QueryParams, Scoped, id};
use crate::problem::{ApiError, Problem};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinBody {
    /// The plan's slug.
    pub plan: String,
    /// Which of the plan's prices, when it has several (default: its first).
    pub currency: Option<String>,
    /// The Stripe payment method (`pm_…`) the first period and the renewals are charged to;
    /// needed for a paid plan unless `access_code` is given.
    pub payment_method: Option<String>,
    /// An access code of the plan (`roster codes generate`): the membership is granted
    /// without payment. Failed codes count per API key and end-user address
    /// (`X-Forwarded-For`) and per plan.
    pub access_code: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CancelQuery {
    /// End at the end of the period already paid instead of now.
    #[serde(default)]
    pub at_period_end: bool,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimBody {
    /// A payment method other than the one given when joining.
    pub payment_method: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MembershipListQuery {
    /// Wait (up to 5 s) until the list includes the effects of the command that answered
    /// with this position; else 503 `projection-behind`.
    pub min_position: Option<u64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MembershipList {
    pub items: Vec<MembershipRecord>,
}

#[utoipa::path(post, path = "/v1/members/{member}/memberships", tag = "memberships",
    request_body = JoinBody, params(("member" = String, Path), CommandHeaders),
    security(("api_key" = ["commands"])),
    responses((status = 201, body = MembershipRecord,
            description = "`active` (free), `pending_payment` (paid: charged by a worker) or `waitlisted` with `waitlist_position`"),
        (status = 404, body = Problem, description = "not-found: the member or the plan"),
        (status = 400, body = Problem, description = "invalid-access-code: unknown, used up, expired or for another plan"),
        (status = 409, body = Problem, description = "already-member: the member has a live entry on the plan; invalid-state: the plan is retired"),
        (status = 429, body = Problem, description = "rate-limited: too many failed access codes from this client or for this plan"),
        (status = 422, body = Problem, description = "invalid-input: no payment method for a paid plan, no price in the currency")))]
pub async fn join(
    State(state): State<ApiState>,
    ctx: CommandCtx,
    ClientOf(client): ClientOf,
    Path(member): Path<String>,
    JsonBody(body): JsonBody<JoinBody>,
) -> Result<Response, ApiError> {
    let member_id = id("member", &member)?;
    let request = JoinRequest {
        plan: body.plan,
        currency: body.currency,
        payment_method: body.payment_method,
        access_code: body.access_code,
        client: Some(client),
    };
    let memberships = &state.roster().memberships;
    let view = memberships.join(member_id, request, &ctx.meta).await?;
    answer(StatusCode::CREATED, view)
}

#[utoipa::path(get, path = "/v1/memberships/{membership}", tag = "memberships",
    params(("membership" = String, Path)), security(("api_key" = ["queries"])),
    responses((status = 200, body = MembershipRecord), (status = 404, body = Problem, description = "not-found")))]
pub async fn get(
    State(state): State<ApiState>,
    _: Scoped<Queries>,
    Path(membership): Path<String>,
) -> Result<Json<MembershipRecord>, ApiError> {
    let membership_id = id("membership", &membership)?;
    let view = state.roster().memberships.get(membership_id).await?;
    Ok(Json(record(view)?))
}

#[utoipa::path(get, path = "/v1/members/{member}/memberships", tag = "memberships",
    params(("member" = String, Path), MembershipListQuery), security(("api_key" = ["queries"])),
    responses((status = 200, body = MembershipList),
        (status = 503, body = Problem, description = "projection-behind")))]
pub async fn list(
    State(state): State<ApiState>,
    _: Scoped<Queries>,
    Path(member): Path<String>,
    QueryParams(query): QueryParams<MembershipListQuery>,
) -> Result<Json<MembershipList>, ApiError> {
    let member_id = id("member", &member)?;
    wait_for(&state, MEMBERSHIPS, query.min_position).await?;
    let items = state.read_models().memberships_of(member_id).await?;
    Ok(Json(MembershipList { items }))
}

#[utoipa::path(delete, path = "/v1/memberships/{membership}", tag = "memberships",
    params(("membership" = String, Path), CancelQuery, CommandHeaders),
    security(("api_key" = ["commands"])),
    responses((status = 200, body = MembershipRecord,
            description = "`cancelled`, or still `active` with `cancels_at` at the period's end"),
        (status = 404, body = Problem, description = "not-found")))]
pub async fn cancel(
    State(state): State<ApiState>,
    ctx: CommandCtx,
    Path(membership): Path<String>,
    QueryParams(query): QueryParams<CancelQuery>,
) -> Result<Response, ApiError> {
    let membership_id = id("membership", &membership)?;
    let memberships = &state.roster().memberships;
    let view = memberships
        .cancel(membership_id, query.at_period_end, &ctx.meta)
        .await?;
    answer(StatusCode::OK, view)
}

#[utoipa::path(post, path = "/v1/memberships/{membership}/claim", tag = "memberships",
    request_body = ClaimBody, params(("membership" = String, Path), CommandHeaders),
    security(("api_key" = ["commands"])),
    responses((status = 200, body = MembershipRecord, description = "Placed: `active`, or `pending_payment` on a paid plan"),
        (status = 404, body = Problem, description = "not-found: the membership, or no offer for it"),
        (status = 409, body = Problem, description = "invalid-state: the offer has expired"),
        (status = 422, body = Problem, description = "invalid-input: no payment method for a paid plan")))]
pub async fn claim(
    State(state): State<ApiState>,
    ctx: CommandCtx,
    Path(membership): Path<String>,
    body: Option<JsonBody<ClaimBody>>,
) -> Result<Response, ApiError> {
    let membership_id = id("membership", &membership)?;
    let body = body.map(|JsonBody(b)| b).unwrap_or_default();
    let memberships = &state.roster().memberships;
    let view = memberships
        .claim(membership_id, body.payment_method, &ctx.meta)
        .await?;
    answer(StatusCode::OK, view)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MethodBody {
    /// The Stripe payment method (`pm_…`) renewals, and a re-attempt waiting, are charged to.
    pub payment_method: String,
}

#[utoipa::path(put, path = "/v1/memberships/{membership}/payment-method", tag = "memberships",
    request_body = MethodBody, params(("membership" = String, Path), CommandHeaders),
    security(("api_key" = ["commands"])),
    responses((status = 200, body = MembershipRecord),
        (status = 404, body = Problem, description = "not-found"),
        (status = 409, body = Problem, description = "invalid-state: the membership has ended"),
        (status = 422, body = Problem, description = "invalid-input")))]
pub async fn change_method(
    State(state): State<ApiState>,
    ctx: CommandCtx,
    Path(membership): Path<String>,
    JsonBody(body): JsonBody<MethodBody>,
) -> Result<Response, ApiError> {
    let membership_id = id("membership", &membership)?;
    let memberships = &state.roster().memberships;
    let view = memberships
        .change_method(membership_id, body.payment_method, &ctx.meta)
        .await?;
    answer(StatusCode::OK, view)
}

/// The record of a membership read from its streams: its live place in line and offer.
fn record(view: MembershipView) -> Result<MembershipRecord, ApiError> {
    let mut record = MembershipRecord::of(&view.state, view.position)
        .ok_or_else(|| ApiError::not_found("membership"))?;
    record.waitlist_position = view.waitlist_position;
    record.offer_expires_at = view.offer_expires_at;
    Ok(record)
}

fn answer(status: StatusCode, view: MembershipView) -> Result<Response, ApiError> {
    let position = view.position;
    Ok(written(status, position, record(view)?))
}
