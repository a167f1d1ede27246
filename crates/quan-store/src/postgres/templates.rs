//! Coupon templates on PostgreSQL.

use quan_core::template::{StatusAction, TemplateStatus};
use quan_core::ErrorCode;

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use jiff::Timestamp;

use super::rows::*;
use super::PgStore;
use crate::model::*;
use crate::traits::*;
use crate::{Result, StoreError};

pub(super) async fn get_template(
    c: &impl GenericClient,
    id: &str,
    lock: bool,
) -> Result<Option<TemplateRecord>> {
    let sql = format!(
        "SELECT {TEMPLATE_COLS} FROM templates WHERE id = $1{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    c.query_opt(&sql, &[&id])
        .await?
        .as_ref()
        .map(template_record)
        .transpose()
}

#[async_trait]
impl Templates for PgStore {
    async fn insert_template(&self, new: NewTemplate) -> Result<TemplateRecord> {
        let c = self.pool.get().await?;
        let spec = new.template.spec();
        let json = serde_json::to_string(spec).expect("spec serializes");
        c.execute(
            "INSERT INTO templates (id, store_id, status, spec, stock, remaining, created_by, created_at, updated_at) \
             VALUES ($1, $2, 'draft', $3, $4, $4, $5, $6, $6)",
            &[&new.id, &spec.scope.store_id(), &json, &spec.stock, &new.created_by, &micros(new.now)],
        )
        .await?;
        get_template(&c, &new.id, false)
            .await?
            .ok_or_else(|| StoreError::Corrupt("template vanished".into()))
    }

    async fn template(&self, id: &str) -> Result<Option<TemplateRecord>> {
        let c = self.pool.get().await?;
        get_template(&c, id, false).await
    }

    async fn list_templates(&self, f: TemplateFilter) -> Result<Page<TemplateRecord>> {
        let c = self.pool.get().await?;
        let status = f.status.map(|s| s.as_str());
        let filter =
            "($1::text[] IS NULL OR store_id = ANY($1)) AND ($2::text IS NULL OR status = $2) \
                      AND ($3::text IS NULL OR (spec::jsonb -> 'scope' ->> 'kind') = $3)";
        let total: i64 = c
            .query_one(
                &format!("SELECT COUNT(*) FROM templates WHERE {filter}"),
                &[&f.stores, &status, &f.scope_kind],
            )
            .await?
            .get(0);
        let rows = c
            .query(
                &format!("SELECT {TEMPLATE_COLS} FROM templates WHERE {filter} AND ($4::text IS NULL OR id > $4) ORDER BY id LIMIT $5"),
                &[&f.stores, &status, &f.scope_kind, &f.cursor, &(i64::from(f.limit) + 1)],
            )
            .await?;
        let items = rows
            .iter()
            .map(template_record)
            .collect::<Result<Vec<_>>>()?;
        Ok(page_of(items, f.limit, total, |t| t.id.clone()))
    }

    async fn update_template(
        &self,
        u: TemplateUpdate,
    ) -> Result<Result<TemplateRecord, ErrorCode>> {
        let mut c = self.pool.get().await?;
        let tx = c.transaction().await?;
        let Some(current) = get_template(&tx, &u.id, true).await? else {
            return Ok(Err(ErrorCode::NotFound));
        };
        if current.status != TemplateStatus::Draft {
            return Ok(Err(ErrorCode::InvalidState));
        }
        let spec = u.template.spec();
        let json = serde_json::to_string(spec).expect("spec serializes");
        tx.execute(
            "UPDATE templates SET spec = $2, store_id = $3, stock = $4, remaining = $4, version = version + 1, updated_at = $5 WHERE id = $1",
            &[&u.id, &json, &spec.scope.store_id(), &spec.stock, &micros(u.now)],
        )
        .await?;
        let t = get_template(&tx, &u.id, false)
            .await?
            .ok_or_else(|| StoreError::Corrupt("template vanished".into()))?;
        tx.commit().await?;
        Ok(Ok(t))
    }

    async fn set_template_status(
        &self,
        id: &str,
        action: StatusAction,
        now: Timestamp,
    ) -> Result<Result<TemplateRecord, ErrorCode>> {
        let mut c = self.pool.get().await?;
        let tx = c.transaction().await?;
        let Some(current) = get_template(&tx, id, true).await? else {
            return Ok(Err(ErrorCode::NotFound));
        };
        let Some(next) = current.status.apply(action) else {
            return Ok(Err(ErrorCode::InvalidState));
        };
        tx.execute(
            "UPDATE templates SET status = $2, updated_at = $3 WHERE id = $1",
            &[&id, &next.as_str(), &micros(now)],
        )
        .await?;
        let t = get_template(&tx, id, false)
            .await?
            .ok_or_else(|| StoreError::Corrupt("template vanished".into()))?;
        tx.commit().await?;
        Ok(Ok(t))
    }
}
