//! Groups of an organization: create, grant and revoke their roles, members join and leave.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use roster_domain::OrgCommand;
use roster_domain::org::{GrantOrgGroupRole, JoinOrgGroup, LeaveOrgGroup, RevokeOrgGroupRole};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{OrgWritten, ScopeQuery, execute};
use crate::ApiState;
use crate::extract::{CommandCtx, JsonBody, QueryParams, id};
use crate::problem::{ApiError, Problem};
use crate::routes::members::CommandHeaders;
use crate::routes::{written, written_empty};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGroupRequest {
    pub name: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupRoleRequest {
    pub role: String,
    #[serde(default)]
    pub scope: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinGroupRequest {
    pub member_id: Uuid,
}

/// Which grant to revoke: the one with exactly this scope (none = the unscoped one).
#[utoipa::path(post, path = "/v1/orgs/{org}/groups", tag = "orgs", request_body = CreateGroupRequest,
    params(("org" = Uuid, Path), CommandHeaders), security(("api_key" = ["commands"])),
    responses((status = 201, body = OrgWritten), (status = 403, body = Problem, description = "forbidden"),
        (status = 409, body = Problem, description = "already-exists")))]
pub async fn create_group(
    State(state): State<ApiState>,
    ctx: CommandCtx,
    Path(org): Path<String>,
    JsonBody(body): JsonBody<CreateGroupRequest>,
) -> Result<Response, ApiError> {
    let org_id = id("organization", &org)?;
    let orgs = &state.roster().orgs;
    let (group_id, handled) = orgs.create_group(org_id, body.name, &ctx.meta).await?;
    let answer = OrgWritten {
        group_id: Some(group_id),
        ..OrgWritten::new(org_id, handled.position)
    };
    Ok(written(StatusCode::CREATED, handled.position, answer))
}

#[utoipa::path(post, path = "/v1/orgs/{org}/groups/{group}/roles", tag = "orgs", request_body = GroupRoleRequest,
    params(("org" = Uuid, Path), ("group" = Uuid, Path), CommandHeaders), security(("api_key" = ["commands"])),
    responses((status = 201, body = OrgWritten), (status = 403, body = Problem, description = "forbidden"),
        (status = 404, body = Problem), (status = 409, body = Problem, description = "already-exists, seat-limit-reached")))]
pub async fn grant_group_role(
    State(state): State<ApiState>,
    ctx: CommandCtx,
    Path((org, group)): Path<(String, String)>,
    JsonBody(body): JsonBody<GroupRoleRequest>,
) -> Result<Response, ApiError> {
    let org_id = id("organization", &org)?;
    let group_id = id("group", &group)?;
    let command = OrgCommand::GrantGroupRole(GrantOrgGroupRole {
        group_id,
        role: body.role,
        scope: body.scope,
    });
    let handled = execute(&state, org_id, command, &ctx.meta).await?;
    let answer = OrgWritten {
        group_id: Some(group_id),
        ..OrgWritten::new(org_id, handled.position)
    };
    Ok(written(StatusCode::CREATED, handled.position, answer))
}

#[utoipa::path(delete, path = "/v1/orgs/{org}/groups/{group}/roles/{role}", tag = "orgs",
    params(("org" = Uuid, Path), ("group" = Uuid, Path), ("role" = String, Path), ScopeQuery, CommandHeaders),
    security(("api_key" = ["commands"])),
    responses((status = 204, description = "Revoked"), (status = 403, body = Problem, description = "forbidden"),
        (status = 404, body = Problem), (status = 409, body = Problem, description = "last-owner")))]
pub async fn revoke_group_role(
    State(state): State<ApiState>,
    ctx: CommandCtx,
    Path((org, group, role)): Path<(String, String, String)>,
    QueryParams(query): QueryParams<ScopeQuery>,
) -> Result<Response, ApiError> {
    let org_id = id("organization", &org)?;
    let group_id = id("group", &group)?;
    let command = OrgCommand::RevokeGroupRole(RevokeOrgGroupRole {
        group_id,
        role,
        scope: query.scope,
    });
    let handled = execute(&state, org_id, command, &ctx.meta).await?;
    Ok(written_empty(handled.position))
}

#[utoipa::path(post, path = "/v1/orgs/{org}/groups/{group}/members", tag = "orgs", request_body = JoinGroupRequest,
    params(("org" = Uuid, Path), ("group" = Uuid, Path), CommandHeaders), security(("api_key" = ["commands"])),
    responses((status = 201, body = OrgWritten), (status = 403, body = Problem, description = "forbidden"),
        (status = 404, body = Problem, description = "not-found, not-a-member"),
        (status = 409, body = Problem, description = "already-exists, seat-limit-reached")))]
pub async fn join_group(
    State(state): State<ApiState>,
    ctx: CommandCtx,
    Path((org, group)): Path<(String, String)>,
    JsonBody(body): JsonBody<JoinGroupRequest>,
) -> Result<Response, ApiError> {
    let org_id = id("organization", &org)?;
    let group_id = id("group", &group)?;
    let member_id = body.member_id;
    let command = OrgCommand::JoinGroup(JoinOrgGroup {
        group_id,
        member_id,
    });
    let handled = execute(&state, org_id, command, &ctx.meta).await?;
    let answer = OrgWritten {
        member_id: Some(member_id),
        group_id: Some(group_id),
        ..OrgWritten::new(org_id, handled.position)
    };
    Ok(written(StatusCode::CREATED, handled.position, answer))
}

#[utoipa::path(delete, path = "/v1/orgs/{org}/groups/{group}/members/{member}", tag = "orgs",
    params(("org" = Uuid, Path), ("group" = Uuid, Path), ("member" = Uuid, Path), CommandHeaders),
    security(("api_key" = ["commands"])),
    responses((status = 204, description = "Left the group"), (status = 403, body = Problem, description = "forbidden"),
        (status = 404, body = Problem), (status = 409, body = Problem, description = "last-owner")))]
pub async fn leave_group(
    State(state): State<ApiState>,
    ctx: CommandCtx,
    Path((org, group, member)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let org_id = id("organization", &org)?;
    let group_id = id("group", &group)?;
    let member_id = id("member", &member)?;
    let command = OrgCommand::LeaveGroup(LeaveOrgGroup {
        group_id,
        member_id,
    });
    let handled = execute(&state, org_id, command, &ctx.meta).await?;
    Ok(written_empty(handled.position))
}
