//! Who is calling: the API key in `Authorization: Bearer <key>`. This middleware only
//! identifies the caller; each handler demands its scope through its extractor, so a route's
//! scope is visible in its signature.

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use roster_app::apikeys::{self, Principal};
use roster_app::head_cache::HeadCache;
use roster_app::secrets::hash_secret;

use crate::ApiState;
use crate::problem::{ApiError, ProblemType};

/// Marks a request whose `Authorization` header named no live key.
#[derive(Debug, Clone, Copy)]
pub struct BadCredentials;

pub async fn authenticate(State(state): State<ApiState>, mut req: Request, next: Next) -> Response {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return next.run(req).await;
    };
    let secret = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer ").map(str::trim));
    let principal = match secret {
        Some(secret) => match lookup(&state, secret).await {
            Ok(principal) => principal,
            Err(e) => return ApiError::from(e).into_response(),
        },
        None => None,
    };
    match principal {
        Some(principal) => {
            tracing::Span::current().record("key", tracing::field::display(principal.key_id));
            req.extensions_mut().insert(principal);
        }
        None => {
            req.extensions_mut().insert(BadCredentials);
        }
    }
    next.run(req).await
}

pub fn unauthorized(bad_credentials: bool) -> ApiError {
    let detail = if bad_credentials {
        "the API key is unknown or revoked"
    } else {
        "send an API key as `Authorization: Bearer <key>`"
    };
    ApiError::new(ProblemType::Unauthorized, detail)
}

/// Live keys this process has seen, by the hash of their secret, trusted only while the log's
/// head has not moved ([`HeadCache`]): a busy client costs no database lookup while nothing is
/// written, and a revocation, which is appended to the log (`ApiKeyRevoked`), reaches every
/// process through the log's change notifications before its next request is answered. Only
/// live keys are kept (unknown ones would let anyone fill the map).
pub type KeyCache = HeadCache<String, Principal>;

/// Keys kept at most.
pub const KEY_CACHE_CAPACITY: usize = 1024;

async fn lookup(state: &ApiState, secret: &str) -> Result<Option<Principal>, roster_app::AppError> {
    let cache = state.key_cache();
    let hash = hash_secret(secret);
    // The head is read before the lookup, so a revocation appended after it moves the head
    // past what the entry is kept at.
    let head = *state.commands().log().changes().borrow();
    if let Some(principal) = cache.get(hash.as_str(), head) {
        return Ok(Some(principal));
    }
    let principal = apikeys::authenticate(state.side(), secret).await?;
    if let Some(principal) = &principal {
        cache.put(hash, head, principal.clone());
    }
    Ok(principal)
}
