//! Members' order history for SQLite's checkout orders: the shared write of
//! [`crate::aggregate`] on the writer's connection.

use std::collections::BTreeSet;

use jiff::Timestamp;
use rusqlite::Connection;

use crate::scrm::{HistoryOrder, Written};
use crate::sql::{run_here, Db};
use crate::Result;

/// Writes one order of a member's history; the members whose aggregates it changes go to
/// `touched`.
pub(super) fn write_order(
    tx: &mut Connection,
    o: HistoryOrder,
    now: Timestamp,
    touched: &mut BTreeSet<String>,
) -> Result<Written> {
    let (written, users) = run_here(crate::aggregate::write_orders(
        &mut Db::Sqlite(tx),
        std::slice::from_ref(&o),
        now,
    ))?;
    touched.extend(users);
    Ok(written[0])
}
