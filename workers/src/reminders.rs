//! Renewal reminders: a run finds the memberships whose period ends within the largest
//! reminder offset (`memberships_v1`, by its period-end index), asks the domain which reminder
//! each is due ([`reminder_due`](roster_domain::membership::reminder_due): the nearest offset
//! whose moment has come, once per period and offset, none once cancelled) and stores one mail
//! job per reminder. The job's id derives from the membership, the period and the offset, so a
//! repeated run, or two workers running it, store one job; the job checks the membership again
//! when it sends, so nothing goes to a membership renewed, cancelled or lapsed meanwhile, and it
//! records the reminder on the membership's stream.
//!
//! The same run settles what is overdue: an active membership whose period has ended (its
//! timer late or lost) gets its period-end step now, which renews it or ends it; the step
//! checks the membership, so settling twice does nothing more.
//!
//! The run falls due daily ([`ReminderRun`](crate::jobs::reminder_run::ReminderRun)) and
//! `roster remind run [--dry-run] [--now T]` runs it by hand.

use chrono::{DateTime, Duration, Utc};
use roster_app::Roster;
use roster_projections::ProjectionError;
use roster_projections::read::ReadModels;
use serde::Serialize;
use uuid::Uuid;

use crate::config::WorkerConfig;
use crate::job::{Cause, Enqueue};
use crate::jobs::membership_timer::{MembershipTimer, Timer};
use crate::jobs::reminder_mail::ReminderMail;
use crate::queue::{QueueError, Queues};

/// One reminder a run found due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DueReminder {
    pub membership_id: Uuid,
    pub member_id: Uuid,
    pub plan: String,
    pub period_end: DateTime<Utc>,
    pub days_before: u32,
}

/// What a run found, and how many of its jobs were new.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReminderReport {
    pub now: DateTime<Utc>,
    /// Memberships whose period ends within the largest offset.
    pub looked_at: usize,
    pub due: Vec<DueReminder>,
    /// Jobs stored by this run (0 on a dry run; fewer than `due` when a run already stored
    /// them).
    pub enqueued: usize,
    /// Active memberships whose period had ended: their period-end step was stored (not on a
    /// dry run).
    pub overdue: Vec<Uuid>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReminderError {
    #[error(transparent)]
    ReadModel(#[from] ProjectionError),
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error("cannot encode a reminder job: {0}")]
    Encode(#[from] serde_json::Error),
}

/// The reminders due at `now`, by the read model.
pub async fn due(
    read_models: &ReadModels,
    offsets: &[u32],
    now: DateTime<Utc>,
) -> Result<(usize, Vec<DueReminder>), ReminderError> {
    let Some(widest) = offsets.iter().max() else {
        return Ok((0, Vec::new()));
    };
    let ending = read_models
        .memberships_ending(now, now + Duration::days(i64::from(*widest)))
        .await?;
    let due = ending
        .iter()
        .filter_map(|m| {
            let days_before = m.reminder_due(offsets, now)?;
            Some(DueReminder {
                membership_id: m.membership_id,
                member_id: m.member_id,
                plan: m.plan.clone(),
                period_end: m.period_end?,
                days_before,
            })
        })
        .collect();
    Ok((ending.len(), due))
}

/// Finds the reminders due at `now` and, unless `dry_run`, stores their mail jobs.
pub async fn run(
    roster: &Roster,
    queues: &Queues,
    config: &WorkerConfig,
    now: DateTime<Utc>,
    dry_run: bool,
) -> Result<ReminderReport, ReminderError> {
    let read_models = ReadModels::open(roster).await?;
    let (looked_at, due) = due(&read_models, &config.reminder_days, now).await?;
    let overdue = read_models.memberships_overdue(now).await?;
    let mut enqueued = 0;
    if !dry_run {
        for membership in &overdue {
            let Some(period_end) = membership.period_end else {
                continue;
            };
            let timer = Timer::PeriodEnd {
                membership_id: membership.membership_id,
                period_end,
            };
            let name = format!("period-end/{}", membership.membership_id);
            let cause = Cause::scheduled(&name, period_end);
            queues
                .push(
                    &Enqueue::of(&MembershipTimer { timer, cause })?,
                    config,
                    now,
                )
                .await?;
        }
        for reminder in &due {
            let job = ReminderMail {
                membership_id: reminder.membership_id,
                period_end: reminder.period_end,
                days_before: reminder.days_before,
                as_of: now,
                cause: reminder_cause(reminder),
            };
            if queues.push(&Enqueue::of(&job)?, config, now).await? {
                enqueued += 1;
            }
        }
    }
    tracing::info!(
        looked_at,
        due = due.len(),
        enqueued,
        overdue = overdue.len(),
        dry_run,
        "reminder run"
    );
    Ok(ReminderReport {
        now,
        looked_at,
        due,
        enqueued,
        overdue: overdue.iter().map(|m| m.membership_id).collect(),
    })
}

/// One job per membership, period and offset, whoever runs it and however often.
fn reminder_cause(reminder: &DueReminder) -> Cause {
    let name = format!(
        "reminder/{}/{}",
        reminder.membership_id, reminder.days_before
    );
    Cause::scheduled(&name, reminder.period_end)
}
