//! The one way to open Roster: [`open`] builds every part from [`Settings`], a clock and an id
//! generator. `roster serve`, `roster worker`, every other CLI command, every test harness and
//! every bench start here (zero2prod's `Application::build`); what runs on top (the API, the
//! projection runner, the workers) is built from the [`Roster`] it returns.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use roster_sql::{Db, SqlError};
use roster_store::claiming::ClaimingLog;
use roster_store::pii::{MasterKey, Vault};
use roster_store::postgres::PostgresStore;
use roster_store::split_keys::SqlKeys;
use roster_store::sqlite::SqliteStore;
use roster_store::{DynClaims, DynLog, LogParts, SqlStore, StoreError};
use sqlx::postgres::PgConnectOptions;

use crate::checks::Checks;
use crate::clock::{Clock, IdGen};
use crate::members::{EndMemberships, Members};
use crate::settings::{Settings, SettingsError, Storage};
use crate::sidedb::{self, SideDb};
use crate::{CommandHandler, Memberships, Orgs, Payments, Plans};

/// The SQLite file of the log, the claims, the data keys and the read models.
pub const SQLITE_FILE: &str = "roster.db";

/// Connections the SQL side keeps to PostgreSQL (read models and side tables share them).
const PG_POOL: u32 = 8;

/// Why Roster cannot open.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("SQL side: {0}")]
    Sql(#[from] SqlError),
    #[error("cannot create the data dir {dir}: {error}")]
    DataDir { dir: PathBuf, error: std::io::Error },
}

/// Where the SQL side is, for parts that open connections of their own to it (the job queues,
/// whose library brings its own driver).
#[derive(Debug, Clone)]
pub enum SqlPlace {
    /// SQLite files in this directory.
    Sqlite { dir: PathBuf },
    /// The PostgreSQL database and schema these options select.
    Postgres { options: Box<PgConnectOptions> },
}

/// An opened Roster: the log and the SQL side, and the use cases over them. Cheap to clone.
#[derive(Clone)]
pub struct Roster {
    pub settings: Arc<Settings>,
    pub log: DynLog,
    pub claims: DynClaims,
    /// The read models' database (the log's own, on both SQL backends).
    pub sql: Db,
    pub sql_place: SqlPlace,
    pub side: SideDb,
    pub vault: Vault,
    pub clock: Arc<dyn Clock>,
    pub commands: CommandHandler,
    pub members: Members,
    pub orgs: Orgs,
    pub checks: Checks,
    pub payments: Payments,
    pub plans: Plans,
    pub memberships: Memberships,
}

/// Opens (and migrates) everything `settings` names, with `clock` and `ids` for every decision,
/// record and schedule.
pub async fn open(
    settings: Settings,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGen>,
) -> Result<Roster, OpenError> {
    let token_ttl = settings.token_ttl()?;
    let payment_policy = crate::payments::PaymentPolicy {
        retry: settings.payment_retry()?,
        refund_window_days: settings.refund_window_days,
        webhook_secrets: settings.stripe_webhook_secrets(),
    };
    let (parts, sql, side_db, sql_place) = match settings.storage()? {
        Storage::Kurrent {
            url,
            namespace,
            sql,
        } => {
            let (db, side, place) = sql_side(*sql).await?;
            let log = roster_kurrent::KurrentLog::connect(&url, &namespace).await?;
            let log = ClaimingLog::open(Arc::new(log), db.clone(), CLAIM_GRACE).await?;
            let parts = LogParts {
                claims: log.claims(),
                log: Arc::new(log),
                keys: Arc::new(SqlKeys::open(db.clone()).await?),
            };
            (parts, db, side, place)
        }
        Storage::Sqlite { dir } => {
            std::fs::create_dir_all(&dir).map_err(|error| OpenError::DataDir {
                dir: dir.clone(),
                error,
            })?;
            let path = dir.join(SQLITE_FILE);
            let parts = SqliteStore::open(&path)?.into_parts();
            let side = Db::sqlite(&dir.join(sidedb::SQLITE_FILE))?;
            (parts, Db::sqlite(&path)?, side, SqlPlace::Sqlite { dir })
        }
        Storage::Postgres { url } => {
            let options = PgConnectOptions::from_str(&url).map_err(StoreError::from)?;
            let parts = PostgresStore::connect_with(options.clone())
                .await?
                .into_parts();
            let db = Db::postgres(options.clone(), PG_POOL).await?;
            (
                parts,
                db.clone(),
                db,
                SqlPlace::Postgres {
                    options: Box::new(options),
                },
            )
        }
    };
    let LogParts { log, claims, keys } = parts;
    let master = match &settings.master_key {
        Some(text) if !text.is_empty() => MasterKey::from_base64(text)?,
        _ => MasterKey::load_or_create(&settings.data_dir.join("master.key"))?,
    };
    let vault = Vault::new(&master, keys);
    let side = SideDb::open(side_db).await?;
    let commands = CommandHandler::new(log.clone(), vault.clone(), clock.clone(), ids);
    let payments = Payments::new(commands.clone(), side.clone(), payment_policy);
    let memberships = Memberships::new(
        commands.clone(),
        payments.clone(),
        vault.clone(),
        side.clone(),
    );
    // Erasure shreds the personal data first, then ends the member's memberships.
    let members = Members::new(commands.clone(), claims.clone(), side.clone(), token_ttl)
        .with_erasure_step(Arc::new(EndMemberships(memberships.clone())));
    Ok(Roster {
        settings: Arc::new(settings),
        orgs: Orgs::new(commands.clone()),
        checks: Checks::new(commands.clone()),
        plans: Plans::new(commands.clone()),
        memberships,
        payments,
        log,
        claims,
        sql,
        sql_place,
        side,
        vault,
        clock,
        commands,
        members,
    })
}

/// How long a claim reserved for a KurrentDB append may wait for that append before recovery
/// decides it never happened: far longer than any append takes.
const CLAIM_GRACE: chrono::Duration = chrono::Duration::minutes(10);

/// The SQL side alone (a KurrentDB log beside it): its database, its side tables' database,
/// and where it is for the job queues.
async fn sql_side(storage: Storage) -> Result<(Db, Db, SqlPlace), OpenError> {
    match storage {
        Storage::Sqlite { dir } => {
            std::fs::create_dir_all(&dir).map_err(|error| OpenError::DataDir {
                dir: dir.clone(),
                error,
            })?;
            let db = Db::sqlite(&dir.join(SQLITE_FILE))?;
            let side = Db::sqlite(&dir.join(sidedb::SQLITE_FILE))?;
            Ok((db, side, SqlPlace::Sqlite { dir }))
        }
        Storage::Postgres { url } => {
            let options = PgConnectOptions::from_str(&url).map_err(StoreError::from)?;
            let db = Db::postgres(options.clone(), PG_POOL).await?;
            let place = SqlPlace::Postgres {
                options: Box::new(options),
            };
            Ok((db.clone(), db, place))
        }
        Storage::Kurrent { .. } => Err(OpenError::Store(StoreError::Config(
            "the SQL side cannot be KurrentDB".into(),
        ))),
    }
}

impl Roster {
    /// Short name of the log's backend, for logs and output.
    pub fn backend_name(&self) -> &'static str {
        self.log.backend_name()
    }
}
