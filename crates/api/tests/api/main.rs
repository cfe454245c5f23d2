//! The HTTP API in process (no socket): every route through the real router, on SQLite and on
//! PostgreSQL (a fresh schema per test; PostgreSQL tests fail when it is unreachable).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub(crate) use roster_store::on_both_backends;

mod access_codes;
mod auth;
mod hosted;
mod idempotency;
mod members;
mod memberships;
mod openapi;
mod orgs;
mod packages;
mod payments;
mod plans;
mod problems;
mod referrals;
mod reminders;
mod reports;
#[path = "../../../../tests/support/smtp.rs"]
mod smtp;
#[path = "../../../../tests/support/stripe.rs"]
mod stripe;
mod support;
mod webhooks;
