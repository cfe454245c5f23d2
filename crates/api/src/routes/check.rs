//! `GET /v1/check`: may this member use this permission in this organization, and why
//! (`roster_app::checks`). With `at`, "who could do X on date D", answered from the log.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::ApiState;
use crate::extract::{Queries, QueryParams, Scoped};
use crate::problem::{ApiError, Problem};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CheckQuery {
    pub member: Uuid,
    pub org: Uuid,
    /// `area.resource.action`, e.g. `billing.invoices.view`.
    pub permission: String,
    /// E.g. `channel:42`. Unscoped grants allow every scope.
    pub scope: Option<String>,
    /// Ask about this past instant (RFC 3339) instead of now.
    pub at: Option<DateTime<Utc>>,
    /// Accepted like on every query; a check always reads the log itself, so it is always at
    /// least this current.
    pub min_position: Option<u64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CheckResponse {
    pub allowed: bool,
    /// Every grant that allows it: the role, and the group it comes through, if any.
    pub via: Vec<ViaView>,
    /// The instant the answer is about.
    pub at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ViaView {
    pub role: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

#[utoipa::path(get, path = "/v1/check", tag = "permissions", params(CheckQuery),
    security(("api_key" = ["queries"])),
    responses((status = 200, body = CheckResponse),
        (status = 404, body = Problem, description = "not-found: the organization or the member"),
        (status = 422, body = Problem, description = "invalid-input")))]
pub async fn check(
    State(state): State<ApiState>,
    _: Scoped<Queries>,
    QueryParams(query): QueryParams<CheckQuery>,
) -> Result<Json<CheckResponse>, ApiError> {
    let question = roster_app::checks::CheckQuery {
        member: query.member,
        org: query.org,
        permission: query.permission,
        scope: query.scope,
        at: query.at,
    };
    let answer = state.roster().checks.check(&question).await?;
    let via = answer
        .result
        .via
        .into_iter()
        .map(|v| ViaView {
            role: v.role,
            group: v.group,
            group_id: v.group_id,
            scope: v.scope,
        })
        .collect();
    Ok(Json(CheckResponse {
        allowed: answer.result.allowed,
        via,
        at: answer.at,
    }))
}
