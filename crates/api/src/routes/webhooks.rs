//! `POST /v1/webhooks/stripe`: Stripe's deliveries, signed (no API key). The body is read as
//! bytes, as signed; the use case verifies it and turns it into payment reports.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use roster_app::payments::WebhookOutcome;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ApiState;
use crate::problem::{ApiError, Problem};

const SIGNATURE_HEADER: &str = "stripe-signature";

/// What became of a delivery.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WebhookAnswer {
    /// `applied`, `duplicate` (this event id was applied before) or `ignored` (not about a
    /// Roster payment, or a type Roster does not follow).
    pub outcome: String,
    pub event_type: Option<String>,
}

#[utoipa::path(post, path = "/v1/webhooks/stripe", tag = "payments",
    request_body(content = String, content_type = "application/json", description = "A Stripe event, as Stripe signed it"),
    params(("Stripe-Signature" = String, Header, description = "t=<unix seconds>,v1=<hex HMAC-SHA256>")),
    responses((status = 200, body = WebhookAnswer),
        (status = 400, body = Problem, description = "invalid-signature: missing, wrong, or more than 300 s old")))]
pub async fn stripe(
    State(state): State<ApiState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<WebhookAnswer>, ApiError> {
    let signature = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    let payments = &state.roster().payments;
    let outcome = payments.stripe_webhook(&body, signature).await?;
    let (outcome, event_type) = match outcome {
        WebhookOutcome::Applied { event_type } => ("applied", Some(event_type)),
        WebhookOutcome::Duplicate => ("duplicate", None),
        WebhookOutcome::Ignored { event_type } => ("ignored", Some(event_type)),
    };
    Ok(Json(WebhookAnswer {
        outcome: outcome.to_owned(),
        event_type,
    }))
}
