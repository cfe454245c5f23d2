//! Domain rules, one test per rule, written given / when / then.

// clippy.toml allows these inside `#[test]` functions only; the helpers of a test binary fail
// the test the same way, by panicking.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code"
)]

mod effective;
mod fixtures;
mod member_erasure;
mod member_lifecycle;
mod member_profile;
mod member_referrals;
mod member_register;
mod member_verification;
mod membership_lifecycle;
mod org_groups;
mod org_membership;
mod org_owners;
mod org_packages;
mod org_roles;
mod org_seats;
mod payment_attempts;
mod payment_refunds;
mod permissions;
mod plan_places;
mod serde_forms;
mod support;
