//! Referrals: the referrer is recorded at registration; the referred member's first successful
//! payment earns the referrer one reward.

use roster_domain::member::{
    MemberCommand, MemberEvent, MemberReferralRewarded, MemberRegistered, RegisterMember,
    RewardMemberReferral,
};
use roster_domain::{ErrorKind, plan::Interval};

use crate::fixtures::{alice, alice_personal, bob, carol, erased, register_alice, registered};
use crate::support::{by, given, now, trusted, v7};

#[test]
fn registering_with_a_referrer_records_them() {
    let form = RegisterMember {
        referred_by: Some(bob()),
        ..register_alice()
    };
    let registered = MemberEvent::Registered(MemberRegistered {
        member_id: alice(),
        personal: Some(alice_personal()),
        registered_at: now(),
        referred_by: Some(bob()),
    });
    given::<MemberEvent>([])
        .when(MemberCommand::Register(form), trusted())
        .then([registered.clone()]);
    assert_eq!(given([registered]).state().referred_by, Some(bob()));
}

#[test]
fn a_member_cannot_refer_themselves() {
    let form = RegisterMember {
        referred_by: Some(alice()),
        ..register_alice()
    };
    given::<MemberEvent>([])
        .when(MemberCommand::Register(form), trusted())
        .then_err(ErrorKind::InvalidInput);
}

fn reward(referred: uuid::Uuid, payment: u8) -> MemberCommand {
    MemberCommand::RewardReferral(RewardMemberReferral {
        referred_member_id: referred,
        payment_id: v7(payment),
    })
}

fn rewarded(referred: uuid::Uuid, payment: u8) -> MemberEvent {
    MemberEvent::ReferralRewarded(MemberReferralRewarded {
        member_id: alice(),
        referred_member_id: referred,
        payment_id: v7(payment),
        rewarded_at: now(),
    })
}

#[test]
fn the_first_payment_of_a_referred_member_earns_one_reward_and_later_ones_none() {
    given([registered()])
        .when(reward(bob(), 1), trusted())
        .then([rewarded(bob(), 1)]);
    given([registered(), rewarded(bob(), 1)])
        .when(reward(bob(), 2), trusted())
        .then_nothing();
    // Each referred member earns their own reward.
    given([registered(), rewarded(bob(), 1)])
        .when(reward(carol(), 3), trusted())
        .then([rewarded(carol(), 3)]);
    let state = given([registered(), rewarded(bob(), 1)]).state();
    assert!(state.referrals_rewarded.contains(&bob()));
}

#[test]
fn rewards_are_for_trusted_callers_and_never_for_an_erased_member() {
    given([registered()])
        .when(reward(bob(), 1), by(alice()))
        .then_err(ErrorKind::NotAllowed);
    given([registered(), erased()])
        .when(reward(bob(), 1), trusted())
        .then_err(ErrorKind::InvalidState);
    given([registered()])
        .when(reward(alice(), 1), trusted())
        .then_err(ErrorKind::InvalidInput);
}

#[test]
fn recurring_revenue_counts_a_month_whole_a_year_as_a_twelfth_and_one_offs_not_at_all() {
    assert_eq!(Interval::Month.monthly(1500), 1500);
    assert_eq!(Interval::Year.monthly(12_000), 1000);
    assert_eq!(Interval::Year.monthly(9900), 825);
    assert_eq!(Interval::Year.monthly(17), 1, "17/12 rounds to 1");
    assert_eq!(Interval::Year.monthly(18), 2, "18/12 = 1.5 rounds up");
    assert_eq!(Interval::Once.monthly(5000), 0);
    assert_eq!(Interval::Free.monthly(0), 0);
}
