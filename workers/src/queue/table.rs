//! The statements Roster runs on apalis's job table itself, written once for both backends.
//! The two tables differ only in their name (`Jobs`, `apalis.jobs`) and in how `run_at` is
//! stored (seconds since the epoch, `timestamptz`); [`JobTable::sql`] fills those in.
//!
//! Only two statements write: [`JobTable::postpone`] (the wait before a retry, which apalis 1.0
//! does not keep) and the pair [`JobTable::take_due`] / [`JobTable::finish`] that run due jobs
//! in-process by Roster's clock (`crate::drain`). The rest read.

use chrono::{DateTime, Utc};
use roster_sql::{Backend, Db, SqlError, Val, int_at, text_at};

use super::JobRow;

/// A job taken to be run now.
#[derive(Debug, Clone)]
pub struct DueJob {
    pub id: String,
    /// The payload as apalis stores it (JSON bytes).
    pub payload: Vec<u8>,
    /// Runs before this one.
    pub attempts: usize,
    pub max_attempts: usize,
}

/// How a run ended, as the job table records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finished {
    Done,
    /// Failed for now: it runs again when due, while it has attempts left.
    Failed,
    /// Failed for good.
    Killed,
}

impl Finished {
    fn status(self) -> &'static str {
        match self {
            Self::Done => "Done",
            Self::Failed => "Failed",
            Self::Killed => "Killed",
        }
    }
}

/// A job that may run: new, or failed for now with attempts left.
const RUNNABLE: &str = "((status = 'Pending' AND lock_by IS NULL)
     OR (status = 'Failed' AND attempts < max_attempts))";

#[derive(Clone)]
pub struct JobTable {
    db: Db,
}

impl JobTable {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// `template` with `{jobs}` as the table and `{at:N}` as the instant given in parameter
    /// `$N` (seconds since the epoch).
    fn sql(&self, template: &str) -> String {
        let (table, at) = match self.db.backend() {
            Backend::Sqlite => ("Jobs", "$"),
            Backend::Postgres => ("apalis.jobs", "to_timestamp($"),
        };
        let mut sql = template.replace("{jobs}", table);
        while let Some(start) = sql.find("{at:") {
            let Some(len) = sql[start..].find('}') else {
                break;
            };
            let n = &sql[start + 4..start + len];
            let close = if at == "$" { "" } else { ")" };
            sql.replace_range(start..=start + len, &format!("{at}{n}{close}"));
        }
        sql
    }

    pub async fn exists(&self, id: &str) -> Result<bool, SqlError> {
        let sql = self.sql("SELECT 1 FROM {jobs} WHERE id = $1");
        Ok(self
            .db
            .query_opt(&sql, vec![Val::text(id)])
            .await?
            .is_some())
    }

    /// Makes job `id` of `queue` (its stored name) wait until `until` before its next run.
    pub async fn postpone(
        &self,
        queue: &str,
        id: &str,
        until: DateTime<Utc>,
    ) -> Result<(), SqlError> {
        let sql = self.sql("UPDATE {jobs} SET run_at = {at:1} WHERE id = $2 AND job_type = $3");
        let params = vec![Val::Int(until.timestamp()), Val::text(id), Val::text(queue)];
        self.db.execute(&sql, params).await.map(drop)
    }

    /// How many jobs of `queue` are in each status.
    pub async fn counts(&self, queue: &str) -> Result<Vec<(String, i64)>, SqlError> {
        let sql = self.sql(
            "SELECT status, COUNT(*) FROM {jobs} WHERE job_type = $1 GROUP BY status ORDER BY status",
        );
        let rows = self.db.query(&sql, vec![Val::text(queue)]).await?;
        Ok(rows
            .iter()
            .filter_map(|r| Some((text_at(r, 0)?.to_owned(), int_at(r, 1)?)))
            .collect())
    }

    /// Every job of `queue`, oldest first.
    pub async fn jobs(&self, queue: &str) -> Result<Vec<JobRow>, SqlError> {
        let sql = self.sql(
            "SELECT id, status, attempts, max_attempts FROM {jobs} WHERE job_type = $1 ORDER BY id",
        );
        let rows = self.db.query(&sql, vec![Val::text(queue)]).await?;
        Ok(rows
            .iter()
            .filter_map(|r| {
                Some(JobRow {
                    id: text_at(r, 0)?.to_owned(),
                    status: text_at(r, 1)?.to_owned(),
                    attempts: int_at(r, 2)?,
                    max_attempts: int_at(r, 3)?,
                })
            })
            .collect())
    }

    /// Takes the job of `queue` that has been due longest at `now`, if any, and marks it
    /// running. Only one taker gets a job: the update re-checks that it is still runnable.
    pub async fn take_due(
        &self,
        queue: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<DueJob>, SqlError> {
        let sql = self.sql(&format!(
            "UPDATE {{jobs}} SET status = 'Running', lock_at = {{at:2}}
             WHERE id = (SELECT id FROM {{jobs}} WHERE job_type = $1 AND {RUNNABLE}
                         AND run_at <= {{at:2}} ORDER BY run_at, id LIMIT 1)
               AND {RUNNABLE}
             RETURNING id, job, attempts, max_attempts"
        ));
        let params = vec![Val::text(queue), Val::Int(now.timestamp())];
        let rows = self.db.execute_returning(&sql, params).await?;
        Ok(rows.first().and_then(|r| {
            Some(DueJob {
                id: text_at(r, 0)?.to_owned(),
                payload: r.get(1)?.as_bytes()?.to_vec(),
                attempts: usize::try_from(int_at(r, 2)?).ok()?,
                max_attempts: usize::try_from(int_at(r, 3)?).ok()?,
            })
        }))
    }

    /// Records how the run of a job [`JobTable::take_due`] took ended.
    pub async fn finish(
        &self,
        id: &str,
        finished: Finished,
        now: DateTime<Utc>,
    ) -> Result<(), SqlError> {
        let sql = self.sql(
            "UPDATE {jobs} SET status = $2, attempts = attempts + 1, lock_at = NULL,
                 done_at = CASE WHEN $2 = 'Failed' THEN NULL ELSE {at:3} END
             WHERE id = $1 AND status = 'Running'",
        );
        let params = vec![
            Val::text(id),
            Val::text(finished.status()),
            Val::Int(now.timestamp()),
        ];
        self.db.execute(&sql, params).await.map(drop)
    }
}
