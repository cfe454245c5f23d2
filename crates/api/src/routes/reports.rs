//! Operator reports: the memberships report and the access review. Both read the read models
//! (`min_position` waits for a write to show, as on every list).

use axum::Json;
use axum::extract::State;
use roster_projections::read::{AccessReview, MembershipsReport};
use roster_projections::{AUDIT, MEMBERSHIPS};
use serde::Deserialize;
use utoipa::IntoParams;

use super::wait_for;
use crate::ApiState;
use crate::extract::{Queries, QueryParams, Scoped};
use crate::problem::{ApiError, Problem};

/// How long without activity puts a member in the access review, unless the caller says.
pub const DEFAULT_INACTIVE_DAYS: u32 = 90;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// Wait (up to 5 s) until the report includes the effects of the command that answered
    /// with this position; else 503 `projection-behind`.
    pub min_position: Option<u64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AccessReviewQuery {
    /// Members with no activity for this many days (1 to 3650; default 90).
    pub inactive_days: Option<u32>,
    pub min_position: Option<u64>,
}

#[utoipa::path(get, path = "/v1/reports/memberships", tag = "reports", params(ReportQuery),
    security(("api_key" = ["queries"])),
    responses((status = 200, body = MembershipsReport),
        (status = 503, body = Problem, description = "projection-behind")))]
pub async fn memberships(
    State(state): State<ApiState>,
    _: Scoped<Queries>,
    QueryParams(query): QueryParams<ReportQuery>,
) -> Result<Json<MembershipsReport>, ApiError> {
    wait_for(&state, MEMBERSHIPS, query.min_position).await?;
    let now = state.roster().clock.now();
    Ok(Json(state.read_models().memberships_report(now).await?))
}

#[utoipa::path(get, path = "/v1/reports/access-review", tag = "reports",
    params(AccessReviewQuery), security(("api_key" = ["queries"])),
    responses((status = 200, body = AccessReview),
        (status = 422, body = Problem, description = "invalid-input: inactive_days out of range"),
        (status = 503, body = Problem, description = "projection-behind")))]
pub async fn access_review(
    State(state): State<ApiState>,
    _: Scoped<Queries>,
    QueryParams(query): QueryParams<AccessReviewQuery>,
) -> Result<Json<AccessReview>, ApiError> {
    let inactive_days = query.inactive_days.unwrap_or(DEFAULT_INACTIVE_DAYS);
    if !(1..=3650).contains(&inactive_days) {
        return Err(ApiError::invalid("inactive_days", "from 1 to 3650 days"));
    }
    wait_for(&state, AUDIT, query.min_position).await?;
    let roster = state.roster();
    let now = roster.clock.now();
    let review = state
        .read_models()
        .access_review(roster, inactive_days, now)
        .await?;
    Ok(Json(review))
}
