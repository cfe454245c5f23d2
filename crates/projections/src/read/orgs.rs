//! Reading `orgs_v1`, `org_members_v1` and `org_groups_v1`.

use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::ReadModels;
use crate::ProjectionError;
use crate::rows::Val;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrgView {
    pub org_id: Uuid,
    pub name: String,
    pub seat_limit: i64,
    pub seats_used: i64,
    pub members: Vec<OrgMemberView>,
    pub groups: Vec<OrgGroupView>,
}

/// A member of an organization: direct grants (`[{role, scope, expires_at}]`) and the names
/// of the groups they are in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrgMemberView {
    pub member_id: Uuid,
    pub roles: Value,
    pub groups: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrgGroupView {
    pub group_id: Uuid,
    pub name: String,
    pub roles: Value,
    pub members: Value,
}

impl ReadModels {
    pub async fn org(&self, org_id: Uuid) -> Result<Option<OrgView>, ProjectionError> {
        let id = Val::id(org_id);
        let rows = self
            .db
            .query(
                "SELECT name, seat_limit, seats_used FROM orgs_v1 WHERE org_id = $1",
                vec![id.clone()],
            )
            .await?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let members = self
            .db
            .query(
                "SELECT member_id, roles, groups FROM org_members_v1 WHERE org_id = $1 ORDER BY member_id",
                vec![id.clone()],
            )
            .await?;
        let groups = self
            .db
            .query(
                "SELECT group_id, name, roles, members FROM org_groups_v1 WHERE org_id = $1 ORDER BY name",
                vec![id],
            )
            .await?;
        Ok(Some(OrgView {
            org_id,
            name: text(row, 0),
            seat_limit: row.get(1).and_then(Val::as_int).unwrap_or(0),
            seats_used: row.get(2).and_then(Val::as_int).unwrap_or(0),
            members: members
                .iter()
                .map(|r| OrgMemberView {
                    member_id: uuid(r, 0),
                    roles: json(r, 1),
                    groups: json(r, 2),
                })
                .collect(),
            groups: groups
                .iter()
                .map(|r| OrgGroupView {
                    group_id: uuid(r, 0),
                    name: text(r, 1),
                    roles: json(r, 2),
                    members: json(r, 3),
                })
                .collect(),
        }))
    }
}

pub(super) fn text(row: &[Val], i: usize) -> String {
    row.get(i)
        .and_then(Val::as_text)
        .unwrap_or_default()
        .to_owned()
}

pub(super) fn uuid(row: &[Val], i: usize) -> Uuid {
    Uuid::parse_str(&text(row, i)).unwrap_or_default()
}

fn json(row: &[Val], i: usize) -> Value {
    serde_json::from_str(&text(row, i)).unwrap_or(Value::Null)
}
