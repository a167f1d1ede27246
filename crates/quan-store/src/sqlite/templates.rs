//! Coupon templates on SQLite.

use quan_core::template::{StatusAction, TemplateStatus};
use quan_core::ErrorCode;

use async_trait::async_trait;
use jiff::Timestamp;
use rusqlite::{params, Connection, OptionalExtension};

use super::rows::*;
use super::SqliteStore;
use crate::model::*;
use crate::traits::*;
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

#[async_trait]
impl Templates for SqliteStore {
    async fn insert_template(&self, new: NewTemplate) -> Result<TemplateRecord> {
        self.write(move |tx, _| {
            let spec = new.template.spec();
            let now = micros(new.now);
            tx.execute(
                "INSERT INTO templates (id, store_id, status, spec, stock, remaining, created_by, created_at, updated_at) \
                 VALUES (?1, ?2, 'draft', ?3, ?4, ?4, ?5, ?6, ?6)",
                params![new.id, spec.scope.store_id(), serde_json::to_string(spec).expect("spec serializes"), spec.stock, new.created_by, now],
            )?;
            get_template(tx, &new.id)?.ok_or_else(|| corrupt("template vanished"))
        })
        .await
    }

    async fn template(&self, id: &str) -> Result<Option<TemplateRecord>> {
        let id = id.to_string();
        self.read_point(move |conn| get_template(conn, &id)).await
    }

    async fn list_templates(&self, f: TemplateFilter) -> Result<Page<TemplateRecord>> {
        self.read(move |conn| {
            let stores = f.stores.as_ref().map(|s| json_list(s));
            let status = f.status.map(|s| s.as_str());
            let filter = "(?1 IS NULL OR store_id IN (SELECT value FROM json_each(?1))) AND (?2 IS NULL OR status = ?2) \
                          AND (?3 IS NULL OR json_extract(spec, '$.scope.kind') = ?3)";
            let total: i64 = conn.query_row(&format!("SELECT COUNT(*) FROM templates WHERE {filter}"), params![stores, status, f.scope_kind], |r| r.get(0))?;
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {TEMPLATE_COLS} FROM templates WHERE {filter} AND (?4 IS NULL OR id > ?4) ORDER BY id LIMIT 0 + ?5"
            ))?;
            let rows = stmt
                .query_map(params![stores, status, f.scope_kind, f.cursor, i64::from(f.limit) + 1], template_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let items = rows.into_iter().map(template_record).collect::<Result<Vec<_>>>()?;
            Ok(page_of(items, f.limit, total, |t| t.id.clone()))
        })
        .await
    }

    async fn update_template(
        &self,
        u: TemplateUpdate,
    ) -> Result<Result<TemplateRecord, ErrorCode>> {
        self.write(move |tx, _| {
            let Some(current) = get_template(tx, &u.id)? else { return Ok(Err(ErrorCode::NotFound)) };
            if current.status != TemplateStatus::Draft {
                return Ok(Err(ErrorCode::InvalidState));
            }
            let spec = u.template.spec();
            tx.execute(
                "UPDATE templates SET spec = ?2, store_id = ?3, stock = ?4, remaining = ?4, version = version + 1, updated_at = ?5 WHERE id = ?1",
                params![u.id, serde_json::to_string(spec).expect("spec serializes"), spec.scope.store_id(), spec.stock, micros(u.now)],
            )?;
            Ok(Ok(get_template(tx, &u.id)?.ok_or_else(|| corrupt("template vanished"))?))
        })
        .await
    }

    async fn set_template_status(
        &self,
        id: &str,
        action: StatusAction,
        now: Timestamp,
    ) -> Result<Result<TemplateRecord, ErrorCode>> {
        let id = id.to_string();
        self.write(move |tx, _| {
            let Some(current) = get_template(tx, &id)? else {
                return Ok(Err(ErrorCode::NotFound));
            };
            let Some(next) = current.status.apply(action) else {
                return Ok(Err(ErrorCode::InvalidState));
            };
            tx.execute(
                "UPDATE templates SET status = ?2, updated_at = ?3 WHERE id = ?1",
                params![id, next.as_str(), micros(now)],
            )?;
            Ok(Ok(
                get_template(tx, &id)?.ok_or_else(|| corrupt("template vanished"))?
            ))
        })
        .await
    }
}
