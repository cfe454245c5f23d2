//! Opening Roster from its configuration: the store the database URL selects, the master key,
//! the command handler. Every binary entry point (serve, migrate, events, ...) goes through here.

use std::path::PathBuf;
use std::sync::Arc;

use roster_store::pii::{MasterKey, Vault};
use roster_store::postgres::PostgresStore;
use roster_store::sqlite::SqliteStore;
use roster_store::{DynStore, StoreError};

use crate::clock::{SystemClock, V7Ids};
use crate::handler::CommandHandler;

/// Where Roster keeps its data. With no database URL everything lives under `data_dir`.
#[derive(Debug, Clone)]
pub struct StorageConfig {
    pub data_dir: PathBuf,
    /// `postgres://…` selects PostgreSQL; `None` selects the embedded SQLite file.
    pub database_url: Option<String>,
    /// Base64 master key; when `None` it is read from (or created in) `data_dir/master.key`.
    pub master_key: Option<String>,
}

impl StorageConfig {
    pub fn sqlite_path(&self) -> PathBuf {
        self.data_dir.join("roster.db")
    }

    fn master_key(&self) -> Result<MasterKey, StoreError> {
        match &self.master_key {
            Some(text) => MasterKey::from_base64(text),
            None => MasterKey::load_or_create(&self.data_dir.join("master.key")),
        }
    }
}

/// An opened Roster: the store, the vault over it and a command handler.
#[derive(Clone)]
pub struct Runtime {
    pub store: DynStore,
    pub vault: Vault,
    pub commands: CommandHandler,
}

/// Opens (and migrates) the configured store.
pub async fn open_store(config: &StorageConfig) -> Result<DynStore, StoreError> {
    match config.database_url.as_deref() {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Ok(Arc::new(PostgresStore::connect(url).await?))
        }
        Some(other) => Err(StoreError::Config(format!(
            "ROSTER_DATABASE_URL must start with postgres:// (got a URL with scheme {:?})",
            other.split(':').next().unwrap_or_default()
        ))),
        None => {
            std::fs::create_dir_all(&config.data_dir).map_err(|e| {
                StoreError::Config(format!(
                    "cannot create data dir {}: {e}",
                    config.data_dir.display()
                ))
            })?;
            Ok(Arc::new(SqliteStore::open(config.sqlite_path())?))
        }
    }
}

impl Runtime {
    pub async fn open(config: &StorageConfig) -> Result<Self, StoreError> {
        let store = open_store(config).await?;
        let vault = Vault::new(&config.master_key()?, store.clone());
        Ok(Self::with_store(store, vault))
    }

    /// A runtime over an already opened store (tests), with the system clock.
    pub fn with_store(store: DynStore, vault: Vault) -> Self {
        let commands = CommandHandler::new(
            store.clone(),
            vault.clone(),
            Arc::new(SystemClock),
            Arc::new(V7Ids),
        );
        Self {
            store,
            vault,
            commands,
        }
    }
}
