//! Settings read by SQLite's not yet shared modules (members, segments).

use rusqlite::{Connection, OptionalExtension};

use crate::Result;

pub(super) fn get_setting(conn: &Connection, name: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT value FROM settings WHERE name = ?1")?
        .query_row([name], |r| r.get(0))
        .optional()?)
}
