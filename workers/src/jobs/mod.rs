//! One module per job: its payload, its `impl Job` (queue, schedule, handler). A handler reads
//! what it needs from the log when it runs, does the slow work and reports back by sending
//! commands through the application's use cases. Handlers never write read models.

pub mod charge_payment;
pub mod membership_step;
pub mod membership_timer;
pub mod offer_mail;
pub mod payment_mail;
pub mod referral_reward;
pub mod refund_payment;
pub mod reminder_mail;
pub mod reminder_run;
pub mod verification_email;
pub mod welcome_email;

use std::sync::Arc;

use roster_app::{AppError, CommandMeta, Roster};
use roster_domain::member::MemberPersonal;
use roster_domain::membership::MembershipState;
use roster_domain::{MemberCommand, MemberState};
use roster_store::ActorRef;
use uuid::Uuid;

use roster_domain::member::{MailFailure, MailFailureKind};

use crate::config::WorkerConfig;
use crate::job::{BoxDynError, Cause, Job, JobResult, Run, is_permanent, retry};
use crate::mail::{MailError, MailTemplate, Mailer};
use crate::queue::Queues;

/// Tries of [`Context::report`].
const REPORT_TRIES: usize = 5;

/// Runs `job`; when the run fails for now and the job has attempts left, the job waits its
/// schedule's time (by Roster's clock) before the next, whichever way the handler failed. The
/// apalis workers and the drain both run jobs through here.
pub async fn run<J: Job>(job: J, run: Run, ctx: Context) -> JobResult {
    let result = job.run(run.clone(), ctx.clone()).await;
    if let Err(e) = &result
        && !is_permanent(e)
        && !run.is_last()
    {
        ctx.postpone::<J>(&run).await;
    }
    result
}

/// How a mail job's delivery ended.
#[derive(Debug)]
pub enum Delivery {
    Sent,
    /// Refused for good, or its last attempt failed: the job ends failed.
    Failed(MailError),
    /// Failed for now: the job runs again after its schedule's wait.
    Later(MailError),
}

impl Delivery {
    /// The job's result: done when sent, failed for good (and logged, naming the mail and
    /// what it was about) when refused, failed for now otherwise.
    pub fn into_result(self, mail: &str, about: impl std::fmt::Display) -> JobResult {
        match self {
            Delivery::Sent => Ok(()),
            Delivery::Failed(e) => {
                tracing::warn!(mail, %about, error = %e, "mail failed for good");
                Err(crate::job::permanent(e))
            }
            Delivery::Later(e) => Err(retry(e)),
        }
    }
}

/// What every handler may use: Roster (its clock, log and use cases), the mailer, the queues
/// and the workers' settings.
#[derive(Clone)]
pub struct Context {
    pub roster: Roster,
    pub mailer: Mailer,
    pub queues: Queues,
    pub config: Arc<WorkerConfig>,
}

impl Context {
    /// The metadata of a command a job sends: the worker (by queue) acts, in the correlation of
    /// the event that caused the job, naming that event as the cause.
    pub fn meta<J: Job>(&self, cause: &Cause) -> CommandMeta {
        CommandMeta {
            actor: ActorRef::Worker(J::QUEUE.to_owned()),
            correlation_id: cause.correlation_id,
            causation_id: Some(cause.event_id),
            idempotency_key: None,
        }
    }

    /// The member as the log has it now; a read that fails fails the run for now.
    pub async fn member(&self, member_id: Uuid) -> Result<MemberState, BoxDynError> {
        self.roster
            .commands
            .load::<roster_domain::Member>(member_id)
            .await
            .map(|loaded| loaded.state)
            .map_err(|e| retry(format!("cannot read the member: {e}")))
    }

    /// The membership as its stream folds now; a read that fails fails the run for now.
    pub async fn membership(&self, membership_id: Uuid) -> Result<MembershipState, BoxDynError> {
        self.roster
            .memberships
            .get(membership_id)
            .await
            .map(|view| view.state)
            .map_err(|e| retry(format!("cannot read the membership: {e}")))
    }

    /// Whom a membership's mail goes to and the plan's name, or `None` (logged) when there is
    /// nobody to write to: `still_due` false (the reason a late run says nothing), or the
    /// member's data erased.
    pub async fn membership_recipient(
        &self,
        membership: &MembershipState,
        still_due: bool,
        mail: &str,
    ) -> Result<Option<(MemberPersonal, String)>, BoxDynError> {
        let id = membership.membership_id.unwrap_or_default();
        let Some(member_id) = membership.member_id.filter(|_| still_due) else {
            tracing::info!(membership_id = %id, mail, "not sent: no longer due");
            return Ok(None);
        };
        let Some(personal) = self.member(member_id).await?.personal else {
            tracing::info!(membership_id = %id, mail, "not sent: the member's data is erased");
            return Ok(None);
        };
        let plan = self
            .roster
            .plans
            .get(&membership.plan_slug)
            .await
            .map_err(|e| retry(format!("cannot read the plan: {e}")))?;
        let name = plan
            .state
            .terms
            .map_or_else(|| membership.plan_slug.clone(), |t| t.name);
        Ok(Some((personal, name)))
    }

    /// Sends a report about a member, trying again a few times (about six seconds in all)
    /// before giving up: a report that cannot be written after the mail went out, or after
    /// the last attempt failed, would otherwise be lost with the job.
    pub async fn report<J: Job>(
        &self,
        member_id: Uuid,
        command: &MemberCommand,
        cause: &Cause,
    ) -> Result<(), AppError> {
        let meta = self.meta::<J>(cause);
        let mut wait = std::time::Duration::from_millis(200);
        let mut tries = 1;
        loop {
            match self.roster.members.execute(member_id, command, &meta).await {
                Ok(_) => return Ok(()),
                // A rejection will not change by trying again.
                Err(e @ AppError::Domain(_)) => return Err(e),
                Err(e) if tries >= REPORT_TRIES => return Err(e),
                Err(e) => {
                    tracing::warn!(error = %e, queue = J::QUEUE, "cannot record a report yet; retrying");
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                    tries += 1;
                }
            }
        }
    }

    /// Renders `mail` and sends it to `to` for a run of job `J` (the run's task id is the
    /// `Message-ID`), counting the outcome as `mail` (`verification`, `welcome`). A mail that
    /// cannot be rendered fails for good: trying again renders the same.
    pub async fn deliver<J: Job>(
        &self,
        run: &Run,
        kind: &'static str,
        to: &str,
        mail: &(impl MailTemplate + ?Sized),
    ) -> Delivery {
        let sent = match mail.render() {
            Ok(rendered) => self.mailer.send(to, &rendered, &run.task_id).await,
            Err(e) => {
                tracing::error!(queue = J::QUEUE, error = %e, "cannot render a mail");
                Err(MailError {
                    failure: MailFailure {
                        kind: MailFailureKind::Unsendable,
                        smtp_code: None,
                    },
                    permanent: true,
                })
            }
        };
        match sent {
            Ok(()) => {
                metrics::counter!("roster_mails_sent_total", "mail" => kind).increment(1);
                Delivery::Sent
            }
            Err(e) if e.permanent || run.is_last() => {
                metrics::counter!("roster_mails_failed_total", "mail" => kind).increment(1);
                Delivery::Failed(e)
            }
            Err(e) => Delivery::Later(e),
        }
    }

    /// Makes the job of this run wait its schedule's time for the attempt that just failed,
    /// counted from Roster's clock, before its next run.
    async fn postpone<J: Job>(&self, run: &Run) {
        let wait = J::schedule(&self.config).delay_after(run.attempt);
        let until = self.roster.clock.now()
            + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::seconds(60));
        if let Err(e) = self.queues.postpone(J::QUEUE, &run.task_id, until).await {
            // The job then runs again at once; that is a wasted attempt, not a lost job.
            tracing::warn!(error = %e, queue = J::QUEUE, "cannot postpone a failed job");
        }
        metrics::counter!("roster_job_retries_total", "queue" => J::QUEUE).increment(1);
    }
}
