//! The backend-neutral vocabulary projections speak: values, row operations and table
//! definitions. A projection never writes SQL; it returns [`RowOp`]s against its logical
//! tables, and each backend renders them (`crate::db`) into one small dialect that SQLite and
//! PostgreSQL share (TEXT and BIGINT columns, `$n` parameters, `DELETE`/`INSERT`).

use chrono::{DateTime, SecondsFormat, Utc};
use uuid::Uuid;

/// One column value. Booleans are stored as 0/1, times as fixed-width RFC 3339 text (so text
/// order is time order), ids as hyphenated text: the same bytes on both backends.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Val {
    Null,
    Int(i64),
    Text(String),
}

impl Val {
    pub fn text(value: impl Into<String>) -> Self {
        Self::Text(value.into())
    }

    pub fn id(id: Uuid) -> Self {
        Self::Text(id.to_string())
    }

    pub fn time(at: DateTime<Utc>) -> Self {
        Self::Text(time_text(at))
    }

    pub fn opt_text(value: Option<impl Into<String>>) -> Self {
        value.map_or(Self::Null, |v| Self::Text(v.into()))
    }

    pub fn opt_time(at: Option<DateTime<Utc>>) -> Self {
        at.map_or(Self::Null, Self::time)
    }

    pub fn bool(value: bool) -> Self {
        Self::Int(i64::from(value))
    }

    pub fn int(value: impl TryInto<i64>) -> Self {
        value.try_into().map_or(Self::Null, Self::Int)
    }

    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(text) => Some(text),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Self::Int(value) => Some(*value),
            _ => None,
        }
    }
}

/// The one text form of an instant in the read models.
pub fn time_text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

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

/// Column types of the shared dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Col {
    Text,
    Int,
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
