//! `accounts_v1`: one row per member, the member's state after their latest event. Personal
//! columns are NULL once the member is erased (the erasure event clears them live; a replay
//! after the key was destroyed never sees them).

use roster_domain::{Member, MemberEvent, MemberState, Tagged};

use crate::pipeline::Envelope;
use crate::projection::{ACCOUNTS, Projection};
use crate::rows::{Col, RowOp, TableDef, Val};

pub struct Accounts;

pub const TABLE: TableDef = TableDef {
    name: ACCOUNTS,
    columns: &[
        ("member_id", Col::Text, false),
        ("status", Col::Text, false),
        ("email", Col::Text, true),
        ("name", Col::Text, true),
        ("company", Col::Text, true),
        ("location", Col::Text, true),
        ("fields", Col::Text, true),
        ("email_verified", Col::Int, false),
        ("public", Col::Int, false),
        ("searchable", Col::Int, false),
        ("registered_at", Col::Text, true),
        ("suspension_reason", Col::Text, true),
        ("version", Col::Int, false),
        ("position", Col::Int, false),
    ],
    key: &["member_id"],
    indexes: &[&["status", "member_id"]],
};

impl Projection for Accounts {
    fn name(&self) -> &'static str {
        ACCOUNTS
    }

    fn tables(&self) -> &'static [TableDef] {
        &[TABLE]
    }

    fn handles(&self, event_type: &str) -> bool {
        MemberEvent::has(event_type)
    }

    fn project(&self, envelope: &Envelope<'_>) -> Result<Vec<RowOp>, String> {
        let Some((event, state)) = envelope.of::<Member>() else {
            return Ok(Vec::new());
        };
        let member_id = Val::id(event.member_id());
        let recorded = envelope.recorded;
        Ok(vec![RowOp::Upsert {
            table: ACCOUNTS,
            row: row(member_id, state, recorded.version, recorded.position),
        }])
    }
}

fn row(
    member_id: Val,
    state: &MemberState,
    version: u64,
    position: u64,
) -> Vec<(&'static str, Val)> {
    let personal = state.personal.as_ref();
    let fields = personal.map(|p| serde_json::to_string(&p.fields).unwrap_or_default());
    vec![
        ("member_id", member_id),
        ("status", Val::text(state.status.as_str())),
        ("email", Val::opt_text(personal.map(|p| p.email.clone()))),
        ("name", Val::opt_text(personal.map(|p| p.name.clone()))),
        (
            "company",
            Val::opt_text(personal.and_then(|p| p.company.clone())),
        ),
        (
            "location",
            Val::opt_text(personal.and_then(|p| p.location.clone())),
        ),
        ("fields", Val::opt_text(fields)),
        ("email_verified", Val::bool(state.email_verified)),
        ("public", Val::bool(state.visibility.public)),
        ("searchable", Val::bool(state.visibility.searchable)),
        ("registered_at", Val::opt_time(state.registered_at)),
        (
            "suspension_reason",
            Val::opt_text(state.suspension_reason.clone()),
        ),
        ("version", Val::int(version)),
        ("position", Val::int(position)),
    ]
}
