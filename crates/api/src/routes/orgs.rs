//! Organizations: create, read, seat limit, members, direct role grants, custom roles; groups
//! are in [`groups`].
//! Every command goes through the organization aggregate, which checks the acting member's
//! rights (`X-Roster-Actor`), the seat limit and the last-owner rule.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use roster_app::{CommandMeta, Handled, NewOrg};
use roster_domain::org::{
    AddOrgMember, AssignOrgRole, ChangeOrgSeatLimit, DefineOrgRole, RemoveOrgMember, RevokeOrgRole,
};
use roster_domain::{OrgCommand, Organization};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::members::CommandHeaders;
use super::{written, written_empty};
use crate::ApiState;
use crate::extract::{CommandCtx, JsonBody, QueryParams, id};
use crate::problem::{ApiError, Problem};

pub mod groups;
pub mod view;
pub use groups::{create_group, grant_group_role, join_group, leave_group, revoke_group_role};
pub use view::{OrgView, get};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrgRequest {
    pub name: String,
    /// A registered member; becomes the first owner and takes a seat.
    pub owner_id: Uuid,
    pub seat_limit: u32,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeatLimitRequest {
    pub seat_limit: u32,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PackageRequest {
    /// The slug of an organization plan (one with a seat limit).
    pub plan: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMemberRequest {
    pub member_id: Uuid,
    pub role: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignRoleRequest {
    pub role: String,
    /// E.g. `channel:42`; an unscoped grant applies everywhere.
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DefineRoleRequest {
    /// `[a-z0-9_-]`, not a built-in role's name.
    pub name: String,
    pub permissions: Vec<String>,
    /// Whether holders count against the seat limit (default true).
    #[serde(default)]
    pub occupies_seat: Option<bool>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ScopeQuery {
    pub scope: Option<String>,
}

/// The answer to an organization command.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OrgWritten {
    pub org_id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_id: Option<Uuid>,
    /// Global log position of the write (read-your-writes).
    pub position: u64,
}

impl OrgWritten {
    pub(super) fn new(org_id: Uuid, position: u64) -> Self {
        Self {
            org_id,
            member_id: None,
            group_id: None,
            position,
        }
    }
}

pub(super) async fn execute(
    state: &ApiState,
    org_id: Uuid,
    command: OrgCommand,
    meta: &CommandMeta,
) -> Result<Handled<Organization>, ApiError> {
    Ok(state.roster().orgs.execute(org_id, &command, meta).await?)
}

#[utoipa::path(post, path = "/v1/orgs", tag = "orgs", request_body = CreateOrgRequest,
    params(CommandHeaders), security(("api_key" = ["commands"])),
    responses((status = 201, body = OrgWritten), (status = 404, body = Problem, description = "not-found: the owner"),
        (status = 422, body = Problem, description = "invalid-input")))]
pub async fn create(
    State(state): State<ApiState>,
    ctx: CommandCtx,
    JsonBody(body): JsonBody<CreateOrgRequest>,
) -> Result<Response, ApiError> {
    let org = NewOrg {
        name: body.name,
        owner_id: body.owner_id,
        seat_limit: body.seat_limit,
    };
    let handled = state.roster().orgs.create(org, &ctx.meta).await?;
    let org_id = handled.state.org_id.unwrap_or_default();
    Ok(written(
        StatusCode::CREATED,
        handled.position,
        OrgWritten::new(org_id, handled.position),
    ))
}

#[utoipa::path(put, path = "/v1/orgs/{org}/seat-limit", tag = "orgs", request_body = SeatLimitRequest,
    params(("org" = Uuid, Path), CommandHeaders), security(("api_key" = ["commands"])),
    responses((status = 200, body = OrgWritten), (status = 403, body = Problem, description = "forbidden"),
        (status = 409, body = Problem, description = "seat-limit-reached: below the seats in use")))]
pub async fn change_seat_limit(
    State(state): State<ApiState>,
    ctx: CommandCtx,
    Path(org): Path<String>,
    JsonBody(body): JsonBody<SeatLimitRequest>,
) -> Result<Response, ApiError> {
    let org_id = id("organization", &org)?;
    let command = OrgCommand::ChangeSeatLimit(ChangeOrgSeatLimit {
        seat_limit: body.seat_limit,
    });
    let handled = execute(&state, org_id, command, &ctx.meta).await?;
    Ok(written(
        StatusCode::OK,
        handled.position,
        OrgWritten::new(org_id, handled.position),
    ))
}

#[utoipa::path(put, path = "/v1/orgs/{org}/package", tag = "orgs", request_body = PackageRequest,
    params(("org" = Uuid, Path), CommandHeaders), security(("api_key" = ["commands"])),
    responses((status = 200, body = OrgWritten, description = "The organization is on the plan; its seat limit is the plan's. A lower limit keeps the seats already taken and refuses new ones."),
        (status = 403, body = Problem, description = "forbidden: the actor lacks billing.plan.manage"),
        (status = 404, body = Problem, description = "not-found: the organization or the plan"),
        (status = 409, body = Problem, description = "invalid-state: the plan is retired"),
        (status = 422, body = Problem, description = "invalid-input: not an organization plan")))]
pub async fn change_package(
    State(state): State<ApiState>,
    ctx: CommandCtx,
    Path(org): Path<String>,
    JsonBody(body): JsonBody<PackageRequest>,
) -> Result<Response, ApiError> {
    let org_id = id("organization", &org)?;
    let orgs = &state.roster().orgs;
    let handled = orgs
        .change_package(org_id, Some(&body.plan), &ctx.meta)
        .await?;
    Ok(written(
        StatusCode::OK,
        handled.position,
        OrgWritten::new(org_id, handled.position),
    ))
}

#[utoipa::path(delete, path = "/v1/orgs/{org}/package", tag = "orgs",
    params(("org" = Uuid, Path), CommandHeaders), security(("api_key" = ["commands"])),
    responses((status = 200, body = OrgWritten, description = "Off its package: the organization's own seat limit counts again, seats already taken stay."),
        (status = 403, body = Problem, description = "forbidden: the actor lacks billing.plan.manage"),
        (status = 404, body = Problem, description = "not-found")))]
pub async fn end_package(
    State(state): State<ApiState>,
    ctx: CommandCtx,
    Path(org): Path<String>,
) -> Result<Response, ApiError> {
    let org_id = id("organization", &org)?;
    let handled = state
        .roster()
        .orgs
        .change_package(org_id, None, &ctx.meta)
        .await?;
    Ok(written(
        StatusCode::OK,
        handled.position,
        OrgWritten::new(org_id, handled.position),
    ))
}

#[utoipa::path(post, path = "/v1/orgs/{org}/members", tag = "orgs", request_body = AddMemberRequest,
    params(("org" = Uuid, Path), CommandHeaders), security(("api_key" = ["commands"])),
    responses((status = 201, body = OrgWritten), (status = 403, body = Problem, description = "forbidden"),
        (status = 404, body = Problem, description = "not-found"),
        (status = 409, body = Problem, description = "seat-limit-reached, already-member")))]
pub async fn add_member(
    State(state): State<ApiState>,
    ctx: CommandCtx,
    Path(org): Path<String>,
    JsonBody(body): JsonBody<AddMemberRequest>,
) -> Result<Response, ApiError> {
    let org_id = id("organization", &org)?;
    let member_id = body.member_id;
    let command = OrgCommand::AddMember(AddOrgMember {
        member_id,
        role: body.role,
    });
    let handled = execute(&state, org_id, command, &ctx.meta).await?;
    let answer = OrgWritten {
        member_id: Some(member_id),
        ..OrgWritten::new(org_id, handled.position)
    };
    Ok(written(StatusCode::CREATED, handled.position, answer))
}

#[utoipa::path(delete, path = "/v1/orgs/{org}/members/{member}", tag = "orgs",
    params(("org" = Uuid, Path), ("member" = Uuid, Path), CommandHeaders), security(("api_key" = ["commands"])),
    responses((status = 204, description = "Removed; `Roster-Position` holds the position"),
        (status = 403, body = Problem, description = "forbidden"), (status = 409, body = Problem, description = "last-owner")))]
pub async fn remove_member(
    State(state): State<ApiState>,
    ctx: CommandCtx,
    Path((org, member)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let org_id = id("organization", &org)?;
    let member_id = id("member", &member)?;
    let command = OrgCommand::RemoveMember(RemoveOrgMember { member_id });
    let handled = execute(&state, org_id, command, &ctx.meta).await?;
    Ok(written_empty(handled.position))
}

#[utoipa::path(post, path = "/v1/orgs/{org}/members/{member}/roles", tag = "orgs", request_body = AssignRoleRequest,
    params(("org" = Uuid, Path), ("member" = Uuid, Path), CommandHeaders), security(("api_key" = ["commands"])),
    responses((status = 201, body = OrgWritten), (status = 403, body = Problem, description = "forbidden"),
        (status = 409, body = Problem, description = "last-owner, seat-limit-reached"),
        (status = 422, body = Problem, description = "unknown-role, invalid-input")))]
pub async fn assign_role(
    State(state): State<ApiState>,
    ctx: CommandCtx,
    Path((org, member)): Path<(String, String)>,
    JsonBody(body): JsonBody<AssignRoleRequest>,
) -> Result<Response, ApiError> {
    let org_id = id("organization", &org)?;
    let member_id = id("member", &member)?;
    let command = OrgCommand::AssignRole(AssignOrgRole {
        member_id,
        role: body.role,
        scope: body.scope,
        expires_at: body.expires_at,
    });
    let handled = execute(&state, org_id, command, &ctx.meta).await?;
    let answer = OrgWritten {
        member_id: Some(member_id),
        ..OrgWritten::new(org_id, handled.position)
    };
    Ok(written(StatusCode::CREATED, handled.position, answer))
}

#[utoipa::path(delete, path = "/v1/orgs/{org}/members/{member}/roles/{role}", tag = "orgs",
    params(("org" = Uuid, Path), ("member" = Uuid, Path), ("role" = String, Path), ScopeQuery, CommandHeaders),
    security(("api_key" = ["commands"])),
    responses((status = 204, description = "Revoked; `Roster-Position` holds the position"),
        (status = 403, body = Problem, description = "forbidden"), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "last-owner")))]
pub async fn revoke_role(
    State(state): State<ApiState>,
    ctx: CommandCtx,
    Path((org, member, role)): Path<(String, String, String)>,
    QueryParams(query): QueryParams<ScopeQuery>,
) -> Result<Response, ApiError> {
    let org_id = id("organization", &org)?;
    let member_id = id("member", &member)?;
    let command = OrgCommand::RevokeRole(RevokeOrgRole {
        member_id,
        role,
        scope: query.scope,
    });
    let handled = execute(&state, org_id, command, &ctx.meta).await?;
    Ok(written_empty(handled.position))
}

#[utoipa::path(post, path = "/v1/orgs/{org}/roles", tag = "orgs", request_body = DefineRoleRequest,
    params(("org" = Uuid, Path), CommandHeaders), security(("api_key" = ["commands"])),
    responses((status = 201, body = OrgWritten), (status = 403, body = Problem, description = "forbidden"),
        (status = 409, body = Problem, description = "already-exists"),
        (status = 422, body = Problem, description = "unknown-permission, invalid-input")))]
pub async fn define_role(
    State(state): State<ApiState>,
    ctx: CommandCtx,
    Path(org): Path<String>,
    JsonBody(body): JsonBody<DefineRoleRequest>,
) -> Result<Response, ApiError> {
    let org_id = id("organization", &org)?;
    let command = OrgCommand::DefineRole(DefineOrgRole {
        name: body.name,
        permissions: body.permissions,
        occupies_seat: body.occupies_seat.unwrap_or(true),
    });
    let handled = execute(&state, org_id, command, &ctx.meta).await?;
    Ok(written(
        StatusCode::CREATED,
        handled.position,
        OrgWritten::new(org_id, handled.position),
    ))
}
