//! `memberships_v1`: one row per membership, after its latest event: the member (to list a
//! member's memberships and answer content checks), the status, the period's end (to find
//! whom to remind) and the record as JSON
//! ([`MembershipRecord`]).

use roster_domain::{Membership, MembershipEvent, Tagged};

use crate::pipeline::Envelope;
use crate::projection::{MEMBERSHIPS, Projection};
use crate::read::MembershipRecord;
use crate::rows::{Col, RowOp, TableDef, Val};

pub struct Memberships;

pub const TABLE: TableDef = TableDef {
    name: MEMBERSHIPS,
    columns: &[
        ("membership_id", Col::Text, false),
        ("member_id", Col::Text, false),
        ("plan", Col::Text, false),
        ("status", Col::Text, false),
        ("period_end", Col::Text, true),
        ("record", Col::Text, false),
        ("position", Col::Int, false),
    ],
    key: &["membership_id"],
    indexes: &[
        &["member_id", "membership_id"],
        &["plan", "status"],
        &["period_end"],
    ],
};

impl Projection for Memberships {
    fn name(&self) -> &'static str {
        MEMBERSHIPS
    }

    fn tables(&self) -> &'static [TableDef] {
        &[TABLE]
    }

    fn handles(&self, event_type: &str) -> bool {
        MembershipEvent::has(event_type)
    }

    fn project(&self, envelope: &Envelope<'_>) -> Result<Vec<RowOp>, String> {
        let Some((_, state)) = envelope.of::<Membership>() else {
            return Ok(Vec::new());
        };
        let position = envelope.recorded.position;
        let Some(record) = MembershipRecord::of(state, position) else {
            return Ok(Vec::new());
        };
        let json = serde_json::to_string(&record).map_err(|e| e.to_string())?;
        Ok(vec![RowOp::Upsert {
            table: MEMBERSHIPS,
            row: vec![
                ("membership_id", Val::id(record.membership_id)),
                ("member_id", Val::id(record.member_id)),
                ("plan", Val::text(record.plan)),
                ("status", Val::text(record.status)),
                ("period_end", Val::opt_time(record.period_end)),
                ("record", Val::text(json)),
                ("position", Val::int(position)),
            ],
        }])
    }
}
