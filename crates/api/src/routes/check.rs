//! `GET /v1/check`: may this member use this permission in this organization, and why.
//! With `at`, the organization's stream is folded only up to that instant and asked about
//! that instant: "who could do X on date D", answered from the log.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use roster_domain::{Aggregate, Member, MemberStatus, Organization, check as domain_check};
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
    roster_domain::permissions::validate_permission_shape(&query.permission)
        .map_err(|e| ApiError::from(roster_app::AppError::from(e)))?;
    let commands = state.commands();
    let (org, member, at) = match query.at {
        None => (
            state.org_cache().current(&state, query.org).await?,
            state.member_cache().current(&state, query.member).await?,
            commands.clock().now(),
        ),
        Some(at) => (
            Arc::new(
                commands
                    .load_until::<Organization>(query.org, Some(at))
                    .await?
                    .state,
            ),
            Arc::new(
                commands
                    .load_until::<Member>(query.member, Some(at))
                    .await?
                    .state,
            ),
            at,
        ),
    };
    if !org.is_created() {
        return Err(ApiError::not_found(format!("organization {}", query.org)));
    }
    match member.status {
        MemberStatus::Unregistered | MemberStatus::Erased => {
            return Err(ApiError::not_found(format!("member {}", query.member)));
        }
        // A suspended member keeps their grants (reactivation restores them) but may use none.
        MemberStatus::Suspended => {
            return Ok(Json(CheckResponse {
                allowed: false,
                via: Vec::new(),
                at,
            }));
        }
        MemberStatus::PendingConfirmation | MemberStatus::Active => {}
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

/// Aggregates (organizations, members) folded for checks, each kept with the log head it was
/// loaded at and used only while the head has not moved: any commit (of this process, or
/// announced by the store's change notifications) makes the next check load again. A steady
/// stream of checks then costs no database read.
pub struct HeadCache<A: Aggregate>(Arc<Mutex<HashMap<Uuid, Cached<A::State>>>>);

/// The head the aggregate was loaded at, and its state.
type Cached<S> = (Position, Arc<S>);

const CACHE_CAPACITY: usize = 10_000;

impl<A: Aggregate> Clone for HeadCache<A> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<A: Aggregate> Default for HeadCache<A> {
    fn default() -> Self {
        Self(Arc::default())
    }
}

impl<A: Aggregate> HeadCache<A> {
    pub async fn current(&self, state: &ApiState, id: Uuid) -> Result<Arc<A::State>, ApiError> {
        // The head is read before loading, so the state holds at least everything up to it.
        let head = *state.runtime().store.changes().borrow();
        if let Some(found) = self.get(id, head) {
            return Ok(found);
        }
        let loaded = Arc::new(state.commands().load::<A>(id).await?.state);
        let mut entries = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CACHE_CAPACITY {
            entries.clear();
        }
        entries.insert(id, (head, loaded.clone()));
        Ok(loaded)
    }

    fn get(&self, id: Uuid, head: Position) -> Option<Arc<A::State>> {
        let entries = self.0.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(&id)
            .filter(|(at, _)| *at == head)
            .map(|(_, found)| found.clone())
    }
}
