//! Durations as settings write them (`90s`, `30m`, `24h`, `7d`), and retry schedules made of
//! them (`1m,5m,15m`): how long a failed job waits before each next attempt.

use std::time::Duration;

/// The waits between attempts of a job: after the n-th failure the job waits `delays[n - 1]`
/// (the last entry for any later failure) and runs again, up to `max_attempts()` runs in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule {
    delays: Vec<Duration>,
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
        assert!(parse_duration("").is_err());
    }
}
