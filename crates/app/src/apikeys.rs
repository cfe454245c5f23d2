//! API keys for upstream apps and operators: created by `roster keys create`, shown once,
//! stored hashed, revocable. A key carries scopes; the HTTP API enforces them per route.
//!
//! A revocation is also appended to the log (`ApiKeyRevoked`, stream `apikey-<id>`): API
//! processes trust a key they have seen only while the log's head has not moved, so the
//! append is what makes every process, on any host, look the key up again.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use roster_domain::ApiKey;
use roster_domain::apikey::{ApiKeyCommand, RevokeApiKey};

use crate::secrets::{hash_secret, random_secret};
use crate::sidedb::{ApiKeyRecord, SideDb};
use crate::{AppError, CommandHandler, CommandMeta};

/// Printed before the secret so that keys are recognisable in configuration and by scanners.
pub const KEY_PREFIX: &str = "roster_";

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Send commands (register, confirm, orgs, roles, ...).
    Commands,
    /// Read members, checks, the audit log.
    Queries,
    /// Operator endpoints: erasure, metrics.
    Operator,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::Commands, Scope::Queries, Scope::Operator];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Commands => "commands",
            Self::Queries => "queries",
            Self::Operator => "operator",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s.trim())
            .ok_or_else(|| format!("unknown scope {s:?}; scopes are commands, queries, operator"))
    }
}

/// A key just created: the record, and the secret that is shown once and never again.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub record: ApiKeyRecord,
    pub secret: String,
}

/// An authenticated key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub key_id: Uuid,
    pub name: String,
    pub scopes: Vec<Scope>,
}

impl Principal {
    pub fn has(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }
}

/// Creates a key named `name` with `scopes` and stores its hash.
pub async fn create(
    side: &SideDb,
    name: &str,
    scopes: &[Scope],
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<NewApiKey, AppError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(roster_domain::DomainError::InvalidInput {
            field: "name".into(),
            reason: "a key needs a name".into(),
        }
        .into());
    }
    let mut scopes = scopes.to_vec();
    scopes.sort();
    scopes.dedup();
    let secret = format!("{KEY_PREFIX}{}", random_secret());
    let record = ApiKeyRecord {
        id,
        name: name.to_owned(),
        scopes: scopes.iter().map(|s| s.as_str().to_owned()).collect(),
        created_at: now,
        revoked_at: None,
    };
    side.insert_api_key(&record, &hash_secret(&secret)).await?;
    Ok(NewApiKey { record, secret })
}

/// Revokes the keys whose id or name is `id_or_name`: marks them revoked in the side table (a
/// lookup refuses them from then on), then records each revocation in the log (which makes
/// every process drop what it remembers of them). Returns the keys whose revocation changed
/// anything; a key already revoked in both places is left as it is. Run again after a failure
/// between the two steps, it records what is missing.
pub async fn revoke(
    commands: &CommandHandler,
    side: &SideDb,
    id_or_name: &str,
    meta: &CommandMeta,
) -> Result<Vec<ApiKeyRecord>, AppError> {
    let mut revoked = Vec::new();
    for key in side.api_keys_named(id_or_name.trim()).await? {
        let marked = side.revoke_api_key(key.id, commands.clock().now()).await?;
        let command = ApiKeyCommand::Revoke(RevokeApiKey {
            key_id: key.id,
            name: key.name.clone(),
        });
        let recorded = commands.execute::<ApiKey>(key.id, &command, meta).await?;
        if marked || !recorded.events.is_empty() {
            revoked.push(key);
        }
    }
    Ok(revoked)
}

/// The live key with this secret, if any.
pub async fn authenticate(side: &SideDb, secret: &str) -> Result<Option<Principal>, AppError> {
    if !secret.starts_with(KEY_PREFIX) {
        return Ok(None);
    }
    let Some(record) = side.find_api_key(&hash_secret(secret)).await? else {
        return Ok(None);
    };
    Ok(Some(Principal {
        key_id: record.id,
        name: record.name,
        scopes: record
            .scopes
            .iter()
            .filter_map(|s| s.parse().ok())
            .collect(),
    }))
}
