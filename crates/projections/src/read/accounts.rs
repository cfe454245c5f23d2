//! Reading `accounts_v1`.

use std::collections::BTreeMap;

use serde::Serialize;
use uuid::Uuid;

use super::{Page, ReadModels};
use crate::ProjectionError;
use crate::rows::Val;

const COLUMNS: &str = "member_id, status, email, name, company, location, fields, email_verified, \
                       public, searchable, registered_at, suspension_reason, position";

/// A member as upstream apps see them. Personal fields are `None` once the member is erased.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    pub member_id: Uuid,
    pub status: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub company: Option<String>,
    pub location: Option<String>,
    pub fields: BTreeMap<String, String>,
    pub email_verified: bool,
    pub visibility: Visibility,
    pub registered_at: Option<String>,
    pub suspension_reason: Option<String>,
    /// Global position of the member's latest event.
    pub position: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Visibility {
    pub public: bool,
    pub searchable: bool,
}

impl ReadModels {
    pub async fn member(&self, member_id: Uuid) -> Result<Option<Account>, ProjectionError> {
        let sql = format!("SELECT {COLUMNS} FROM accounts_v1 WHERE member_id = $1");
        let rows = self.db().query(&sql, vec![Val::id(member_id)]).await?;
        rows.first().map(|r| account(r)).transpose()
    }

    /// Members in id order (UUIDv7: registration order), optionally of one status, after the
    /// cursor `after` (the `next` of the previous page).
    pub async fn members(
        &self,
        status: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<Account>, ProjectionError> {
        let limit = limit.clamp(1, 1000);
        let mut params = vec![Val::text(after.unwrap_or_default())];
        let mut sql = format!("SELECT {COLUMNS} FROM accounts_v1 WHERE member_id > $1");
        if let Some(status) = status {
            params.push(Val::text(status));
            sql.push_str(" AND status = $2");
        }
        sql.push_str(&format!(" ORDER BY member_id LIMIT {}", limit + 1));
        let rows = self.db().query(&sql, params).await?;
        let mut items = rows
            .iter()
            .map(|r| account(r))
            .collect::<Result<Vec<_>, _>>()?;
        let next = (items.len() > limit).then(|| {
            items.truncate(limit);
            items
                .last()
                .map(|a| a.member_id.to_string())
                .unwrap_or_default()
        });
        Ok(Page { items, next })
    }
}

fn account(row: &[Val]) -> Result<Account, ProjectionError> {
    let text = |i: usize| row.get(i).and_then(Val::as_text).map(str::to_owned);
    let flag = |i: usize| row.get(i).and_then(Val::as_int) == Some(1);
    let member_id = text(0)
        .and_then(|t| Uuid::parse_str(&t).ok())
        .ok_or_else(|| ProjectionError::Corrupt("accounts_v1.member_id".into()))?;
    let fields = text(6)
        .map(|f| serde_json::from_str(&f))
        .transpose()
        .map_err(|e| ProjectionError::Corrupt(format!("accounts_v1.fields: {e}")))?
        .unwrap_or_default();
    Ok(Account {
        member_id,
        status: text(1).unwrap_or_default(),
        email: text(2),
        name: text(3),
        company: text(4),
        location: text(5),
        fields,
        email_verified: flag(7),
        visibility: Visibility {
            public: flag(8),
            searchable: flag(9),
        },
        registered_at: text(10),
        suspension_reason: text(11),
        position: row
            .get(12)
            .and_then(Val::as_int)
            .map_or(0, |p| u64::try_from(p).unwrap_or(0)),
    })
}
