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

use roster_domain::{AnyEvent, MembershipEvent, PaymentEvent, PlanEvent};

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
        let step = |step| Enqueue::of(&MembershipStep { step, cause });
        let timer = |timer, at| {
            Ok::<_, serde_json::Error>(Enqueue::of(&MembershipTimer { timer, cause })?.at(at))
        };
        let jobs = match event {
            AnyEvent::Payment(event) => match event {
                PaymentEvent::Succeeded(e) => vec![step(Step::SettlePayment {
                    payment_id: e.payment_id,
                })?],
                PaymentEvent::ReattemptScheduled(e) => vec![step(Step::SettlePayment {
                    payment_id: e.payment_id,
                })?],
                PaymentEvent::Failed(e) if e.membership_id.is_some() => {
                    vec![step(Step::SettlePayment {
                        payment_id: e.payment_id,
                    })?]
                }
                PaymentEvent::Abandoned(e) => vec![step(Step::SettlePayment {
                    payment_id: e.payment_id,
                })?],
                _ => Vec::new(),
            },
            AnyEvent::Membership(event) => match event {
                MembershipEvent::Opened(e) => match e.payment_id {
                    Some(payment_id) => vec![step(Step::RequestPayment {
                        membership_id: e.membership_id,
                        payment_id,
                    })?],
                    None => Vec::new(),
                },
                MembershipEvent::Placed(e) => match e.payment_id {
                    Some(payment_id) => vec![step(Step::RequestPayment {
                        membership_id: e.membership_id,
                        payment_id,
                    })?],
                    None => Vec::new(),
                },
                MembershipEvent::RenewalRequested(e) => vec![step(Step::RequestPayment {
                    membership_id: e.membership_id,
                    payment_id: e.payment_id,
                })?],
                MembershipEvent::Lapsed(e) => vec![step(Step::ReleasePlace {
                    membership_id: e.membership_id,
                })?],
                MembershipEvent::Cancelled(e) => vec![step(Step::ReleasePlace {
                    membership_id: e.membership_id,
                })?],
                MembershipEvent::Offered(e) => vec![Enqueue::of(&OfferMail {
                    membership_id: e.membership_id,
                    expires_at: e.expires_at,
                    cause,
                })?],
                MembershipEvent::Activated(e) => match e.period_end {
                    Some(end) => vec![timer(
                        Timer::PeriodEnd {
                            membership_id: e.membership_id,
                            period_end: end,
                        },
                        end,
                    )?],
                    None => Vec::new(),
                },
                MembershipEvent::Renewed(e) => match e.period_end {
                    Some(end) => vec![timer(
                        Timer::PeriodEnd {
                            membership_id: e.membership_id,
                            period_end: end,
                        },
                        end,
                    )?],
                    None => Vec::new(),
                },
                MembershipEvent::PastDue(_)
                | MembershipEvent::CancellationScheduled(_)
                | MembershipEvent::PaymentMethodChanged(_)
                | MembershipEvent::Reminded(_) => Vec::new(),
            },
            AnyEvent::Plan(event) => match event {
                PlanEvent::PlaceOffered(e) => vec![
                    step(Step::Offer {
                        membership_id: e.membership_id,
                        expires_at: e.expires_at,
                    })?,
                    timer(Timer::OfferWindow { plan_id: e.plan_id }, e.expires_at)?,
                ],
                PlanEvent::OfferLapsed(e) => vec![step(Step::LeaveLine {
                    membership_id: e.membership_id,
                })?],
                PlanEvent::WaitlistLeft(e) => vec![step(Step::LeaveLine {
                    membership_id: e.membership_id,
                })?],
                PlanEvent::OfferClaimed(e) => vec![step(Step::Place {
                    membership_id: e.membership_id,
                })?],
                _ => Vec::new(),
            },
            _ => Vec::new(),
        };
        Ok(jobs)
    }
}
