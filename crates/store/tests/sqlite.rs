//! The conformance suite against the SQLite backend.
// Test code: a failed expectation should stop the test with a message, not be handled.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod conformance;

use futures::future::BoxFuture;
use roster_store::sqlite::SqliteStore;
use roster_store::testing::sqlite_temp;
use roster_store::{DynLog, SqlStore};

async fn fixture() -> conformance::Fixture {
    let (store, dir) = sqlite_temp().await;
    let path = store.path().to_path_buf();
    let reopen = move || -> BoxFuture<'static, DynLog> {
        let path = path.clone();
        Box::pin(async move {
            let store = SqliteStore::open(&path).expect("reopening the SQLite store");
            std::sync::Arc::new(store) as DynLog
        })
    };
    conformance::Fixture::new(store.into_parts(), reopen, dir)
}

conformance_suite!(fixture);
