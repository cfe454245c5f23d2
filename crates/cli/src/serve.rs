//! `roster serve`: the HTTP API, the projections and (unless `--no-workers`) the reactors and
//! job workers in one process, the embedded default; or one of them (`--role api`, `workers`,
//! `projections`) in a process of its own, several sharing one PostgreSQL database. Settings are layered (see
//! [`crate::settings`]). Stops gracefully on SIGTERM or SIGINT: requests in flight finish
//! first, then jobs in flight.

use std::io::Write;
use std::sync::Arc;

use anyhow::Context;
use roster_api::ApiState;
use roster_api::probe::{ComponentStatus, Probe, ProbeFuture};
use roster_app::settings::Role;
use roster_app::{Roster, Settings};
use roster_projections::{Projections, ReadModels, RunnerConfig};
use roster_workers::{Catalog, Health};

use crate::shutdown::shutdown_signal;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on [env: ROSTER_LISTEN] [default: 127.0.0.1:8080]. Port 0 picks a
    /// free port; the bound address is printed on stdout either way.
    #[arg(long)]
    listen: Option<String>,
    /// Serve the API and the projections only; mail is then sent by `roster worker`
    /// processes (also `ROSTER_WORKERS=false`).
    #[arg(long)]
    no_workers: bool,
    /// What this process runs [env: ROSTER_ROLE] [default: all]: `api` (the HTTP API),
    /// `workers` (reactors and job workers), `projections` (the read models) or `all`. Roles
    /// other than `api` serve `/health/*` and `/metrics` only. Several processes share one
    /// PostgreSQL database; each projection runner and reactor runs in one of them at a time.
    #[arg(long, value_enum)]
    role: Option<RoleArg>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum RoleArg {
    Api,
    Workers,
    Projections,
    All,
}

impl ServeArgs {
    /// The flags, over the other layers of the settings.
    pub fn apply(&self, settings: &mut Settings) {
        if let Some(listen) = &self.listen {
            settings.listen.clone_from(listen);
        }
        if self.no_workers {
            settings.workers = false;
        }
        if let Some(role) = self.role {
            settings.role = match role {
                RoleArg::Api => Role::Api,
                RoleArg::Workers => Role::Workers,
                RoleArg::Projections => Role::Projections,
                RoleArg::All => Role::All,
            };
        }
    }
}

/// The address the mailed links use when no public URL is set: the listener's, with an
/// unspecified address (`0.0.0.0`, `::`) replaced by loopback, which a browser can open.
pub(crate) fn local_url(listen: &str) -> String {
    let Ok(mut addr) = listen.parse::<std::net::SocketAddr>() else {
        return format!("http://{listen}");
    };
    if addr.ip().is_unspecified() {
        tracing::warn!(
            %addr,
            "ROSTER_PUBLIC_URL is not set: mailed links point at this machine's loopback address"
        );
        addr.set_ip(match addr {
            std::net::SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            std::net::SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    format!("http://{addr}")
}

pub async fn run(roster: Roster) -> anyhow::Result<()> {
    // Reactors start at the head of the log the first time they are known; recording that
    // before this process appends anything means no event of it goes unseen by them.
    roster_workers::reactor::install(&roster, Catalog::builtin().reactors()).await?;
    let listen = roster.settings.listen.clone();
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    let public_url = roster
        .settings
        .public_url(|| local_url(&addr.to_string()))?;
    let role = roster.settings.role;
    let run_workers = match role {
        Role::All => roster.settings.workers,
        other => other.runs_workers(),
    };
    let workers = match run_workers {
        true => Some(crate::worker::start(&roster, &public_url).await?),
        false => None,
    };
    let projections = match role.runs_projections() {
        true => Some(Projections::start(&roster, RunnerConfig::default()).await?),
        // The read models' tables exist before anything reads them, whoever fills them.
        false => {
            let all = roster_projections::projection::all();
            roster_projections::catalog::install(&roster.sql).await?;
            roster_projections::catalog::ensure(&roster.sql, &all).await?;
            None
        }
    };
    let read_models = ReadModels::open(&roster).await?;
    let health = workers.as_ref().map(roster_workers::Workers::health);
    let probe = components_probe(read_models.clone(), roster.clone(), health);
    let backend = roster.backend_name();
    let state = ApiState::new(roster, read_models).with_probe(probe);
    let app = match role.serves_api() {
        true => roster_api::router(state),
        false => roster_api::ops_router(state),
    };
    // The address line is the contract with scripts and tests that start on port 0.
    println!("listening on http://{addr}");
    std::io::stdout().flush()?;
    tracing::info!(%addr, backend, role = role.name(), workers = workers.is_some(),
        projections = projections.is_some(), "serving");
    let served = roster_api::serve_router(listener, app, shutdown_signal()).await;
    if let Some(workers) = workers {
        workers.shutdown().await;
    }
    if let Some(projections) = projections {
        projections.shutdown().await;
    }
    served?;
    tracing::info!("stopped");
    Ok(())
}

/// Readiness and lag metrics from the projections' checkpoints and the reactors' (as
/// `reactor:<name>`): a stopped projection (one that met an event it could not apply) makes the
/// process not ready, and so does a reactor or job worker of this process that failed and
/// waits to be restarted. A reactor merely behind is reported, not unready (mail may wait).
fn components_probe(read_models: ReadModels, roster: Roster, workers: Option<Health>) -> Probe {
    Arc::new(move || -> ProbeFuture {
        let (read_models, roster) = (read_models.clone(), roster.clone());
        let failures: Vec<_> = workers
            .as_ref()
            .map(Health::parts)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|part| part.failure.map(|why| (part.name, why)))
            .collect();
        Box::pin(async move {
            let statuses = read_models.status().await.map_err(|e| e.to_string())?;
            let mut components: Vec<_> = statuses
                .into_iter()
                .map(|s| ComponentStatus {
                    healthy: s.state != "stopped",
                    name: s.name,
                    lag_events: s.lag_events,
                    lag_seconds: s.lag_seconds,
                    detail: s.error,
                })
                .collect();
            let reactors = roster_workers::reactor::status(&roster)
                .await
                .map_err(|e| e.to_string())?;
            components.extend(reactors.into_iter().map(|r| {
                let name = format!("reactor:{}", r.name);
                let failure = failures.iter().find(|(part, _)| *part == name);
                ComponentStatus {
                    healthy: failure.is_none(),
                    detail: failure.map(|(_, why)| why.clone()),
                    name,
                    lag_events: r.lag_events,
                    lag_seconds: r.lag_seconds,
                }
            }));
            // A failed job worker has no lag of its own; it counts for readiness only.
            components.extend(
                failures
                    .iter()
                    .filter(|(part, _)| !part.starts_with("reactor:"))
                    .map(|(part, why)| ComponentStatus {
                        name: format!("worker:{part}"),
                        healthy: false,
                        lag_events: 0,
                        lag_seconds: 0.0,
                        detail: Some(why.clone()),
                    }),
            );
            Ok(components)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::local_url;

    #[test]
    fn links_never_point_at_an_unspecified_address() {
        assert_eq!(local_url("0.0.0.0:8080"), "http://127.0.0.1:8080");
        assert_eq!(local_url("[::]:8080"), "http://[::1]:8080");
        assert_eq!(local_url("10.1.2.3:80"), "http://10.1.2.3:80");
        assert_eq!(local_url("localhost:8080"), "http://localhost:8080");
    }
}
