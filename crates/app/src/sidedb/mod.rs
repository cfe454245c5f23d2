//! Records that live beside the event log but are not events: API keys (hashed), idempotency
//! records of HTTP commands, reactor checkpoints and counters of failed attempts. They are
//! operational state, not facts: losing them loses no history, and none of them holds a usable
//! secret.
//!
//! On PostgreSQL these tables live in the schema of the log; on SQLite in a file of their own
//! beside the log's (`DATA_DIR/side.db`), because SQLite has one writer per file and these
//! small writes would otherwise queue behind the log's group commits. The tables' DDL differs
//! per backend (`sqlite.sql`, `postgres.sql`, run on every open); every statement on them is
//! written once, in the dialect subset of [`roster_sql`], one module per concern.
//!
//! Architecture invariant: no secret is stored in clear. API keys are 32 random bytes, so a
//! SHA-256 of them is enough to find them and useless to an attacker who copies the table.

mod access_codes;
mod api_keys;
mod checkpoints;
mod gateway;
mod idempotency;
mod member_memberships;
mod referrals;
mod throttle;

use chrono::{DateTime, Utc};
use roster_sql::{Backend, Db, SqlError};

pub use access_codes::StoredCode;
pub use api_keys::ApiKeyRecord;
pub use idempotency::{ABANDONED_AFTER, Reservation, StoredResponse};
pub use throttle::Throttle;

/// The SQLite file of the side tables, in the data dir.
pub const SQLITE_FILE: &str = "side.db";

/// The side tables. Cheap to clone.
#[derive(Clone)]
pub struct SideDb {
    db: Db,
}

impl SideDb {
    /// The side tables in `db` (created when needed).
    pub async fn open(db: Db) -> Result<Self, SqlError> {
        let ddl = match db.backend() {
            Backend::Sqlite => include_str!("sqlite.sql"),
            Backend::Postgres => include_str!("postgres.sql"),
        };
        db.script(ddl).await?;
        if db.backend() == Backend::Postgres {
            text_key_ids(&db).await?;
        }
        Ok(Self { db })
    }

    /// Whether the database answers (readiness).
    pub async fn ping(&self) -> Result<(), SqlError> {
        self.db.query("SELECT 1", Vec::new()).await.map(drop)
    }
}

fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

fn from_millis(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// Earlier versions kept API key ids as UUID; the statements shared with SQLite compare text.
/// Changed once, and only then: the change locks the table, which other processes use.
async fn text_key_ids(db: &Db) -> Result<(), SqlError> {
    let uuid_ids = db
        .query_opt(
            "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() \
             AND table_name = 'api_keys' AND column_name = 'id' AND data_type = 'uuid'",
            Vec::new(),
        )
        .await?;
    if uuid_ids.is_some() {
        db.script("ALTER TABLE api_keys ALTER COLUMN id TYPE TEXT USING id::text")
            .await?;
    }
    Ok(())
}
