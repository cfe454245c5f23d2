//! Extractors that turn HTTP details into what handlers need, with every failure already a
//! problem: the caller's scope, the command metadata, JSON bodies (strict) and query strings.

use std::marker::PhantomData;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::header;
use axum::http::request::Parts;
use roster_app::CommandMeta;
use roster_app::apikeys::{Principal, Scope};
use roster_store::ActorRef;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::auth::{BadCredentials, unauthorized};
use crate::problem::{ApiError, ProblemType};
use crate::telemetry::RequestIds;

pub const ACTOR_HEADER: &str = "x-roster-actor";
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";

/// A scope a route requires, as a type.
pub trait RequiredScope: Send + Sync + 'static {
    const SCOPE: Scope;
}

pub struct Commands;
pub struct Queries;
pub struct Operator;

impl RequiredScope for Commands {
    const SCOPE: Scope = Scope::Commands;
}
impl RequiredScope for Queries {
    const SCOPE: Scope = Scope::Queries;
}
impl RequiredScope for Operator {
    const SCOPE: Scope = Scope::Operator;
}

/// The caller, proven to hold scope `S`: 401 without a live key, 403 without the scope.
pub struct Scoped<S>(pub Principal, PhantomData<S>);

impl<S: RequiredScope, St: Send + Sync> FromRequestParts<St> for Scoped<S> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &St) -> Result<Self, ApiError> {
        let Some(principal) = parts.extensions.get::<Principal>() else {
            return Err(unauthorized(
                parts.extensions.get::<BadCredentials>().is_some(),
            ));
        };
        if !principal.has(S::SCOPE) {
            return Err(ApiError::new(
                ProblemType::InsufficientScope,
                format!("this route needs an API key with the `{}` scope", S::SCOPE),
            ));
        }
        Ok(Scoped(principal.clone(), PhantomData))
    }
}

/// A command's metadata: the caller holds scope `S` (default `commands`); the actor is the
/// member named by `X-Roster-Actor` (whose own rights the domain then checks) or else the
/// API key; the correlation id and the idempotency key come from the request.
pub struct CommandCtx<S = Commands> {
    pub meta: CommandMeta,
    _scope: PhantomData<S>,
}

impl<S: RequiredScope, St: Send + Sync> FromRequestParts<St> for CommandCtx<S> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &St) -> Result<Self, ApiError> {
        let Scoped(principal, _) = Scoped::<S>::from_request_parts(parts, state).await?;
        let actor = match parts.headers.get(ACTOR_HEADER) {
            None => ActorRef::App(principal.key_id.to_string()),
            Some(value) => {
                let id = value
                    .to_str()
                    .ok()
                    .and_then(|v| Uuid::parse_str(v.trim()).ok());
                let id = id.ok_or_else(|| {
                    ApiError::invalid("X-Roster-Actor", "must be a member id (a UUID)")
                })?;
                ActorRef::Member(id)
            }
        };
        let mut meta = CommandMeta::new(actor);
        if let Some(ids) = parts.extensions.get::<RequestIds>() {
            meta.correlation_id = ids.correlation_id;
        }
        meta.idempotency_key = parts
            .headers
            .get(IDEMPOTENCY_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(CommandCtx {
            meta,
            _scope: PhantomData,
        })
    }
}

/// A JSON body: `Content-Type: application/json` (else 415), within the body limit (else
/// 413), well-formed (else 400 `malformed-json`) and of the right shape, with no unknown
/// fields (else 422 `invalid-input` naming the field).
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, St: Send + Sync> FromRequest<St> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &St) -> Result<Self, ApiError> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if !is_json(content_type) {
            return Err(ApiError::new(
                ProblemType::UnsupportedMediaType,
                "send the body as `Content-Type: application/json`",
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| too_large())?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// An optional JSON body (`Option<JsonBody<T>>`): a request with no body and no content type
/// has none; anything else is read as [`JsonBody`] reads it.
impl<T: DeserializeOwned, St: Send + Sync> axum::extract::OptionalFromRequest<St> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &St) -> Result<Option<Self>, ApiError> {
        let no_type = !req.headers().contains_key(header::CONTENT_TYPE);
        let no_length = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .is_none_or(|v| v.as_bytes() == b"0");
        if no_type && no_length {
            return Ok(None);
        }
        <Self as FromRequest<St>>::from_request(req, state)
            .await
            .map(Some)
    }
}

pub fn too_large() -> ApiError {
    ApiError::new(
        ProblemType::PayloadTooLarge,
        "the request body is larger than the limit",
    )
}

fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Deserialises strictly, naming the offending field on failure.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed: Result<T, _> = serde_path_to_error::deserialize(&mut de);
    let value = parsed.map_err(|e| {
        let inner = e.inner();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::new(ProblemType::MalformedJson, inner.to_string());
        }
        let path = e.path().to_string();
        let message = inner.to_string();
        let field = quoted_field(&message)
            .map(|name| join_path(&path, name))
            .unwrap_or_else(|| path.clone());
        ApiError::invalid(field, message)
    })?;
    de.end()
        .map_err(|e| ApiError::new(ProblemType::MalformedJson, e.to_string()))?;
    Ok(value)
}

/// The field serde names in "unknown field `x`" and "missing field `x`".
fn quoted_field(message: &str) -> Option<&str> {
    if !(message.starts_with("unknown field") || message.starts_with("missing field")) {
        return None;
    }
    message.split('`').nth(1)
}

fn join_path(path: &str, name: &str) -> String {
    if path.is_empty() || path == "." {
        name.to_owned()
    } else if path == name || path.ends_with(&format!(".{name}")) {
        path.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

/// A query string, deserialised like a body: failures are 422 `invalid-input`.
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned, St: Send + Sync> FromRequestParts<St> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &St) -> Result<Self, ApiError> {
        Query::<T>::try_from_uri(&parts.uri)
            .map(|Query(q)| QueryParams(q))
            .map_err(|e| {
                let detail = e.body_text();
                let field =
                    quoted_field(detail.trim_start_matches("Failed to deserialize query string: "))
                        .unwrap_or("query")
                        .to_owned();
                ApiError::invalid(field, detail)
            })
    }
}

/// A path segment that must be an id: anything else names nothing, so it is 404.
pub fn id(what: &str, raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::not_found(format!("{what} {raw:?}")))
}
