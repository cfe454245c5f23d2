//! Every command's settings ([`roster_app::Settings`]), layered: built-in defaults, then a
//! TOML file (`--config`/`ROSTER_CONFIG`, keys as the environment's without `ROSTER_` and
//! lower-cased: `listen = "0.0.0.0:8080"`), then the environment (`ROSTER_LISTEN`, ...), then
//! flags. Values are checked when Roster opens.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use roster_app::Settings;
use roster_app::settings::{LogBackend, SqlBackend};

/// Options every subcommand takes: where the data lives and where the settings come from.
#[derive(Debug, Default, Args)]
pub struct GlobalArgs {
    /// A TOML file with the same keys as the environment, without `ROSTER_`, lower-cased
    /// [env: ROSTER_CONFIG].
    #[arg(long, global = true, env = "ROSTER_CONFIG")]
    config: Option<PathBuf>,
    /// Directory for the embedded database, the master key and the mail outbox
    /// [env: ROSTER_DATA_DIR] [default: roster-data].
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// `postgres://…` to keep the log and the SQL side in PostgreSQL instead of the embedded
    /// SQLite files [env: ROSTER_DATABASE_URL].
    #[arg(long, global = true)]
    database_url: Option<String>,
    /// Where the log lives: sqlite, postgres or kurrentdb [env: ROSTER_LOG_BACKEND]
    /// [default: follows the URLs given].
    #[arg(long, global = true, value_enum)]
    log_backend: Option<LogArg>,
    /// Where the SQL side lives: sqlite or postgres [env: ROSTER_SQL_BACKEND]
    /// [default: postgres when a database URL is given].
    #[arg(long, global = true, value_enum)]
    sql_backend: Option<SqlArg>,
    /// Base64 master key (32 bytes); defaults to the file `DATA_DIR/master.key`
    /// [env: ROSTER_MASTER_KEY].
    #[arg(long, global = true)]
    master_key: Option<String>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum LogArg {
    Sqlite,
    Postgres,
    Kurrentdb,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum SqlArg {
    Sqlite,
    Postgres,
}

impl GlobalArgs {
    /// The settings: defaults < file < environment < these flags < `flags` (a command's own).
    pub fn settings(&self, flags: impl FnOnce(&mut Settings)) -> anyhow::Result<Settings> {
        let mut settings = layered(self.config.as_deref())?;
        if let Some(dir) = &self.data_dir {
            settings.data_dir.clone_from(dir);
        }
        if let Some(url) = &self.database_url {
            settings.database_url = Some(url.clone());
        }
        if let Some(key) = &self.master_key {
            settings.master_key = Some(key.clone());
        }
        if let Some(log) = self.log_backend {
            settings.log_backend = Some(match log {
                LogArg::Sqlite => LogBackend::Sqlite,
                LogArg::Postgres => LogBackend::Postgres,
                LogArg::Kurrentdb => LogBackend::Kurrentdb,
            });
        }
        if let Some(sql) = self.sql_backend {
            settings.sql_backend = Some(match sql {
                SqlArg::Sqlite => SqlBackend::Sqlite,
                SqlArg::Postgres => SqlBackend::Postgres,
            });
        }
        flags(&mut settings);
        Ok(settings)
    }
}

/// Defaults, then the file (if any), then the environment: only `ROSTER_` + a setting's key
/// (`ROSTER_LOG` is the log filter, not a setting).
fn layered(file: Option<&Path>) -> anyhow::Result<Settings> {
    let mut figment = Figment::from(Serialized::defaults(Settings::default()));
    if let Some(path) = file {
        anyhow::ensure!(path.is_file(), "config file {} not found", path.display());
        figment = figment.merge(Toml::file_exact(path));
    }
    let keys = Settings::keys();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    figment
        .merge(Env::prefixed("ROSTER_").only(&keys))
        .extract::<Settings>()
        .with_context(|| match file {
            Some(path) => format!("configuration (with {})", path.display()),
            None => "configuration".to_owned(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_sets_what_the_environment_does_not_and_flags_win() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("roster.toml");
        std::fs::write(
            &file,
            "data_dir = \"/srv/roster\"\nlisten = \"0.0.0.0:9000\"\ntoken_ttl = \"2h\"\n",
        )
        .unwrap();
        let args = GlobalArgs {
            config: Some(file),
            master_key: Some("flag-key".into()),
            ..GlobalArgs::default()
        };
        let settings = args.settings(|s| s.listen = "127.0.0.1:0".into()).unwrap();
        assert_eq!(settings.data_dir, PathBuf::from("/srv/roster"));
        assert_eq!(settings.token_ttl, "2h");
        assert_eq!(settings.listen, "127.0.0.1:0");
        assert_eq!(settings.master_key.as_deref(), Some("flag-key"));
    }

    #[test]
    fn an_unknown_key_in_the_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("roster.toml");
        std::fs::write(&file, "listne = \"0.0.0.0:9000\"\n").unwrap();
        let args = GlobalArgs {
            config: Some(file),
            ..GlobalArgs::default()
        };
        let error = format!("{:#}", args.settings(|_| {}).unwrap_err());
        assert!(error.contains("listne"), "{error}");
    }
}
