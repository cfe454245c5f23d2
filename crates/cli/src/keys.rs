//! `roster keys create|list|revoke`: API keys for upstream apps and operators. A new key is
//! printed once, as the last line of output; only its hash is stored.

use clap::Subcommand;
use roster_app::Roster;
use roster_app::apikeys::{self, Scope};

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key; its secret is the last line printed, and is not shown again.
    Create {
        /// A name for people (e.g. the app that uses the key).
        #[arg(long)]
        name: String,
        /// Comma-separated: commands, queries, operator.
        #[arg(long, value_delimiter = ',', required = true)]
        scopes: Vec<Scope>,
    },
    /// List keys (never their secrets).
    List,
    /// Revoke the key with this id or name; running servers refuse it within 2 seconds.
    Revoke { key: String },
}

pub async fn run(roster: &Roster, command: KeysCommand) -> anyhow::Result<()> {
    let side = &roster.side;
    let now = roster.clock.now();
    match command {
        KeysCommand::Create { name, scopes } => {
            let key = apikeys::create(side, &name, &scopes, roster.commands.new_id(), now).await?;
            println!(
                "created key {} ({}) with scopes {}",
                key.record.id,
                key.record.name,
                key.record.scopes.join(",")
            );
            println!("store it now, it is not shown again:");
            println!("{}", key.secret);
        }
        KeysCommand::List => {
            for key in side.list_api_keys().await? {
                let state = match key.revoked_at {
                    Some(at) => format!("revoked {}", at.to_rfc3339()),
                    None => "live".to_owned(),
                };
                println!(
                    "{}  {}  {}  created {}  {state}",
                    key.id,
                    key.name,
                    key.scopes.join(","),
                    key.created_at.to_rfc3339()
                );
            }
        }
        KeysCommand::Revoke { key } => {
            let revoked = side.revoke_api_key(&key, now).await?;
            anyhow::ensure!(revoked > 0, "no live key with id or name {key:?}");
            println!("revoked {revoked} key(s)");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_by_name() {
        assert_eq!("queries".parse::<Scope>().unwrap(), Scope::Queries);
        assert!("admin".parse::<Scope>().is_err());
    }
}
