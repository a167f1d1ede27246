//! The catalog (stores and products) on PostgreSQL.

use crate::scrm::*;
use async_trait::async_trait;
use deadpool_postgres::GenericClient;

use super::rows::*;
use super::{exec, query_opt, retrying, PgStore};
use crate::model::*;
use crate::traits::*;
use crate::Result;

#[async_trait]
impl Catalog for PgStore {
    async fn put_stores(&self, stores: Vec<StoreRecord>) -> Result<Vec<Written>> {
        let stores = &stores;
        retrying(|| async move {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let mut out = Vec::with_capacity(stores.len());
        for s in stores {
            let before = query_opt(
                &tx,
                &format!("SELECT {STORE_COLS} FROM stores WHERE id = $1 FOR UPDATE"),
                &[&s.id],
            )
            .await?
            .as_ref()
            .map(store_record)
            .transpose()?;
            if before.as_ref().is_some_and(|b| {
                (&b.name, &b.region, &b.attributes) == (&s.name, &s.region, &s.attributes)
            }) {
                out.push(Written::Unchanged);
                continue;
            }
            exec(&tx,
                "INSERT INTO stores (id, name, region, attributes, updated_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, region = EXCLUDED.region, \
                 attributes = EXCLUDED.attributes, updated_at = EXCLUDED.updated_at",
                &[&s.id, &s.name, &s.region, &s.attributes.to_string(), &micros(s.updated_at)],
            )
            .await?;
            out.push(if before.is_some() {
                Written::Updated
            } else {
                Written::Inserted
            });
        }
        tx.commit().await?;
        Ok(out)
        })
        .await
    }

    async fn store_record(&self, id: &str) -> Result<Option<StoreRecord>> {
        let c = self.pool.get().await?;
        c.query_opt(
            &format!("SELECT {STORE_COLS} FROM stores WHERE id = $1"),
            &[&id],
        )
        .await?
        .as_ref()
        .map(store_record)
        .transpose()
    }

    async fn list_stores(&self, limit: u32, cursor: Option<String>) -> Result<Page<StoreRecord>> {
        let c = self.pool.get().await?;
        id_page(&c, "stores", STORE_COLS, limit, cursor, store_record, |s| {
            s.id.clone()
        })
        .await
    }

    async fn put_products(&self, products: Vec<ProductRecord>) -> Result<Vec<Written>> {
        let products = &products;
        retrying(|| async move {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let mut out = Vec::with_capacity(products.len());
        for p in products {
            let before = query_opt(
                &tx,
                &format!("SELECT {PRODUCT_COLS} FROM products WHERE id = $1 FOR UPDATE"),
                &[&p.id],
            )
            .await?
            .as_ref()
            .map(product_record)
            .transpose()?;
            if before.as_ref().is_some_and(|b| {
                ProductRecord {
                    updated_at: p.updated_at,
                    ..b.clone()
                } == *p
            }) {
                out.push(Written::Unchanged);
                continue;
            }
            exec(&tx,
                "INSERT INTO products (id, name, store_id, department, category, brand, attributes, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, \
                 store_id = EXCLUDED.store_id, department = EXCLUDED.department, category = EXCLUDED.category, \
                 brand = EXCLUDED.brand, attributes = EXCLUDED.attributes, updated_at = EXCLUDED.updated_at",
                &[
                    &p.id,
                    &p.name,
                    &p.store_id,
                    &p.department,
                    &p.category,
                    &p.brand,
                    &p.attributes.to_string(),
                    &micros(p.updated_at),
                ],
            )
            .await?;
            out.push(if before.is_some() {
                Written::Updated
            } else {
                Written::Inserted
            });
        }
        tx.commit().await?;
        Ok(out)
        })
        .await
    }

    async fn product(&self, id: &str) -> Result<Option<ProductRecord>> {
        let c = self.pool.get().await?;
        c.query_opt(
            &format!("SELECT {PRODUCT_COLS} FROM products WHERE id = $1"),
            &[&id],
        )
        .await?
        .as_ref()
        .map(product_record)
        .transpose()
    }

    async fn list_products(
        &self,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<Page<ProductRecord>> {
        let c = self.pool.get().await?;
        id_page(
            &c,
            "products",
            PRODUCT_COLS,
            limit,
            cursor,
            product_record,
            |p| p.id.clone(),
        )
        .await
    }
}
