//! Claims and data keys kept apart from the log (`ClaimingLog` and `SqlKeys`, what a KurrentDB
//! log will use): the whole conformance suite with the claims and the keys in a store of their
//! own (a second SQLite file, or a second PostgreSQL schema), then crashes injected between the
//! steps of the claims protocol (`conformance/crashes.rs`, which the KurrentDB suite runs too).
// Test code: a failed expectation should stop the test with a message, not be handled.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod conformance;

use std::str::FromStr;
use std::sync::Arc;

use futures::future::BoxFuture;
use roster_sql::Db;
use roster_store::claiming::ClaimingLog;
use roster_store::split_keys::SqlKeys;
use roster_store::testing::{postgres_reopen, postgres_temp, sqlite_temp};
use roster_store::{DynLog, LogParts, SqlStore};

use conformance::crashes::{self, Split, grace};

async fn claims_db_sqlite(dir: &tempfile::TempDir) -> Db {
    Db::sqlite(&dir.path().join("claims.db")).unwrap()
}

async fn claims_db_postgres() -> Db {
    let url = roster_store::testing::postgres_url().await;
    let options = sqlx::postgres::PgConnectOptions::from_str(&url).unwrap();
    Db::postgres(options, 4).await.unwrap()
}

/// Opens the SQLite log in `dir` again, as a restarted process would.
fn sqlite_reopener(
    dir: &tempfile::TempDir,
) -> impl Fn() -> BoxFuture<'static, DynLog> + Send + Sync + Clone + 'static {
    let path = dir.path().join("roster.db");
    move || -> BoxFuture<'static, DynLog> {
        let path = path.clone();
        Box::pin(async move {
            let inner = roster_store::sqlite::SqliteStore::open(path).expect("reopening");
            Arc::new(inner) as DynLog
        })
    }
}

/// The conformance fixture of a `ClaimingLog` over `inner`, its claims and data keys in `db`;
/// `reopen` opens `inner`'s store again, `guard` keeps temporary files alive.
async fn split_fixture(
    inner: DynLog,
    db: Db,
    reopen: impl Fn() -> BoxFuture<'static, DynLog> + Send + Sync + Clone + 'static,
    guard: impl std::any::Any + Send + Sync,
) -> conformance::Fixture {
    let log = ClaimingLog::open(inner, db.clone(), grace()).await.unwrap();
    let parts = LogParts {
        claims: log.claims(),
        log: Arc::new(log),
        keys: Arc::new(SqlKeys::open(db.clone()).await.unwrap()),
    };
    let reopen = move || -> BoxFuture<'static, DynLog> {
        let (reopen, db) = (reopen.clone(), db.clone());
        Box::pin(async move {
            let log = ClaimingLog::open(reopen().await, db, grace()).await;
            Arc::new(log.unwrap()) as DynLog
        })
    };
    conformance::Fixture::new(parts, reopen, guard)
}

mod sqlite {
    use super::*;

    async fn fixture() -> conformance::Fixture {
        let (store, dir) = sqlite_temp().await;
        let claims_dir = tempfile::tempdir().unwrap();
        let db = claims_db_sqlite(&claims_dir).await;
        let reopen = sqlite_reopener(&dir);
        split_fixture(store.into_parts().log, db, reopen, (dir, claims_dir)).await
    }

    conformance_suite!(fixture);
}

mod postgres {
    use super::*;

    async fn fixture() -> conformance::Fixture {
        let store = postgres_temp().await;
        let options = store.connect_options().clone();
        let db = claims_db_postgres().await;
        let reopen = move || -> BoxFuture<'static, DynLog> {
            let options = options.clone();
            Box::pin(async move { Arc::new(postgres_reopen(&options).await) as DynLog })
        };
        split_fixture(store.into_parts().log, db, reopen, ()).await
    }

    conformance_suite!(fixture);
}

/// The log (SQLite) and the claims (a second SQLite file).
async fn split() -> Split {
    let (store, dir) = sqlite_temp().await;
    let claims_dir = tempfile::tempdir().unwrap();
    let db = claims_db_sqlite(&claims_dir).await;
    let reopen = sqlite_reopener(&dir);
    Split::open(store.into_parts().log, db, reopen, (dir, claims_dir)).await
}

#[tokio::test]
async fn a_crash_after_the_append_keeps_the_claim_and_recovery_confirms_it() {
    crashes::a_crash_after_the_append_keeps_the_claim_and_recovery_confirms_it(split().await).await;
}

#[tokio::test]
async fn a_crash_before_the_append_holds_the_value_until_the_grace_period_then_frees_it() {
    crashes::a_crash_before_the_append_holds_the_value_until_the_grace_period_then_frees_it(
        split().await,
    )
    .await;
}

#[tokio::test]
async fn a_handover_whose_append_is_refused_gives_the_value_back() {
    crashes::a_handover_whose_append_is_refused_gives_the_value_back(split().await).await;
}

/// The claims table binds a version that may be NULL (`CAST($5 AS BIGINT)`): a statement first
/// run with the NULL and then with a number, on one connection, must take both (PostgreSQL
/// kept the NULL's guessed type with the prepared statement and refused the number as text).
#[tokio::test]
async fn a_parameter_bound_null_then_a_number_on_one_connection_takes_both() {
    let url = roster_store::testing::postgres_url().await;
    let options = sqlx::postgres::PgConnectOptions::from_str(&url).unwrap();
    let db = Db::postgres(options, 1).await.unwrap();
    let table = format!("nullable_{}", uuid::Uuid::now_v7().simple());
    db.script(&format!("CREATE TABLE {table} (n BIGINT)"))
        .await
        .unwrap();
    let insert = format!("INSERT INTO {table} (n) VALUES (CAST($1 AS BIGINT))");
    for value in [roster_sql::Val::Null, roster_sql::Val::Int(7)] {
        db.execute(&insert, vec![value.clone()]).await.unwrap();
        let stmt = roster_sql::Stmt::new(&insert, vec![value]);
        db.transaction(vec![stmt]).await.unwrap();
    }
    let rows = db
        .query(&format!("SELECT n FROM {table} ORDER BY n"), Vec::new())
        .await
        .unwrap();
    assert_eq!(rows.len(), 4);
    db.script(&format!("DROP TABLE {table}")).await.unwrap();
}
