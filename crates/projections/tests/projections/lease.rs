//! Leases (what keeps one projection runner and one of each reactor running at a time): on
//! PostgreSQL a second taker is refused while the lease is held, other names and other schemas
//! are independent, and a released lease is taken by the next try (a holder that dies
//! is the scale test's, `tests/e2e/scale.rs`); on SQLite a lease is
//! always granted.

use std::str::FromStr;

use roster_sql::Db;
use sqlx::postgres::PgConnectOptions;

async fn postgres() -> Db {
    let url = roster_store::testing::postgres_url().await;
    Db::postgres(PgConnectOptions::from_str(&url).unwrap(), 2)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_held_lease_is_refused_to_others_until_its_holder_lets_go() {
    let (db, other_schema) = (postgres().await, postgres().await);
    let held = db.try_lease("projections").await.unwrap().expect("free");
    assert_eq!(held.name(), "projections");
    assert!(db.try_lease("projections").await.unwrap().is_none());
    assert!(db.try_lease("reactor:mail").await.unwrap().is_some());
    let elsewhere = other_schema.try_lease("projections").await.unwrap();
    assert!(elsewhere.is_some(), "another schema has leases of its own");

    let mut held = held;
    assert!(held.alive().await);
    held.release().await;
    assert!(
        db.try_lease("projections").await.unwrap().is_some(),
        "released: the next try takes it"
    );
}

#[tokio::test]
async fn on_sqlite_a_lease_is_always_granted() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::sqlite(&dir.path().join("side.db")).unwrap();
    let mut first = db.try_lease("projections").await.unwrap().unwrap();
    assert!(db.try_lease("projections").await.unwrap().is_some());
    assert!(first.alive().await);
}
