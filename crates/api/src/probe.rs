//! Other parts of the process whose health counts for readiness and shows in metrics (the
//! projections, the reactors and the job workers). The API sees them only through this probe,
//! so it does not depend on how they are built.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// One component's health.
#[derive(Debug, Clone, PartialEq)]
pub struct ComponentStatus {
    pub name: String,
    /// `false` when the component has failed (a projection stopped on an event, a worker
    /// waiting to be restarted).
    pub healthy: bool,
    /// Events in the log it has not applied yet.
    pub lag_events: u64,
    /// Age of the oldest event it has not applied yet.
    pub lag_seconds: f64,
    pub detail: Option<String>,
}

pub type ProbeFuture = Pin<Box<dyn Future<Output = Result<Vec<ComponentStatus>, String>> + Send>>;

/// Asks the components how they are.
pub type Probe = Arc<dyn Fn() -> ProbeFuture + Send + Sync>;

/// Publishes the components' lag as gauges.
pub fn record(components: &[ComponentStatus]) {
    for c in components {
        let name = c.name.clone();
        metrics::gauge!("roster_projection_lag_events", "projection" => name.clone())
            .set(c.lag_events as f64);
        metrics::gauge!("roster_projection_lag_seconds", "projection" => name).set(c.lag_seconds);
    }
}
