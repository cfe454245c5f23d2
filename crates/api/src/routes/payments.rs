//! Payments: ask for a card payment (a worker charges it), read one (folded from its stream),
//! list them (from `payments_v1`), refund, and record money received offline (operators).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use roster_app::Handled;
use roster_app::apikeys::Scope;
use roster_app::payments::{NewPayment, NewRefund, OfflinePayment};
use roster_domain::payment::OfflineMethod;
use roster_domain::{Payment, PaymentStatus};
use roster_projections::PAYMENTS;
use roster_projections::read::{PaymentFilter, PaymentRecord};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::members::CommandHeaders;
use super::{wait_for, written};
use crate::ApiState;
use crate::extract::{CommandCtx, JsonBody, Operator, Queries, QueryParams, Scoped, id};
use crate::problem::{ApiError, Problem, ProblemType};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentRequest {
    pub member_id: Uuid,
    /// In minor units of `currency` (cents; yen have none).
    pub amount: u64,
    /// ISO 4217 (`EUR`, `jpy`).
    pub currency: String,
    /// The Stripe payment method (`pm_…`) to charge off-session.
    pub payment_method: String,
    pub membership_id: Option<Uuid>,
    pub description: Option<String>,
}

/// How money received outside Stripe came.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OfflineMethodDto {
    BankTransfer,
    Check,
    Invoice,
    PointOfSale,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfflinePaymentRequest {
    pub member_id: Uuid,
    pub amount: u64,
    pub currency: String,
    pub method: OfflineMethodDto,
    /// The transfer's, check's or invoice's reference.
    pub reference: String,
    /// When the money arrived (default: now).
    pub received_at: Option<DateTime<Utc>>,
    pub membership_id: Option<Uuid>,
    pub description: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundRequest {
    /// In minor units; absent refunds all that remains.
    pub amount: Option<u64>,
    /// When given, must be the payment's currency.
    pub currency: Option<String>,
    pub reason: Option<String>,
    /// Refund outside the refund window, with this reason (needs the `operator` scope).
    pub override_reason: Option<String>,
}

/// A payment command's answer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PaymentWritten {
    pub payment_id: Uuid,
    /// `processing`, `retrying`, `succeeded`, `partially_refunded`, `refunded` or `failed`.
    pub status: String,
    /// The refund this command asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund_id: Option<Uuid>,
    pub position: u64,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PaymentListQuery {
    /// Only this member's payments.
    pub member: Option<Uuid>,
    /// Only payments with this status.
    pub status: Option<String>,
    /// The `next` cursor of the previous page (opaque).
    pub after: Option<String>,
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<usize>,
    /// Wait (up to 5 s) until the list includes the effects of the command that answered
    /// with this position; else 503 `projection-behind`.
    pub min_position: Option<u64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PaymentPage {
    pub items: Vec<PaymentRecord>,
    /// Pass as `after` for the next page; `null` on the last page.
    pub next: Option<String>,
}

#[utoipa::path(post, path = "/v1/payments", tag = "payments", request_body = PaymentRequest,
    params(CommandHeaders), security(("api_key" = ["commands"])),
    responses((status = 202, body = PaymentWritten, description = "Accepted; a worker charges it"),
        (status = 404, body = Problem, description = "not-found: no such member"),
        (status = 422, body = Problem, description = "invalid-input")))]
pub async fn request(
    State(state): State<ApiState>,
    ctx: CommandCtx,
    JsonBody(body): JsonBody<PaymentRequest>,
) -> Result<Response, ApiError> {
    let payment = NewPayment {
        member_id: body.member_id,
        amount: body.amount,
        currency: body.currency,
        payment_method: body.payment_method,
        membership_id: body.membership_id,
        description: body.description,
    };
    let handled = state.roster().payments.request(payment, &ctx.meta).await?;
    payment_written(StatusCode::ACCEPTED, &handled, None)
}

#[utoipa::path(post, path = "/v1/payments/offline", tag = "payments", request_body = OfflinePaymentRequest,
    params(CommandHeaders), security(("api_key" = ["operator"])),
    responses((status = 201, body = PaymentWritten, description = "Recorded as succeeded"),
        (status = 404, body = Problem, description = "not-found: no such member"),
        (status = 422, body = Problem, description = "invalid-input")))]
pub async fn record_offline(
    State(state): State<ApiState>,
    ctx: CommandCtx<Operator>,
    JsonBody(body): JsonBody<OfflinePaymentRequest>,
) -> Result<Response, ApiError> {
    let payment = OfflinePayment {
        member_id: body.member_id,
        amount: body.amount,
        currency: body.currency,
        method: match body.method {
            OfflineMethodDto::BankTransfer => OfflineMethod::BankTransfer,
            OfflineMethodDto::Check => OfflineMethod::Check,
            OfflineMethodDto::Invoice => OfflineMethod::Invoice,
            OfflineMethodDto::PointOfSale => OfflineMethod::PointOfSale,
        },
        reference: body.reference,
        received_at: body.received_at,
        membership_id: body.membership_id,
        description: body.description,
    };
    let payments = &state.roster().payments;
    let handled = payments.record_offline(payment, &ctx.meta).await?;
    payment_written(StatusCode::CREATED, &handled, None)
}

#[utoipa::path(get, path = "/v1/payments/{payment}", tag = "payments",
    params(("payment" = Uuid, Path)), security(("api_key" = ["queries"])),
    responses((status = 200, body = PaymentRecord), (status = 404, body = Problem, description = "not-found")))]
pub async fn get(
    State(state): State<ApiState>,
    _: Scoped<Queries>,
    Path(payment): Path<String>,
) -> Result<Json<PaymentRecord>, ApiError> {
    let payment_id = id("payment", &payment)?;
    let loaded = state.roster().payments.get(payment_id).await?;
    PaymentRecord::of(&loaded.state, loaded.position)
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("payment {payment_id}")))
}

#[utoipa::path(get, path = "/v1/payments", tag = "payments", params(PaymentListQuery),
    security(("api_key" = ["queries"])),
    responses((status = 200, body = PaymentPage), (status = 422, body = Problem, description = "invalid-input"),
        (status = 503, body = Problem, description = "projection-behind")))]
pub async fn list(
    State(state): State<ApiState>,
    _: Scoped<Queries>,
    QueryParams(query): QueryParams<PaymentListQuery>,
) -> Result<Json<PaymentPage>, ApiError> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be 1 to 500"));
    }
    if let Some(status) = &query.status
        && !PaymentStatus::ALL.iter().any(|s| s.as_str() == status)
    {
        return Err(ApiError::invalid(
            "status",
            format!(
                "must be one of {}",
                PaymentStatus::ALL.map(PaymentStatus::as_str).join(", ")
            ),
        ));
    }
    wait_for(&state, PAYMENTS, query.min_position).await?;
    let filter = PaymentFilter {
        member: query.member,
        status: query.status,
    };
    let page = state
        .read_models()
        .payments(&filter, query.after.as_deref(), limit)
        .await?;
    Ok(Json(PaymentPage {
        items: page.items,
        next: page.next,
    }))
}

#[utoipa::path(post, path = "/v1/payments/{payment}/refunds", tag = "payments", request_body = RefundRequest,
    params(("payment" = Uuid, Path), CommandHeaders), security(("api_key" = ["commands"])),
    responses((status = 202, body = PaymentWritten, description = "Accepted; a worker refunds it through Stripe (offline payments: recorded at once)"),
        (status = 403, body = Problem, description = "insufficient-scope: an override needs the operator scope"),
        (status = 404, body = Problem, description = "not-found"),
        (status = 409, body = Problem, description = "refund-exceeds-captured, refund-window-closed, invalid-state")))]
pub async fn refund(
    State(state): State<ApiState>,
    ctx: CommandCtx,
    caller: Scoped<crate::extract::Commands>,
    Path(payment): Path<String>,
    JsonBody(body): JsonBody<RefundRequest>,
) -> Result<Response, ApiError> {
    let payment_id = id("payment", &payment)?;
    if body.override_reason.is_some() && !caller.0.has(Scope::Operator) {
        return Err(ApiError::new(
            ProblemType::InsufficientScope,
            "refunding outside the window needs an API key with the `operator` scope",
        ));
    }
    let refund = NewRefund {
        amount: body.amount,
        currency: body.currency,
        reason: body.reason,
        override_reason: body.override_reason,
    };
    let payments = &state.roster().payments;
    let (refund_id, handled) = payments.refund(payment_id, refund, &ctx.meta).await?;
    payment_written(StatusCode::ACCEPTED, &handled, Some(refund_id))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentMethodRequest {
    /// The Stripe payment method (`pm_…`) the next attempt charges.
    pub payment_method: String,
}

#[utoipa::path(put, path = "/v1/payments/{payment}/payment-method", tag = "payments", request_body = PaymentMethodRequest,
    params(("payment" = Uuid, Path), CommandHeaders), security(("api_key" = ["commands"])),
    responses((status = 200, body = PaymentWritten, description = "The next attempt charges it"),
        (status = 404, body = Problem, description = "not-found"),
        (status = 409, body = Problem, description = "invalid-state: the payment is settled"),
        (status = 422, body = Problem, description = "invalid-input")))]
pub async fn change_method(
    State(state): State<ApiState>,
    ctx: CommandCtx,
    Path(payment): Path<String>,
    JsonBody(body): JsonBody<PaymentMethodRequest>,
) -> Result<Response, ApiError> {
    let payment_id = id("payment", &payment)?;
    let payments = &state.roster().payments;
    let handled = payments
        .change_method(payment_id, body.payment_method, &ctx.meta)
        .await?;
    payment_written(StatusCode::OK, &handled, None)
}

fn payment_written(
    status: StatusCode,
    handled: &Handled<Payment>,
    refund_id: Option<Uuid>,
) -> Result<Response, ApiError> {
    let payment_id = handled
        .state
        .payment_id
        .ok_or_else(|| ApiError::not_found("payment"))?;
    let answer = PaymentWritten {
        payment_id,
        status: handled.state.status().as_str().to_owned(),
        refund_id,
        position: handled.position,
    };
    Ok(written(status, handled.position, answer))
}
