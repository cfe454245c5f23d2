//! The backend-neutral vocabulary projections speak: values, row operations and table
//! definitions. A projection never writes SQL; it returns [`RowOp`]s against its logical
//! tables, and the engine renders them into the one small dialect that SQLite and
//! PostgreSQL share (TEXT and BIGINT columns, `$n` parameters, `DELETE`/`INSERT`).

pub use roster_sql::{Col, Val, time_text};

/// A change to one logical table of the projection that returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowOp {
    /// Deletes every row whose columns equal these values.
    Delete {
        table: &'static str,
        filter: Vec<(&'static str, Val)>,
    },
    /// Inserts one row.
    Insert {
        table: &'static str,
        row: Vec<(&'static str, Val)>,
    },
    /// Inserts one row, or replaces the row with the same key (the table's primary key).
    Upsert {
        table: &'static str,
        row: Vec<(&'static str, Val)>,
    },
}

impl RowOp {
    pub fn table(&self) -> &'static str {
        match self {
            Self::Delete { table, .. }
            | Self::Insert { table, .. }
            | Self::Upsert { table, .. } => table,
        }
    }
}

/// A logical table. Its physical tables are `<name>_g<generation>`; a view named `<name>`
/// always shows the live generation, so readers never need to know which one it is.
#[derive(Debug, Clone, Copy)]
pub struct TableDef {
    pub name: &'static str,
    pub columns: &'static [(&'static str, Col, bool)],
    pub key: &'static [&'static str],
    /// Secondary indexes, each a list of columns.
    pub indexes: &'static [&'static [&'static str]],
}

impl TableDef {
    pub fn physical(&self, generation: i64) -> String {
        physical(self.name, generation)
    }

    /// `CREATE TABLE` and `CREATE INDEX` statements for one generation.
    pub fn ddl(&self, generation: i64) -> Vec<String> {
        let mut ddl = vec![self.create_table(generation)];
        ddl.extend(self.create_indexes(generation));
        ddl
    }

    /// The `CREATE TABLE` statement alone: a rebuild fills the table first and indexes it
    /// afterwards, because building an index in one pass is far cheaper than keeping it
    /// current row by row.
    pub fn create_table(&self, generation: i64) -> String {
        let table = self.physical(generation);
        let columns: Vec<String> = self
            .columns
            .iter()
            .map(|(name, col, nullable)| {
                let ty = match col {
                    Col::Text => "TEXT",
                    Col::Int => "BIGINT",
                    // SQLite keeps a blob as it is whatever the column's affinity.
                    Col::Bytes => "BYTEA",
                };
                let null = if *nullable { "" } else { " NOT NULL" };
                format!("{name} {ty}{null}")
            })
            .collect();
        format!(
            "CREATE TABLE {table} ({}, PRIMARY KEY ({}))",
            columns.join(", "),
            self.key.join(", ")
        )
    }

    pub fn create_indexes(&self, generation: i64) -> Vec<String> {
        let table = self.physical(generation);
        self.indexes
            .iter()
            .enumerate()
            .map(|(i, index)| {
                format!(
                    "CREATE INDEX {table}_i{i} ON {table} ({})",
                    index.join(", ")
                )
            })
            .collect()
    }

    /// Columns in definition order, for `SELECT` lists and snapshots.
    pub fn column_names(&self) -> Vec<&'static str> {
        self.columns.iter().map(|(name, _, _)| *name).collect()
    }
}

pub fn physical(table: &str, generation: i64) -> String {
    format!("{table}_g{generation}")
}
