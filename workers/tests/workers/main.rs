//! The workers against real things: the log on SQLite and PostgreSQL, apalis queues on the
//! same backend, and an SMTP server (aiosmtpd) that the tests read.

// Test helpers fail the test by panicking, like the tests themselves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub(crate) use roster_store::on_both_backends;

mod delivery;
mod harness;
mod memberships;
mod payments;
mod reactor;
mod schedules;
#[path = "../../../tests/support/smtp.rs"]
mod smtp;
#[path = "../../../tests/support/stripe.rs"]
mod stripe;
mod transport;
