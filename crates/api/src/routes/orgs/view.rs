//! `GET /v1/orgs/{org}`: the organization folded from its stream.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::ApiState;
use crate::extract::{Queries, Scoped, id};
use crate::problem::{ApiError, Problem};

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OrgView {
    pub org_id: Uuid,
    pub name: String,
    /// The limit in force: the package's, else the organization's own.
    pub seat_limit: u32,
    pub seats_used: u32,
    /// The organization plan it is on, if any.
    pub package: Option<PackageView>,
    pub members: Vec<OrgMemberView>,
    pub roles: Vec<CustomRoleView>,
    pub groups: Vec<GroupView>,
    /// Position of the organization's last event.
    pub position: u64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PackageView {
    pub plan: String,
    pub seat_limit: u32,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OrgMemberView {
    pub member_id: Uuid,
    pub grants: Vec<GrantView>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct GrantView {
    pub role: String,
    pub scope: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CustomRoleView {
    pub name: String,
    pub permissions: Vec<String>,
    pub occupies_seat: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct GroupView {
    pub group_id: Uuid,
    pub name: String,
    pub grants: Vec<GrantView>,
    pub members: Vec<Uuid>,
}

#[utoipa::path(get, path = "/v1/orgs/{org}", tag = "orgs", params(("org" = Uuid, Path)),
    security(("api_key" = ["queries"])),
    responses((status = 200, body = OrgView), (status = 404, body = Problem, description = "not-found")))]
pub async fn get(
    State(state): State<ApiState>,
    _: Scoped<Queries>,
    Path(org): Path<String>,
) -> Result<Json<OrgView>, ApiError> {
    let org_id = id("organization", &org)?;
    let snapshot = state.roster().orgs.get(org_id).await?;
    let org = snapshot.state;
    let members = org
        .members
        .iter()
        .map(|(member_id, m)| OrgMemberView {
            member_id: *member_id,
            grants: m
                .grants
                .iter()
                .map(|g| GrantView {
                    role: g.role.clone(),
                    scope: g.scope.clone(),
                    expires_at: g.expires_at,
                })
                .collect(),
        })
        .collect();
    let roles = org
        .roles
        .iter()
        .map(|(name, r)| CustomRoleView {
            name: name.clone(),
            permissions: r.permissions.clone(),
            occupies_seat: r.occupies_seat,
        })
        .collect();
    let groups = org
        .groups
        .iter()
        .map(|(group_id, g)| GroupView {
            group_id: *group_id,
            name: g.name.clone(),
            grants: g
                .grants
                .iter()
                .map(|gr| GrantView {
                    role: gr.role.clone(),
                    scope: gr.scope.clone(),
                    expires_at: None,
                })
                .collect(),
            members: g.members.iter().copied().collect(),
        })
        .collect();
    Ok(Json(OrgView {
        org_id,
        name: org.name.clone(),
        seat_limit: org.limit(),
        seats_used: snapshot.seats_used,
        package: org.package.as_ref().map(|p| PackageView {
            plan: p.plan.clone(),
            seat_limit: p.seat_limit,
        }),
        members,
        roles,
        groups,
        position: snapshot.position,
    }))
}
