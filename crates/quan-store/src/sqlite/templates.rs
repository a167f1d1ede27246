//! Coupon templates on SQLite.

use rusqlite::{Connection, OptionalExtension};

use super::rows::*;
use crate::model::*;
use crate::Result;

pub(super) fn get_template(conn: &Connection, id: &str) -> Result<Option<TemplateRecord>> {
    let row = conn
        .prepare_cached(&format!(
            "SELECT {TEMPLATE_COLS} FROM templates WHERE id = ?1"
        ))?
        .query_row([id], template_row)
        .optional()?;
    row.map(template_record).transpose()
}
