//! Members: register (mails the verification link), confirm, read, list, edit, suspend,
//! reactivate, erase (crypto-shredding), resend the verification mail.

use std::time::Instant;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use roster_domain::member::{
    ConfirmMemberEmail, EditMemberProfile, ReactivateMember, RegisterMember, RequestMemberErasure,
    SuspendMember, Visibility,
};
use roster_domain::{Member, MemberCommand, MemberEvent, MemberStatus};
use uuid::Uuid;

use super::written;
use crate::ApiState;
use crate::extract::{CommandCtx, JsonBody, Operator, Queries, Scoped, id};
use crate::problem::{ApiError, Problem, ProblemType};
use crate::telemetry::record_command;

pub mod list;
mod types;
pub use list::{ListQuery, MemberPage, list};
pub use types::{
    CommandHeaders, ConfirmRequest, EditRequest, MemberStatusDto, MemberView, MemberWritten,
    RegisterRequest, SuspendRequest, VisibilityDto,
};

#[utoipa::path(post, path = "/v1/members", tag = "members", request_body = RegisterRequest,
    params(CommandHeaders), security(("api_key" = ["commands"])),
    responses((status = 201, body = MemberWritten, description = "Registered; the verification mail is in the outbox"),
        (status = 409, body = Problem, description = "email-taken"),
        (status = 422, body = Problem, description = "invalid-input")))]
pub async fn register(
    State(state): State<ApiState>,
    ctx: CommandCtx,
    JsonBody(body): JsonBody<RegisterRequest>,
) -> Result<Response, ApiError> {
    let member_id = state.commands().new_id();
    let command = MemberCommand::Register(RegisterMember {
        member_id,
        email: body.email,
        name: body.name,
        fields: body.fields,
        company: body.company,
        location: body.location,
    });
    let started = Instant::now();
    let handled = state
        .commands()
        .execute::<Member>(member_id, &command, &ctx.meta)
        .await?;
    record_command("RegisterMember", started.elapsed());
    if let Some(MemberEvent::Registered(e)) = handled.events.first()
        && let Some(personal) = &e.personal
        && let Err(error) = state
            .verification()
            .send(member_id, &personal.email, &personal.name)
            .await
    {
        // The member exists; the mail can be sent again with the resend route.
        tracing::error!(%member_id, %error, "cannot write the verification mail");
    }
    let answer = MemberWritten {
        member_id,
        status: MemberStatusDto::PendingConfirmation,
        position: handled.position,
    };
    Ok(written(StatusCode::CREATED, handled.position, answer))
}

#[utoipa::path(post, path = "/v1/members/confirm", tag = "members", request_body = ConfirmRequest,
    params(CommandHeaders), security(("api_key" = ["commands"])),
    responses((status = 200, body = MemberWritten),
        (status = 400, body = Problem, description = "invalid-token: unknown, used or expired")))]
pub async fn confirm(
    State(state): State<ApiState>,
    ctx: CommandCtx,
    JsonBody(body): JsonBody<ConfirmRequest>,
) -> Result<Response, ApiError> {
    let Some(member_id) = state.verification().redeem(&body.token).await? else {
        return Err(ApiError::new(
            ProblemType::InvalidToken,
            "the token is unknown, already used or expired",
        ));
    };
    let command = MemberCommand::ConfirmEmail(ConfirmMemberEmail {});
    let confirmed = member_command(&state, member_id, command, &ctx, StatusCode::OK).await;
    if confirmed.is_err() {
        // The token was used up first so that two concurrent confirms cannot both pass; the
        // confirmation then failed, so the member keeps a working link.
        if let Err(e) = state.verification().restore(&body.token).await {
            tracing::error!(error = %e, "a failed confirmation could not give its token back");
        }
    }
    confirmed
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
    let loaded = state.commands().load::<Member>(member_id).await?;
    MemberView::of(member_id, loaded.state, loaded.position)
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("member {member_id}")))
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
    let loaded = state.commands().load::<Member>(member_id).await?;
    let position = match loaded.state.status {
        MemberStatus::Unregistered => {
            return Err(ApiError::not_found(format!("member {member_id}")));
        }
        MemberStatus::Erased => loaded.position,
        _ => {
            let command = MemberCommand::RequestErasure(RequestMemberErasure {});
            let handled = state
                .commands()
                .execute::<Member>(member_id, &command, &ctx.meta)
                .await?;
            handled.position
        }
    };
    state.commands().vault().shred(member_id).await?;
    let answer = MemberWritten {
        member_id,
        status: MemberStatusDto::Erased,
        position,
    };
    Ok(written(StatusCode::OK, position, answer))
}

/// Sends a new verification mail; older links stop working.
#[utoipa::path(post, path = "/v1/members/{member}/verification-email", tag = "members",
    params(("member" = Uuid, Path), CommandHeaders), security(("api_key" = ["commands"])),
    responses((status = 202, body = MemberWritten), (status = 404, body = Problem), (status = 409, body = Problem, description = "invalid-state: not pending")))]
pub async fn resend_verification(
    State(state): State<ApiState>,
    _ctx: CommandCtx,
    Path(member): Path<String>,
) -> Result<Response, ApiError> {
    let member_id = id("member", &member)?;
    let loaded = state.commands().load::<Member>(member_id).await?;
    let personal = match (loaded.state.status, loaded.state.personal) {
        (MemberStatus::PendingConfirmation, Some(personal)) => personal,
        (MemberStatus::Unregistered, _) => {
            return Err(ApiError::not_found(format!("member {member_id}")));
        }
        _ => {
            return Err(ApiError::new(
                ProblemType::InvalidState,
                "only a member pending confirmation gets a verification mail",
            ));
        }
    };
    state
        .verification()
        .send(member_id, &personal.email, &personal.name)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let answer = MemberWritten {
        member_id,
        status: MemberStatusDto::PendingConfirmation,
        position: loaded.position,
    };
    Ok(written(StatusCode::ACCEPTED, loaded.position, answer))
}

async fn member_command(
    state: &ApiState,
    member_id: Uuid,
    command: MemberCommand,
    ctx: &CommandCtx,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let started = Instant::now();
    let handled = state
        .commands()
        .execute::<Member>(member_id, &command, &ctx.meta)
        .await?;
    record_command(command_name(&command), started.elapsed());
    let loaded = state.commands().load::<Member>(member_id).await?;
    let status_now = MemberStatusDto::of(loaded.state.status)
        .ok_or_else(|| ApiError::not_found(format!("member {member_id}")))?;
    let answer = MemberWritten {
        member_id,
        status: status_now,
        position: handled.position,
    };
    Ok(written(status, handled.position, answer))
}

fn command_name(command: &MemberCommand) -> &'static str {
    match command {
        MemberCommand::Register(_) => "RegisterMember",
        MemberCommand::ConfirmEmail(_) => "ConfirmMemberEmail",
        MemberCommand::EditProfile(_) => "EditMemberProfile",
        MemberCommand::Suspend(_) => "SuspendMember",
        MemberCommand::Reactivate(_) => "ReactivateMember",
        MemberCommand::RequestErasure(_) => "RequestMemberErasure",
    }
}
