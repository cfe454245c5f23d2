//! Fixed-window counters of attempts (failed confirmations), per bucket.

use chrono::{DateTime, Utc};
use roster_sql::{SqlError, Val, int_at};

use super::{SideDb, from_millis, millis};

/// What [`SideDb::take_attempt`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throttle {
    Allowed,
    /// Over the limit until this instant.
    Limited {
        until: DateTime<Utc>,
    },
}

/// Counts one attempt in a bucket's fixed window, starting a new window when the old one is
/// over, and returns the window's start and count. Parameters: bucket, now, and the instant at
/// or before which a window is over (both millis).
const TAKE: &str = "INSERT INTO api_throttle (bucket, window_start, hits) VALUES ($1, $2, 1)
     ON CONFLICT (bucket) DO UPDATE SET
         hits = CASE WHEN api_throttle.window_start <= $3 THEN 1 ELSE api_throttle.hits + 1 END,
         window_start = CASE WHEN api_throttle.window_start <= $3 THEN $2
                        ELSE api_throttle.window_start END
     RETURNING window_start, hits";

impl SideDb {
    /// Takes one attempt from `bucket`'s allowance of `limit` per fixed window of `window`:
    /// [`Throttle::Limited`] once the window's attempts exceed it. Counting before the attempt
    /// runs keeps concurrent attempts from slipping past the limit together; an attempt that
    /// turns out well gives its count back ([`SideDb::give_back`]), so what is limited is
    /// failures. Windows that are over are forgotten on the way.
    pub async fn take_attempt(
        &self,
        bucket: &str,
        limit: u32,
        window: chrono::Duration,
        now: DateTime<Utc>,
    ) -> Result<Throttle, SqlError> {
        let (now_ms, over_before) = (millis(now), millis(now - window));
        self.db
            .execute(
                "DELETE FROM api_throttle WHERE window_start <= $1",
                vec![Val::Int(over_before)],
            )
            .await?;
        let params = vec![Val::text(bucket), Val::Int(now_ms), Val::Int(over_before)];
        let rows = self.db.execute_returning(TAKE, params).await?;
        let row = rows.first();
        let start = row.and_then(|r| int_at(r, 0)).unwrap_or(now_ms);
        let hits = row.and_then(|r| int_at(r, 1)).unwrap_or(1);
        Ok(if hits > i64::from(limit) {
            Throttle::Limited {
                until: from_millis(start) + window,
            }
        } else {
            Throttle::Allowed
        })
    }

    /// Returns the attempt [`SideDb::take_attempt`] counted in `bucket`.
    pub async fn give_back(&self, bucket: &str) -> Result<(), SqlError> {
        self.db
            .execute(
                "UPDATE api_throttle SET hits = hits - 1 WHERE bucket = $1 AND hits > 0",
                vec![Val::text(bucket)],
            )
            .await
            .map(drop)
    }
}
