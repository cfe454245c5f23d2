//! End-to-end: the real `roster` binary, started on port 0 with a fresh data dir (and, for the
//! PostgreSQL runs, a fresh schema named by `ROSTER_DATABASE_URL`), driven over HTTP with a
//! key made by the CLI. PostgreSQL runs fail, never skip, when the server is unreachable.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod config;
mod harness;
mod hosted;
mod keys;
mod mail;
mod memberships;
mod payments;
mod scale;
#[path = "../support/smtp.rs"]
mod smtp;
#[path = "../support/stripe.rs"]
mod stripe;
mod walk;
