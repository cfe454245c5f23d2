//! The memberships reactor: keeps memberships, their plans and their payments in step, and
//! sets the times that fall due (see `roster_app::memberships` for the whole flow):
//! - a membership's payment named (opened, placed, renewing) -> the payment asked for;
//! - a payment's outcome (succeeded, re-attempt scheduled, failed, abandoned) -> its
//!   membership told;
//! - a membership ended (lapsed, cancelled) -> its place released on the plan;
//! - a place offered -> the membership offered, and the window's close set on the plan;
//! - a membership offered -> the claim mail;
//! - an offer lapsed or the line left -> a still-waiting membership ends;
//! - an offer claimed -> the membership placed;
//! - a period started -> its end set (renew, or settle a scheduled cancellation).

use chrono::{DateTime, Utc};
use roster_domain::payment::{PaymentAbandoned, PaymentReattemptScheduled, PaymentSucceeded};
use roster_domain::{AnyEvent, MembershipEvent, PaymentEvent, PlanEvent};
use uuid::Uuid;

use crate::job::{Cause, Enqueue};
use crate::jobs::membership_step::{MembershipStep, Step};
use crate::jobs::membership_timer::{MembershipTimer, Timer};
use crate::jobs::offer_mail::OfferMail;
use crate::reactor::Reactor;

pub struct MembershipsReactor;

/// The memberships reactor's name and checkpoint.
pub const MEMBERSHIPS: &str = "memberships";

impl Reactor for MembershipsReactor {
    fn name(&self) -> &'static str {
        MEMBERSHIPS
    }

    fn react(&self, event: &AnyEvent, cause: Cause) -> Result<Vec<Enqueue>, serde_json::Error> {
        let step = |step: Option<Step>| -> Result<Vec<Enqueue>, serde_json::Error> {
            step.map(|step| Enqueue::of(&MembershipStep { step, cause }))
                .into_iter()
                .collect()
        };
        let timer =
            |timer: Option<(Timer, DateTime<Utc>)>| -> Result<Vec<Enqueue>, serde_json::Error> {
                timer
                    .map(|(timer, at)| Ok(Enqueue::of(&MembershipTimer { timer, cause })?.at(at)))
                    .into_iter()
                    .collect()
            };
        // The payment a membership names, asked for; the end of a period, set.
        let pay = |membership_id, payment_id: Option<Uuid>| {
            payment_id.map(|payment_id| Step::RequestPayment {
                membership_id,
                payment_id,
            })
        };
        let period = |membership_id, end: Option<DateTime<Utc>>| {
            end.map(|period_end| {
                let timer = Timer::PeriodEnd {
                    membership_id,
                    period_end,
                };
                (timer, period_end)
            })
        };
        let release = |membership_id| Some(Step::ReleasePlace { membership_id });
        let leave = |membership_id| Some(Step::LeaveLine { membership_id });
        match event {
            AnyEvent::Payment(event) => step(match event {
                PaymentEvent::Succeeded(PaymentSucceeded { payment_id, .. })
                | PaymentEvent::ReattemptScheduled(PaymentReattemptScheduled {
                    payment_id, ..
                })
                | PaymentEvent::Abandoned(PaymentAbandoned { payment_id, .. }) => {
                    Some(Step::SettlePayment {
                        payment_id: *payment_id,
                    })
                }
                PaymentEvent::Failed(e) if e.membership_id.is_some() => Some(Step::SettlePayment {
                    payment_id: e.payment_id,
                }),
                _ => None,
            }),
            AnyEvent::Membership(event) => match event {
                MembershipEvent::Opened(e) => step(pay(e.membership_id, e.payment_id)),
                MembershipEvent::Placed(e) => step(pay(e.membership_id, e.payment_id)),
                MembershipEvent::RenewalRequested(e) => {
                    step(pay(e.membership_id, Some(e.payment_id)))
                }
                MembershipEvent::Lapsed(e) => step(release(e.membership_id)),
                MembershipEvent::Cancelled(e) => step(release(e.membership_id)),
                MembershipEvent::Offered(e) => Ok(vec![Enqueue::of(&OfferMail {
                    membership_id: e.membership_id,
                    expires_at: e.expires_at,
                    cause,
                })?]),
                MembershipEvent::Activated(e) => timer(period(e.membership_id, e.period_end)),
                MembershipEvent::Renewed(e) => timer(period(e.membership_id, e.period_end)),
                MembershipEvent::PastDue(_)
                | MembershipEvent::CancellationScheduled(_)
                | MembershipEvent::PaymentMethodChanged(_)
                | MembershipEvent::Reminded(_) => Ok(Vec::new()),
            },
            AnyEvent::Plan(event) => match event {
                PlanEvent::PlaceOffered(e) => {
                    let mut jobs = step(Some(Step::Offer {
                        membership_id: e.membership_id,
                        expires_at: e.expires_at,
                    }))?;
                    let window = Timer::OfferWindow { plan_id: e.plan_id };
                    jobs.extend(timer(Some((window, e.expires_at)))?);
                    Ok(jobs)
                }
                PlanEvent::OfferLapsed(e) => step(leave(e.membership_id)),
                PlanEvent::WaitlistLeft(e) => step(leave(e.membership_id)),
                PlanEvent::OfferClaimed(e) => step(Some(Step::Place {
                    membership_id: e.membership_id,
                })),
                _ => Ok(Vec::new()),
            },
            _ => Ok(Vec::new()),
        }
    }
}
