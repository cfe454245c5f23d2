//! Members: register (issues the first verification token), read, list, edit, suspend,
//! reactivate, erase (crypto-shredding). Confirming and resending live in [`verification`].

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use roster_app::Handled;
use roster_app::members::Registration;
use roster_domain::member::{EditMemberProfile, ReactivateMember, SuspendMember, Visibility};
use roster_domain::{Member, MemberCommand};
use uuid::Uuid;

use super::written;
use crate::ApiState;
use crate::extract::{CommandCtx, JsonBody, Operator, Queries, Scoped, id};
use crate::problem::{ApiError, Problem, ProblemType};

pub mod list;
mod types;
pub mod verification;
pub use list::{ListQuery, MemberPage, list};
pub use types::{
    CommandHeaders, ConfirmRequest, EditRequest, MemberStatusDto, MemberView, MemberWritten,
    ReferralCodeView, ReferralView, RegisterRequest, SuspendRequest, VisibilityDto,
};
pub use verification::{confirm, resend_verification};

#[utoipa::path(post, path = "/v1/members", tag = "members", request_body = RegisterRequest,
    params(CommandHeaders), security(("api_key" = ["commands"])),
    responses((status = 201, body = MemberWritten, description = "Registered; the verification mail follows from a worker"),
        (status = 409, body = Problem, description = "email-taken"),
        (status = 422, body = Problem, description = "invalid-input")))]
pub async fn register(
    State(state): State<ApiState>,
    ctx: CommandCtx,
    JsonBody(body): JsonBody<RegisterRequest>,
) -> Result<Response, ApiError> {
    let form = Registration {
        email: body.email,
        name: body.name,
        fields: body.fields,
        company: body.company,
        location: body.location,
        referral_code: body.referral_code,
    };
    let handled = state.roster().members.register(form, &ctx.meta).await?;
    member_written(StatusCode::CREATED, &handled)
}

#[utoipa::path(get, path = "/v1/members/{member}", tag = "members",
    params(("member" = Uuid, Path)), security(("api_key" = ["queries"])),
    responses((status = 200, body = MemberView), (status = 404, body = Problem, description = "not-found")))]
pub async fn get(
    State(state): State<ApiState>,
    _: Scoped<Queries>,
    Path(member): Path<String>,
) -> Result<Json<MemberView>, ApiError> {
    let member_id = id("member", &member)?;
    let loaded = state.roster().members.get(member_id).await?;
    MemberView::of(member_id, loaded.state, loaded.position)
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("member {member_id}")))
}

#[utoipa::path(get, path = "/v1/members/{member}/referral-code", tag = "members",
    params(("member" = Uuid, Path)), security(("api_key" = ["queries"])),
    responses((status = 200, body = ReferralCodeView), (status = 404, body = Problem, description = "not-found")))]
pub async fn referral_code(
    State(state): State<ApiState>,
    _: Scoped<Queries>,
    Path(member): Path<String>,
) -> Result<Json<ReferralCodeView>, ApiError> {
    let member_id = id("member", &member)?;
    let referral_code = state.roster().members.referral_code(member_id).await?;
    Ok(Json(ReferralCodeView {
        member_id,
        referral_code,
    }))
}

#[utoipa::path(patch, path = "/v1/members/{member}", tag = "members", request_body = EditRequest,
    params(("member" = Uuid, Path), CommandHeaders), security(("api_key" = ["commands"])),
    responses((status = 200, body = MemberWritten), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn edit(
    State(state): State<ApiState>,
    ctx: CommandCtx,
    Path(member): Path<String>,
    JsonBody(body): JsonBody<EditRequest>,
) -> Result<Response, ApiError> {
    let member_id = id("member", &member)?;
    let command = MemberCommand::EditProfile(EditMemberProfile {
        name: body.name,
        fields: body.fields,
        company: body.company,
        location: body.location,
        visibility: body.visibility.map(|v| Visibility {
            public: v.public,
            searchable: v.searchable,
        }),
    });
    member_command(&state, member_id, command, &ctx, StatusCode::OK).await
}

#[utoipa::path(post, path = "/v1/members/{member}/suspend", tag = "members", request_body = SuspendRequest,
    params(("member" = Uuid, Path), CommandHeaders), security(("api_key" = ["commands"])),
    responses((status = 200, body = MemberWritten), (status = 404, body = Problem), (status = 409, body = Problem, description = "invalid-state")))]
pub async fn suspend(
    State(state): State<ApiState>,
    ctx: CommandCtx,
    Path(member): Path<String>,
    JsonBody(body): JsonBody<SuspendRequest>,
) -> Result<Response, ApiError> {
    let member_id = id("member", &member)?;
    let command = MemberCommand::Suspend(SuspendMember {
        reason: body.reason,
    });
    member_command(&state, member_id, command, &ctx, StatusCode::OK).await
}

#[utoipa::path(post, path = "/v1/members/{member}/reactivate", tag = "members",
    params(("member" = Uuid, Path), CommandHeaders), security(("api_key" = ["commands"])),
    responses((status = 200, body = MemberWritten), (status = 404, body = Problem), (status = 409, body = Problem, description = "invalid-state")))]
pub async fn reactivate(
    State(state): State<ApiState>,
    ctx: CommandCtx,
    Path(member): Path<String>,
) -> Result<Response, ApiError> {
    let member_id = id("member", &member)?;
    let command = MemberCommand::Reactivate(ReactivateMember {});
    member_command(&state, member_id, command, &ctx, StatusCode::OK).await
}

/// Erasure: records the request, then destroys the member's data key, so every copy of their
/// personal data in the log becomes unreadable. Repeating it finishes an interrupted erasure.
#[utoipa::path(delete, path = "/v1/members/{member}", tag = "members",
    params(("member" = Uuid, Path), CommandHeaders), security(("api_key" = ["operator"])),
    responses((status = 200, body = MemberWritten), (status = 404, body = Problem)))]
pub async fn erase(
    State(state): State<ApiState>,
    ctx: CommandCtx<Operator>,
    Path(member): Path<String>,
) -> Result<Response, ApiError> {
    let member_id = id("member", &member)?;
    let handled = state.roster().members.erase(member_id, &ctx.meta).await?;
    member_written(StatusCode::OK, &handled)
}

pub(crate) async fn member_command(
    state: &ApiState,
    member_id: Uuid,
    command: MemberCommand,
    ctx: &CommandCtx,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let members = &state.roster().members;
    let handled = members.execute(member_id, &command, &ctx.meta).await?;
    member_written(status, &handled)
}

/// The answer to a member command: the member's status after it, and the position.
pub(crate) fn member_written(
    status: StatusCode,
    handled: &Handled<Member>,
) -> Result<Response, ApiError> {
    let member = &handled.state;
    let (Some(member_id), Some(status_now)) =
        (member.member_id, MemberStatusDto::of(member.status))
    else {
        return Err(ApiError::new(ProblemType::NotFound, "member not found"));
    };
    let answer = MemberWritten {
        member_id,
        status: status_now,
        position: handled.position,
    };
    Ok(written(status, handled.position, answer))
}
