//! Coupon templates: created as drafts, edited while drafts, moved through their statuses.

use async_trait::async_trait;
use jiff::Timestamp;
use std::sync::Arc;

use quan_core::template::{stock_after_edit, StatusAction, Template, TemplateStatus};
use quan_core::{ErrorCode, FieldError};

use super::page_of;
use crate::records::parsed::TemplateCache;
use crate::records::*;
use crate::sql::{Db, Engine, Row, Strings};
use crate::traits::Templates;
use crate::{Result, StoreError};

pub(crate) const TEMPLATE_COLS: &str =
    "id, store_id, status, spec, remaining, issued, claimed, used, created_at, updated_at, version";

/// A template row read with [`TEMPLATE_COLS`], its spec parsed through the store's cache.
pub(crate) fn template_record(r: &Row, cache: &TemplateCache) -> Result<TemplateRecord> {
    let id: String = r.get(0)?;
    let status: String = r.get(2)?;
    let status = TemplateStatus::parse(&status)
        .ok_or_else(|| StoreError::Corrupt("template status".into()))?;
    let version: i64 = r.get(10)?;
    Ok(TemplateRecord {
        template: cache.parsed(&id, version, status, &r.get::<String>(3)?)?,
        version,
        status,
        store_id: r.get(1)?,
        remaining: r.get(4)?,
        issued: r.get(5)?,
        claimed: r.get(6)?,
        used: r.get(7)?,
        created_at: r.time(8)?,
        updated_at: r.time(9)?,
        id,
    })
}

/// A template by id; with `lock`, its row is locked for the rest of the transaction.
pub(crate) async fn get_template(
    db: &mut Db<'_>,
    cache: &TemplateCache,
    id: &str,
    lock: bool,
) -> Result<Option<TemplateRecord>> {
    let sql = if lock {
        "SELECT id, store_id, status, spec, remaining, issued, claimed, used, created_at, updated_at, version FROM templates WHERE id = $1 FOR UPDATE"
    } else {
        "SELECT id, store_id, status, spec, remaining, issued, claimed, used, created_at, updated_at, version FROM templates WHERE id = $1"
    };
    db.query_opt(sql, &[&id], |r| template_record(r, cache))
        .await
}

async fn written(db: &mut Db<'_>, cache: &TemplateCache, id: &str) -> Result<TemplateRecord> {
    get_template(db, cache, id, false)
        .await?
        .ok_or_else(|| StoreError::Corrupt("template vanished".into()))
}

fn spec_json(t: &Template) -> String {
    serde_json::to_string(t.spec()).expect("spec serializes")
}

#[async_trait]
impl<E: Engine> Templates for E {
    async fn insert_template(&self, new: NewTemplate) -> Result<TemplateRecord> {
        let ctx = self.ctx().clone();
        self.write(new, move |db, new| {
            let ctx = ctx.clone();
            Box::pin(async move {
                let spec = new.template.spec();
                db.execute(
                    "INSERT INTO templates (id, store_id, status, spec, stock, remaining, created_by, created_at, updated_at) \
                     VALUES ($1, $2, 'draft', $3, $4, $4, $5, $6, $6)",
                    &[&new.id, &spec.scope.store_id(), &spec_json(&new.template), &spec.stock, &new.created_by, &micros(new.now)],
                )
                .await?;
                written(db, &ctx.templates, &new.id).await
            })
        })
        .await
    }

    async fn template(&self, id: &str) -> Result<Option<TemplateRecord>> {
        let (ctx, id) = (self.ctx().clone(), id.to_string());
        self.read_point(move |db| {
            Box::pin(async move { get_template(db, &ctx.templates, &id, false).await })
        })
        .await
    }

    async fn parsed_template(&self, id: &str) -> Result<Option<Arc<Template>>> {
        if let Some(settled) = self.ctx().templates.settled(id) {
            return Ok(Some(settled));
        }
        Ok(self.template(id).await?.map(|record| record.template))
    }

    async fn list_templates(&self, f: TemplateFilter) -> Result<Page<TemplateRecord>> {
        let ctx = self.ctx().clone();
        self.read(move |db| {
            Box::pin(async move {
                let stores = f.stores.as_deref().map(Strings);
                let status = f.status.map(|s| s.as_str());
                let kind = if db.is_postgres() {
                    "spec::jsonb -> 'scope' ->> 'kind'"
                } else {
                    "json_extract(spec, '$.scope.kind')"
                };
                let filter = format!(
                    "($1::text[] IS NULL OR store_id = ANY($1)) AND ($2::text IS NULL OR status = $2) \
                     AND ($3::text IS NULL OR {kind} = $3)"
                );
                let total: i64 = db
                    .query_one(
                        &format!("SELECT COUNT(*) FROM templates WHERE {filter}"),
                        &[&stores, &status, &f.scope_kind],
                        |r| r.get(0),
                    )
                    .await?;
                let items = db
                    .query(
                        &format!("SELECT {TEMPLATE_COLS} FROM templates WHERE {filter} AND ($4::text IS NULL OR id > $4) ORDER BY id LIMIT $5"),
                        &[&stores, &status, &f.scope_kind, &f.cursor, &(i64::from(f.limit) + 1)],
                        |r| template_record(r, &ctx.templates),
                    )
                    .await?;
                Ok(page_of(items, f.limit, total, |t| t.id.clone()))
            })
        })
        .await
    }

    async fn update_template(
        &self,
        u: TemplateUpdate,
    ) -> Result<Result<TemplateRecord, FieldError>> {
        let ctx = self.ctx().clone();
        self.write(u, move |db, u| {
            let ctx = ctx.clone();
            Box::pin(async move {
                let Some(current) = get_template(db, &ctx.templates, &u.id, true).await? else {
                    return Ok(Err(FieldError::new(ErrorCode::NotFound, "id", "no such template")));
                };
                let spec = u.template.spec();
                let remaining = match stock_after_edit(current.status, current.issued, spec.stock) {
                    Ok(remaining) => remaining,
                    Err(refusal) => return Ok(Err(refusal)),
                };
                db.execute(
                    "UPDATE templates SET spec = $2, store_id = $3, stock = $4, remaining = $5, version = version + 1, updated_at = $6 WHERE id = $1",
                    &[&u.id, &spec_json(&u.template), &spec.scope.store_id(), &spec.stock, &remaining, &micros(u.now)],
                )
                .await?;
                Ok(Ok(written(db, &ctx.templates, &u.id).await?))
            })
        })
        .await
    }

    async fn set_template_status(
        &self,
        id: &str,
        action: StatusAction,
        now: Timestamp,
    ) -> Result<Result<TemplateRecord, ErrorCode>> {
        let ctx = self.ctx().clone();
        self.write(
            (id.to_string(), action, now),
            move |db, (id, action, now)| {
                let ctx = ctx.clone();
                Box::pin(async move {
                    let Some(current) = get_template(db, &ctx.templates, id, true).await? else {
                        return Ok(Err(ErrorCode::NotFound));
                    };
                    let Some(next) = current.status.apply(*action) else {
                        return Ok(Err(ErrorCode::InvalidState));
                    };
                    db.execute(
                        "UPDATE templates SET status = $2, updated_at = $3 WHERE id = $1",
                        &[id, &next.as_str(), &micros(*now)],
                    )
                    .await?;
                    Ok(Ok(written(db, &ctx.templates, id).await?))
                })
            },
        )
        .await
    }
}
