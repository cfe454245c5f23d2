//! The side tables over an older PostgreSQL schema: API key ids stored as UUID by earlier
//! versions become text once, and the keys stay usable.

#![allow(clippy::unwrap_used)]

use roster_app::sidedb::SideDb;
use roster_app::testing::{self, Backend};
use uuid::Uuid;

#[tokio::test]
async fn api_keys_with_uuid_ids_are_kept_and_become_text() {
    let env = testing::open(Backend::Postgres).await;
    let db = env.roster.sql.clone();
    let id = Uuid::now_v7();
    db.script(&format!(
        "DROP TABLE api_keys;
         CREATE TABLE api_keys (
             id UUID PRIMARY KEY, name TEXT NOT NULL, scopes TEXT NOT NULL,
             key_hash TEXT NOT NULL UNIQUE, created_at BIGINT NOT NULL, revoked_at BIGINT);
         INSERT INTO api_keys VALUES ('{id}', 'old', 'commands', 'hash', 1, NULL)"
    ))
    .await
    .unwrap();

    let side = SideDb::open(db.clone()).await.unwrap();
    let keys = side.list_api_keys().await.unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!((keys[0].id, keys[0].name.as_str()), (id, "old"));
    let kind = db
        .query(
            "SELECT data_type FROM information_schema.columns WHERE table_schema = \
             current_schema() AND table_name = 'api_keys' AND column_name = 'id'",
            Vec::new(),
        )
        .await
        .unwrap();
    assert_eq!(roster_sql::text_at(&kind[0], 0), Some("text"));

    // Opening again changes nothing.
    SideDb::open(db).await.unwrap();
    assert_eq!(side.list_api_keys().await.unwrap().len(), 1);
}
