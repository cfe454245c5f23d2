//! API keys, stored by the SHA-256 of their secret.

use chrono::{DateTime, Utc};
use roster_sql::{Row, SqlError, Val, int_at, text_at};
use uuid::Uuid;

use super::{SideDb, from_millis, millis};

/// An API key as stored: everything but the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    pub id: Uuid,
    pub name: String,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, name, scopes, created_at, revoked_at";

impl SideDb {
    pub async fn insert_api_key(&self, key: &ApiKeyRecord, hash: &str) -> Result<(), SqlError> {
        let params = vec![
            Val::text(key.id.to_string()),
            Val::text(&key.name),
            Val::text(key.scopes.join(",")),
            Val::text(hash),
            Val::Int(millis(key.created_at)),
        ];
        let sql = "INSERT INTO api_keys (id, name, scopes, key_hash, created_at)
                   VALUES ($1, $2, $3, $4, $5)";
        self.db.execute(sql, params).await.map(drop)
    }

    /// The live (not revoked) key with this hash.
    pub async fn find_api_key(&self, hash: &str) -> Result<Option<ApiKeyRecord>, SqlError> {
        let sql =
            format!("SELECT {COLUMNS} FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL");
        let row = self.db.query_opt(&sql, vec![Val::text(hash)]).await?;
        Ok(row.as_ref().and_then(record))
    }

    pub async fn list_api_keys(&self) -> Result<Vec<ApiKeyRecord>, SqlError> {
        let sql = format!("SELECT {COLUMNS} FROM api_keys ORDER BY created_at, id");
        let rows = self.db.query(&sql, Vec::new()).await?;
        Ok(rows.iter().filter_map(record).collect())
    }

    /// The keys, live or revoked, whose id or name is `id_or_name`.
    pub async fn api_keys_named(&self, id_or_name: &str) -> Result<Vec<ApiKeyRecord>, SqlError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM api_keys WHERE id = $1 OR name = $1 ORDER BY created_at, id"
        );
        let rows = self.db.query(&sql, vec![Val::text(id_or_name)]).await?;
        Ok(rows.iter().filter_map(record).collect())
    }

    /// Marks the key revoked, if it is live; returns whether it was.
    pub async fn revoke_api_key(&self, id: Uuid, now: DateTime<Utc>) -> Result<bool, SqlError> {
        let sql = "UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL";
        let params = vec![Val::text(id.to_string()), Val::Int(millis(now))];
        Ok(self.db.execute(sql, params).await? > 0)
    }
}

/// A row of [`COLUMNS`]; a row that does not parse (an id that is not a UUID) is skipped.
fn record(row: &Row) -> Option<ApiKeyRecord> {
    Some(ApiKeyRecord {
        id: Uuid::parse_str(text_at(row, 0)?).ok()?,
        name: text_at(row, 1)?.to_owned(),
        scopes: text_at(row, 2)?
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        created_at: from_millis(int_at(row, 3)?),
        revoked_at: int_at(row, 4).map(from_millis),
    })
}
