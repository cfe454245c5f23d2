//! Which memberships each member opened: written before a join appends anything, read when the
//! member is erased.

use roster_sql::{SqlError, Val, text_at};
use uuid::Uuid;

use super::SideDb;

impl SideDb {
    /// Records that `member_id` opens (or opened) `membership_id`.
    pub async fn index_membership(
        &self,
        member_id: Uuid,
        membership_id: Uuid,
    ) -> Result<(), SqlError> {
        self.db
            .execute(
                "INSERT INTO member_memberships (member_id, membership_id) VALUES ($1, $2) \
                 ON CONFLICT (member_id, membership_id) DO NOTHING",
                vec![Val::id(member_id), Val::id(membership_id)],
            )
            .await?;
        Ok(())
    }

    /// The memberships `member_id` opened or began to open, oldest first.
    pub async fn memberships_of_member(&self, member_id: Uuid) -> Result<Vec<Uuid>, SqlError> {
        let rows = self
            .db
            .query(
                "SELECT membership_id FROM member_memberships WHERE member_id = $1 \
                 ORDER BY membership_id",
                vec![Val::id(member_id)],
            )
            .await?;
        Ok(rows
            .iter()
            .filter_map(|row| text_at(row, 0).and_then(|id| id.parse().ok()))
            .collect())
    }
}
