//! Claims and data keys kept apart from the log (`ClaimingLog` and `SqlKeys`, what a KurrentDB
//! log will use): the whole conformance suite with the claims and the keys in a store of their
//! own (a second SQLite file, or a second PostgreSQL schema), then crashes injected between the
//! steps of the claims protocol.
// Test code: a failed expectation should stop the test with a message, not be handled.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod conformance;

use std::str::FromStr;
use std::sync::Arc;

use conformance::claims::{claim, register, release};
use futures::future::BoxFuture;
use roster_sql::Db;
use roster_store::claiming::ClaimingLog;
use roster_store::split_keys::SqlKeys;
use roster_store::testing::{postgres_reopen, postgres_temp, sqlite_reopen, sqlite_temp};
use roster_store::{
    AppendError, AppendRequest, ClaimIndex, DynLog, EventLog, ExpectedVersion, LogParts, SqlStore,
};

/// Long enough that a test never sees a pending row expire unless it says so.
fn grace() -> chrono::Duration {
    chrono::Duration::minutes(10)
}

async fn claims_db_sqlite(dir: &tempfile::TempDir) -> Db {
    Db::sqlite(&dir.path().join("claims.db")).unwrap()
}

async fn claims_db_postgres() -> Db {
    let url = roster_store::testing::postgres_url().await;
    let options = sqlx::postgres::PgConnectOptions::from_str(&url).unwrap();
    Db::postgres(options, 4).await.unwrap()
}

mod sqlite {
    use super::*;

    async fn fixture() -> conformance::Fixture {
        let (store, dir) = sqlite_temp().await;
        let claims_dir = tempfile::tempdir().unwrap();
        let db = claims_db_sqlite(&claims_dir).await;
        let db_keys = db.clone();
        let parts = store.into_parts();
        let log = ClaimingLog::open(parts.log, db.clone(), grace())
            .await
            .unwrap();
        let path = dir.path().to_path_buf();
        let reopen = move || -> BoxFuture<'static, DynLog> {
            let (path, db) = (path.clone(), db.clone());
            Box::pin(async move {
                let inner = roster_store::sqlite::SqliteStore::open(path.join("roster.db"))
                    .expect("reopening the SQLite store");
                let log = ClaimingLog::open(Arc::new(inner), db, grace()).await;
                Arc::new(log.unwrap()) as DynLog
            })
        };
        let parts = LogParts {
            claims: log.claims(),
            log: Arc::new(log),
            keys: Arc::new(SqlKeys::open(db_keys).await.unwrap()),
        };
        conformance::Fixture::new(parts, reopen, (dir, claims_dir))
    }

    conformance_suite!(fixture);
}

mod postgres {
    use super::*;

    async fn fixture() -> conformance::Fixture {
        let store = postgres_temp().await;
        let options = store.connect_options().clone();
        let db = claims_db_postgres().await;
        let db_keys = db.clone();
        let parts = store.into_parts();
        let log = ClaimingLog::open(parts.log, db.clone(), grace())
            .await
            .unwrap();
        let reopen = move || -> BoxFuture<'static, DynLog> {
            let (options, db) = (options.clone(), db.clone());
            Box::pin(async move {
                let inner = postgres_reopen(&options).await;
                let log = ClaimingLog::open(Arc::new(inner), db, grace()).await;
                Arc::new(log.unwrap()) as DynLog
            })
        };
        let parts = LogParts {
            claims: log.claims(),
            log: Arc::new(log),
            keys: Arc::new(SqlKeys::open(db_keys).await.unwrap()),
        };
        conformance::Fixture::new(parts, reopen, ())
    }

    conformance_suite!(fixture);
}

/// The log (SQLite) and the claims (a second SQLite file), and how to open them again.
struct Split {
    log: ClaimingLog,
    dir: tempfile::TempDir,
    claims_dir: tempfile::TempDir,
}

async fn split(grace: chrono::Duration) -> Split {
    let (store, dir) = sqlite_temp().await;
    let claims_dir = tempfile::tempdir().unwrap();
    let db = claims_db_sqlite(&claims_dir).await;
    let log = ClaimingLog::open(store.into_parts().log, db, grace)
        .await
        .unwrap();
    Split {
        log,
        dir,
        claims_dir,
    }
}

impl Split {
    /// A restarted process: new handles on both stores, recovery run on opening.
    async fn restart(&self, grace: chrono::Duration) -> ClaimingLog {
        let inner = sqlite_reopen(&self.dir);
        let db = claims_db_sqlite(&self.claims_dir).await;
        ClaimingLog::open(Arc::new(inner), db, grace).await.unwrap()
    }
}

#[tokio::test]
async fn a_crash_after_the_append_keeps_the_claim_and_recovery_confirms_it() {
    let split = split(grace()).await;
    split.log.crash_after_next_append();
    let crashed = split
        .log
        .append(register(
            "member-ann",
            vec![claim("ann@example.com", "ann")],
        ))
        .await;
    assert!(
        matches!(crashed, Err(AppendError::Backend(_))),
        "{crashed:?}"
    );
    // The event is in the log; the claim is pending, and counts as held already.
    assert_eq!(
        split
            .log
            .read_stream("member-ann", 0, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    let owner = split.log.claim_owner("email", "ann@example.com").await;
    assert_eq!(owner.unwrap().as_deref(), Some("ann"));
    // Another owner is refused: the pending row is settled from the log, the claim stands.
    let other = split
        .log
        .append(register(
            "member-eve",
            vec![claim("ann@example.com", "eve")],
        ))
        .await;
    assert!(matches!(other, Err(AppendError::Claimed { ref owner, .. }) if owner == "ann"));
    // A restarted process finds it confirmed, and its owner may claim it again.
    let restarted = split.restart(grace()).await;
    let again = restarted
        .append(
            AppendRequest::new("member-ann", ExpectedVersion::Exact(0), Vec::new())
                .with_claims(vec![claim("ann@example.com", "ann")]),
        )
        .await;
    assert!(again.is_ok(), "{again:?}");
}

#[tokio::test]
async fn a_crash_before_the_append_holds_the_value_until_the_grace_period_then_frees_it() {
    let split = split(grace()).await;
    // Reserve through a failing append: the stream exists already, so the log refuses it
    // (a certain "no"), which undoes the reservation at once.
    let existing = "member-taken";
    split
        .log
        .append(AppendRequest::new(
            existing,
            ExpectedVersion::NoStream,
            vec![conformance::event("MemberRegistered.v1", 0)],
        ))
        .await
        .unwrap();
    let refused = split
        .log
        .append(register(existing, vec![claim("bob@example.com", "bob")]))
        .await;
    assert!(
        matches!(refused, Err(AppendError::WrongExpectedVersion { .. })),
        "{refused:?}"
    );
    assert_eq!(
        split
            .log
            .claim_owner("email", "bob@example.com")
            .await
            .unwrap(),
        None,
        "a refused append leaves no claim"
    );

    // A pending row whose append never happened, as a crash leaves it.
    let db = claims_db_sqlite(&split.claims_dir).await;
    let old = chrono::Utc::now().timestamp_millis() - 60_000;
    db.execute(
        "INSERT INTO split_claims \
         (scope, claim_key, owner, state, stream, version, event_id, created_at) \
         VALUES ('email', 'cat@example.com', 'cat', 'claiming', 'member-cat', 0, $1, $2)",
        vec![
            roster_sql::Val::id(uuid::Uuid::now_v7()),
            roster_sql::Val::Int(old),
        ],
    )
    .await
    .unwrap();
    // Within the grace period the value stays held: never two owners.
    let restarted = split.restart(grace()).await;
    let early = restarted
        .append(register(
            "member-dan",
            vec![claim("cat@example.com", "dan")],
        ))
        .await;
    assert!(
        matches!(early, Err(AppendError::Claimed { .. })),
        "{early:?}"
    );
    // Past it, recovery drops the reservation (its event is not in the log) and frees it.
    let restarted = split.restart(chrono::Duration::seconds(30)).await;
    assert_eq!(
        restarted
            .claim_owner("email", "cat@example.com")
            .await
            .unwrap(),
        None
    );
    restarted
        .append(register(
            "member-dan",
            vec![claim("cat@example.com", "dan")],
        ))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_handover_whose_append_is_refused_gives_the_value_back() {
    let split = split(grace()).await;
    split
        .log
        .append(register(
            "member-old",
            vec![claim("pat@example.com", "old")],
        ))
        .await
        .unwrap();
    // One append releases the old owner's value and claims it for a new one, but the log
    // refuses it (the stream has moved on): the old owner keeps the value.
    let handover = AppendRequest::new(
        "member-old",
        ExpectedVersion::NoStream,
        vec![conformance::event("MemberEmailChanged.v1", 1)],
    )
    .with_claims(vec![
        release("pat@example.com", "old"),
        claim("pat@example.com", "new"),
    ]);
    let refused = split.log.append(handover).await;
    assert!(
        matches!(refused, Err(AppendError::WrongExpectedVersion { .. })),
        "{refused:?}"
    );
    let owner = split.log.claim_owner("email", "pat@example.com").await;
    assert_eq!(owner.unwrap().as_deref(), Some("old"));
}
