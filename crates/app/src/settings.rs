//! Roster's settings: one struct for every part (storage, API, members, mail and workers), with
//! the defaults of the embedded deployment. The `roster` binary layers it from a TOML file, the
//! environment (`ROSTER_<KEY>`) and flags; tests build it directly. Values are checked when
//! Roster opens ([`crate::open`]), so a bad one stops the start instead of failing requests.
//!
//! Storage names two sides, chosen here once:
//! - the **log** (`log_backend`: `sqlite`, `postgres`, `kurrentdb`): append, read, subscribe;
//! - the **SQL side** (`sql_backend`: `sqlite`, `postgres`): claims, data keys, side tables,
//!   read models, job queues.
//!
//! Both default from the URLs given: `ROSTER_DATABASE_URL` makes both PostgreSQL,
//! `ROSTER_KURRENTDB_URL` puts the log in KurrentDB. (`ROSTER_LOG` is the tracing filter,
//! hence the `_backend` in the names.)

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use crate::schedule::{RetrySchedule, parse_duration};

/// Default request body limit of the HTTP API.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

/// Where the log lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogBackend {
    Sqlite,
    Postgres,
    Kurrentdb,
}

/// Where the SQL side lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SqlBackend {
    Sqlite,
    Postgres,
}

/// What a `roster serve` process runs. Several processes with different roles share one
/// PostgreSQL database; on SQLite one process runs `all`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The HTTP API only: it keeps no state another process could contradict.
    Api,
    /// The reactors and job workers (and the health and metrics endpoints).
    Workers,
    /// The projection runner, which keeps the read models (and the health and metrics
    /// endpoints).
    Projections,
    /// Everything in one process: the embedded default.
    #[default]
    All,
}

impl Role {
    pub fn serves_api(self) -> bool {
        matches!(self, Self::Api | Self::All)
    }

    pub fn runs_projections(self) -> bool {
        matches!(self, Self::Projections | Self::All)
    }

    pub fn runs_workers(self) -> bool {
        matches!(self, Self::Workers | Self::All)
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::Workers => "workers",
            Self::Projections => "projections",
            Self::All => "all",
        }
    }
}

/// Every setting, under the key a config file uses (the environment adds `ROSTER_` and
/// upper-cases it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// The embedded database, the master key file and the mail outbox live here.
    pub data_dir: PathBuf,
    /// `postgres://…`: the SQL side (and, by default, the log) in PostgreSQL.
    pub database_url: Option<String>,
    /// `kurrentdb://…` or `esdb://…`: the log in KurrentDB.
    pub kurrentdb_url: Option<String>,
    /// Roster's streams in KurrentDB are `<namespace>:<stream>` (`[a-z0-9_]`), so several
    /// installations can share a cluster.
    pub kurrentdb_namespace: String,
    pub log_backend: Option<LogBackend>,
    pub sql_backend: Option<SqlBackend>,
    /// Base64 master key (32 bytes); defaults to the file `DATA_DIR/master.key`.
    pub master_key: Option<String>,

    /// Address the HTTP API listens on.
    pub listen: String,
    /// Base of links in mails and of the hosted pages; defaults to `http://<listen address>`.
    pub public_url: Option<String>,
    /// Request body limit in bytes.
    pub body_limit: usize,

    /// Lifetime of a verification token: `24h`, `30m`, `7d` (1 s to 30 days).
    pub token_ttl: String,

    /// Sender mailbox.
    pub mail_from: String,
    /// `smtp://user:pass@host:port` (`?tls=required` for STARTTLS), `smtps://…`; unset writes
    /// mails to `DATA_DIR/outbox/`.
    pub smtp_url: Option<String>,
    /// PEM certificates to trust for the SMTP server besides the public roots.
    pub smtp_ca_file: Option<PathBuf>,
    /// Where welcome mails point for the terms; defaults to `<public url>/terms`.
    pub terms_url: Option<String>,
    /// Waits between attempts of a failed mail: `1m,5m,15m,1h,3h,6h`.
    pub mail_retry_schedule: String,
    /// How often an idle worker looks for jobs.
    pub worker_poll: String,
    /// Worker heartbeat; a worker silent for three is dead and its jobs run again.
    pub worker_heartbeat: String,
    /// Jobs of one queue run at once per process.
    pub worker_concurrency: usize,
    /// Whether `serve` also runs the reactors and workers (the embedded default does).
    pub workers: bool,
    /// What `serve` runs: `api`, `workers`, `projections` or `all`.
    pub role: Role,

    /// Stripe's secret key (`sk_…`); unset, card payments are refused.
    pub stripe_secret_key: Option<String>,
    /// Where Stripe's API answers; unset = Stripe itself (a test emulator in tests).
    pub stripe_api_base: Option<String>,
    /// Webhook signing secrets (`whsec_…`), comma-separated while one is being rotated.
    pub stripe_webhook_secret: Option<String>,
    /// Waits before each re-attempt of a declined charge: `1d,3d,5d` (three at the most).
    pub payment_retry_schedule: String,
    /// Days after a payment succeeded in which it may be refunded without an operator's
    /// override.
    pub refund_window_days: u32,
    /// Days before a period's end that renewal reminders go out: `7,1`.
    pub reminder_days: String,
    /// The time of day (UTC, `HH:MM`) the daily reminder run falls due.
    pub reminder_time: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("roster-data"),
            database_url: None,
            kurrentdb_url: None,
            kurrentdb_namespace: "roster".into(),
            log_backend: None,
            sql_backend: None,
            master_key: None,
            listen: "127.0.0.1:8080".into(),
            public_url: None,
            body_limit: DEFAULT_BODY_LIMIT,
            token_ttl: "24h".into(),
            mail_from: "Roster <roster@localhost>".into(),
            smtp_url: None,
            smtp_ca_file: None,
            terms_url: None,
            mail_retry_schedule: "1m,5m,15m,1h,3h,6h".into(),
            worker_poll: "500ms".into(),
            worker_heartbeat: "10s".into(),
            worker_concurrency: 4,
            workers: true,
            role: Role::All,
            stripe_secret_key: None,
            stripe_api_base: None,
            stripe_webhook_secret: None,
            payment_retry_schedule: "1d,3d,5d".into(),
            refund_window_days: 30,
            reminder_days: "7,1".into(),
            reminder_time: "06:00".into(),
        }
    }
}

/// A setting that cannot be used, named by its environment variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{setting}: {reason}")]
pub struct SettingsError {
    pub setting: &'static str,
    pub reason: String,
}

fn bad(setting: &'static str, reason: impl Into<String>) -> SettingsError {
    SettingsError {
        setting,
        reason: reason.into(),
    }
}

/// Where the log and the SQL side live, once resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Storage {
    /// Both in SQLite files under the data dir.
    Sqlite { dir: PathBuf },
    /// Both in the PostgreSQL database (and schema) of this URL.
    Postgres { url: String },
    /// The log in KurrentDB (`url`, Roster's streams under `namespace`), the SQL side (read
    /// models, side tables, claims, data keys, job queues) where `sql` says.
    Kurrent {
        url: String,
        namespace: String,
        sql: Box<Storage>,
    },
}

impl Settings {
    /// Every setting's key (`data_dir`, `smtp_url`, …), as files and the environment
    /// (`ROSTER_` + upper case) name them: a new field is a new key with no other edit.
    pub fn keys() -> Vec<String> {
        match serde_json::to_value(Self::default()) {
            Ok(serde_json::Value::Object(fields)) => fields.keys().cloned().collect(),
            _ => unreachable!("Settings serialize as a map"),
        }
    }

    /// Everything in SQLite files under `dir` (the embedded default).
    pub fn in_dir(dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: dir.into(),
            ..Self::default()
        }
    }

    /// Everything in the PostgreSQL database of `url`; the data dir keeps the mail outbox.
    pub fn on_postgres(url: impl Into<String>, dir: impl Into<PathBuf>) -> Self {
        Self {
            database_url: Some(url.into()),
            ..Self::in_dir(dir)
        }
    }

    fn database_url(&self) -> Option<&str> {
        self.database_url.as_deref().filter(|url| !url.is_empty())
    }

    /// The log's backend: as set, else KurrentDB when its URL is given, else the SQL side's.
    pub fn log(&self) -> LogBackend {
        let kurrentdb = self.kurrentdb_url.as_deref().is_some_and(|u| !u.is_empty());
        self.log_backend.unwrap_or(match (kurrentdb, self.sql()) {
            (true, _) => LogBackend::Kurrentdb,
            (false, SqlBackend::Sqlite) => LogBackend::Sqlite,
            (false, SqlBackend::Postgres) => LogBackend::Postgres,
        })
    }

    /// The SQL side's backend: as set, else PostgreSQL when a database URL is given.
    pub fn sql(&self) -> SqlBackend {
        self.sql_backend.unwrap_or(match self.database_url() {
            Some(_) => SqlBackend::Postgres,
            None => SqlBackend::Sqlite,
        })
    }

    /// Where the log and the SQL side live. A SQL log shares one database with the SQL side,
    /// so that a uniqueness claim commits in the transaction of the append that makes it; a
    /// KurrentDB log keeps its claims on the SQL side by the protocol of ARCHITECTURE.md.
    pub fn storage(&self) -> Result<Storage, SettingsError> {
        match (self.log(), self.sql()) {
            (LogBackend::Kurrentdb, sql) => {
                let url = self
                    .kurrentdb_url
                    .clone()
                    .filter(|u| !u.is_empty())
                    .ok_or_else(|| {
                        bad(
                            "ROSTER_KURRENTDB_URL",
                            "a KurrentDB log needs its connection string (esdb://host:2113)",
                        )
                    })?;
                let side = Settings {
                    log_backend: Some(match sql {
                        SqlBackend::Sqlite => LogBackend::Sqlite,
                        SqlBackend::Postgres => LogBackend::Postgres,
                    }),
                    ..self.clone()
                };
                Ok(Storage::Kurrent {
                    url,
                    namespace: self.kurrentdb_namespace.clone(),
                    sql: Box::new(side.storage()?),
                })
            }
            (LogBackend::Sqlite, SqlBackend::Sqlite) => Ok(Storage::Sqlite {
                dir: self.data_dir.clone(),
            }),
            (LogBackend::Postgres, SqlBackend::Postgres) => match self.database_url() {
                Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                    Ok(Storage::Postgres {
                        url: url.to_owned(),
                    })
                }
                Some(other) => Err(bad(
                    "ROSTER_DATABASE_URL",
                    format!(
                        "must start with postgres:// (got a URL with scheme {:?})",
                        other.split(':').next().unwrap_or_default()
                    ),
                )),
                None => Err(bad(
                    "ROSTER_DATABASE_URL",
                    "PostgreSQL needs a database URL (postgres://user@host:port/db)",
                )),
            },
            (log, sql) => Err(bad(
                "ROSTER_LOG_BACKEND",
                format!(
                    "a {log:?} log with a {sql:?} SQL side: unless the log is KurrentDB, both \
                     live in one database (set both to sqlite, or both to postgres)"
                ),
            )),
        }
    }

    /// `ROSTER_TOKEN_TTL`, within what the domain accepts (1 s to 30 days).
    pub fn token_ttl(&self) -> Result<chrono::Duration, SettingsError> {
        let ttl = parse_duration(&self.token_ttl)
            .ok()
            .and_then(|ttl| chrono::Duration::from_std(ttl).ok())
            .ok_or_else(|| {
                bad(
                    "ROSTER_TOKEN_TTL",
                    format!("{:?} is not a duration like 24h", self.token_ttl),
                )
            })?;
        if ttl < chrono::Duration::seconds(1) || ttl > chrono::Duration::days(30) {
            return Err(bad(
                "ROSTER_TOKEN_TTL",
                format!("{:?} must be between 1s and 30d", self.token_ttl),
            ));
        }
        Ok(ttl)
    }

    /// The base of links in mails and of the hosted pages: `ROSTER_PUBLIC_URL`, or `fallback`
    /// (the listen address) for the embedded default. With real mail going out it must be set:
    /// a link to the listen address would reach nobody.
    pub fn public_url(&self, fallback: impl FnOnce() -> String) -> Result<String, SettingsError> {
        let url = match (&self.public_url, &self.smtp_url) {
            (Some(url), _) if !url.is_empty() => url.clone(),
            (_, Some(smtp)) if !smtp.is_empty() => {
                return Err(bad(
                    "ROSTER_PUBLIC_URL",
                    "must be set when ROSTER_SMTP_URL is: it is where the links in mails point \
                     (the upstream app's pages, e.g. https://members.example.com)",
                ));
            }
            _ => fallback(),
        };
        Ok(url.trim_end_matches('/').to_owned())
    }

    /// `ROSTER_MAIL_RETRY_SCHEDULE`.
    pub fn mail_retry(&self) -> Result<RetrySchedule, SettingsError> {
        RetrySchedule::parse(&self.mail_retry_schedule)
            .map_err(|e| bad("ROSTER_MAIL_RETRY_SCHEDULE", e))
    }

    /// `ROSTER_REMINDER_DAYS`: distinct whole days (1 to 365), largest first.
    pub fn reminder_days(&self) -> Result<Vec<u32>, SettingsError> {
        let setting = "ROSTER_REMINDER_DAYS";
        let mut days = Vec::new();
        for part in self.reminder_days.split(',').map(str::trim) {
            if part.is_empty() && self.reminder_days.trim().is_empty() {
                continue;
            }
            match part.parse::<u32>() {
                Ok(day) if (1..=365).contains(&day) && !days.contains(&day) => days.push(day),
                _ => {
                    return Err(bad(
                        setting,
                        format!("{part:?}: distinct whole days from 1 to 365, as in 7,1"),
                    ));
                }
            }
        }
        days.sort_unstable_by(|a, b| b.cmp(a));
        Ok(days)
    }

    /// `ROSTER_REMINDER_TIME`: the UTC time of day the reminder run falls due.
    pub fn reminder_time(&self) -> Result<chrono::NaiveTime, SettingsError> {
        chrono::NaiveTime::parse_from_str(self.reminder_time.trim(), "%H:%M").map_err(|_| {
            bad(
                "ROSTER_REMINDER_TIME",
                "a UTC time of day as HH:MM, e.g. 06:00",
            )
        })
    }

    /// `ROSTER_PAYMENT_RETRY_SCHEDULE`: at most three waits, as a payment is charged four
    /// times at most.
    pub fn payment_retry(&self) -> Result<RetrySchedule, SettingsError> {
        let setting = "ROSTER_PAYMENT_RETRY_SCHEDULE";
        let schedule =
            RetrySchedule::parse(&self.payment_retry_schedule).map_err(|e| bad(setting, e))?;
        let most = roster_domain::payment::MAX_ATTEMPTS as usize;
        match schedule.max_attempts() <= most {
            true => Ok(schedule),
            false => Err(bad(
                setting,
                format!("at most {} re-attempts follow a declined charge", most - 1),
            )),
        }
    }

    /// `ROSTER_STRIPE_WEBHOOK_SECRET`: every secret a webhook may be signed with.
    pub fn stripe_webhook_secrets(&self) -> Vec<String> {
        self.stripe_webhook_secret
            .iter()
            .flat_map(|s| s.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// `ROSTER_WORKER_POLL`.
    pub fn worker_poll(&self) -> Result<Duration, SettingsError> {
        parse_duration(&self.worker_poll).map_err(|e| bad("ROSTER_WORKER_POLL", e))
    }

    /// `ROSTER_WORKER_HEARTBEAT`.
    pub fn worker_heartbeat(&self) -> Result<Duration, SettingsError> {
        parse_duration(&self.worker_heartbeat).map_err(|e| bad("ROSTER_WORKER_HEARTBEAT", e))
    }

    /// `ROSTER_WORKER_CONCURRENCY`.
    pub fn worker_concurrency(&self) -> Result<usize, SettingsError> {
        match self.worker_concurrency {
            0 => Err(bad("ROSTER_WORKER_CONCURRENCY", "must be at least 1")),
            n => Ok(n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kurrentdb_url_puts_the_log_there_and_the_sql_side_where_it_was() {
        let kurrent = Settings {
            kurrentdb_url: Some("esdb://127.0.0.1:2113?tls=false".into()),
            ..Settings::in_dir("/tmp/roster-k")
        };
        let Storage::Kurrent {
            url,
            namespace,
            sql,
        } = kurrent.storage().unwrap()
        else {
            panic!("a KurrentDB log");
        };
        assert_eq!(url, "esdb://127.0.0.1:2113?tls=false");
        assert_eq!(namespace, "roster");
        assert!(matches!(*sql, Storage::Sqlite { .. }));
        let on_postgres = Settings {
            database_url: Some("postgres://roster@db/roster".into()),
            ..kurrent.clone()
        };
        let Storage::Kurrent { sql, .. } = on_postgres.storage().unwrap() else {
            panic!("a KurrentDB log");
        };
        assert!(matches!(*sql, Storage::Postgres { .. }));
        let no_url = Settings {
            log_backend: Some(LogBackend::Kurrentdb),
            ..Settings::default()
        };
        assert_eq!(
            no_url.storage().unwrap_err().setting,
            "ROSTER_KURRENTDB_URL"
        );
    }

    #[test]
    fn a_token_ttl_outside_what_the_domain_accepts_is_refused() {
        let with = |ttl: &str| Settings {
            token_ttl: ttl.into(),
            ..Settings::default()
        };
        assert!(with("500ms").token_ttl().is_err());
        assert!(with("31d").token_ttl().is_err());
        assert!(with("24").token_ttl().is_err());
        assert_eq!(with("30d").token_ttl().unwrap(), chrono::Duration::days(30));
        assert_eq!(
            with("1s").token_ttl().unwrap(),
            chrono::Duration::seconds(1)
        );
    }

    #[test]
    fn a_payment_is_charged_four_times_at_most_and_webhook_secrets_split_on_commas() {
        assert_eq!(
            Settings::default().payment_retry().unwrap().max_attempts(),
            4
        );
        let four_waits = Settings {
            payment_retry_schedule: "1d,1d,1d,1d".into(),
            ..Settings::default()
        };
        let refused = four_waits.payment_retry().unwrap_err();
        assert_eq!(refused.setting, "ROSTER_PAYMENT_RETRY_SCHEDULE");
        let rotating = Settings {
            stripe_webhook_secret: Some(" whsec_new, whsec_old ,".into()),
            ..Settings::default()
        };
        assert_eq!(
            rotating.stripe_webhook_secrets(),
            ["whsec_new", "whsec_old"]
        );
        assert!(Settings::keys().contains(&"payment_retry_schedule".to_owned()));
    }

    #[test]
    fn reminder_days_are_distinct_whole_days_and_the_time_a_time_of_day() {
        assert_eq!(Settings::default().reminder_days().unwrap(), [7, 1]);
        let with = |days: &str| Settings {
            reminder_days: days.into(),
            ..Settings::default()
        };
        assert_eq!(with("1, 14,3").reminder_days().unwrap(), [14, 3, 1]);
        assert_eq!(with("").reminder_days().unwrap(), Vec::<u32>::new());
        for bad in ["7,7", "0", "1.5", "7,,1", "400"] {
            let refused = with(bad).reminder_days().unwrap_err();
            assert_eq!(refused.setting, "ROSTER_REMINDER_DAYS", "{bad}");
        }
        assert_eq!(
            Settings::default().reminder_time().unwrap(),
            chrono::NaiveTime::from_hms_opt(6, 0, 0).unwrap()
        );
        let late = Settings {
            reminder_time: "25:00".into(),
            ..Settings::default()
        };
        assert_eq!(
            late.reminder_time().unwrap_err().setting,
            "ROSTER_REMINDER_TIME"
        );
    }

    #[test]
    fn real_mail_needs_a_public_url() {
        let smtp = Settings {
            smtp_url: Some("smtp://relay:25".into()),
            ..Settings::default()
        };
        assert!(smtp.public_url(|| "http://127.0.0.1:8080".into()).is_err());
        let both = Settings {
            public_url: Some("https://members.example.com/".into()),
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
    fn the_backends_follow_the_urls_given_and_must_share_a_database() {
        let sqlite = Settings::in_dir("/data");
        assert_eq!(
            (sqlite.log(), sqlite.sql()),
            (LogBackend::Sqlite, SqlBackend::Sqlite)
        );
        assert_eq!(
            sqlite.storage().unwrap(),
            Storage::Sqlite {
                dir: "/data".into()
            }
        );

        let pg = Settings::on_postgres("postgres://db/roster", "/data");
        assert_eq!(
            (pg.log(), pg.sql()),
            (LogBackend::Postgres, SqlBackend::Postgres)
        );
        assert!(matches!(pg.storage().unwrap(), Storage::Postgres { .. }));

        let kurrent = Settings {
            kurrentdb_url: Some("esdb://kurrent:2113".into()),
            ..pg.clone()
        };
        assert_eq!(kurrent.log(), LogBackend::Kurrentdb);
        assert!(matches!(
            kurrent.storage().unwrap(),
            Storage::Kurrent { .. }
        ));

        let mixed = Settings {
            log_backend: Some(LogBackend::Sqlite),
            ..pg
        };
        assert!(mixed.storage().unwrap_err().reason.contains("one database"));
        let no_url = Settings {
            sql_backend: Some(SqlBackend::Postgres),
            ..sqlite
        };
        assert_eq!(no_url.storage().unwrap_err().setting, "ROSTER_DATABASE_URL");
        let mysql = Settings::on_postgres("mysql://db", "/data");
        assert!(mysql.storage().unwrap_err().reason.contains("postgres://"));
    }

    #[test]
    fn the_defaults_are_valid() {
        let settings = Settings::default();
        assert_eq!(settings.mail_retry().unwrap().max_attempts(), 7);
        assert!(settings.worker_poll().is_ok() && settings.worker_heartbeat().is_ok());
        assert!(settings.token_ttl().is_ok() && settings.worker_concurrency().is_ok());
    }
}
