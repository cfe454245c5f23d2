//! Roster opened for a test (feature `testing`): a fresh SQLite directory or PostgreSQL schema,
//! a fresh master key, on a [`ManualClock`] the test moves. Every crate's test harness starts
//! here, through the same [`crate::open`] as the binary.
//!
//! These helpers fail the test (they panic) when Roster cannot be opened: a test that needs
//! PostgreSQL must fail loudly when PostgreSQL is unreachable, never pass by skipping.
#![allow(clippy::panic, clippy::expect_used)]

use std::sync::Arc;

use chrono::{DateTime, Utc};
use roster_store::pii::MasterKey;
pub use roster_store::testing::Backend;
use tempfile::TempDir;

use crate::clock::{ManualClock, V7Ids};
use crate::{Roster, Settings};

/// Roster for one test, the clock it runs on, and its directory (removed on drop).
pub struct TestRoster {
    pub roster: Roster,
    pub clock: Arc<ManualClock>,
    pub dir: TempDir,
}

/// The settings of a test on `backend`: a new directory (outbox, SQLite files) and, on
/// PostgreSQL, a new schema of the test database; a fresh master key.
pub async fn settings(backend: Backend) -> (Settings, TempDir) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut settings = match backend {
        Backend::Sqlite => Settings::in_dir(dir.path()),
        Backend::Postgres => {
            Settings::on_postgres(roster_store::testing::postgres_url().await, dir.path())
        }
    };
    settings.master_key = Some(MasterKey::generate().to_base64());
    (settings, dir)
}

/// Opens Roster on `backend` with default settings, at the present instant on a manual clock.
pub async fn open(backend: Backend) -> TestRoster {
    open_with(backend, |_| {}).await
}

/// As [`open`], letting the test change the settings first.
pub async fn open_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> TestRoster {
    let (mut settings, dir) = settings(backend).await;
    adjust(&mut settings);
    open_at(settings, dir, Utc::now()).await
}

/// Opens Roster with `settings` on a manual clock that starts at `start`.
pub async fn open_at(settings: Settings, dir: TempDir, start: DateTime<Utc>) -> TestRoster {
    let clock = Arc::new(ManualClock::new(start));
    let roster = crate::open(settings, clock.clone(), Arc::new(V7Ids))
        .await
        .unwrap_or_else(|e| panic!("cannot open Roster for a test: {e}"));
    TestRoster { roster, clock, dir }
}
