//! The conformance suite against the PostgreSQL backend, each case in its own schema of the
//! database named by `ROSTER_TEST_DATABASE_URL` (default `postgres://root@127.0.0.1:5432/test`).
//! An unreachable server fails every case: these tests never skip.
// Test code: a failed expectation should stop the test with a message, not be handled.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod conformance;

use futures::future::BoxFuture;
use roster_store::testing::{postgres_reopen, postgres_temp};
use roster_store::{DynLog, SqlStore};

async fn fixture() -> conformance::Fixture {
    let store = postgres_temp().await;
    let options = store.connect_options().clone();
    let reopen = move || -> BoxFuture<'static, DynLog> {
        let options = options.clone();
        Box::pin(async move { std::sync::Arc::new(postgres_reopen(&options).await) as DynLog })
    };
    conformance::Fixture::new(store.into_parts(), reopen, ())
}

conformance_suite!(fixture);

/// On PostgreSQL a commit in another process reaches `changes()` by NOTIFY, well before the
/// one-second poll that backs it up. Three appends in a row: a poll could explain a quick
/// answer to the first, but after a poll the next one is a second away, so two quick answers
/// out of three mean the notifications work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_in_another_process_is_notified_at_once() {
    use std::time::{Duration, Instant};

    use roster_store::ExpectedVersion;
    let fx = fixture().await;
    let other = (fx.reopen)().await;
    let mut changes = fx.store.changes();
    // Let the LISTEN connection come up before the first append.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut quick = 0;
    for n in 0..3 {
        let expected = if n == 0 {
            ExpectedVersion::NoStream
        } else {
            ExpectedVersion::Exact(n - 1)
        };
        let started = Instant::now();
        let out =
            conformance::append_ok(&other, "member-x", expected, conformance::events("A.v1", 1))
                .await;
        tokio::time::timeout(
            Duration::from_secs(5),
            changes.wait_for(|h| *h >= out.last_position),
        )
        .await
        .expect("the head never moved")
        .unwrap();
        if started.elapsed() < Duration::from_millis(400) {
            quick += 1;
        }
    }
    assert!(
        quick >= 2,
        "only {quick} of 3 commits were seen within 400 ms: no notifications?"
    );
}

/// The writer keeps one connection for all appends; when the server drops it (a restart, an
/// idle timeout), the next append reconnects instead of failing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appends_go_on_after_the_server_drops_every_connection() {
    use roster_store::ExpectedVersion;
    use sqlx::Connection;
    let app = format!("roster-t-{}", uuid::Uuid::now_v7().simple());
    let options = postgres_temp()
        .await
        .connect_options()
        .clone()
        .application_name(&app);
    let store: DynLog = std::sync::Arc::new(postgres_reopen(&options).await);
    let stream = conformance::stream_name("member");
    let events = || conformance::events("A.v1", 1);
    conformance::append_ok(&store, &stream, ExpectedVersion::NoStream, events()).await;

    let admin_options = options.clone().application_name("roster-test-admin");
    let mut admin = sqlx::PgConnection::connect_with(&admin_options)
        .await
        .unwrap();
    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
    )
    .bind(&app)
    .fetch_all(&mut admin)
    .await
    .unwrap();
    assert!(!killed.is_empty());

    conformance::append_ok(&store, &stream, ExpectedVersion::Exact(0), events()).await;
    let read = async {
        loop {
            // The pool finds its dead connections on first use.
            if let Ok(events) = store.read_stream(&stream, 0, 10).await {
                return events;
            }
        }
    };
    let events = conformance::within(10, "a read after reconnecting", read).await;
    assert_eq!(events.len(), 2);
}
