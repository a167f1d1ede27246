//! SCRM customers for SQLite's modules not yet written once: a customer's row on any
//! connection, and the shared refresh of [`crate::aggregate`] on the writer's.

use std::collections::BTreeSet;

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension};

use super::rows::*;
use crate::scrm::MemberRecord;
use crate::sql::{run_here, Db};
use crate::Result;

pub(super) fn get_member(conn: &Connection, id: &str) -> Result<Option<MemberRecord>> {
    conn.prepare_cached(&format!("SELECT {MEMBER_COLS} FROM members WHERE id = ?1"))?
        .query_row([id], member_row)
        .optional()?
        .transpose()
}

/// Recomputes members' aggregates, and their RFM scores against the last full run's cuts.
pub(super) fn refresh(
    conn: &mut Connection,
    ids: &BTreeSet<String>,
    now: Timestamp,
) -> Result<u64> {
    run_here(crate::aggregate::refresh(&mut Db::Sqlite(conn), ids, now))
}
