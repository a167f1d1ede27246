//! Every aggregate's store, written once for both backends against [`crate::sql::Db`]: each
//! reads its facts, has the domain's pure code decide, and writes the rows decided.

mod campaigns;
pub(crate) mod claims;
pub(crate) mod coupons;
mod idempotency;
mod jobs;
mod learning;
mod orders;
mod outbox;
mod reports;
pub(crate) mod segments;
mod settings;
mod tasks;
mod templates;

use crate::model::Page;

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
