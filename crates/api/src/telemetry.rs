//! Request ids, structured request logs and Prometheus metrics. One span per request carries
//! the request id, method and route (the matched pattern, never the concrete path, so member
//! ids stay out of metric labels); bodies are never logged.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing::Instrument;
use uuid::Uuid;

pub const REQUEST_ID_HEADER: &str = "x-request-id";
pub const CORRELATION_ID_HEADER: &str = "x-correlation-id";

/// The ids of one request, for handlers (command metadata) and logs.
#[derive(Debug, Clone)]
pub struct RequestIds {
    pub request_id: String,
    /// From `X-Correlation-Id` when it is a UUID, else a fresh one.
    pub correlation_id: Uuid,
}

static METRICS: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// Installs the process-wide Prometheus recorder once (a later call is a no-op).
pub fn install_metrics() {
    metrics_handle();
}

/// The recorder's handle, `None` when another recorder was installed first.
pub fn metrics_handle() -> Option<&'static PrometheusHandle> {
    METRICS
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
                .ok()?;
            builder.install_recorder().ok()
        })
        .as_ref()
}

pub async fn layer(mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.chars().all(|c| c.is_ascii_graphic()))
        .map_or_else(|| Uuid::now_v7().to_string(), str::to_owned);
    let correlation_id = req
        .headers()
        .get(CORRELATION_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| Uuid::parse_str(v).ok())
        .unwrap_or_else(Uuid::now_v7);
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_owned();
    let method = req.method().as_str().to_owned();
    req.extensions_mut().insert(RequestIds {
        request_id: request_id.clone(),
        correlation_id,
    });
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        correlation_id = %correlation_id,
        method = %method,
        route = %route,
        key = tracing::field::Empty,
    );
    let mut response = next.run(req).instrument(span.clone()).await;
    let status = response.status().as_u16();
    let elapsed = started.elapsed().as_secs_f64();
    span.in_scope(|| tracing::info!(status, latency_ms = elapsed * 1000.0, "request"));
    let labels = [("route", route), ("method", method)];
    metrics::histogram!("roster_http_request_duration_seconds", &labels).record(elapsed);
    let [route, method] = labels;
    metrics::counter!(
        "roster_http_requests_total",
        &[route, method, ("status", status.to_string())]
    )
    .increment(1);
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    response
}
