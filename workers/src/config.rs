//! What the workers need to know besides the store: where links point, who mail is from, how
//! mail leaves, how failed jobs are retried and how the queues are watched.

use std::time::Duration;

/// The workers' settings (`roster serve` and `roster worker` read them from the environment
/// and the config file).
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
    /// Waits between attempts of a failed mail (`ROSTER_MAIL_RETRY_SCHEDULE`): one more
    /// attempt than entries, the last entry repeating if the list is shorter.
    pub mail_retry: RetrySchedule,
    /// How often an idle worker looks for new jobs (`ROSTER_WORKER_POLL`).
    pub poll_interval: Duration,
    /// A worker's heartbeat (`ROSTER_WORKER_HEARTBEAT`); one silent for
    /// [`MISSED_HEARTBEATS`] beats is dead, and its jobs go back to the queue.
    pub heartbeat: Duration,
    /// Jobs of one queue run at once in one process.
    pub concurrency: usize,
}

/// Heartbeats a worker may miss before its jobs are taken back.
pub const MISSED_HEARTBEATS: usize = 3;

impl WorkerConfig {
    /// Defaults for everything but where links point.
    pub fn new(public_url: impl Into<String>) -> Self {
        Self {
            public_url: public_url.into().trim_end_matches('/').to_owned(),
            mail_from: "Roster <roster@localhost>".into(),
            smtp: None,
            terms_url: None,
            mail_retry: RetrySchedule::default(),
            poll_interval: Duration::from_millis(500),
            heartbeat: Duration::from_secs(10),
            concurrency: 4,
        }
    }

    pub fn terms_url(&self) -> String {
        self.terms_url
            .clone()
            .unwrap_or_else(|| format!("{}/terms", self.public_url))
    }
}

/// The waits between attempts: after the n-th failure the job waits `delays[n - 1]` (the last
/// entry for any later failure) and runs again, up to `max_attempts()` runs in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule {
    delays: Vec<Duration>,
}

impl Default for RetrySchedule {
    /// 1 min, 5 min, 15 min, 1 h, 3 h, 6 h: seven attempts over about ten and a half hours.
    fn default() -> Self {
        Self::new(
            [60, 300, 900, 3600, 3 * 3600, 6 * 3600]
                .map(Duration::from_secs)
                .to_vec(),
        )
    }
}

impl RetrySchedule {
    /// An empty list means a single attempt.
    pub fn new(delays: Vec<Duration>) -> Self {
        Self { delays }
    }

    /// Parses `30s,2m,1h,1d`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let delays = text
            .split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(parse_duration)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::new(delays))
    }

    pub fn max_attempts(&self) -> usize {
        self.delays.len() + 1
    }

    /// The wait after failed attempt `attempt` (1-based).
    pub fn delay_after(&self, attempt: usize) -> Duration {
        let index = attempt
            .saturating_sub(1)
            .min(self.delays.len().saturating_sub(1));
        self.delays.get(index).copied().unwrap_or_default()
    }
}

/// `90s`, `30m`, `24h`, `7d` (also `500ms`).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let bad = || format!("{text:?} is not a duration like 500ms, 90s, 30m, 24h or 7d");
    let (number, unit) = match text.strip_suffix("ms") {
        Some(number) => (number, "ms"),
        None => text.split_at(text.len().saturating_sub(1)),
    };
    let n: u64 = number.parse().map_err(|_| bad())?;
    let duration = match unit {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n * 60),
        "h" => Duration::from_secs(n * 3600),
        "d" => Duration::from_secs(n * 86_400),
        _ => return Err(bad()),
    };
    if duration.is_zero() {
        return Err(format!("{text:?}: a duration must be positive"));
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_schedule_has_one_more_attempt_than_waits_and_repeats_its_last_wait() {
        let schedule = RetrySchedule::parse("1s, 2m,3h").unwrap();
        assert_eq!(schedule.max_attempts(), 4);
        assert_eq!(schedule.delay_after(1), Duration::from_secs(1));
        assert_eq!(schedule.delay_after(2), Duration::from_secs(120));
        assert_eq!(schedule.delay_after(3), Duration::from_secs(3 * 3600));
        assert_eq!(schedule.delay_after(9), Duration::from_secs(3 * 3600));
        assert_eq!(RetrySchedule::parse("").unwrap().max_attempts(), 1);
    }

    #[test]
    fn durations_take_a_unit() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(
            parse_duration("7d").unwrap(),
            Duration::from_secs(7 * 86_400)
        );
        assert!(parse_duration("5").is_err());
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("1w").is_err());
    }
}
