//! `GET /v1/check`: may this member use this permission in this organization, and why
//! (`roster_app::checks`). With `at`, "who could do X on date D", answered from the log. With
//! `content_tag` instead: does one of the member's memberships grant this content now.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use roster_projections::MEMBERSHIPS;

use super::wait_for;
use crate::ApiState;
use crate::extract::{Queries, QueryParams, Scoped};
use crate::problem::{ApiError, Problem};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CheckQuery {
    pub member: Uuid,
    /// The organization, for a permission check.
    pub org: Option<Uuid>,
    /// `area.resource.action`, e.g. `billing.invoices.view`, for a permission check.
    pub permission: Option<String>,
    /// E.g. `channel:42`. Unscoped grants allow every scope.
    pub scope: Option<String>,
    /// A content tag instead of a permission: does one of the member's memberships grant it
    /// (active, or past due while re-attempts run)?
    pub content_tag: Option<String>,
    /// Ask about this past instant (RFC 3339) instead of now (permission checks).
    pub at: Option<DateTime<Utc>>,
    /// A permission check always reads the log itself; a content check reads
    /// `memberships_v1`, and waits (up to 5 s) until it includes this position.
    pub min_position: Option<u64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CheckResponse {
    pub allowed: bool,
    /// Every grant that allows it: the role and the group it comes through (permissions), or
    /// the membership and its plan (content).
    pub via: Vec<ViaView>,
    /// The instant the answer is about.
    pub at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ViaView {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub membership_id: Option<Uuid>,
    /// The plan's slug.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
}

#[utoipa::path(get, path = "/v1/check", tag = "permissions", params(CheckQuery),
    security(("api_key" = ["queries"])),
    responses((status = 200, body = CheckResponse),
        (status = 404, body = Problem, description = "not-found: the organization or the member"),
        (status = 422, body = Problem, description = "invalid-input: neither `org` and `permission` nor `content_tag`, or both"),
        (status = 503, body = Problem, description = "projection-behind (content checks with `min_position`)")))]
pub async fn check(
    State(state): State<ApiState>,
    _: Scoped<Queries>,
    QueryParams(query): QueryParams<CheckQuery>,
) -> Result<Json<CheckResponse>, ApiError> {
    if let Some(tag) = query.content_tag {
        if query.org.is_some() || query.permission.is_some() || query.scope.is_some() {
            return Err(ApiError::invalid(
                "content_tag",
                "ask about a content tag or about a permission, not both",
            ));
        }
        if query.at.is_some() {
            return Err(ApiError::invalid(
                "at",
                "content checks answer about now only",
            ));
        }
        wait_for(&state, MEMBERSHIPS, query.min_position).await?;
        let at = state.roster().clock.now();
        let via = state
            .read_models()
            .content_access(query.member, &tag, at)
            .await?
            .into_iter()
            .map(|m| ViaView {
                role: None,
                group: None,
                group_id: None,
                scope: None,
                membership_id: Some(m.membership_id),
                plan: Some(m.plan),
            })
            .collect::<Vec<_>>();
        return Ok(Json(CheckResponse {
            allowed: !via.is_empty(),
            via,
            at,
        }));
    }
    let (Some(org), Some(permission)) = (query.org, query.permission) else {
        return Err(ApiError::invalid(
            "permission",
            "a check names `org` and `permission`, or a `content_tag`",
        ));
    };
    let question = roster_app::checks::CheckQuery {
        member: query.member,
        org,
        permission,
        scope: query.scope,
        at: query.at,
    };
    let answer = state.roster().checks.check(&question).await?;
    let via = answer
        .result
        .via
        .into_iter()
        .map(|v| ViaView {
            role: Some(v.role),
            group: v.group,
            group_id: v.group_id,
            scope: v.scope,
            membership_id: None,
            plan: None,
        })
        .collect();
    Ok(Json(CheckResponse {
        allowed: answer.result.allowed,
        via,
        at: answer.at,
    }))
}
