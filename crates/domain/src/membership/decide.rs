//! The membership's rules: the first period starts when it is paid (at once when nothing is
//! due), renewals follow the period already paid, a declined renewal makes it past due (access
//! stays while re-attempts run) and a failed one lapses it (access ends at once), and a
//! cancellation takes effect now or at the end of the period paid. Reports that come twice
//! change nothing.

use chrono::{DateTime, Months, Utc};
use uuid::Uuid;

use super::command::{JoinStanding, MembershipCommand, OpenMembership, PlaceMembership};
use super::event::{
    MembershipActivated, MembershipCancellationScheduled, MembershipCancelled, MembershipEvent,
    MembershipLapsed, MembershipOffered, MembershipOpened, MembershipPastDue,
    MembershipPaymentMethodChanged, MembershipPlaced, MembershipReminded,
    MembershipRenewalRequested, MembershipRenewed,
};
use super::state::{MembershipState, MembershipStatus};
use crate::payment::method_id;
use crate::plan::{Interval, Price};
use crate::{Actor, Ctx, DomainError};

/// The end of a period of `price` that starts at `start`; `None` for one-off and free plans.
pub fn period_end(price: Option<&Price>, start: DateTime<Utc>) -> Option<DateTime<Utc>> {
    match price.map(|p| p.interval) {
        Some(Interval::Month) => start.checked_add_months(Months::new(1)),
        Some(Interval::Year) => start.checked_add_months(Months::new(12)),
        Some(Interval::Once | Interval::Free) | None => None,
    }
}

/// The reminder due for the membership at `now`, given the offsets (days before the period's
/// end) reminders go out at: the smallest offset whose moment has come, unless a reminder at
/// that offset or a smaller one already went out for this period. A run that comes late sends
/// only the nearest reminder, never two at once. `None` for a membership that does not end a
/// period (not active or past due, no period end, over already, cancelled at the period's end)
/// or was reminded already.
pub fn reminder_due(state: &MembershipState, offsets: &[u32], now: DateTime<Utc>) -> Option<u32> {
    // A membership cancelled at its period's end is not reminded: it is not renewing.
    let live = matches!(
        state.status,
        MembershipStatus::Active | MembershipStatus::PastDue
    ) && state.cancels_at.is_none();
    let end = state.period_end.filter(|end| live && now < *end)?;
    let due = offsets
        .iter()
        .copied()
        .filter(|days| end - chrono::Duration::days(i64::from(*days)) <= now)
        .min()?;
    match state.reminded {
        Some((period, sent)) if period == end && sent <= due => None,
        _ => Some(due),
    }
}

/// Whether joining at `price` needs a payment.
pub fn needs_payment(price: Option<&Price>) -> bool {
    price.is_some_and(|p| p.interval != Interval::Free && p.amount > 0)
}

pub(super) fn decide(
    state: &MembershipState,
    command: &MembershipCommand,
    ctx: &Ctx,
) -> Result<Vec<MembershipEvent>, DomainError> {
    if let Actor::Member(actor) = ctx.actor {
        // A member may join, claim an offer and cancel for themselves; payments, periods and
        // offers are Roster's to record.
        let own = match command {
            MembershipCommand::Open(c) => c.member_id == actor,
            _ => state.member_id == Some(actor),
        };
        let theirs = matches!(
            command,
            MembershipCommand::Open(_)
                | MembershipCommand::Place(_)
                | MembershipCommand::Cancel(_)
                | MembershipCommand::ChangeMethod(_)
        );
        if !(own && theirs) {
            return Err(DomainError::NotAllowed {
                reason: "a member may only join, claim and cancel their own memberships".into(),
            });
        }
    }
    if let MembershipCommand::Open(c) = command {
        return open(state, c, ctx);
    }
    let Some(membership_id) = state.membership_id else {
        return Err(DomainError::not_found("membership"));
    };
    let status = state.status;
    let event = match command {
        MembershipCommand::Open(_) => unreachable!("handled above"),
        MembershipCommand::Offer(c) => match status {
            MembershipStatus::Waitlisted => Some(MembershipEvent::Offered(MembershipOffered {
                membership_id,
                expires_at: c.expires_at,
            })),
            _ => None,
        },
        MembershipCommand::Place(c) => match status {
            MembershipStatus::Waitlisted => return place(state, membership_id, c, ctx),
            MembershipStatus::PendingPayment
            | MembershipStatus::Active
            | MembershipStatus::PastDue => None,
            _ => return Err(ended()),
        },
        MembershipCommand::Activate(c) => match status {
            MembershipStatus::Active | MembershipStatus::PastDue => None,
            MembershipStatus::Waitlisted | MembershipStatus::PendingPayment => {
                if needs_payment(state.price.as_ref()) && c.payment_id.is_none() {
                    return Err(DomainError::invalid_state("the first period is not paid"));
                }
                Some(MembershipEvent::Activated(MembershipActivated {
                    membership_id,
                    payment_id: c.payment_id,
                    period_start: ctx.now,
                    period_end: period_end(state.price.as_ref(), ctx.now),
                }))
            }
            _ => return Err(ended()),
        },
        MembershipCommand::RequestRenewal(c) => {
            let renewable = matches!(status, MembershipStatus::Active | MembershipStatus::PastDue)
                && state.period_end.is_some()
                && state.cancels_at.is_none();
            match (renewable, state.pending_payment) {
                (_, Some(pending)) if pending == c.payment_id => None,
                (true, None) => Some(MembershipEvent::RenewalRequested(
                    MembershipRenewalRequested {
                        membership_id,
                        payment_id: c.payment_id,
                        at: ctx.now,
                    },
                )),
                (true, Some(_)) => {
                    return Err(DomainError::invalid_state("a renewal is already running"));
                }
                (false, _) => {
                    return Err(DomainError::invalid_state("the membership does not renew"));
                }
            }
        }
        MembershipCommand::RecordRenewal(c) => match state.pending_payment {
            Some(pending) if pending == c.payment_id && !status.is_ended() => {
                let start = state.period_end.unwrap_or(ctx.now);
                Some(MembershipEvent::Renewed(MembershipRenewed {
                    membership_id,
                    payment_id: c.payment_id,
                    period_start: start,
                    period_end: period_end(state.price.as_ref(), start),
                }))
            }
            _ => None,
        },
        MembershipCommand::MarkPastDue(c) => match (status, state.pending_payment) {
            (MembershipStatus::Active, Some(pending)) if pending == c.payment_id => {
                Some(MembershipEvent::PastDue(MembershipPastDue {
                    membership_id,
                    payment_id: c.payment_id,
                    at: ctx.now,
                }))
            }
            _ => None,
        },
        MembershipCommand::Lapse(c) => match state.pending_payment {
            Some(pending) if pending == c.payment_id && !status.is_ended() => {
                Some(MembershipEvent::Lapsed(MembershipLapsed {
                    membership_id,
                    member_id: state.member_id.unwrap_or_default(),
                    plan_id: state.plan_id.unwrap_or_default(),
                    payment_id: c.payment_id,
                    at: ctx.now,
                }))
            }
            _ => None,
        },
        MembershipCommand::Cancel(c) => {
            if status.is_ended() {
                return Ok(Vec::new());
            }
            match (c.at_period_end, status, state.period_end) {
                (true, MembershipStatus::Active, Some(end)) if end > ctx.now => {
                    match state.cancels_at {
                        Some(_) => None,
                        None => Some(MembershipEvent::CancellationScheduled(
                            MembershipCancellationScheduled {
                                membership_id,
                                effective_at: end,
                                at: ctx.now,
                            },
                        )),
                    }
                }
                _ => Some(cancelled(state, membership_id, ctx.now)),
            }
        }
        MembershipCommand::ChangeMethod(c) => {
            if status.is_ended() {
                return Err(ended());
            }
            let method = method_id(&c.payment_method)?;
            match state.payment_method.as_deref() == Some(method.as_str()) {
                true => None,
                false => Some(MembershipEvent::PaymentMethodChanged(
                    MembershipPaymentMethodChanged {
                        membership_id,
                        payment_method: method,
                        at: ctx.now,
                    },
                )),
            }
        }
        MembershipCommand::RecordReminder(c) => {
            let due = reminder_due(state, &[c.days_before], ctx.now);
            (due == Some(c.days_before) && state.period_end == Some(c.period_end)).then_some(
                MembershipEvent::Reminded(MembershipReminded {
                    membership_id,
                    period_end: c.period_end,
                    days_before: c.days_before,
                    at: ctx.now,
                }),
            )
        }
        MembershipCommand::EndPeriod(_) => match state.cancels_at {
            Some(at) if at <= ctx.now && !status.is_ended() => {
                Some(cancelled(state, membership_id, at))
            }
            _ => None,
        },
    };
    Ok(event.into_iter().collect())
}

fn ended() -> DomainError {
    DomainError::invalid_state("the membership has ended")
}

fn cancelled(state: &MembershipState, membership_id: Uuid, at: DateTime<Utc>) -> MembershipEvent {
    MembershipEvent::Cancelled(MembershipCancelled {
        membership_id,
        member_id: state.member_id.unwrap_or_default(),
        plan_id: state.plan_id.unwrap_or_default(),
        at,
    })
}

fn open(
    state: &MembershipState,
    c: &OpenMembership,
    ctx: &Ctx,
) -> Result<Vec<MembershipEvent>, DomainError> {
    if state.exists() {
        return Err(DomainError::already_exists(format!(
            "membership {}",
            c.membership_id
        )));
    }
    let paid = needs_payment(c.price.as_ref());
    let placed = c.standing == JoinStanding::Placed;
    if placed && paid && (c.payment_id.is_none() || c.payment_method.is_none()) {
        return Err(no_method());
    }
    let payment_method = c.payment_method.as_deref().map(method_id).transpose()?;
    let mut events = vec![MembershipEvent::Opened(MembershipOpened {
        membership_id: c.membership_id,
        member_id: c.member_id,
        plan_id: c.plan_id,
        plan_slug: c.plan_slug.clone(),
        price: c.price.clone(),
        content_tags: c.content_tags.clone(),
        standing: c.standing,
        payment_id: c.payment_id.filter(|_| paid && placed),
        payment_method,
        access_code_batch: c.access_code_batch,
        opened_at: ctx.now,
    })];
    if placed && !paid {
        events.push(MembershipEvent::Activated(MembershipActivated {
            membership_id: c.membership_id,
            payment_id: None,
            period_start: ctx.now,
            period_end: period_end(c.price.as_ref(), ctx.now),
        }));
    }
    Ok(events)
}

fn no_method() -> DomainError {
    DomainError::invalid(
        "payment_method",
        "this plan is paid: a payment method or an access code is needed",
    )
}

/// A waitlisted membership takes the place it was offered.
fn place(
    state: &MembershipState,
    membership_id: Uuid,
    c: &PlaceMembership,
    ctx: &Ctx,
) -> Result<Vec<MembershipEvent>, DomainError> {
    let paid = needs_payment(state.price.as_ref());
    let method = c.payment_method.as_ref().or(state.payment_method.as_ref());
    if paid && (c.payment_id.is_none() || method.is_none()) {
        return Err(no_method());
    }
    let payment_method = c.payment_method.as_deref().map(method_id).transpose()?;
    let mut events = vec![MembershipEvent::Placed(MembershipPlaced {
        membership_id,
        payment_id: c.payment_id.filter(|_| paid),
        payment_method,
        at: ctx.now,
    })];
    if !paid {
        events.push(MembershipEvent::Activated(MembershipActivated {
            membership_id,
            payment_id: None,
            period_start: ctx.now,
            period_end: period_end(state.price.as_ref(), ctx.now),
        }));
    }
    Ok(events)
}
