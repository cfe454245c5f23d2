//! API keys for upstream apps and operators: created by `roster keys create`, shown once,
//! stored hashed, revocable. A key carries scopes; the HTTP API enforces them per route.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::AppError;
use crate::secrets::{hash_secret, random_secret};
use crate::sidedb::{ApiKeyRecord, SideDb};

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
