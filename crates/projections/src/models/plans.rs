//! `plans_v1`: one row per plan, its record (terms and how full it is) after its latest event.

use roster_domain::{Plan, PlanEvent, Tagged};

use crate::pipeline::Envelope;
use crate::projection::{PLANS, Projection};
use crate::read::PlanRecord;
use crate::rows::{Col, RowOp, TableDef, Val};

pub struct Plans;

pub const TABLE: TableDef = TableDef {
    name: PLANS,
    columns: &[
        ("slug", Col::Text, false),
        ("record", Col::Text, false),
        ("position", Col::Int, false),
    ],
    key: &["slug"],
    indexes: &[],
};

impl Projection for Plans {
    fn name(&self) -> &'static str {
        PLANS
    }

    fn tables(&self) -> &'static [TableDef] {
        &[TABLE]
    }

    fn handles(&self, event_type: &str) -> bool {
        PlanEvent::has(event_type)
    }

    fn project(&self, envelope: &Envelope<'_>) -> Result<Vec<RowOp>, String> {
        let Some((_, state)) = envelope.of::<Plan>() else {
            return Ok(Vec::new());
        };
        let position = envelope.recorded.position;
        let Some(record) = PlanRecord::of(state, position) else {
            return Ok(Vec::new());
        };
        let json = serde_json::to_string(&record).map_err(|e| e.to_string())?;
        Ok(vec![RowOp::Upsert {
            table: PLANS,
            row: vec![
                ("slug", Val::text(record.slug)),
                ("record", Val::text(json)),
                ("position", Val::int(position)),
            ],
        }])
    }
}
