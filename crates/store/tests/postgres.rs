//! The conformance suite against the PostgreSQL backend, each case in its own schema of the
//! database named by `ROSTER_TEST_DATABASE_URL` (default `postgres://root@127.0.0.1:5432/test`).
//! An unreachable server fails every case: these tests never skip.
// Test code: a failed expectation should stop the test with a message, not be handled.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod conformance;

use roster_store::DynStore;
use roster_store::testing::{postgres_reopen, postgres_temp};

async fn fixture() -> conformance::Fixture {
    let store = postgres_temp().await;
    let options = store.connect_options().clone();
    conformance::Fixture {
        store: std::sync::Arc::new(store),
        reopen: Box::new(move || {
            let options = options.clone();
            Box::pin(async move { std::sync::Arc::new(postgres_reopen(&options).await) as DynStore })
        }),
        guard: Box::new(()),
    }
}

conformance_suite!(fixture);

/// On PostgreSQL a commit in another process reaches `changes()` by NOTIFY, well before the
/// one-second poll that backs it up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_in_another_process_is_notified_at_once() {
    use roster_store::{AppendRequest, ExpectedVersion};
    let fx = fixture().await;
    let other = (fx.reopen)().await;
    let mut changes = fx.store.changes();
    // Let the LISTEN connection come up before the append.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let started = std::time::Instant::now();
    let req = AppendRequest::new("member-x", ExpectedVersion::NoStream, conformance::events("A.v1", 1));
    let out = other.append(req).await.unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(5), changes.wait_for(|h| *h >= out.last_position))
        .await
        .expect("the head never moved")
        .unwrap();
    let waited = started.elapsed();
    assert!(waited < std::time::Duration::from_millis(700), "took {waited:?}: no notification?");
}
