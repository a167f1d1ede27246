//! Members' order history for PostgreSQL's checkout orders: the shared write of
//! [`crate::aggregate`] in the order's transaction.

use std::collections::BTreeSet;

use jiff::Timestamp;

use crate::scrm::{HistoryOrder, Written};
use crate::sql::Db;
use crate::Result;

/// Writes one order of a member's history; the members whose aggregates it changes go to
/// `touched`.
pub(super) async fn write_order(
    tx: &deadpool_postgres::Transaction<'_>,
    o: HistoryOrder,
    now: Timestamp,
    touched: &mut BTreeSet<String>,
) -> Result<Written> {
    let (written, users) =
        crate::aggregate::write_orders(&mut Db::PgTx(tx), std::slice::from_ref(&o), now).await?;
    touched.extend(users);
    Ok(written[0])
}
