//! Plans: define one (`PUT`, create or change), read one (folded from its stream), list them
//! (`plans_v1`), retire one. Joining and memberships come with their own routes.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use roster_app::plans::PlanDefinition;
use roster_domain::Plan;
use roster_domain::plan::{Interval, Price};
use roster_projections::PLANS;
use roster_projections::read::PlanRecord;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::members::CommandHeaders;
use super::{wait_for, written};
use crate::ApiState;
use crate::extract::{CommandCtx, JsonBody, Queries, QueryParams, Scoped};
use crate::problem::{ApiError, Problem};

/// How often a price is charged.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IntervalDto {
    Month,
    Year,
    Once,
    Free,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceRequest {
    /// ISO 4217.
    pub currency: String,
    /// In minor units; 0 with `free`.
    pub amount: u64,
    pub interval: IntervalDto,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanRequest {
    pub name: String,
    /// One per currency.
    pub prices: Vec<PriceRequest>,
    /// Live memberships at most; absent is unlimited.
    pub capacity: Option<u32>,
    /// The seat limit an organization on the plan gets.
    pub seat_limit: Option<u32>,
    #[serde(default)]
    pub content_tags: Vec<String>,
    /// How long a freed place is held for the first in line (default 48).
    pub claim_window_hours: Option<u32>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PlanListQuery {
    /// Wait (up to 5 s) until the list includes the effects of the command that answered
    /// with this position; else 503 `projection-behind`.
    pub min_position: Option<u64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PlanList {
    pub items: Vec<PlanRecord>,
}

#[utoipa::path(put, path = "/v1/plans/{slug}", tag = "plans", request_body = PlanRequest,
    params(("slug" = String, Path), CommandHeaders), security(("api_key" = ["commands"])),
    responses((status = 201, body = PlanRecord, description = "Created"),
        (status = 200, body = PlanRecord, description = "Changed, or already so"),
        (status = 409, body = Problem, description = "invalid-state: the plan is retired"),
        (status = 422, body = Problem, description = "invalid-input")))]
pub async fn define(
    State(state): State<ApiState>,
    ctx: CommandCtx,
    Path(slug): Path<String>,
    JsonBody(body): JsonBody<PlanRequest>,
) -> Result<Response, ApiError> {
    let definition = PlanDefinition {
        name: body.name,
        prices: body
            .prices
            .into_iter()
            .map(|p| Price {
                currency: p.currency,
                amount: p.amount,
                interval: match p.interval {
                    IntervalDto::Month => Interval::Month,
                    IntervalDto::Year => Interval::Year,
                    IntervalDto::Once => Interval::Once,
                    IntervalDto::Free => Interval::Free,
                },
            })
            .collect(),
        capacity: body.capacity,
        seat_limit: body.seat_limit,
        content_tags: body.content_tags,
        claim_window_hours: body.claim_window_hours,
    };
    let plans = &state.roster().plans;
    let (created, handled) = plans.define(&slug, definition, &ctx.meta).await?;
    let status = match created {
        true => StatusCode::CREATED,
        false => StatusCode::OK,
    };
    plan_written(status, &handled)
}

#[utoipa::path(get, path = "/v1/plans/{slug}", tag = "plans",
    params(("slug" = String, Path)), security(("api_key" = ["queries"])),
    responses((status = 200, body = PlanRecord), (status = 404, body = Problem, description = "not-found")))]
pub async fn get(
    State(state): State<ApiState>,
    _: Scoped<Queries>,
    Path(slug): Path<String>,
) -> Result<Json<PlanRecord>, ApiError> {
    let loaded = state.roster().plans.get(&slug).await?;
    PlanRecord::of(&loaded.state, loaded.position)
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("plan {slug}")))
}

#[utoipa::path(get, path = "/v1/plans", tag = "plans", params(PlanListQuery),
    security(("api_key" = ["queries"])),
    responses((status = 200, body = PlanList),
        (status = 503, body = Problem, description = "projection-behind")))]
pub async fn list(
    State(state): State<ApiState>,
    _: Scoped<Queries>,
    QueryParams(query): QueryParams<PlanListQuery>,
) -> Result<Json<PlanList>, ApiError> {
    wait_for(&state, PLANS, query.min_position).await?;
    let items = state.read_models().plans().await?;
    Ok(Json(PlanList { items }))
}

#[utoipa::path(post, path = "/v1/plans/{slug}/retire", tag = "plans",
    params(("slug" = String, Path), CommandHeaders), security(("api_key" = ["commands"])),
    responses((status = 200, body = PlanRecord, description = "Retired: no new joins"),
        (status = 404, body = Problem, description = "not-found")))]
pub async fn retire(
    State(state): State<ApiState>,
    ctx: CommandCtx,
    Path(slug): Path<String>,
) -> Result<Response, ApiError> {
    let handled = state.roster().plans.retire(&slug, &ctx.meta).await?;
    plan_written(StatusCode::OK, &handled)
}

fn plan_written(
    status: StatusCode,
    handled: &roster_app::Handled<Plan>,
) -> Result<Response, ApiError> {
    let record = PlanRecord::of(&handled.state, handled.position)
        .ok_or_else(|| ApiError::not_found("plan"))?;
    Ok(written(status, handled.position, record))
}
