//! Where each reactor (a log subscriber that enqueues jobs) has got to.

use chrono::{DateTime, Utc};
use roster_sql::{SqlError, Val, int_at, text_at};

use super::{SideDb, millis};

impl SideDb {
    /// Where reactor `name` has got to. The first call for a name records `head` and returns
    /// it: a new reactor starts at the head of the log and never acts on history.
    pub async fn start_reactor(
        &self,
        name: &str,
        head: u64,
        now: DateTime<Utc>,
    ) -> Result<u64, SqlError> {
        self.db
            .execute(
                "INSERT INTO reactor_checkpoints (name, position, updated_at) VALUES ($1, $2, $3)
                 ON CONFLICT (name) DO NOTHING",
                vec![Val::text(name), Val::int(head), Val::Int(millis(now))],
            )
            .await?;
        let row = self
            .db
            .query_opt(
                "SELECT position FROM reactor_checkpoints WHERE name = $1",
                vec![Val::text(name)],
            )
            .await?;
        Ok(row
            .and_then(|row| position(int_at(&row, 0)))
            .unwrap_or(head))
    }

    /// Moves reactor `name` on to `position` (never back: two processes may run it).
    pub async fn advance_reactor(
        &self,
        name: &str,
        position: u64,
        now: DateTime<Utc>,
    ) -> Result<(), SqlError> {
        self.db
            .execute(
                "UPDATE reactor_checkpoints
                 SET position = CASE WHEN position < $2 THEN $2 ELSE position END, updated_at = $3
                 WHERE name = $1",
                vec![Val::text(name), Val::int(position), Val::Int(millis(now))],
            )
            .await
            .map(drop)
    }

    /// Every reactor's position, by name.
    pub async fn reactor_positions(&self) -> Result<Vec<(String, u64)>, SqlError> {
        let rows = self
            .db
            .query(
                "SELECT name, position FROM reactor_checkpoints ORDER BY name",
                Vec::new(),
            )
            .await?;
        Ok(rows
            .iter()
            .filter_map(|row| Some((text_at(row, 0)?.to_owned(), position(int_at(row, 1))?)))
            .collect())
    }
}

fn position(stored: Option<i64>) -> Option<u64> {
    stored.and_then(|p| u64::try_from(p).ok())
}
