//! Operations: health, metrics, the OpenAPI document, and the answers for unknown routes.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use crate::ApiState;
use crate::extract::{Operator, Scoped};
use crate::openapi::ApiDoc;
use crate::problem::{ApiError, Problem, ProblemType};
use crate::telemetry::metrics_handle;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Health {
    pub status: String,
    /// The log's head position (readiness only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head: Option<u64>,
}

/// The process is up.
#[utoipa::path(get, path = "/health/live", tag = "operations",
    responses((status = 200, body = Health)))]
pub async fn live() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        head: None,
    })
}

/// The store and the side tables answer, and no projection has failed.
#[utoipa::path(get, path = "/health/ready", tag = "operations",
    responses((status = 200, body = Health), (status = 503, body = Problem, description = "not-ready")))]
pub async fn ready(State(state): State<ApiState>) -> Result<Json<Health>, ApiError> {
    let not_ready = |e: &dyn std::fmt::Display| {
        tracing::warn!(error = %e, "not ready");
        ApiError::new(ProblemType::NotReady, "the store is not reachable")
    };
    let head = state.roster().log.head().await.map_err(|e| not_ready(&e))?;
    state.side().ping().await.map_err(|e| not_ready(&e))?;
    if let Some(probe) = state.probe() {
        let components = probe().await.map_err(|e| not_ready(&e))?;
        crate::probe::record(&components);
        if let Some(failed) = components.iter().find(|c| !c.healthy) {
            let detail = failed.detail.clone().unwrap_or_default();
            tracing::warn!(component = %failed.name, %detail, "not ready");
            return Err(ApiError::new(
                ProblemType::NotReady,
                format!("{} has failed", failed.name),
            ));
        }
    }
    Ok(Json(Health {
        status: "ok".into(),
        head: Some(head),
    }))
}

/// Prometheus text format: requests by route and status, latency histograms, command latency,
/// projection lag.
#[utoipa::path(get, path = "/metrics", tag = "operations", security(("api_key" = ["operator"])),
    responses((status = 200, content_type = "text/plain", body = String),
        (status = 401, body = Problem, description = "unauthorized"),
        (status = 403, body = Problem, description = "insufficient-scope")))]
pub async fn metrics(State(state): State<ApiState>, _: Scoped<Operator>) -> Response {
    if let Some(probe) = state.probe() {
        match probe().await {
            Ok(components) => crate::probe::record(&components),
            Err(e) => tracing::warn!(error = %e, "cannot read the projections' lag"),
        }
    }
    match state.read_models().payment_totals().await {
        Ok(totals) => record_payments(&totals),
        Err(e) => tracing::warn!(error = %e, "cannot read the payment totals"),
    }
    let text = metrics_handle().map(|h| h.render()).unwrap_or_default();
    let mut response = text.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    response
}

/// Payments per status and currency, and the money captured and refunded (minor units), from
/// the payments read model at the time of the scrape.
/// Every status is set for every currency seen, so a status that no payment has any more reads
/// 0 instead of its last count.
fn record_payments(totals: &[roster_projections::read::PaymentTotals]) {
    let currencies: std::collections::BTreeSet<&str> =
        totals.iter().map(|t| t.currency.as_str()).collect();
    let zero = |status: &str, currency: &str| roster_projections::read::PaymentTotals {
        status: status.to_owned(),
        currency: currency.to_owned(),
        count: 0,
        captured: 0,
        refunded: 0,
    };
    let filled = currencies.iter().flat_map(|currency| {
        roster_domain::PaymentStatus::ALL.map(move |status| {
            let status = status.as_str();
            totals
                .iter()
                .find(|t| t.status == status && t.currency == *currency)
                .cloned()
                .unwrap_or_else(|| zero(status, currency))
        })
    });
    for t in filled {
        let (status, currency) = (t.status.clone(), t.currency.clone());
        metrics::gauge!("roster_payments", "status" => status, "currency" => currency.clone())
            .set(t.count as f64);
        metrics::gauge!("roster_payments_captured_minor", "status" => t.status.clone(), "currency" => currency.clone())
            .set(t.captured as f64);
        metrics::gauge!("roster_payments_refunded_minor", "status" => t.status.clone(), "currency" => currency)
            .set(t.refunded as f64);
    }
}

/// This document. Public: it describes the contract, not data.
#[utoipa::path(get, path = "/v1/openapi.json", tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json")))]
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

pub async fn not_found() -> ApiError {
    ApiError::new(ProblemType::NotFound, "no such route")
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        ProblemType::MethodNotAllowed,
        "this route does not take this method",
    )
}
