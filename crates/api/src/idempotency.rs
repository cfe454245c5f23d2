//! `Idempotency-Key` on every command: the first answer (status and body) is recorded per API
//! key and key; the same key with the same request replays it without running the command
//! again (so no new events), the same key with another request is 422
//! `idempotency-key-reused`, and a key whose first request is still running is 409.
//! A request that failed for a technical reason (5xx) records nothing, so it can be retried.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use roster_app::apikeys::Principal;
use roster_app::sidedb::{Reservation, StoredResponse};
use sha2::{Digest, Sha256};

use crate::ApiState;
use crate::extract::{ACTOR_HEADER, IDEMPOTENCY_HEADER, too_large};
use crate::problem::{ApiError, PROBLEM_JSON, ProblemType};

pub const REPLAYED_HEADER: &str = "idempotent-replayed";
const MAX_KEY_LEN: usize = 255;

pub async fn layer(State(state): State<ApiState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let Some(key) = req.headers().get(IDEMPOTENCY_HEADER).cloned() else {
        return next.run(req).await;
    };
    let Some(key) = key
        .to_str()
        .ok()
        .filter(|k| valid_key(k))
        .map(str::to_owned)
    else {
        return ApiError::invalid(
            "Idempotency-Key",
            "must be 1 to 255 visible ASCII characters",
        )
        .into_response();
    };
    // Without a key the handler answers 401; there is no owner to record the answer under.
    let Some(owner) = req
        .extensions()
        .get::<Principal>()
        .map(|p| p.key_id.to_string())
    else {
        return next.run(req).await;
    };
    match run(&state, &owner, &key, req, next).await {
        Ok(response) | Err(response) => response,
    }
}

async fn run(
    state: &ApiState,
    owner: &str,
    key: &str,
    req: Request,
    next: Next,
) -> Result<Response, Response> {
    let (parts, body) = req.into_parts();
    let bytes = to_bytes(body, state.body_limit())
        .await
        .map_err(|_| too_large().into_response())?;
    let hash = request_hash(&parts, &bytes);
    let now = state.commands().clock().now();
    let reservation = state
        .side()
        .reserve_idempotency_key(owner, key, &hash, now)
        .await
        .map_err(|e| ApiError::from(e).into_response())?;
    match reservation {
        Reservation::Reserved => {}
        Reservation::Completed {
            request_hash,
            response,
        } if request_hash == hash => return Ok(replay(response)),
        Reservation::Completed { .. } => {
            return Err(ApiError::new(
                ProblemType::IdempotencyKeyReused,
                "this Idempotency-Key was used with a different request",
            )
            .into_response());
        }
        Reservation::InProgress => {
            return Err(ApiError::new(
                ProblemType::IdempotencyKeyInProgress,
                "a request with this Idempotency-Key is still running; retry later",
            )
            .into_response());
        }
    }
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let (parts, body) = response.into_parts();
    let body = to_bytes(body, usize::MAX)
        .await
        .map_err(|e| ApiError::internal(&e).into_response())?;
    let transient = parts.status.is_server_error()
        || parts
            .extensions
            .get::<ProblemType>()
            .is_some_and(|kind| kind.is_transient());
    let recorded = if transient {
        state.side().release_idempotency_key(owner, key, now).await
    } else {
        let stored = StoredResponse {
            status: parts.status.as_u16(),
            body: body.to_vec(),
        };
        state
            .side()
            .complete_idempotency_key(owner, key, now, &stored)
            .await
    };
    if let Err(e) = recorded {
        tracing::error!(error = %e, "cannot record the idempotent answer");
    }
    Ok(Response::from_parts(parts, Body::from(body)))
}

/// The request as far as "the same request" goes: method, path and query, acting member and
/// body. Headers like the request id differ between retries and do not count.
fn request_hash(parts: &axum::http::request::Parts, body: &[u8]) -> String {
    let mut hash = Sha256::new();
    hash.update(parts.method.as_str());
    hash.update([0]);
    hash.update(parts.uri.path_and_query().map_or("", |p| p.as_str()));
    hash.update([0]);
    let actor = parts
        .headers
        .get(ACTOR_HEADER)
        .map_or(&[][..], |v| v.as_bytes());
    hash.update(actor);
    hash.update([0]);
    hash.update(body);
    URL_SAFE_NO_PAD.encode(hash.finalize())
}

fn replay(stored: StoredResponse) -> Response {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut response = (status, stored.body).into_response();
    let headers = response.headers_mut();
    if status.is_client_error() {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    } else if status != StatusCode::NO_CONTENT {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    headers.insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    response
}

fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= MAX_KEY_LEN
        && key.chars().all(|c| c.is_ascii_graphic() || c == ' ')
}
