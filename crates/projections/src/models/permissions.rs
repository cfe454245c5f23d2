//! `permissions_v1`: every effective permission of every org member, with where it comes
//! from (role, group, scope) and when it expires. Computed by the domain's own
//! `effective_permissions` at the event's instant; a query filters out grants that have
//! expired since, so a check here answers exactly as the domain's `check` would.

use roster_domain::effective_permissions;
use roster_domain::org::OrgState;
use uuid::Uuid;

use super::orgs::{Affected, affected, event_time, org_id};
use crate::pipeline::{Body, Envelope};
use crate::projection::{PERMISSIONS, Projection};
use crate::rows::{Col, RowOp, TableDef, Val};

pub struct Permissions;

pub const TABLE: TableDef = TableDef {
    name: PERMISSIONS,
    columns: &[
        ("org_id", Col::Text, false),
        ("member_id", Col::Text, false),
        ("permission", Col::Text, false),
        ("role", Col::Text, false),
        // '' for an unscoped grant, so that the key needs no NULL.
        ("scope", Col::Text, false),
        // '' for a direct grant.
        ("group_id", Col::Text, false),
        ("group_name", Col::Text, true),
        ("expires_at", Col::Text, true),
    ],
    key: &[
        "org_id",
        "member_id",
        "permission",
        "role",
        "scope",
        "group_id",
    ],
    indexes: &[&["member_id"]],
};

impl Projection for Permissions {
    fn name(&self) -> &'static str {
        PERMISSIONS
    }

    fn tables(&self) -> &'static [TableDef] {
        &[TABLE]
    }

    fn handles(&self, event_type: &str) -> bool {
        event_type.starts_with("Org")
    }

    fn project(&self, envelope: &Envelope<'_>) -> Result<Vec<RowOp>, String> {
        let Body::Org(event, state) = &envelope.body else {
            return Ok(Vec::new());
        };
        let org = Val::id(org_id(event));
        let mut filter = vec![("org_id", org.clone())];
        let members: Vec<Uuid> = match affected(event) {
            Affected::One(member) => {
                filter.push(("member_id", Val::id(member)));
                vec![member]
            }
            Affected::All => state.members.keys().copied().collect(),
        };
        let mut ops = vec![RowOp::Delete {
            table: PERMISSIONS,
            filter,
        }];
        for member in members {
            ops.extend(rows(state, &org, member, envelope));
        }
        Ok(ops)
    }
}

fn rows<'a>(
    state: &'a OrgState,
    org: &'a Val,
    member: Uuid,
    envelope: &Envelope<'_>,
) -> impl Iterator<Item = RowOp> + 'a {
    let at = event_time(envelope);
    let mut grants = effective_permissions(state, member, at);
    // Two grants can differ only in expiry (impossible today: one grant per role and scope),
    // so the key stays unique.
    grants.dedup_by(|a, b| {
        (&a.permission, &a.role, &a.scope, a.group_id)
            == (&b.permission, &b.role, &b.scope, b.group_id)
    });
    grants.into_iter().map(move |grant| RowOp::Insert {
        table: PERMISSIONS,
        row: vec![
            ("org_id", org.clone()),
            ("member_id", Val::id(member)),
            ("permission", Val::text(grant.permission)),
            ("role", Val::text(grant.role)),
            ("scope", Val::text(grant.scope.unwrap_or_default())),
            (
                "group_id",
                Val::text(grant.group_id.map(|g| g.to_string()).unwrap_or_default()),
            ),
            ("group_name", Val::opt_text(grant.group)),
            ("expires_at", Val::opt_time(grant.expires_at)),
        ],
    })
}
