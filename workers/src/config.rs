//! What the workers need to know besides Roster itself: where links point, who mail is from,
//! how mail leaves, how failed jobs are retried and how the queues are watched. Read from
//! [`Settings`] once, at start-up, so a bad value stops the start.

use std::time::Duration;

use roster_app::settings::SettingsError;
use roster_app::{RetrySchedule, Settings};

pub use roster_app::settings::parse_duration;

/// Heartbeats a worker may miss before its jobs are taken back.
pub const MISSED_HEARTBEATS: usize = 3;

/// Waits between runs of a payment job while Stripe does not answer (about a day in all).
const GATEWAY_RETRY: &str = "30s,2m,10m,30m,1h,3h,6h,12h";

/// The workers' settings.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Base of links in mails (`ROSTER_PUBLIC_URL`), without a trailing slash.
    pub public_url: String,
    /// Sender mailbox (`ROSTER_MAIL_FROM`).
    pub mail_from: String,
    /// `smtp://…` or `smtps://…` (`ROSTER_SMTP_URL`) and extra roots to trust
    /// (`ROSTER_SMTP_CA_FILE`); `None` writes `.eml` files to the outbox in the data dir.
    pub smtp: Option<crate::mail::SmtpSettings>,
    /// The terms a welcome mail points to (`ROSTER_TERMS_URL`); defaults to
    /// `<public url>/terms`.
    pub terms_url: Option<String>,
    /// Waits between attempts of a failed mail (`ROSTER_MAIL_RETRY_SCHEDULE`).
    pub mail_retry: RetrySchedule,
    /// How often an idle worker looks for new jobs (`ROSTER_WORKER_POLL`).
    pub poll_interval: Duration,
    /// A worker's heartbeat (`ROSTER_WORKER_HEARTBEAT`); one silent for
    /// [`MISSED_HEARTBEATS`] beats is dead, and its jobs go back to the queue.
    pub heartbeat: Duration,
    /// Jobs of one queue run at once in one process (`ROSTER_WORKER_CONCURRENCY`).
    pub concurrency: usize,
    /// Stripe (`ROSTER_STRIPE_SECRET_KEY`, `ROSTER_STRIPE_API_BASE`); `None` when no key is
    /// set: card payments then wait, failed for now, until one is.
    pub gateway: Option<crate::gateway::Gateway>,
    /// Waits between runs of a payment job whose request to Stripe got no answer; after the
    /// last, the attempt is recorded as of unknown outcome, for `roster payments reconcile`.
    pub gateway_retry: RetrySchedule,
    /// Days before a period's end that reminders go out (`ROSTER_REMINDER_DAYS`).
    pub reminder_days: Vec<u32>,
    /// The UTC time of day the daily reminder run falls due (`ROSTER_REMINDER_TIME`); `None`
    /// schedules no run (reminders then go out only by `roster remind run`).
    pub reminder_run: Option<chrono::NaiveTime>,
}

impl WorkerConfig {
    /// The workers' configuration from `settings`; links point at `public_url`.
    pub fn from_settings(settings: &Settings, public_url: &str) -> Result<Self, SettingsError> {
        Ok(Self {
            public_url: public_url.trim_end_matches('/').to_owned(),
            mail_from: settings.mail_from.clone(),
            smtp: settings
                .smtp_url
                .clone()
                .filter(|url| !url.is_empty())
                .map(|url| crate::mail::SmtpSettings {
                    url,
                    ca_file: settings.smtp_ca_file.clone(),
                }),
            terms_url: settings.terms_url.clone().filter(|url| !url.is_empty()),
            mail_retry: settings.mail_retry()?,
            poll_interval: settings.worker_poll()?,
            heartbeat: settings.worker_heartbeat()?,
            concurrency: settings.worker_concurrency()?,
            gateway: match settings.stripe_secret_key.as_deref() {
                Some(key) if !key.is_empty() => Some(
                    crate::gateway::Gateway::new(settings.stripe_api_base.as_deref(), key)
                        .map_err(|e| SettingsError {
                            setting: "ROSTER_STRIPE_API_BASE",
                            reason: e,
                        })?,
                ),
                _ => None,
            },
            gateway_retry: RetrySchedule::parse(GATEWAY_RETRY)
                .unwrap_or_else(|_| unreachable!("the built-in schedule parses")),
            reminder_days: settings.reminder_days()?,
            reminder_run: Some(settings.reminder_time()?),
        })
    }

    pub fn terms_url(&self) -> String {
        self.terms_url
            .clone()
            .unwrap_or_else(|| format!("{}/terms", self.public_url))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_settings_make_a_valid_worker_configuration() {
        let config =
            WorkerConfig::from_settings(&Settings::default(), "https://example.com/").unwrap();
        assert_eq!(config.public_url, "https://example.com");
        assert_eq!(config.terms_url(), "https://example.com/terms");
        assert_eq!(config.mail_retry.max_attempts(), 7);
        assert!(config.smtp.is_none());
    }

    #[test]
    fn a_bad_setting_names_its_variable() {
        let settings = Settings {
            worker_poll: "soon".into(),
            ..Settings::default()
        };
        let error = WorkerConfig::from_settings(&settings, "https://example.com").unwrap_err();
        assert_eq!(error.setting, "ROSTER_WORKER_POLL");
    }
}
