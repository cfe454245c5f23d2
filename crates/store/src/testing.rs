//! Throw-away stores for tests (feature `testing`): a SQLite file in a temporary directory, or
//! a fresh schema in the PostgreSQL database named by `ROSTER_TEST_DATABASE_URL`.
//!
//! These helpers fail the test (they panic) when the store cannot be made: a test that needs
//! PostgreSQL must fail loudly when PostgreSQL is unreachable, never pass by skipping.
#![allow(clippy::panic, clippy::expect_used)]

use std::str::FromStr;
use std::time::{Duration, SystemTime};

use sqlx::postgres::PgConnectOptions;
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use tempfile::TempDir;
use tokio::sync::OnceCell;
use uuid::Uuid;

use crate::postgres::PostgresStore;
use crate::sqlite::SqliteStore;

/// Environment variable naming the PostgreSQL database tests may create schemas in.
pub const TEST_DATABASE_URL_ENV: &str = "ROSTER_TEST_DATABASE_URL";
/// Used when [`TEST_DATABASE_URL_ENV`] is not set.
pub const DEFAULT_TEST_DATABASE_URL: &str = "postgres://root@127.0.0.1:5432/test";

/// Prefix of the schemas [`postgres_temp`] creates.
const SCHEMA_PREFIX: &str = "roster_t_";
/// Test schemas older than this are dropped by the next test run.
const SCHEMA_MAX_AGE: Duration = Duration::from_secs(3600);

const SQLITE_FILE: &str = "roster.db";

/// Which backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs each `async fn case(Backend)` named as two tests, `sqlite::case` and
/// `postgres::case`, on a multi-threaded runtime. The calling crate needs tokio.
#[macro_export]
macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() { super::$case($crate::testing::Backend::Sqlite).await; })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() { super::$case($crate::testing::Backend::Postgres).await; })*
        }
    };
}

/// A new SQLite store in a new temporary directory; the directory (and the file) is removed
/// when the returned `TempDir` is dropped, so keep it alive as long as the store.
pub async fn sqlite_temp() -> (SqliteStore, TempDir) {
    let dir = tempfile::tempdir().expect("cannot create a temporary directory");
    let store = sqlite_reopen(&dir);
    (store, dir)
}

/// A NEW store (new writer thread, new connections) on the file of [`sqlite_temp`]'s `dir`.
pub fn sqlite_reopen(dir: &TempDir) -> SqliteStore {
    let path = dir.path().join(SQLITE_FILE);
    SqliteStore::open(&path)
        .unwrap_or_else(|e| panic!("cannot open the SQLite store {}: {e}", path.display()))
}

/// A new PostgreSQL store in a new, empty schema `roster_t_<uuid>` of the test database.
/// Schemas left by runs more than an hour old are dropped along the way.
pub async fn postgres_temp() -> PostgresStore {
    let (_, options) = postgres_schema().await;
    postgres_reopen(&options).await
}

/// A new, empty schema `roster_t_<uuid>` of the test database, as a URL whose connections use
/// it (what `ROSTER_DATABASE_URL` would say), for Roster to open from settings.
pub async fn postgres_url() -> String {
    let (schema, _) = postgres_schema().await;
    let base = std::env::var(TEST_DATABASE_URL_ENV)
        .unwrap_or_else(|_| DEFAULT_TEST_DATABASE_URL.to_owned());
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}options=-c%20search_path%3D{schema}")
}

/// Creates the schema; returns its name and options that select it.
async fn postgres_schema() -> (String, PgConnectOptions) {
    let admin = admin_options();
    let mut conn = PgConnection::connect_with(&admin)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "PostgreSQL is unreachable at {}:{} (database {:?}, user {}): {e}. \
             Start it or point {TEST_DATABASE_URL_ENV} at a database tests may create schemas in.",
                admin.get_host(),
                admin.get_port(),
                admin.get_database().unwrap_or_default(),
                admin.get_username(),
            )
        });
    static SWEPT: OnceCell<()> = OnceCell::const_new();
    SWEPT.get_or_init(|| drop_stale_schemas(&admin)).await;
    let schema = format!("{SCHEMA_PREFIX}{}", Uuid::now_v7().simple());
    sqlx::raw_sql(AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("cannot create the test schema {schema}: {e}"));
    let options = admin.options([("search_path", schema.as_str())]);
    (schema, options)
}

/// A NEW store (new pool, new writer, new listener) with these options, for example
/// `store.connect_options()` of a store from [`postgres_temp`]: as another process would see
/// the same schema.
pub async fn postgres_reopen(options: &PgConnectOptions) -> PostgresStore {
    PostgresStore::connect_with(options.clone())
        .await
        .unwrap_or_else(|e| panic!("cannot open the PostgreSQL test store: {e}"))
}

fn admin_options() -> PgConnectOptions {
    let url = std::env::var(TEST_DATABASE_URL_ENV)
        .unwrap_or_else(|_| DEFAULT_TEST_DATABASE_URL.to_owned());
    PgConnectOptions::from_str(&url)
        .unwrap_or_else(|e| panic!("{TEST_DATABASE_URL_ENV} is not a PostgreSQL URL: {e}"))
}

/// Drops test schemas whose UUIDv7 says they were made more than [`SCHEMA_MAX_AGE`] ago.
/// Best effort: a failure here is no reason to fail a test.
async fn drop_stale_schemas(admin: &PgConnectOptions) {
    let Ok(mut conn) = PgConnection::connect_with(admin).await else {
        return;
    };
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT nspname::text FROM pg_namespace WHERE starts_with(nspname, 'roster_t_')",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap_or_default();
    let cutoff = SystemTime::now() - SCHEMA_MAX_AGE;
    for name in names.iter().filter(|n| made_before(n, cutoff)) {
        let dropped = sqlx::raw_sql(AssertSqlSafe(format!(
            "DROP SCHEMA IF EXISTS {name} CASCADE"
        )))
        .execute(&mut conn)
        .await;
        if let Err(e) = dropped {
            tracing::debug!(schema = %name, error = %e, "could not drop a stale test schema");
        }
    }
}

fn made_before(schema: &str, cutoff: SystemTime) -> bool {
    let made = schema
        .strip_prefix(SCHEMA_PREFIX)
        .and_then(|id| Uuid::try_parse(id).ok())
        .and_then(|id| id.get_timestamp())
        .map(|ts| {
            let (secs, nanos) = ts.to_unix();
            SystemTime::UNIX_EPOCH + Duration::new(secs, nanos)
        });
    made.is_some_and(|made| made < cutoff)
}
