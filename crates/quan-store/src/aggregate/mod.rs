//! Every aggregate's store, written once for both backends against [`crate::sql::Db`]: each
//! reads its facts, has the domain's pure code decide, and writes the rows decided.

mod campaigns;
mod catalog;
pub(crate) mod claims;
pub(crate) mod counts;
pub(crate) mod coupons;
mod events;
mod history;
mod idempotency;
mod jobs;
mod learning;
mod members;
mod orders;
mod outbox;
mod past;
mod reports;
mod reviews;
mod rfm;
pub(crate) mod segments;
mod settings;
mod tasks;
mod templates;

pub(crate) use history::write_orders;
pub(crate) use members::refresh;

use crate::records::Page;
use crate::sql::{Db, Row};
use crate::{Result, StoreError};

/// A page of `items` read with one row beyond `limit`: that row, when there, says a next page
/// exists and is dropped; the cursor is the last kept item's.
pub(crate) fn page_of<T>(
    mut items: Vec<T>,
    limit: u32,
    total: i64,
    cursor_of: impl Fn(&T) -> String,
) -> Page<T> {
    let next = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(&cursor_of)
    } else {
        None
    };
    Page { items, total, next }
}

/// A page of `SELECT {cols} FROM {table} WHERE id > cursor ORDER BY id`, with the table's count.
pub(crate) async fn id_page<T: Send>(
    db: &mut Db<'_>,
    table: &str,
    cols: &str,
    limit: u32,
    cursor: Option<String>,
    row: fn(&Row) -> Result<T>,
    id_of: fn(&T) -> String,
) -> Result<Page<T>> {
    let total: i64 = db
        .query_one(&format!("SELECT COUNT(*) FROM {table}"), &[], |r| r.get(0))
        .await?;
    let items = db
        .query(
            &format!("SELECT {cols} FROM {table} WHERE id > $1 ORDER BY id LIMIT $2"),
            &[&cursor.unwrap_or_default(), &(i64::from(limit) + 1)],
            row,
        )
        .await?;
    Ok(page_of(items, limit, total, id_of))
}

/// A JSON column read back (`what` names it when it is not what was written).
pub(crate) fn json<T: serde::de::DeserializeOwned>(raw: &str, what: &str) -> Result<T> {
    serde_json::from_str(raw).map_err(|_| corrupt(what))
}

/// Stored data that is not what quan writes (`what` names it).
pub(crate) fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(what.to_string())
}
