//! Memberships driven by the workers on the manual clock: a paid join charged at localstripe
//! and renewed at the period's end; a first payment that fails for good lapses the membership
//! and frees its place; a full plan's line: a cancellation offers the place to the first in
//! line (with a mail whose link claims it), and an offer left unclaimed past its window passes
//! to the next in line — the clock moved, never waited for.

use chrono::Duration as Span;
use roster_app::clock::Clock;
use roster_app::memberships::{JoinRequest, MembershipView};
use roster_app::plans::PlanDefinition;
use roster_app::{CommandMeta, RetrySchedule};
use roster_domain::membership::MembershipStatus;
use roster_domain::plan::{Interval, Price};
use roster_store::ActorRef;
use roster_workers::gateway::Gateway;
use roster_workers::{Drain, WorkerConfig};
use uuid::Uuid;

use crate::harness::{Backend, Env, config, env_with};
use crate::on_both_backends;
use crate::smtp::SmtpSink;
use crate::stripe::LocalStripe;

on_both_backends!(
    a_paid_join_is_charged_then_renewed_at_the_period_end,
    a_first_payment_that_fails_for_good_lapses_the_membership_and_frees_its_place,
    a_freed_place_is_offered_claimed_by_link_or_passed_on_after_the_window,
);

struct Club {
    env: Env,
    smtp: SmtpSink,
    drain: Drain,
    stripe: Option<LocalStripe>,
}

fn system() -> CommandMeta {
    CommandMeta::new(ActorRef::System)
}

fn worker_config(stripe: Option<&LocalStripe>, smtp: &SmtpSink) -> WorkerConfig {
    let mut config = config(Some(smtp.url()), "1m");
    if let Some(stripe) = stripe {
        config.gateway = Some(Gateway::new(Some(&stripe.url()), stripe.secret_key()).unwrap());
        config.gateway_retry = RetrySchedule::parse("1m,1m").unwrap();
    }
    config
}

async fn club(backend: Backend, with_stripe: bool) -> Club {
    let env = env_with(backend, |settings| {
        settings.payment_retry_schedule = "1d,3d,5d".into();
        settings.token_ttl = "30d".into();
    })
    .await;
    let smtp = SmtpSink::start();
    let stripe = with_stripe.then(LocalStripe::start);
    let drain = env.drain(worker_config(stripe.as_ref(), &smtp)).await;
    Club {
        env,
        smtp,
        drain,
        stripe,
    }
}

fn price(amount: u64, interval: Interval) -> Price {
    Price {
        currency: "EUR".into(),
        amount,
        interval,
    }
}

impl Club {
    async fn plan(&self, slug: &str, price: Price, capacity: Option<u32>) {
        let definition = PlanDefinition {
            name: format!("The {slug} plan"),
            prices: vec![price],
            capacity,
            seat_limit: None,
            content_tags: vec!["courses".into()],
            claim_window_hours: None,
        };
        let plans = &self.env.roster.plans;
        plans.define(slug, definition, &system()).await.unwrap();
    }

    async fn member(&self) -> Uuid {
        let email = format!("{}@example.com", Uuid::now_v7());
        self.env.register(&email).await
    }

    async fn join(&self, member: Uuid, plan: &str, card: Option<&str>) -> MembershipView {
        let request = JoinRequest {
            plan: plan.into(),
            currency: None,
            payment_method: card.map(str::to_owned),
            access_code: None,
            client: None,
        };
        let memberships = &self.env.roster.memberships;
        memberships.join(member, request, &system()).await.unwrap()
    }

    async fn get(&self, membership: Uuid) -> MembershipView {
        self.env.roster.memberships.get(membership).await.unwrap()
    }

    async fn run_due(&self) {
        self.drain.run_due().await.unwrap();
    }

    fn intents(&self) -> usize {
        self.stripe.as_ref().unwrap().payment_intent_count()
    }

    /// The mails whose subject is `subject`, their soft line breaks undone.
    fn mails(&self, subject: &str) -> Vec<String> {
        let subject = format!("Subject: {subject}");
        self.smtp
            .messages()
            .into_iter()
            .filter(|m| m.contains(&subject))
            .map(|m| {
                m.replace("=\r\n", "")
                    .replace("=\n", "")
                    .replace("=3D", "=")
            })
            .collect()
    }
}

fn id(view: &MembershipView) -> Uuid {
    view.state.membership_id.unwrap()
}

async fn a_paid_join_is_charged_then_renewed_at_the_period_end(backend: Backend) {
    let club = club(backend, true).await;
    club.plan("gold", price(1500, Interval::Month), None).await;
    let member = club.member().await;
    let joined = club.join(member, "gold", Some("pm_card_visa")).await;
    assert_eq!(joined.state.status, MembershipStatus::PendingPayment);
    let start = club.env.clock.now();

    club.run_due().await;
    let active = club.get(id(&joined)).await.state;
    assert_eq!(active.status, MembershipStatus::Active);
    assert_eq!(club.intents(), 1);
    let end = active.period_end.unwrap();
    assert_eq!(
        end,
        start.checked_add_months(chrono::Months::new(1)).unwrap()
    );
    assert!(active.grants_access(club.env.clock.now()));

    // Nothing happens before the period ends; at its end, the renewal is charged once.
    club.env.clock.advance(Span::days(20));
    club.run_due().await;
    assert_eq!(club.intents(), 1);
    club.env.clock.set(end);
    club.run_due().await;
    let renewed = club.get(id(&joined)).await.state;
    assert_eq!(renewed.status, MembershipStatus::Active);
    assert_eq!(renewed.period_start, Some(end));
    assert_eq!(
        renewed.period_end,
        end.checked_add_months(chrono::Months::new(1))
    );
    assert_eq!(club.intents(), 2);
    club.run_due().await;
    assert_eq!(club.intents(), 2, "a second drain charges nothing more");
}

async fn a_first_payment_that_fails_for_good_lapses_the_membership_and_frees_its_place(
    backend: Backend,
) {
    let club = club(backend, true).await;
    club.plan("silver", price(900, Interval::Month), Some(1))
        .await;
    let (payer, waiting) = (club.member().await, club.member().await);
    let joined = club
        .join(payer, "silver", Some("pm_card_chargeCustomerFail"))
        .await;
    let queued = club.join(waiting, "silver", Some("pm_card_visa")).await;
    assert_eq!(queued.waitlist_position, Some(1));
    club.run_due().await;
    assert_eq!(
        club.get(id(&joined)).await.state.status,
        MembershipStatus::PendingPayment,
        "re-attempts run"
    );
    for wait in [1, 3, 5] {
        club.env.clock.advance(Span::days(wait));
        club.run_due().await;
    }
    assert_eq!(club.intents(), 4);
    let lapsed = club.get(id(&joined)).await.state;
    assert_eq!(lapsed.status, MembershipStatus::Lapsed);
    assert!(!lapsed.grants_access(club.env.clock.now()));
    // The place went to the first in line.
    let offered = club.get(id(&queued)).await;
    assert!(offered.offer_expires_at.is_some(), "{offered:?}");
}

async fn a_freed_place_is_offered_claimed_by_link_or_passed_on_after_the_window(backend: Backend) {
    let club = club(backend, false).await;
    club.plan("studio", price(0, Interval::Free), Some(1)).await;
    let members = [
        club.member().await,
        club.member().await,
        club.member().await,
    ];
    let first = club.join(members[0], "studio", None).await;
    let second = club.join(members[1], "studio", None).await;
    let third = club.join(members[2], "studio", None).await;
    assert_eq!(first.state.status, MembershipStatus::Active);
    assert_eq!(
        (second.waitlist_position, third.waitlist_position),
        (Some(1), Some(2))
    );

    // The first leaves: the place is held for the second, who is mailed a claim link.
    let memberships = &club.env.roster.memberships;
    memberships
        .cancel(id(&first), false, &system())
        .await
        .unwrap();
    club.run_due().await;
    let offered = club.get(id(&second)).await;
    let expires_at = offered.offer_expires_at.expect("an offer");
    assert_eq!(expires_at, club.env.clock.now() + Span::hours(48));
    assert_eq!(club.get(id(&third)).await.waitlist_position, Some(1));
    let mails = club.mails("A place in The studio plan is free for you");
    assert_eq!(mails.len(), 1);
    let token = memberships.claim_token(id(&second), expires_at);
    assert!(
        mails[0].contains(&format!("/claim?token={token}")),
        "{}",
        mails[0]
    );
    let claimed = memberships
        .claim_with_token(&token, &system())
        .await
        .unwrap();
    assert_eq!(claimed.state.status, MembershipStatus::Active);
    assert!(
        memberships
            .claim_with_token(&token, &system())
            .await
            .is_err(),
        "a used link claims nothing"
    );

    // The second leaves too; the third does not claim within 48 hours: the offer lapses and
    // the third's membership ends. The place is free again.
    memberships
        .cancel(id(&second), false, &system())
        .await
        .unwrap();
    club.run_due().await;
    assert!(club.get(id(&third)).await.offer_expires_at.is_some());
    club.env.clock.advance(Span::hours(47));
    club.run_due().await;
    assert!(club.get(id(&third)).await.offer_expires_at.is_some());
    club.env.clock.advance(Span::hours(1));
    club.run_due().await;
    let passed = club.get(id(&third)).await;
    assert_eq!(passed.state.status, MembershipStatus::Cancelled);
    let plan = club.env.roster.plans.get("studio").await.unwrap().state;
    assert_eq!(plan.free_places(), Some(1));
    // A newcomer now takes the free place at once.
    let newcomer = club.member().await;
    let joined = club.join(newcomer, "studio", None).await;
    assert_eq!(joined.state.status, MembershipStatus::Active);
}
