//! The member list, from the `accounts_v1` read model: a status filter and cursor pagination.
//! `min_position` (the `position` of an earlier command) waits until the read model has
//! caught up with it, so a client reads its own writes.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use roster_projections::ACCOUNTS;
use roster_projections::read::Account;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{MemberStatusDto, MemberView, VisibilityDto};
use crate::ApiState;
use crate::extract::{Queries, QueryParams, Scoped};
use crate::problem::{ApiError, Problem};
use crate::routes::wait_for;

const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 500;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only members with this status.
    pub status: Option<MemberStatusDto>,
    /// The `next` cursor of the previous page (opaque).
    pub after: Option<String>,
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<usize>,
    /// Wait (up to 5 s) until the list includes the effects of the command that answered
    /// with this position; else 503 `projection-behind`.
    pub min_position: Option<u64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MemberPage {
    pub items: Vec<MemberView>,
    /// Pass as `after` for the next page; `null` on the last page.
    pub next: Option<String>,
}

#[utoipa::path(get, path = "/v1/members", tag = "members", params(ListQuery),
    security(("api_key" = ["queries"])),
    responses((status = 200, body = MemberPage), (status = 422, body = Problem, description = "invalid-input"),
        (status = 503, body = Problem, description = "projection-behind")))]
pub async fn list(
    State(state): State<ApiState>,
    _: Scoped<Queries>,
    QueryParams(query): QueryParams<ListQuery>,
) -> Result<Json<MemberPage>, ApiError> {
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be 1 to 500"));
    }
    wait_for(&state, ACCOUNTS, query.min_position).await?;
    let status = query.status.map(MemberStatusDto::as_str);
    let page = state
        .read_models()
        .members(status, query.after.as_deref(), limit)
        .await?;
    let items = page.items.into_iter().filter_map(view).collect();
    Ok(Json(MemberPage {
        items,
        next: page.next,
    }))
}

fn view(account: Account) -> Option<MemberView> {
    let status = serde_json::from_value(serde_json::Value::String(account.status)).ok()?;
    Some(MemberView {
        member_id: account.member_id,
        status,
        email_verified: account.email_verified,
        email: account.email,
        name: account.name,
        company: account.company,
        location: account.location,
        fields: account.fields,
        visibility: VisibilityDto {
            public: account.visibility.public,
            searchable: account.visibility.searchable,
        },
        registered_at: account
            .registered_at
            .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| t.with_timezone(&Utc)),
        suspension_reason: account.suspension_reason,
        referral: None,
        position: account.position,
    })
}
