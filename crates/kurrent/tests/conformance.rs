//! The shared conformance suite, and the crashes of the claims protocol, against a KurrentDB
//! server, whenever `ROSTER_KURRENTDB_URL` names one (`esdb://127.0.0.1:2113?tls=false`) when
//! the tests are built: `build.rs` then sets `cfg(kurrentdb_server)`. Without it every case is
//! marked ignored (no server runs in CI), so the test output counts them as not run. Each case
//! gets a namespace of its own on the server (a fresh, empty log), with its claims and data
//! keys in a SQLite file of its own, as `open` puts them on the SQL side.
// Test code: a failed expectation should stop the test with a message, not be handled.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../store/tests/conformance/mod.rs"]
mod conformance;

use std::sync::Arc;

use futures::future::BoxFuture;
use roster_kurrent::KurrentLog;
use roster_sql::Db;
use roster_store::claiming::ClaimingLog;
use roster_store::split_keys::SqlKeys;
use roster_store::{DynLog, LogParts};

const URL: &str = "ROSTER_KURRENTDB_URL";

async fn fixture() -> conformance::Fixture {
    let url = server_url();
    let namespace = fresh_namespace();
    let dir = tempfile::tempdir().unwrap();
    let db = Db::sqlite(&dir.path().join("side.db")).unwrap();
    let grace = chrono::Duration::minutes(10);
    let open = {
        let (url, namespace, db) = (url.clone(), namespace.clone(), db.clone());
        move || -> BoxFuture<'static, ClaimingLog> {
            let (url, namespace, db) = (url.clone(), namespace.clone(), db.clone());
            Box::pin(async move {
                let log = KurrentLog::connect(&url, &namespace).await.unwrap();
                ClaimingLog::open(Arc::new(log), db, grace).await.unwrap()
            })
        }
    };
    let log = open().await;
    let parts = LogParts {
        claims: log.claims(),
        log: Arc::new(log),
        keys: Arc::new(SqlKeys::open(db).await.unwrap()),
    };
    let reopen = move || -> BoxFuture<'static, DynLog> {
        let open = open.clone();
        Box::pin(async move { Arc::new(open().await) as DynLog })
    };
    conformance::Fixture::new(parts, reopen, dir).with_sparse_positions()
}

fn server_url() -> String {
    std::env::var(URL)
        .unwrap_or_else(|_| panic!("{URL} was set when this test was built but is not set now"))
}

/// A namespace no other case uses: 32 characters at most (`namespace_of`), a letter and the
/// last 31 hex digits of a UUIDv7 (its random part among them).
fn fresh_namespace() -> String {
    let id = uuid::Uuid::now_v7().simple().to_string();
    format!("t{}", &id[1..])
}

/// Runs without a server: the fixture's namespaces are ones the log accepts.
#[test]
fn fixture_namespaces_are_valid_and_distinct() {
    let (a, b) = (fresh_namespace(), fresh_namespace());
    assert_ne!(a, b);
    roster_kurrent::namespace_of(&a).unwrap();
}

/// The crashes of the claims protocol (`conformance/crashes.rs`) with the log in KurrentDB and
/// the claims in a SQLite file.
async fn split() -> conformance::crashes::Split {
    let url = server_url();
    let namespace = fresh_namespace();
    let dir = tempfile::tempdir().unwrap();
    let db = Db::sqlite(&dir.path().join("claims.db")).unwrap();
    let inner = KurrentLog::connect(&url, &namespace).await.unwrap();
    let reopen = move || -> BoxFuture<'static, DynLog> {
        let (url, namespace) = (url.clone(), namespace.clone());
        Box::pin(
            async move { Arc::new(KurrentLog::connect(&url, &namespace).await.unwrap()) as DynLog },
        )
    };
    conformance::crashes::Split::open(Arc::new(inner), db, reopen, dir).await
}

macro_rules! crash_cases {
    ($($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(
                not(kurrentdb_server),
                ignore = "needs a KurrentDB server: build and run with ROSTER_KURRENTDB_URL set"
            )]
            async fn $case() {
                conformance::crashes::$case(split().await).await;
            }
        )*
    };
}

crash_cases!(
    a_crash_after_the_append_keeps_the_claim_and_recovery_confirms_it,
    a_crash_before_the_append_holds_the_value_until_the_grace_period_then_frees_it,
    a_handover_whose_append_is_refused_gives_the_value_back,
);

conformance_suite!(
    fixture,
    without_id_index,
    #[cfg_attr(
        not(kurrentdb_server),
        ignore = "needs a KurrentDB server: build and run with ROSTER_KURRENTDB_URL set"
    )]
);
