//! Every reactor and job type a worker process runs, declared in one place
//! ([`Catalog::builtin`]). Everything that lists them (the reactors started and installed, the
//! apalis worker per queue, the queues `roster workers status` shows, the jobs `run_due`
//! drains) derives from the catalog, so adding a job is its module plus one line here.

use std::sync::Arc;

use futures::future::BoxFuture;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::job::{Job, JobResult, Run, permanent};
use crate::jobs::Context;
use crate::jobs::charge_payment::ChargePayment;
use crate::jobs::membership_step::MembershipStep;
use crate::jobs::membership_timer::MembershipTimer;
use crate::jobs::offer_mail::OfferMail;
use crate::jobs::payment_mail::PaymentMail;
use crate::jobs::referral_reward::ReferralReward;
use crate::jobs::refund_payment::RefundPayment;
use crate::jobs::reminder_mail::ReminderMail;
use crate::jobs::reminder_run::ReminderRun;
use crate::jobs::verification_email::VerificationEmail;
use crate::jobs::welcome_email::WelcomeEmail;
use crate::reactor::Reactor;
use crate::reactors::grants::GrantsReactor;
use crate::reactors::mail::MailReactor;
use crate::reactors::memberships::MembershipsReactor;
use crate::reactors::payments::PaymentsReactor;
use crate::reactors::referrals::ReferralsReactor;
use crate::supervise::{self, Health};

/// One job type, its type erased: its queue, how to run one stored payload, and how to start
/// an apalis worker for its queue.
#[derive(Clone, Copy)]
pub struct JobKind {
    pub queue: &'static str,
    run: fn(Vec<u8>, Run, Context) -> BoxFuture<'static, JobResult>,
    spawn: fn(Context, watch::Receiver<bool>, Health) -> JoinHandle<()>,
}

impl JobKind {
    pub fn of<J: Job>() -> Self {
        Self {
            queue: J::QUEUE,
            run: run_stored::<J>,
            spawn: supervise::worker::<J>,
        }
    }

    /// Runs one stored payload of this queue.
    pub fn run(&self, payload: Vec<u8>, run: Run, ctx: Context) -> BoxFuture<'static, JobResult> {
        (self.run)(payload, run, ctx)
    }

    /// Starts an apalis worker for this queue, kept alive by a supervisor until `stop`.
    pub fn spawn(
        &self,
        ctx: Context,
        stop: watch::Receiver<bool>,
        health: Health,
    ) -> JoinHandle<()> {
        (self.spawn)(ctx, stop, health)
    }
}

fn run_stored<J: Job>(payload: Vec<u8>, run: Run, ctx: Context) -> BoxFuture<'static, JobResult> {
    Box::pin(async move {
        let job: J = serde_json::from_slice(&payload)
            .map_err(|e| permanent(format!("the job's payload is unreadable: {e}")))?;
        crate::jobs::run(job, run, ctx).await
    })
}

/// The reactors and jobs of a worker process.
#[derive(Clone, Default)]
pub struct Catalog {
    reactors: Vec<Arc<dyn Reactor>>,
    jobs: Vec<JobKind>,
}

impl Catalog {
    /// Everything this build runs.
    pub fn builtin() -> Self {
        Self::default()
            .reactor(MailReactor)
            .reactor(PaymentsReactor)
            .reactor(MembershipsReactor)
            .reactor(GrantsReactor)
            .reactor(ReferralsReactor)
            .job::<VerificationEmail>()
            .job::<WelcomeEmail>()
            .job::<ChargePayment>()
            .job::<RefundPayment>()
            .job::<PaymentMail>()
            .job::<MembershipStep>()
            .job::<MembershipTimer>()
            .job::<OfferMail>()
            .job::<ReminderRun>()
            .job::<ReminderMail>()
            .job::<ReferralReward>()
    }

    pub fn reactor(mut self, reactor: impl Reactor) -> Self {
        self.reactors.push(Arc::new(reactor));
        self
    }

    pub fn job<J: Job>(mut self) -> Self {
        self.jobs.push(JobKind::of::<J>());
        self
    }

    pub fn reactors(&self) -> &[Arc<dyn Reactor>] {
        &self.reactors
    }

    pub fn jobs(&self) -> &[JobKind] {
        &self.jobs
    }

    /// Every queue, in declaration order.
    pub fn queues(&self) -> Vec<&'static str> {
        self.jobs.iter().map(|job| job.queue).collect()
    }
}
