//! Access codes beside the log, stored by hash: generated in batches per plan, used up
//! atomically (one use per successful redemption, never past the limit or the expiry).

use chrono::{DateTime, Utc};
use roster_sql::{SqlError, Stmt, Val, int_at, text_at};
use uuid::Uuid;

use super::{SideDb, millis};

/// One code as stored (no code: its hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCode {
    pub code_hash: String,
    pub plan: String,
    pub batch_id: Uuid,
    pub max_uses: u32,
    pub uses: u32,
    pub expires_at: Option<DateTime<Utc>>,
}

impl SideDb {
    /// Stores a batch of code hashes for `plan`, all at once.
    pub async fn store_access_codes(
        &self,
        plan: &str,
        batch_id: Uuid,
        hashes: &[String],
        max_uses: u32,
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<(), SqlError> {
        let stmts = hashes
            .iter()
            .map(|hash| {
                // The expiry is cast: a NULL goes as text, which PostgreSQL will not put in a
                // BIGINT column.
                Stmt::new(
                    "INSERT INTO access_codes \
                     (code_hash, plan, batch_id, max_uses, uses, expires_at, created_at) \
                     VALUES ($1, $2, $3, $4, 0, CAST($5 AS BIGINT), $6)",
                    vec![
                        Val::text(hash.clone()),
                        Val::text(plan),
                        Val::id(batch_id),
                        Val::int(max_uses),
                        expires_at.map_or(Val::Null, |at| Val::Int(millis(at))),
                        Val::Int(millis(now)),
                    ],
                )
            })
            .collect();
        self.db.transaction(stmts).await
    }

    /// Takes one use of the code `code_hash` for `plan`, if it has one left and has not
    /// expired at `now`; answers the code as it was before, or `None` (unknown, another
    /// plan's, used up, expired).
    pub async fn use_access_code(
        &self,
        code_hash: &str,
        plan: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<StoredCode>, SqlError> {
        let rows = self
            .db
            .execute_returning(
                "UPDATE access_codes SET uses = uses + 1 \
                 WHERE code_hash = $1 AND plan = $2 AND uses < max_uses \
                 AND (expires_at IS NULL OR expires_at > $3) \
                 RETURNING code_hash, plan, batch_id, max_uses, uses - 1, expires_at",
                vec![Val::text(code_hash), Val::text(plan), Val::Int(millis(now))],
            )
            .await?;
        Ok(rows.first().map(|row| stored(row)))
    }

    /// Gives back a use taken for a redemption that did not go through.
    pub async fn give_back_access_code(&self, code_hash: &str) -> Result<(), SqlError> {
        self.db
            .execute(
                "UPDATE access_codes SET uses = uses - 1 WHERE code_hash = $1 AND uses > 0",
                vec![Val::text(code_hash)],
            )
            .await?;
        Ok(())
    }

    /// The code stored under `code_hash`, if any.
    pub async fn access_code(&self, code_hash: &str) -> Result<Option<StoredCode>, SqlError> {
        let row = self
            .db
            .query_opt(
                "SELECT code_hash, plan, batch_id, max_uses, uses, expires_at \
                 FROM access_codes WHERE code_hash = $1",
                vec![Val::text(code_hash)],
            )
            .await?;
        Ok(row.map(|row| stored(&row)))
    }
}

fn stored(row: &[Val]) -> StoredCode {
    let count = |i: usize| {
        int_at(row, i)
            .and_then(|v| u32::try_from(v).ok())
            .unwrap_or(0)
    };
    StoredCode {
        code_hash: text_at(row, 0).unwrap_or_default().to_owned(),
        plan: text_at(row, 1).unwrap_or_default().to_owned(),
        batch_id: text_at(row, 2)
            .and_then(|t| Uuid::parse_str(t).ok())
            .unwrap_or_default(),
        max_uses: count(3),
        uses: count(4),
        expires_at: int_at(row, 5).and_then(DateTime::from_timestamp_millis),
    }
}
