//! Row operations of one page, with repeated upserts of one row folded into the last one.
//! A member's registration, confirmation and profile edit usually share a page, and only the
//! last state of the row needs writing. An upsert may replace an earlier one only while no
//! delete has touched its table since, so the outcome is that of applying every operation.

use std::collections::HashMap;

use crate::rows::{RowOp, TableDef, Val};

#[derive(Default)]
pub struct OpBuffer {
    ops: Vec<RowOp>,
    /// (table, key values) -> index in `ops` of the pending upsert of that row.
    upserts: HashMap<(&'static str, Vec<Val>), usize>,
}

impl OpBuffer {
    pub fn push(&mut self, op: RowOp, tables: &[TableDef]) {
        match &op {
            RowOp::Delete { table, .. } => self.upserts.retain(|(t, _), _| t != table),
            RowOp::Upsert { table, row } => {
                if let Some(key) = key_of(table, row, tables) {
                    if let Some(&index) = self.upserts.get(&(*table, key.clone())) {
                        self.ops[index] = op;
                        return;
                    }
                    self.upserts.insert((table, key), self.ops.len());
                }
            }
            RowOp::Insert { .. } => {}
        }
        self.ops.push(op);
    }

    pub fn into_ops(self) -> Vec<RowOp> {
        self.ops
    }
}

fn key_of(table: &str, row: &[(&'static str, Val)], tables: &[TableDef]) -> Option<Vec<Val>> {
    let def = tables.iter().find(|t| t.name == table)?;
    def.key
        .iter()
        .map(|k| row.iter().find(|(c, _)| c == k).map(|(_, v)| v.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::OpBuffer;
    use crate::models::accounts::TABLE;
    use crate::rows::{RowOp, Val};

    fn upsert(id: &str, status: &str) -> RowOp {
        RowOp::Upsert {
            table: "accounts_v1",
            row: vec![("member_id", Val::text(id)), ("status", Val::text(status))],
        }
    }

    #[test]
    fn only_the_last_upsert_of_a_row_is_kept_until_a_delete_intervenes() {
        let mut buffer = OpBuffer::default();
        buffer.push(upsert("a", "pending"), &[TABLE]);
        buffer.push(upsert("b", "pending"), &[TABLE]);
        buffer.push(upsert("a", "active"), &[TABLE]);
        let delete = RowOp::Delete {
            table: "accounts_v1",
            filter: vec![("status", Val::text("active"))],
        };
        buffer.push(delete.clone(), &[TABLE]);
        buffer.push(upsert("a", "suspended"), &[TABLE]);
        assert_eq!(
            buffer.into_ops(),
            vec![
                upsert("a", "active"),
                upsert("b", "pending"),
                delete,
                upsert("a", "suspended")
            ]
        );
    }
}
