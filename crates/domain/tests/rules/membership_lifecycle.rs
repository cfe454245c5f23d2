//! A membership's life: opened placed (paid: pending payment; free: active at once) or
//! waitlisted; periods by the plan's interval; renewals after the period paid; past due while
//! re-attempts run (access stays), lapsed when they are exhausted (access ends at once);
//! cancelled now or at the period's end; reports twice change nothing.

use chrono::{DateTime, Duration, TimeZone, Utc};
use roster_domain::ErrorKind;
use roster_domain::membership::{
    ActivateMembership, CancelMembership, EndMembershipPeriod, JoinStanding, LapseMembership,
    MarkMembershipPastDue, MembershipActivated, MembershipCommand, MembershipEvent,
    MembershipOpened, MembershipRenewalRequested, MembershipStatus, OpenMembership,
    PlaceMembership, RecordMembershipRenewal, RequestMembershipRenewal, period_end,
};
use roster_domain::plan::{Interval, Price};
use uuid::Uuid;

use crate::support::{by, given, now, trusted, trusted_at, v7};

fn id() -> Uuid {
    v7(60)
}

fn member() -> Uuid {
    v7(61)
}

fn first_payment() -> Uuid {
    v7(62)
}

fn renewal_payment() -> Uuid {
    v7(63)
}

fn monthly() -> Price {
    Price {
        currency: "EUR".into(),
        amount: 1500,
        interval: Interval::Month,
    }
}

fn open(price: Option<Price>, standing: JoinStanding, payment: Option<Uuid>) -> MembershipCommand {
    MembershipCommand::Open(OpenMembership {
        membership_id: id(),
        member_id: member(),
        plan_id: v7(64),
        plan_slug: "gold".into(),
        price,
        content_tags: vec!["courses".into()],
        standing,
        payment_id: payment,
        payment_method: payment.map(|_| "pm_card_visa".into()),
        access_code_batch: None,
    })
}

fn opened(price: Option<Price>, standing: JoinStanding, payment: Option<Uuid>) -> MembershipEvent {
    MembershipEvent::Opened(MembershipOpened {
        membership_id: id(),
        member_id: member(),
        plan_id: v7(64),
        plan_slug: "gold".into(),
        price,
        content_tags: vec!["courses".into()],
        standing,
        payment_id: payment,
        payment_method: payment.map(|_| "pm_card_visa".into()),
        access_code_batch: None,
        opened_at: now(),
    })
}

fn activated(at: DateTime<Utc>, end: Option<DateTime<Utc>>) -> MembershipEvent {
    MembershipEvent::Activated(MembershipActivated {
        membership_id: id(),
        payment_id: Some(first_payment()),
        period_start: at,
        period_end: end,
    })
}

/// Paid and active for a month from now.
fn active() -> Vec<MembershipEvent> {
    vec![
        opened(Some(monthly()), JoinStanding::Placed, Some(first_payment())),
        activated(now(), period_end(Some(&monthly()), now())),
    ]
}

fn renewing() -> Vec<MembershipEvent> {
    let mut history = active();
    history.push(MembershipEvent::RenewalRequested(
        MembershipRenewalRequested {
            membership_id: id(),
            payment_id: renewal_payment(),
            at: now(),
        },
    ));
    history
}

#[test]
fn periods_follow_the_interval_by_the_calendar() {
    let jan31 = Utc.with_ymd_and_hms(2026, 1, 31, 9, 0, 0).unwrap();
    let feb28 = Utc.with_ymd_and_hms(2026, 2, 28, 9, 0, 0).unwrap();
    assert_eq!(period_end(Some(&monthly()), jan31), Some(feb28));
    let yearly = Price {
        interval: Interval::Year,
        ..monthly()
    };
    let next_year = Utc.with_ymd_and_hms(2027, 1, 31, 9, 0, 0).unwrap();
    assert_eq!(period_end(Some(&yearly), jan31), Some(next_year));
    let once = Price {
        interval: Interval::Once,
        ..monthly()
    };
    assert_eq!(period_end(Some(&once), jan31), None);
    assert_eq!(period_end(None, jan31), None);
}

#[test]
fn a_paid_plan_waits_for_its_payment_and_a_free_one_is_active_at_once() {
    given::<MembershipEvent>([])
        .when(
            open(Some(monthly()), JoinStanding::Placed, Some(first_payment())),
            trusted(),
        )
        .then([opened(
            Some(monthly()),
            JoinStanding::Placed,
            Some(first_payment()),
        )]);
    given::<MembershipEvent>([])
        .when(open(Some(monthly()), JoinStanding::Placed, None), trusted())
        .then_err(ErrorKind::InvalidInput);
    let free = given::<MembershipEvent>([])
        .when(open(None, JoinStanding::Placed, None), trusted())
        .then_state();
    assert_eq!(free.status, MembershipStatus::Active);
    assert!(free.grants_access(now() + Duration::days(400)));
    let queued = given::<MembershipEvent>([])
        .when(
            open(
                Some(monthly()),
                JoinStanding::Waitlisted { position: 3 },
                None,
            ),
            trusted(),
        )
        .then_state();
    assert_eq!(queued.status, MembershipStatus::Waitlisted);
    assert_eq!(queued.joined_at_position, Some(3));
    assert!(!queued.grants_access(now()));
    // A member joins for themselves only, and records no payment.
    given::<MembershipEvent>([])
        .when(open(None, JoinStanding::Placed, None), by(member()))
        .then_state();
    given::<MembershipEvent>([])
        .when(open(None, JoinStanding::Placed, None), by(v7(99)))
        .then_err(ErrorKind::NotAllowed);
    given(active())
        .when(
            MembershipCommand::Activate(ActivateMembership { payment_id: None }),
            by(member()),
        )
        .then_err(ErrorKind::NotAllowed);
    given(active())
        .when(
            MembershipCommand::Cancel(CancelMembership {
                at_period_end: false,
            }),
            by(member()),
        )
        .then_state();
}

#[test]
fn the_first_payment_starts_the_period() {
    let history = [opened(
        Some(monthly()),
        JoinStanding::Placed,
        Some(first_payment()),
    )];
    let activate = |payment| {
        MembershipCommand::Activate(ActivateMembership {
            payment_id: payment,
        })
    };
    given(history.clone())
        .when(activate(None), trusted())
        .then_err(ErrorKind::InvalidState);
    let state = given(history)
        .when(activate(Some(first_payment())), trusted())
        .then_state();
    assert_eq!(state.status, MembershipStatus::Active);
    assert_eq!(state.period_end, period_end(Some(&monthly()), now()));
    assert!(state.grants_access(now()));
    given(active())
        .when(activate(Some(first_payment())), trusted())
        .then_nothing();
}

#[test]
fn a_renewal_starts_where_the_paid_period_ends() {
    let end = period_end(Some(&monthly()), now()).unwrap();
    let renewed = given(renewing())
        .when(
            MembershipCommand::RecordRenewal(RecordMembershipRenewal {
                payment_id: renewal_payment(),
            }),
            trusted_at(end - Duration::hours(1)),
        )
        .then_state();
    assert_eq!(renewed.period_start, Some(end));
    assert_eq!(renewed.period_end, period_end(Some(&monthly()), end));
    assert_eq!(renewed.pending_payment, None);
    given(renewing())
        .when(
            MembershipCommand::RequestRenewal(RequestMembershipRenewal {
                payment_id: renewal_payment(),
            }),
            trusted(),
        )
        .then_nothing();
}

#[test]
fn a_declined_renewal_is_past_due_with_access_and_a_failed_one_lapses_at_once() {
    let end = period_end(Some(&monthly()), now()).unwrap();
    let past_due = MembershipCommand::MarkPastDue(MarkMembershipPastDue {
        payment_id: renewal_payment(),
    });
    let state = given(renewing())
        .when(past_due, trusted_at(end))
        .then_state();
    assert_eq!(state.status, MembershipStatus::PastDue);
    assert!(
        state.grants_access(end + Duration::days(3)),
        "access while re-attempts run"
    );
    let lapse = MembershipCommand::Lapse(LapseMembership {
        payment_id: renewal_payment(),
    });
    let lapsed = given(renewing())
        .when(lapse.clone(), trusted_at(end))
        .then_state();
    assert_eq!(lapsed.status, MembershipStatus::Lapsed);
    assert!(
        !lapsed.grants_access(end - Duration::days(1)),
        "access ends at once"
    );
    // A failure of another payment changes nothing.
    let other = MembershipCommand::Lapse(LapseMembership { payment_id: v7(99) });
    given(renewing()).when(other, trusted()).then_nothing();
}

#[test]
fn a_cancellation_at_period_end_keeps_access_until_then() {
    let end = period_end(Some(&monthly()), now()).unwrap();
    let cancel = |at_period_end| MembershipCommand::Cancel(CancelMembership { at_period_end });
    let scheduled = given(active()).when(cancel(true), trusted()).then_state();
    assert_eq!(scheduled.cancels_at, Some(end));
    assert_eq!(scheduled.status, MembershipStatus::Active);
    assert!(scheduled.grants_access(end - Duration::seconds(1)));
    let mut history = active();
    history.push(MembershipEvent::CancellationScheduled(
        roster_domain::membership::MembershipCancellationScheduled {
            membership_id: id(),
            effective_at: end,
            at: now(),
        },
    ));
    let settle = MembershipCommand::EndPeriod(EndMembershipPeriod {});
    given(history.clone())
        .when(settle.clone(), trusted_at(end - Duration::seconds(1)))
        .then_nothing();
    let ended = given(history).when(settle, trusted_at(end)).then_state();
    assert_eq!(ended.status, MembershipStatus::Cancelled);
    // Now: at once; twice: nothing more; no renewal after a scheduled cancellation.
    let now_cancelled = given(active()).when(cancel(false), trusted()).then_state();
    assert_eq!(now_cancelled.status, MembershipStatus::Cancelled);
    assert!(!now_cancelled.grants_access(now()));
}

#[test]
fn a_claimed_offer_places_the_membership_paid_or_free() {
    let queued = |price: Option<Price>, method: Option<&str>| {
        vec![MembershipEvent::Opened(MembershipOpened {
            payment_method: method.map(str::to_owned),
            ..match opened(price, JoinStanding::Waitlisted { position: 1 }, None) {
                MembershipEvent::Opened(e) => e,
                _ => unreachable!(),
            }
        })]
    };
    let place = |payment: Option<Uuid>, method: Option<&str>| {
        MembershipCommand::Place(PlaceMembership {
            payment_id: payment,
            payment_method: method.map(str::to_owned),
        })
    };
    // Paid: the method given when joining is used; the first payment is then awaited.
    let paid = given(queued(Some(monthly()), Some("pm_card_visa")))
        .when(place(Some(first_payment()), None), trusted())
        .then_state();
    assert_eq!(paid.status, MembershipStatus::PendingPayment);
    assert_eq!(paid.pending_payment, Some(first_payment()));
    assert_eq!(paid.payment_method.as_deref(), Some("pm_card_visa"));
    // Paid with no method anywhere: refused, the member stays in line.
    given(queued(Some(monthly()), None))
        .when(place(Some(first_payment()), None), trusted())
        .then_err(ErrorKind::InvalidInput);
    // A method given at the claim replaces the one given when joining.
    let changed = given(queued(Some(monthly()), Some("pm_card_visa")))
        .when(
            place(Some(first_payment()), Some("pm_card_mastercard")),
            trusted(),
        )
        .then_state();
    assert_eq!(
        changed.payment_method.as_deref(),
        Some("pm_card_mastercard")
    );
    // Free: active at once.
    let free = given(queued(None, None))
        .when(place(None, None), trusted())
        .then_state();
    assert_eq!(free.status, MembershipStatus::Active);
    assert!(free.grants_access(now()));
    // Claimed twice: nothing more. Claimed after cancelling: refused.
    let mut placed = queued(None, None);
    placed.extend(
        given(queued(None, None))
            .when(place(None, None), trusted())
            .events(),
    );
    given(placed)
        .when(place(None, None), trusted())
        .then_nothing();
    let mut cancelled = queued(None, None);
    cancelled.push(MembershipEvent::Cancelled(
        roster_domain::membership::MembershipCancelled {
            membership_id: id(),
            member_id: member(),
            plan_id: v7(64),
            at: now(),
        },
    ));
    given(cancelled)
        .when(place(None, None), trusted())
        .then_err(ErrorKind::InvalidState);
}

#[test]
fn the_member_changes_the_method_renewals_are_charged_to() {
    let change = |method: &str| {
        MembershipCommand::ChangeMethod(roster_domain::membership::ChangeMembershipPaymentMethod {
            payment_method: method.into(),
        })
    };
    let changed = given(active())
        .when(change("pm_card_mastercard"), by(member()))
        .then_state();
    assert_eq!(
        changed.payment_method.as_deref(),
        Some("pm_card_mastercard")
    );
    given(active())
        .when(change("pm_card_visa"), trusted())
        .then_nothing();
    given(active())
        .when(change("not a method"), trusted())
        .then_err(ErrorKind::InvalidInput);
    given(active())
        .when(change("pm_card_mastercard"), by(v7(99)))
        .then_err(ErrorKind::NotAllowed);
}

#[test]
fn reminders_go_out_once_per_period_and_offset_and_never_after_a_cancellation() {
    use roster_domain::membership::{RecordMembershipReminder, reminder_due};
    let end = period_end(Some(&monthly()), now()).unwrap();
    let offsets = [7, 1];
    let before = |days: i64| end - Duration::days(days);
    let state = given(active()).state();
    assert_eq!(reminder_due(&state, &offsets, before(8)), None);
    assert_eq!(reminder_due(&state, &offsets, before(7)), Some(7));
    assert_eq!(reminder_due(&state, &offsets, before(2)), Some(7));
    assert_eq!(reminder_due(&state, &offsets, before(1)), Some(1));
    // A late run sends only the nearest reminder.
    let late = end - Duration::hours(12);
    assert_eq!(reminder_due(&state, &offsets, late), Some(1));
    assert_eq!(
        reminder_due(&state, &offsets, end),
        None,
        "the period is over"
    );

    let remind = |days| {
        MembershipCommand::RecordReminder(RecordMembershipReminder {
            period_end: end,
            days_before: days,
        })
    };
    let mut history = active();
    history.extend(
        given(active())
            .when(remind(7), trusted_at(before(7)))
            .events(),
    );
    let reminded = given(history.clone()).state();
    assert_eq!(reminder_due(&reminded, &offsets, before(6)), None, "sent");
    assert_eq!(reminder_due(&reminded, &offsets, before(1)), Some(1));
    given(history.clone())
        .when(remind(7), trusted_at(before(6)))
        .then_nothing();
    // A reminder for another period than the current one records nothing.
    given(active())
        .when(
            MembershipCommand::RecordReminder(RecordMembershipReminder {
                period_end: end + Duration::days(1),
                days_before: 7,
            }),
            trusted_at(before(7)),
        )
        .then_nothing();
    // After the renewal the next period is reminded afresh.
    let mut renewed = renewing();
    renewed.push(MembershipEvent::Renewed(
        roster_domain::membership::MembershipRenewed {
            membership_id: id(),
            payment_id: renewal_payment(),
            period_start: end,
            period_end: period_end(Some(&monthly()), end),
        },
    ));
    let next_end = period_end(Some(&monthly()), end).unwrap();
    let state = given(renewed).state();
    assert_eq!(
        reminder_due(&state, &offsets, next_end - Duration::days(7)),
        Some(7)
    );
    // Cancelled, now or at the period's end: no reminder.
    let cancel = |at_period_end| MembershipCommand::Cancel(CancelMembership { at_period_end });
    for at_period_end in [true, false] {
        let cancelled = given(active())
            .when(cancel(at_period_end), trusted())
            .then_state();
        assert_eq!(reminder_due(&cancelled, &offsets, before(1)), None);
    }
}
