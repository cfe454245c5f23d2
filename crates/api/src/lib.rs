//! Roster's HTTP API for upstream apps: the pinned `/v1` contract of DESIGN.md over
//! [`roster_app`], with API-key auth and scopes, `Idempotency-Key` on every command,
//! `application/problem+json` errors, OpenAPI, health and Prometheus metrics.
//!
//! Architecture invariants:
//! - Handlers only translate: HTTP in, one call to a use case of [`roster_app`] (or a read)
//!   and HTTP out. No business rule lives here; the domain and the use cases decide.
//! - Every failure becomes a problem through the one table in [`problem`].
//! - Every `/v1` route but the OpenAPI document requires an API key with the route's scope;
//!   the scope is in the handler's signature ([`extract::Scoped`], [`extract::CommandCtx`]).
//! - Request bodies, emails and names are never logged.

pub mod auth;
pub mod extract;
pub mod idempotency;
pub mod openapi;
pub mod probe;
pub mod problem;
pub mod routes;
pub mod telemetry;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};
use roster_app::Roster;
use roster_app::sidedb::SideDb;
use roster_projections::ReadModels;

pub use roster_app::settings::DEFAULT_BODY_LIMIT;

/// Everything the handlers share. Cheap to clone.
#[derive(Clone)]
pub struct ApiState {
    inner: Arc<Inner>,
}

struct Inner {
    roster: Roster,
    read_models: ReadModels,
    body_limit: usize,
    probe: Option<probe::Probe>,
    key_cache: auth::KeyCache,
}

impl ApiState {
    /// The API over an opened Roster and its read models (which the caller keeps running with
    /// `roster_projections::Projections`), with the body limit of its settings.
    pub fn new(roster: Roster, read_models: ReadModels) -> Self {
        let body_limit = roster.settings.body_limit;
        Self {
            inner: Arc::new(Inner {
                roster,
                read_models,
                body_limit,
                probe: None,
                key_cache: auth::KeyCache::new(auth::KEY_CACHE_CAPACITY),
            }),
        }
    }

    /// Adds the components (projections) whose health counts for `/health/ready`.
    pub fn with_probe(self, probe: probe::Probe) -> Self {
        self.rebuild(|inner| inner.probe = Some(probe))
    }

    fn rebuild(self, change: impl FnOnce(&mut Inner)) -> Self {
        let mut inner = Inner {
            roster: self.inner.roster.clone(),
            read_models: self.inner.read_models.clone(),
            body_limit: self.inner.body_limit,
            probe: self.inner.probe.clone(),
            key_cache: self.inner.key_cache.clone(),
        };
        change(&mut inner);
        Self {
            inner: Arc::new(inner),
        }
    }

    /// The live API keys this process has seen (see [`auth::KeyCache`]).
    pub fn key_cache(&self) -> &auth::KeyCache {
        &self.inner.key_cache
    }

    pub fn read_models(&self) -> &ReadModels {
        &self.inner.read_models
    }

    pub fn probe(&self) -> Option<&probe::Probe> {
        self.inner.probe.as_ref()
    }

    pub fn roster(&self) -> &Roster {
        &self.inner.roster
    }

    pub fn commands(&self) -> &roster_app::CommandHandler {
        &self.inner.roster.commands
    }

    pub fn side(&self) -> &SideDb {
        &self.inner.roster.side
    }

    pub fn body_limit(&self) -> usize {
        self.inner.body_limit
    }
}

/// The whole API. Layers, outermost first: telemetry (request id, logs, metrics), the body
/// limit, authentication (who is calling, if anyone), idempotency (replay or run).
pub fn router(state: ApiState) -> Router {
    telemetry::install_metrics();
    routes::routes()
        .fallback(routes::ops::not_found)
        .method_not_allowed_fallback(routes::ops::method_not_allowed)
        .layer(from_fn_with_state(state.clone(), idempotency::layer))
        .layer(from_fn_with_state(state.clone(), auth::authenticate))
        .layer(DefaultBodyLimit::max(state.body_limit()))
        .layer(from_fn(telemetry::layer))
        .with_state(state)
}

/// Health and metrics only, for a process that serves no API (`roster serve --role workers`
/// or `--role projections`): the same telemetry and authentication (`/metrics` needs an
/// operator key).
pub fn ops_router(state: ApiState) -> Router {
    telemetry::install_metrics();
    routes::ops_routes()
        .fallback(routes::ops::not_found)
        .method_not_allowed_fallback(routes::ops::method_not_allowed)
        .layer(from_fn_with_state(state.clone(), auth::authenticate))
        .layer(from_fn(telemetry::layer))
        .with_state(state)
}

/// Serves the API on `listener` until `shutdown` completes, then lets requests in flight
/// finish (graceful shutdown).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: ApiState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_router(listener, router(state), shutdown).await
}

/// Serves `app` (the whole API, or [`ops_router`]) on `listener` until `shutdown` completes.
pub async fn serve_router(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The peer's address reaches handlers that count attempts per client (the hosted pages).
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}
