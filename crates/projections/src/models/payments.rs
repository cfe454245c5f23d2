//! `payments_v1`: one row per payment, the payment after its latest event: the filter columns
//! (member, status) and the whole record as JSON ([`PaymentRecord`]), which is also what
//! `GET /v1/payments/{id}` answers from the payment's own stream.

use roster_domain::{Payment, PaymentEvent, Tagged};

use crate::pipeline::Envelope;
use crate::projection::{PAYMENTS, Projection};
use crate::read::PaymentRecord;
use crate::rows::{Col, RowOp, TableDef, Val};

pub struct Payments;

pub const TABLE: TableDef = TableDef {
    name: PAYMENTS,
    columns: &[
        ("payment_id", Col::Text, false),
        ("member_id", Col::Text, false),
        ("status", Col::Text, false),
        ("currency", Col::Text, false),
        ("captured", Col::Int, false),
        ("refunded", Col::Int, false),
        ("record", Col::Text, false),
        ("position", Col::Int, false),
    ],
    key: &["payment_id"],
    indexes: &[&["member_id", "payment_id"], &["status", "payment_id"]],
};

impl Projection for Payments {
    fn name(&self) -> &'static str {
        PAYMENTS
    }

    fn tables(&self) -> &'static [TableDef] {
        &[TABLE]
    }

    fn handles(&self, event_type: &str) -> bool {
        PaymentEvent::has(event_type)
    }

    fn project(&self, envelope: &Envelope<'_>) -> Result<Vec<RowOp>, String> {
        let Some((_, state)) = envelope.of::<Payment>() else {
            return Ok(Vec::new());
        };
        let position = envelope.recorded.position;
        let Some(record) = PaymentRecord::of(state, position) else {
            return Ok(Vec::new());
        };
        let json = serde_json::to_string(&record).map_err(|e| e.to_string())?;
        Ok(vec![RowOp::Upsert {
            table: PAYMENTS,
            row: vec![
                ("payment_id", Val::id(record.payment_id)),
                ("member_id", Val::id(record.member_id)),
                ("status", Val::text(record.status.clone())),
                ("currency", Val::text(record.currency.clone())),
                ("captured", Val::int(record.captured_amount)),
                ("refunded", Val::int(record.refunded_amount)),
                ("record", Val::text(json)),
                ("position", Val::int(position)),
            ],
        }])
    }
}
