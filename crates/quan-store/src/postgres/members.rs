//! SCRM customers for PostgreSQL's modules not yet written once: a customer's row on any
//! client, and the shared refresh of [`crate::aggregate`] in a transaction.

use std::collections::BTreeSet;

use deadpool_postgres::GenericClient;
use jiff::Timestamp;

use super::rows::*;
use crate::scrm::MemberRecord;
use crate::sql::Db;
use crate::Result;

pub(super) async fn get_member(c: &impl GenericClient, id: &str) -> Result<Option<MemberRecord>> {
    let st = c
        .prepare_cached(&format!("SELECT {MEMBER_COLS} FROM members WHERE id = $1"))
        .await?;
    c.query_opt(&st, &[&id])
        .await?
        .as_ref()
        .map(member_record)
        .transpose()
}

/// Recomputes members' aggregates, and their RFM scores against the last full run's cuts.
pub(super) async fn refresh(
    tx: &deadpool_postgres::Transaction<'_>,
    ids: &BTreeSet<String>,
    now: Timestamp,
) -> Result<u64> {
    crate::aggregate::refresh(&mut Db::PgTx(tx), ids, now).await
}
