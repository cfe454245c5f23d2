//! Referral codes beside the log: which member a code belongs to.

use chrono::{DateTime, Utc};
use roster_sql::{SqlError, Val, text_at};
use uuid::Uuid;

use super::{SideDb, millis};

impl SideDb {
    /// Records `code` as the member's (nothing when it is recorded already).
    pub async fn store_referral_code(
        &self,
        code: &str,
        member_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(), SqlError> {
        self.db
            .execute(
                "INSERT INTO referral_codes (code, member_id, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (code) DO NOTHING",
                vec![Val::text(code), Val::id(member_id), Val::Int(millis(now))],
            )
            .await?;
        Ok(())
    }

    /// The member whose code `code` is, if any.
    pub async fn referral_code_owner(&self, code: &str) -> Result<Option<Uuid>, SqlError> {
        let row = self
            .db
            .query_opt(
                "SELECT member_id FROM referral_codes WHERE code = $1",
                vec![Val::text(code)],
            )
            .await?;
        Ok(row.and_then(|row| text_at(&row, 0).and_then(|id| id.parse().ok())))
    }
}
