//! The settings of the long-running commands (`serve`, `worker`), layered: built-in defaults,
//! then a TOML file (`--config`/`ROSTER_CONFIG`, keys as the environment's without `ROSTER_`
//! and lower-cased: `listen = "0.0.0.0:8080"`), then the environment (`ROSTER_LISTEN`, ...),
//! then flags.

use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::Duration;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use roster_app::StorageConfig;
use roster_workers::config::parse_duration as parse_std_duration;
use roster_workers::mail::SmtpSettings;
use roster_workers::{RetrySchedule, WorkerConfig};
use serde::{Deserialize, Serialize};

/// The default of `--data-dir` (see `StorageArgs`), which a config file may override.
pub const DEFAULT_DATA_DIR: &str = "roster-data";

/// What `serve` and `worker` read from defaults, the file, the environment and the flags.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    pub listen: String,
    /// Base of links in mails; defaults to `http://<listen address>`.
    pub public_url: Option<String>,
    pub mail_from: String,
    /// `24h`, `30m`, `90s`, `7d`.
    pub token_ttl: String,
    /// Request body limit in bytes.
    pub body_limit: usize,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub master_key: Option<String>,
    /// `smtp://user:pass@host:port` (`?tls=required` for STARTTLS), `smtps://…`; unset
    /// writes mails to `DATA_DIR/outbox/`.
    pub smtp_url: Option<String>,
    /// PEM certificates to trust for the SMTP server besides the public roots.
    pub smtp_ca_file: Option<PathBuf>,
    /// Where welcome mails point for the terms; defaults to `<public url>/terms`.
    pub terms_url: Option<String>,
    /// Waits between attempts of a failed mail: `1m,5m,15m,1h,3h,6h`.
    pub mail_retry_schedule: String,
    /// How often an idle worker looks for jobs.
    pub worker_poll: String,
    /// Worker heartbeat; a worker silent for three is dead and its jobs are run again.
    pub worker_heartbeat: String,
    /// Jobs of one queue run at once per process.
    pub worker_concurrency: usize,
    /// Whether `serve` also runs the reactors and workers (the embedded default does).
    pub workers: bool,
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
            smtp_url: None,
            smtp_ca_file: None,
            terms_url: None,
            mail_retry_schedule: "1m,5m,15m,1h,3h,6h".into(),
            worker_poll: "500ms".into(),
            worker_heartbeat: "10s".into(),
            worker_concurrency: 4,
            workers: true,
        }
    }
}

/// The keys the environment may set, as `ROSTER_<KEY>`.
const ENV_KEYS: &[&str] = &[
    "listen",
    "public_url",
    "mail_from",
    "token_ttl",
    "body_limit",
    "smtp_url",
    "smtp_ca_file",
    "terms_url",
    "mail_retry_schedule",
    "worker_poll",
    "worker_heartbeat",
    "worker_concurrency",
    "workers",
];

impl Settings {
    /// The merged settings (with `listen` from the flag when given), and what the file alone
    /// says (for the storage options, whose environment and flags clap has already read).
    pub fn load(config: Option<&Path>, listen: Option<&str>) -> anyhow::Result<(Self, Self)> {
        let file = match config {
            Some(path) => Figment::from(Serialized::defaults(Settings::default()))
                .merge(Toml::file_exact(path))
                .extract::<Settings>()
                .with_context(|| format!("config file {}", path.display()))?,
            None => Settings::default(),
        };
        let mut figment = Figment::from(Serialized::defaults(file.clone()))
            .merge(Env::prefixed("ROSTER_").only(ENV_KEYS));
        if let Some(listen) = listen {
            figment = figment.merge(Serialized::default("listen", listen));
        }
        let settings = figment.extract::<Settings>().context("configuration")?;
        Ok((settings, file))
    }

    /// `ROSTER_TOKEN_TTL`, within what the domain accepts (1 s to 30 days), so that a bad
    /// value stops the start instead of failing every registration.
    pub fn token_ttl(&self) -> anyhow::Result<Duration> {
        let ttl = parse_duration(&self.token_ttl)
            .with_context(|| format!("ROSTER_TOKEN_TTL {:?}", self.token_ttl))?;
        anyhow::ensure!(
            ttl >= Duration::seconds(1) && ttl <= Duration::days(30),
            "ROSTER_TOKEN_TTL {:?} must be between 1s and 30d",
            self.token_ttl
        );
        Ok(ttl)
    }

    /// The base of links in mails: `ROSTER_PUBLIC_URL`, or `fallback` for the embedded
    /// default. With real mail going out (`ROSTER_SMTP_URL`) it must be set: a link to the
    /// listen address would reach nobody.
    pub fn public_url(&self, fallback: impl FnOnce() -> String) -> anyhow::Result<String> {
        match (&self.public_url, &self.smtp_url) {
            (Some(url), _) if !url.is_empty() => Ok(url.clone()),
            (_, Some(smtp)) if !smtp.is_empty() => anyhow::bail!(
                "ROSTER_PUBLIC_URL must be set when ROSTER_SMTP_URL is: it is where the links \
                 in mails point (the upstream app's pages, e.g. https://members.example.com)"
            ),
            _ => Ok(fallback()),
        }
    }

    /// The workers' configuration; links point at `public_url`.
    pub fn worker_config(&self, public_url: &str) -> anyhow::Result<WorkerConfig> {
        let std_duration = |name: &str, text: &str| {
            parse_std_duration(text).map_err(|e| anyhow::anyhow!("{name}: {e}"))
        };
        let mut config = WorkerConfig::new(public_url);
        config.mail_from.clone_from(&self.mail_from);
        config.smtp = self
            .smtp_url
            .clone()
            .filter(|url| !url.is_empty())
            .map(|url| SmtpSettings {
                url,
                ca_file: self.smtp_ca_file.clone(),
            });
        config.terms_url = self.terms_url.clone().filter(|url| !url.is_empty());
        config.mail_retry = RetrySchedule::parse(&self.mail_retry_schedule)
            .map_err(|e| anyhow::anyhow!("ROSTER_MAIL_RETRY_SCHEDULE: {e}"))?;
        config.poll_interval = std_duration("ROSTER_WORKER_POLL", &self.worker_poll)?;
        config.heartbeat = std_duration("ROSTER_WORKER_HEARTBEAT", &self.worker_heartbeat)?;
        anyhow::ensure!(
            self.worker_concurrency > 0,
            "ROSTER_WORKER_CONCURRENCY must be at least 1"
        );
        config.concurrency = self.worker_concurrency;
        Ok(config)
    }
}

/// The file's storage options apply where neither a flag nor the environment set one.
pub fn with_file(mut storage: StorageConfig, file: &Settings) -> StorageConfig {
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
pub fn parse_duration(text: &str) -> anyhow::Result<Duration> {
    let std = parse_std_duration(text).map_err(|e| anyhow::anyhow!(e))?;
    Ok(Duration::from_std(std)?)
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

    #[test]
    fn a_token_ttl_outside_what_the_domain_accepts_stops_the_start() {
        let with = |ttl: &str| Settings {
            token_ttl: ttl.into(),
            ..Settings::default()
        };
        assert!(with("500ms").token_ttl().is_err());
        assert!(with("31d").token_ttl().is_err());
        assert_eq!(with("30d").token_ttl().unwrap(), Duration::days(30));
        assert_eq!(with("1s").token_ttl().unwrap(), Duration::seconds(1));
    }

    #[test]
    fn real_mail_needs_a_public_url() {
        let smtp = Settings {
            smtp_url: Some("smtp://relay:25".into()),
            ..Settings::default()
        };
        assert!(smtp.public_url(|| "http://127.0.0.1:8080".into()).is_err());
        let both = Settings {
            public_url: Some("https://members.example.com".into()),
            ..smtp
        };
        assert_eq!(
            both.public_url(|| unreachable!()).unwrap(),
            "https://members.example.com"
        );
        let outbox = Settings::default();
        assert_eq!(
            outbox
                .public_url(|| "http://127.0.0.1:8080".into())
                .unwrap(),
            "http://127.0.0.1:8080"
        );
    }

    #[test]
    fn the_defaults_make_a_valid_worker_configuration() {
        let config = Settings::default()
            .worker_config("https://example.com/")
            .unwrap();
        assert_eq!(config.public_url, "https://example.com");
        assert_eq!(config.mail_retry.max_attempts(), 7);
        assert!(config.smtp.is_none());
    }
}
