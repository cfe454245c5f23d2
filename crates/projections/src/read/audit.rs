//! Reading `audit_v1`, newest last, paged by position.

use serde::Serialize;

use super::{Page, ReadModels};
use crate::ProjectionError;
use crate::rows::Val;

/// Which audit entries to list; all given filters must match.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Entries concerning this member.
    pub member: Option<String>,
    /// Entries caused by this actor (a member id, app key id, operator or worker name).
    pub actor: Option<String>,
    pub org: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub position: u64,
    pub at: String,
    pub stream: String,
    pub event_type: String,
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub member_id: Option<String>,
    pub org_id: Option<String>,
    pub correlation_id: String,
    pub summary: String,
}

impl ReadModels {
    /// Entries after position `after` (the `next` cursor of the previous page).
    pub async fn audit(
        &self,
        filter: &AuditFilter,
        after: u64,
        limit: usize,
    ) -> Result<Page<AuditEntry>, ProjectionError> {
        let limit = limit.clamp(1, 1000);
        let mut params = vec![Val::int(after)];
        let mut sql = String::from(
            "SELECT position, recorded_at, stream, event_type, actor_kind, actor_id, member_id, org_id, \
             correlation_id, summary FROM audit_v1 WHERE position > $1",
        );
        for (column, value) in [
            ("member_id", &filter.member),
            ("actor_id", &filter.actor),
            ("org_id", &filter.org),
        ] {
            if let Some(value) = value {
                params.push(Val::text(value.clone()));
                sql.push_str(&format!(" AND {column} = ${}", params.len()));
            }
        }
        sql.push_str(&format!(" ORDER BY position LIMIT {}", limit + 1));
        let rows = self.db().query(&sql, params).await?;
        let mut items: Vec<AuditEntry> = rows
            .iter()
            .map(|r| AuditEntry {
                position: r
                    .first()
                    .and_then(Val::as_int)
                    .map_or(0, |p| u64::try_from(p).unwrap_or(0)),
                at: text(r, 1),
                stream: text(r, 2),
                event_type: text(r, 3),
                actor_kind: text(r, 4),
                actor_id: r.get(5).and_then(Val::as_text).map(str::to_owned),
                member_id: r.get(6).and_then(Val::as_text).map(str::to_owned),
                org_id: r.get(7).and_then(Val::as_text).map(str::to_owned),
                correlation_id: text(r, 8),
                summary: text(r, 9),
            })
            .collect();
        let next = (items.len() > limit).then(|| {
            items.truncate(limit);
            items
                .last()
                .map(|e| e.position.to_string())
                .unwrap_or_default()
        });
        Ok(Page { items, next })
    }
}

/// Column `i` as text (empty when NULL).
fn text(row: &[Val], i: usize) -> String {
    roster_sql::text_at(row, i).unwrap_or_default().to_owned()
}
