//! The daily reminder run: due at `ROSTER_REMINDER_TIME` (UTC) each day by Roster's clock, it
//! runs [`crate::reminders::run`] and stores the next day's run. Its id derives from the day,
//! so every worker process that schedules it (each does at start) stores the same job and
//! the queue keeps one: two workers never run a day twice.
//!
//! This is a job of our own queue rather than an apalis-cron stream: a cron stream fires on the
//! wall clock in every process that runs it, while this run is due by the injected clock (a
//! test moves the clock and drains) and is stored once per day whoever schedules it.

use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};
use roster_app::RetrySchedule;
use serde::{Deserialize, Serialize};

use super::Context;
use crate::config::WorkerConfig;
use crate::job::{Cause, Enqueue, Job, JobResult, Run, retry};
use crate::queue::{QueueError, Queues};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderRun {
    pub day: NaiveDate,
    pub cause: Cause,
}

impl ReminderRun {
    /// The run of `day`, due at `time` that day.
    pub fn of(day: NaiveDate, time: NaiveTime) -> (Self, DateTime<Utc>) {
        let at = day.and_time(time).and_utc();
        let run = Self {
            day,
            cause: Cause::scheduled("reminder-run", at),
        };
        (run, at)
    }
}

/// Stores today's run (due now if its time has passed: a catch-up after a stop), unless a
/// process stored it already. Nothing when the config schedules no run.
pub async fn schedule(
    queues: &Queues,
    config: &WorkerConfig,
    now: DateTime<Utc>,
) -> Result<(), QueueError> {
    let Some(time) = config.reminder_run else {
        return Ok(());
    };
    let (run, at) = ReminderRun::of(now.date_naive(), time);
    let job = Enqueue::of(&run)
        .map_err(|e| QueueError::Push(e.to_string()))?
        .at(at);
    queues.push(&job, config, now).await?;
    Ok(())
}

impl Job for ReminderRun {
    const QUEUE: &'static str = "reminders.daily";

    fn schedule(config: &WorkerConfig) -> RetrySchedule {
        config.mail_retry.clone()
    }

    fn cause(&self) -> &Cause {
        &self.cause
    }

    async fn run(self, _run: Run, ctx: Context) -> JobResult {
        let now = ctx.roster.clock.now();
        crate::reminders::run(&ctx.roster, &ctx.queues, &ctx.config, now, false)
            .await
            .map_err(retry)?;
        if let (Some(time), Some(next)) = (
            ctx.config.reminder_run,
            self.day.checked_add_days(Days::new(1)),
        ) {
            let (run, at) = ReminderRun::of(next, time);
            let job = Enqueue::of(&run).map_err(retry)?.at(at);
            ctx.queues
                .push(&job, &ctx.config, now)
                .await
                .map_err(retry)?;
        }
        Ok(())
    }
}
