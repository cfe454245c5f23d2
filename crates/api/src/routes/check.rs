//! `GET /v1/check`: may this member use this permission in this organization, and why.
//! With `at`, the organization's stream is folded only up to that instant and asked about
//! that instant: "who could do X on date D", answered from the log.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use roster_app::codec;
use roster_app::handler::stream_name;
use roster_domain::{Aggregate, OrgEvent, OrgState, Organization, check as domain_check};
use roster_store::Position;
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
    roster_domain::permissions::validate_permission_shape(&query.permission)
        .map_err(|e| ApiError::from(roster_app::AppError::from(e)))?;
    let (org, at) = match query.at {
        None => (
            state.org_cache().current(&state, query.org).await?,
            state.commands().clock().now(),
        ),
        Some(at) => (Arc::new(org_at(&state, query.org, at).await?), at),
    };
    if !org.is_created() {
        return Err(ApiError::not_found(format!("organization {}", query.org)));
    }
    // Members of the organization were registered when they joined; anyone else is looked up
    // so that an unknown member is 404 rather than "not allowed".
    if !org.is_member(query.member) {
        state.commands().require_member(query.member).await?;
    }
    let result = domain_check(
        &org,
        query.member,
        &query.permission,
        query.scope.as_deref(),
        at,
    );
    let via = result
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
        allowed: result.allowed,
        via,
        at,
    }))
}

/// Organizations folded for checks, each kept with the log head it was loaded at and used only
/// while the head has not moved: any commit (of this process, or announced by the store's
/// change notifications) makes the next check load again. A steady stream of checks then
/// costs no database read.
#[derive(Clone, Default)]
pub struct OrgCache(Arc<Mutex<HashMap<Uuid, CachedOrg>>>);

/// The head the organization was loaded at, and its state.
type CachedOrg = (Position, Arc<OrgState>);

const ORG_CACHE_CAPACITY: usize = 10_000;

impl OrgCache {
    pub async fn current(&self, state: &ApiState, org_id: Uuid) -> Result<Arc<OrgState>, ApiError> {
        // The head is read before loading, so the state holds at least everything up to it.
        let head = *state.runtime().store.changes().borrow();
        if let Some(org) = self.get(org_id, head) {
            return Ok(org);
        }
        let loaded = state.commands().load::<Organization>(org_id).await?;
        let org = Arc::new(loaded.state);
        let mut entries = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= ORG_CACHE_CAPACITY {
            entries.clear();
        }
        entries.insert(org_id, (head, org.clone()));
        Ok(org)
    }

    fn get(&self, org_id: Uuid, head: Position) -> Option<Arc<OrgState>> {
        let entries = self.0.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(&org_id)
            .filter(|(at, _)| *at == head)
            .map(|(_, org)| org.clone())
    }
}

/// The organization as it was at `at`: its events recorded up to then, folded.
async fn org_at(state: &ApiState, org_id: Uuid, at: DateTime<Utc>) -> Result<OrgState, ApiError> {
    let stream = stream_name::<Organization>(org_id);
    let recorded = state
        .runtime()
        .store
        .read_stream(&stream, 0, usize::MAX)
        .await?;
    let vault = state.commands().vault();
    let mut org = OrgState::default();
    for event in recorded.iter().take_while(|e| e.metadata.recorded_at <= at) {
        let event: OrgEvent = codec::decode(vault, event).await?;
        org = Organization::evolve(org, &event);
    }
    Ok(org)
}
