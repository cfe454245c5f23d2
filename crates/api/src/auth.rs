//! Who is calling: the API key in `Authorization: Bearer <key>`. This middleware only
//! identifies the caller; each handler demands its scope through its extractor, so a route's
//! scope is visible in its signature.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use roster_app::apikeys::{self, Principal};
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

/// Live keys seen recently, so that a busy client does not cost a database lookup per request.
/// Only live keys are kept (unknown ones would let anyone fill the map), for `ttl`: a revoked
/// key keeps working in this process for at most that long.
pub struct KeyCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, (Principal, Instant)>>,
}

const KEY_CACHE_CAPACITY: usize = 1024;

impl KeyCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn get(&self, hash: &str) -> Option<Principal> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(hash)
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(principal, _)| principal.clone())
    }

    fn put(&self, hash: String, principal: Principal) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= KEY_CACHE_CAPACITY {
            entries.clear();
        }
        entries.insert(hash, (principal, Instant::now()));
    }
}

async fn lookup(state: &ApiState, secret: &str) -> Result<Option<Principal>, roster_app::AppError> {
    let Some(cache) = state.key_cache() else {
        return apikeys::authenticate(state.side(), secret).await;
    };
    let hash = hash_secret(secret);
    if let Some(principal) = cache.get(&hash) {
        return Ok(Some(principal));
    }
    let principal = apikeys::authenticate(state.side(), secret).await?;
    if let Some(principal) = &principal {
        cache.put(hash, principal.clone());
    }
    Ok(principal)
}
