//! `roster serve`: the HTTP API and the projections in one process. Configuration is layered: built-in defaults,
//! then a TOML file (`--config`/`ROSTER_CONFIG`, keys as the environment's without `ROSTER_`
//! and lower-cased: `listen = "0.0.0.0:8080"`), then the environment (`ROSTER_LISTEN`, ...),
//! then flags. Stops gracefully on SIGTERM or SIGINT: requests in flight finish first.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use chrono::Duration;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use roster_api::ApiState;
use roster_api::probe::{ComponentStatus, Probe, ProbeFuture};
use roster_app::sidedb::SideDb;
use roster_app::verification::Verification;
use roster_app::{Runtime, StorageConfig};
use roster_projections::{Projections, ReadModels, RunnerConfig};
use serde::{Deserialize, Serialize};

/// How long a live API key is trusted without looking it up again: `roster keys revoke` takes
/// effect in a running server within this time.
const KEY_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(2);

/// The default of `--data-dir` (see `StorageArgs`), which a config file may override.
const DEFAULT_DATA_DIR: &str = "roster-data";

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on [env: ROSTER_LISTEN] [default: 127.0.0.1:8080]. Port 0 picks a
    /// free port; the bound address is printed on stdout either way.
    #[arg(long)]
    listen: Option<String>,
    /// A TOML file with the same keys as the environment, without `ROSTER_`, lower-cased.
    #[arg(long, env = "ROSTER_CONFIG")]
    config: Option<PathBuf>,
}

/// What `serve` reads from defaults, the file, the environment and the flags.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Settings {
    listen: String,
    /// Base of links in mails; defaults to `http://<bound address>`.
    public_url: Option<String>,
    mail_from: String,
    /// `24h`, `30m`, `90s`, `7d`.
    token_ttl: String,
    /// Request body limit in bytes.
    body_limit: usize,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    master_key: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            public_url: None,
            mail_from: "Roster <roster@localhost>".into(),
            token_ttl: "24h".into(),
            body_limit: roster_api::DEFAULT_BODY_LIMIT,
            data_dir: None,
            database_url: None,
            master_key: None,
        }
    }
}

pub async fn run(storage: StorageConfig, args: ServeArgs) -> anyhow::Result<()> {
    let (settings, file) = settings(&args)?;
    let storage = with_file(storage, &file);
    let token_ttl = parse_duration(&settings.token_ttl)
        .with_context(|| format!("ROSTER_TOKEN_TTL {:?}", settings.token_ttl))?;
    let runtime = Runtime::open(&storage).await?;
    let side = SideDb::open(&storage).await?;
    let listener = tokio::net::TcpListener::bind(&settings.listen)
        .await
        .with_context(|| format!("cannot listen on {}", settings.listen))?;
    let addr = listener.local_addr()?;
    let public_url = settings
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    let verification = Verification::new(runtime.vault.clone(), runtime.store.clone(), token_ttl);
    let backend = runtime.store.backend_name();
    let db = roster_projections::Db::open(&storage).await?;
    let projections = Projections::start(&runtime, db.clone(), RunnerConfig::default()).await?;
    let read_models = ReadModels::new(&runtime, db);
    let probe = projections_probe(read_models.clone());
    let state = ApiState::new(runtime, side, verification, read_models)
        .with_body_limit(settings.body_limit)
        .with_key_cache(KEY_CACHE_TTL)
        .with_probe(probe);
    // The address line is the contract with scripts and tests that start on port 0.
    println!("listening on http://{addr}");
    std::io::stdout().flush()?;
    tracing::info!(%addr, backend, "serving");
    let served = roster_api::serve(listener, state, shutdown_signal()).await;
    projections.shutdown().await;
    served?;
    tracing::info!("stopped");
    Ok(())
}

/// Readiness and lag metrics from the projections' checkpoints: a stopped projection (one that
/// met an event it could not apply) makes the process not ready.
fn projections_probe(read_models: ReadModels) -> Probe {
    Arc::new(move || -> ProbeFuture {
        let read_models = read_models.clone();
        Box::pin(async move {
            let statuses = read_models.status().await.map_err(|e| e.to_string())?;
            Ok(statuses
                .into_iter()
                .map(|s| ComponentStatus {
                    healthy: s.state != "stopped",
                    name: s.name,
                    lag_events: s.lag_events,
                    lag_seconds: s.lag_seconds,
                    detail: s.error,
                })
                .collect())
        })
    })
}

/// The merged settings, and what the file alone says (for the storage options, whose
/// environment and flags clap has already read).
fn settings(args: &ServeArgs) -> anyhow::Result<(Settings, Settings)> {
    let file = match &args.config {
        Some(path) => Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::file_exact(path))
            .extract::<Settings>()
            .with_context(|| format!("config file {}", path.display()))?,
        None => Settings::default(),
    };
    let mut figment =
        Figment::from(Serialized::defaults(file.clone())).merge(Env::prefixed("ROSTER_").only(&[
            "listen",
            "public_url",
            "mail_from",
            "token_ttl",
            "body_limit",
        ]));
    if let Some(listen) = &args.listen {
        figment = figment.merge(Serialized::default("listen", listen));
    }
    let settings = figment.extract::<Settings>().context("configuration")?;
    Ok((settings, file))
}

/// The file's storage options apply where neither a flag nor the environment set one.
fn with_file(mut storage: StorageConfig, file: &Settings) -> StorageConfig {
    let data_dir_defaulted = std::env::var_os("ROSTER_DATA_DIR").is_none()
        && storage.data_dir == Path::new(DEFAULT_DATA_DIR);
    if let (true, Some(dir)) = (data_dir_defaulted, &file.data_dir) {
        storage.data_dir.clone_from(dir);
    }
    if storage.database_url.is_none() {
        storage.database_url = file.database_url.clone().filter(|u| !u.is_empty());
    }
    if storage.master_key.is_none() {
        storage.master_key = file.master_key.clone().filter(|k| !k.is_empty());
    }
    storage
}

/// `90s`, `30m`, `24h`, `7d`.
fn parse_duration(text: &str) -> anyhow::Result<Duration> {
    let text = text.trim();
    let split = text.len().saturating_sub(1);
    let (number, unit) = text.split_at(split);
    let n: i64 = number
        .parse()
        .with_context(|| format!("{text:?} is not a duration like 24h, 30m, 90s or 7d"))?;
    let duration = match unit {
        "s" => Duration::seconds(n),
        "m" => Duration::minutes(n),
        "h" => Duration::hours(n),
        "d" => Duration::days(n),
        _ => anyhow::bail!("{text:?} is not a duration like 24h, 30m, 90s or 7d"),
    };
    anyhow::ensure!(duration > Duration::zero(), "a duration must be positive");
    Ok(duration)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: finishing requests in flight");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_a_unit() {
        assert_eq!(parse_duration("24h").unwrap(), Duration::hours(24));
        assert_eq!(parse_duration("2s").unwrap(), Duration::seconds(2));
        assert_eq!(parse_duration("7d").unwrap(), Duration::days(7));
        assert!(parse_duration("24").is_err());
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("").is_err());
    }
}
