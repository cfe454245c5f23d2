//! `roster keys create|list|revoke`: API keys for upstream apps and operators. A new key is
//! printed once, as the last line of output; only its hash is stored.

use clap::Subcommand;
use roster_app::apikeys::{self, Scope};
use roster_app::{CommandMeta, Roster};
use roster_store::ActorRef;

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
    /// Revoke the key with this id or name; every running server refuses it as soon as it sees
    /// the revocation in the log.
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
            let meta = CommandMeta::new(ActorRef::Operator(operator()));
            let revoked = apikeys::revoke(&roster.commands, side, &key, &meta).await?;
            anyhow::ensure!(!revoked.is_empty(), "no live key with id or name {key:?}");
            for key in revoked {
                println!("revoked key {} ({})", key.id, key.name);
            }
        }
    }
    Ok(())
}

/// Who runs the command, for the audit log: the login name, or `cli`.
fn operator() -> String {
    std::env::var("USER")
        .ok()
        .filter(|name| !name.trim().is_empty())
        .unwrap_or_else(|| "cli".to_owned())
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
