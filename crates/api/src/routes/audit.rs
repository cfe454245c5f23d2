//! `GET /v1/audit`: who did what, when, from the `audit_v1` read model (which holds no personal
//! data). Filter by the member concerned, the actor and the organization; page with the `next`
//! cursor (a global position); `min_position` waits for a command's own effects.

use axum::Json;
use axum::extract::State;
use roster_projections::AUDIT;
use roster_projections::read::{AuditEntry, AuditFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::ApiState;
use crate::extract::{Queries, QueryParams, Scoped};
use crate::problem::{ApiError, Problem};
use crate::routes::wait_for;

const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1000;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Entries about this member: their own stream, and organization events naming them.
    pub member: Option<Uuid>,
    /// Entries caused by this actor: a member id, an API key id, an operator or worker name.
    pub actor: Option<String>,
    /// Entries of this organization.
    pub org: Option<Uuid>,
    /// The `next` cursor of the previous page (a global position).
    pub after: Option<u64>,
    /// Page size, 1 to 1000 (default 100).
    pub limit: Option<usize>,
    /// Wait (up to 5 s) until the audit log includes this position; else 503
    /// `projection-behind`.
    pub min_position: Option<u64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditItem>,
    /// Pass as `after` for the next page; `null` on the last page.
    pub next: Option<u64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditItem {
    pub position: u64,
    /// RFC 3339.
    pub recorded_at: String,
    pub stream: String,
    /// Versioned event type, e.g. `OrgRoleAssigned.v1`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// `member`, `app` (an API key id), `operator`, `worker` or `system`.
    pub actor_kind: String,
    pub actor: Option<String>,
    pub member_id: Option<String>,
    pub org_id: Option<String>,
    pub correlation_id: String,
    /// What happened, in words, without personal data.
    pub summary: String,
}

#[utoipa::path(get, path = "/v1/audit", tag = "audit", params(AuditQuery),
    security(("api_key" = ["queries"])),
    responses((status = 200, body = AuditPage), (status = 422, body = Problem, description = "invalid-input"),
        (status = 503, body = Problem, description = "projection-behind")))]
pub async fn audit(
    State(state): State<ApiState>,
    _: Scoped<Queries>,
    QueryParams(query): QueryParams<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be 1 to 1000"));
    }
    wait_for(&state, AUDIT, query.min_position).await?;
    let filter = AuditFilter {
        member: query.member.map(|m| m.to_string()),
        actor: query.actor,
        org: query.org.map(|o| o.to_string()),
    };
    let page = state
        .read_models()
        .audit(&filter, query.after.unwrap_or(0), limit)
        .await?;
    Ok(Json(AuditPage {
        items: page.items.into_iter().map(item).collect(),
        next: page.next.and_then(|n| n.parse().ok()),
    }))
}

fn item(entry: AuditEntry) -> AuditItem {
    AuditItem {
        position: entry.position,
        recorded_at: entry.at,
        stream: entry.stream,
        event_type: entry.event_type,
        actor_kind: entry.actor_kind,
        actor: entry.actor_id,
        member_id: entry.member_id,
        org_id: entry.org_id,
        correlation_id: entry.correlation_id,
        summary: entry.summary,
    }
}
