//! `orgs_v1`: organizations with seats used, their members with roles and groups, and their
//! groups. Rows are rewritten from the organization's state after each event: the whole org
//! row, and the member rows the event can have changed.

use chrono::{DateTime, Utc};
use roster_domain::org::{OrgState, RoleGrant};
use roster_domain::{OrgEvent, seats_used};
use serde_json::json;
use uuid::Uuid;

use crate::pipeline::{Body, Envelope};
use crate::projection::{ORGS, Projection};
use crate::rows::{Col, RowOp, TableDef, Val};

pub struct Orgs;

pub const ORG_MEMBERS: &str = "org_members_v1";
pub const ORG_GROUPS: &str = "org_groups_v1";

pub const TABLES: [TableDef; 3] = [
    TableDef {
        name: ORGS,
        columns: &[
            ("org_id", Col::Text, false),
            ("name", Col::Text, false),
            ("seat_limit", Col::Int, false),
            ("seats_used", Col::Int, false),
            ("member_count", Col::Int, false),
            ("updated_at", Col::Text, false),
            ("position", Col::Int, false),
        ],
        key: &["org_id"],
        indexes: &[],
    },
    TableDef {
        name: ORG_MEMBERS,
        columns: &[
            ("org_id", Col::Text, false),
            ("member_id", Col::Text, false),
            ("roles", Col::Text, false),
            ("groups", Col::Text, false),
        ],
        key: &["org_id", "member_id"],
        indexes: &[&["member_id"]],
    },
    TableDef {
        name: ORG_GROUPS,
        columns: &[
            ("org_id", Col::Text, false),
            ("group_id", Col::Text, false),
            ("name", Col::Text, false),
            ("roles", Col::Text, false),
            ("members", Col::Text, false),
        ],
        key: &["org_id", "group_id"],
        indexes: &[],
    },
];

/// Which members' rows an organization event can change.
pub enum Affected {
    One(Uuid),
    All,
}

pub fn affected(event: &OrgEvent) -> Affected {
    match event {
        OrgEvent::MemberAdded(e) => Affected::One(e.member_id),
        OrgEvent::MemberRemoved(e) => Affected::One(e.member_id),
        OrgEvent::RoleAssigned(e) => Affected::One(e.member_id),
        OrgEvent::RoleRevoked(e) => Affected::One(e.member_id),
        OrgEvent::GroupJoined(e) => Affected::One(e.member_id),
        OrgEvent::GroupLeft(e) => Affected::One(e.member_id),
        _ => Affected::All,
    }
}

pub fn org_id(event: &OrgEvent) -> Uuid {
    match event {
        OrgEvent::Created(e) => e.org_id,
        OrgEvent::MemberAdded(e) => e.org_id,
        OrgEvent::MemberRemoved(e) => e.org_id,
        OrgEvent::RoleDefined(e) => e.org_id,
        OrgEvent::RoleAssigned(e) => e.org_id,
        OrgEvent::RoleRevoked(e) => e.org_id,
        OrgEvent::GroupCreated(e) => e.org_id,
        OrgEvent::GroupRoleGranted(e) => e.org_id,
        OrgEvent::GroupRoleRevoked(e) => e.org_id,
        OrgEvent::GroupJoined(e) => e.org_id,
        OrgEvent::GroupLeft(e) => e.org_id,
        OrgEvent::SeatLimitChanged(e) => e.org_id,
    }
}

/// The instant an organization event happened, which is when its effects are evaluated.
pub fn event_time(envelope: &Envelope<'_>) -> DateTime<Utc> {
    envelope.recorded.metadata.recorded_at
}

impl Projection for Orgs {
    fn name(&self) -> &'static str {
        ORGS
    }

    fn tables(&self) -> &'static [TableDef] {
        &TABLES
    }

    fn handles(&self, event_type: &str) -> bool {
        event_type.starts_with("Org")
    }

    fn project(&self, envelope: &Envelope<'_>) -> Result<Vec<RowOp>, String> {
        let Body::Org(event, state) = &envelope.body else {
            return Ok(Vec::new());
        };
        let org = Val::id(org_id(event));
        let at = event_time(envelope);
        let mut ops = vec![RowOp::Upsert {
            table: ORGS,
            row: vec![
                ("org_id", org.clone()),
                ("name", Val::text(state.name.clone())),
                ("seat_limit", Val::int(state.seat_limit)),
                ("seats_used", Val::int(seats_used(state, at))),
                ("member_count", Val::int(state.members.len())),
                ("updated_at", Val::time(at)),
                ("position", Val::int(envelope.recorded.position)),
            ],
        }];
        let members: Vec<Uuid> = match affected(event) {
            Affected::One(member) => {
                ops.push(delete(ORG_MEMBERS, &org, Some(member)));
                vec![member]
            }
            Affected::All => {
                ops.push(delete(ORG_MEMBERS, &org, None));
                state.members.keys().copied().collect()
            }
        };
        for member in members {
            if let Some(row) = member_row(state, &org, member) {
                ops.push(RowOp::Insert {
                    table: ORG_MEMBERS,
                    row,
                });
            }
        }
        if !changes_groups(event) {
            return Ok(ops);
        }
        ops.push(delete(ORG_GROUPS, &org, None));
        ops.extend(state.groups.iter().map(|(id, group)| {
            let roles: Vec<_> = group
                .grants
                .iter()
                .map(|g| json!({"role": g.role, "scope": g.scope}))
                .collect();
            let members: Vec<String> = group.members.iter().map(Uuid::to_string).collect();
            RowOp::Insert {
                table: ORG_GROUPS,
                row: vec![
                    ("org_id", org.clone()),
                    ("group_id", Val::id(*id)),
                    ("name", Val::text(group.name.clone())),
                    ("roles", Val::text(json!(roles).to_string())),
                    ("members", Val::text(json!(members).to_string())),
                ],
            }
        }));
        Ok(ops)
    }
}

/// Whether an event can change the groups' rows (their roles or members).
fn changes_groups(event: &OrgEvent) -> bool {
    !matches!(
        event,
        OrgEvent::MemberAdded(_) | OrgEvent::RoleAssigned(_) | OrgEvent::RoleRevoked(_)
    )
}

fn delete(table: &'static str, org: &Val, member: Option<Uuid>) -> RowOp {
    let mut filter = vec![("org_id", org.clone())];
    filter.extend(member.map(|m| ("member_id", Val::id(m))));
    RowOp::Delete { table, filter }
}

fn member_row(state: &OrgState, org: &Val, member: Uuid) -> Option<Vec<(&'static str, Val)>> {
    let held = state.members.get(&member)?;
    let roles: Vec<_> = held.grants.iter().map(grant_json).collect();
    let groups: Vec<&str> = state
        .groups
        .values()
        .filter(|g| g.members.contains(&member))
        .map(|g| g.name.as_str())
        .collect();
    Some(vec![
        ("org_id", org.clone()),
        ("member_id", Val::id(member)),
        ("roles", Val::text(json!(roles).to_string())),
        ("groups", Val::text(json!(groups).to_string())),
    ])
}

fn grant_json(grant: &RoleGrant) -> serde_json::Value {
    json!({"role": grant.role, "scope": grant.scope, "expires_at": grant.expires_at})
}
