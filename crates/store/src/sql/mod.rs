//! The statements both SQL backends run on the log's tables, written once with PostgreSQL's
//! `$n` parameters; SQLite reads them through [`sqlite`] as its numbered `?n`. What differs
//! stays with its backend: the batch insert (one `unnest` statement on PostgreSQL, a prepared
//! row at a time on SQLite), the migrations, and the key table (a UUID and `timestamptz` on
//! PostgreSQL, bytes and text on SQLite).

use std::borrow::Cow;

pub const READ_ALL: &str = include_str!("read_all.sql");
pub const READ_STREAM: &str = include_str!("read_stream.sql");
pub const CLAIM_OWNER: &str = "SELECT owner FROM unique_claims WHERE scope = $1 AND key = $2";
pub const CLAIM: &str =
    "INSERT INTO unique_claims (scope, key, owner) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";
pub const RELEASE: &str = "DELETE FROM unique_claims WHERE scope = $1 AND key = $2 AND owner = $3";

/// A statement as SQLite spells it: `$n` becomes `?n`.
pub fn sqlite(sql: &str) -> Cow<'_, str> {
    match sql.contains('$') {
        true => Cow::Owned(sql.replace('$', "?")),
        false => Cow::Borrowed(sql),
    }
}
