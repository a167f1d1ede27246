//! The catalog (stores and products) on SQLite.

use crate::scrm::*;
use async_trait::async_trait;
use rusqlite::{params, OptionalExtension};

use super::rows::*;
use super::SqliteStore;
use crate::model::*;
use crate::traits::*;
use crate::Result;

#[async_trait]
impl Catalog for SqliteStore {
    async fn put_stores(&self, stores: Vec<StoreRecord>) -> Result<Vec<Written>> {
        self.write_conn(move |tx, _| {
            let mut out = Vec::with_capacity(stores.len());
            for s in stores {
                let before = tx
                    .prepare_cached("SELECT id, name, region, attributes, updated_at FROM stores WHERE id = ?1")?
                    .query_row([&s.id], store_row)
                    .optional()?
                    .transpose()?;
                if before.as_ref().is_some_and(|b| (&b.name, &b.region, &b.attributes) == (&s.name, &s.region, &s.attributes)) {
                    out.push(Written::Unchanged);
                    continue;
                }
                tx.prepare_cached(
                    "INSERT INTO stores (id, name, region, attributes, updated_at) VALUES (?1, ?2, ?3, ?4, ?5) \
                     ON CONFLICT (id) DO UPDATE SET name = excluded.name, region = excluded.region, \
                     attributes = excluded.attributes, updated_at = excluded.updated_at",
                )?
                .execute(params![s.id, s.name, s.region, s.attributes.to_string(), micros(s.updated_at)])?;
                out.push(if before.is_some() { Written::Updated } else { Written::Inserted });
            }
            Ok(out)
        })
        .await
    }

    async fn store_record(&self, id: &str) -> Result<Option<StoreRecord>> {
        let id = id.to_string();
        self.read_point_conn(move |conn| {
            conn.prepare_cached(
                "SELECT id, name, region, attributes, updated_at FROM stores WHERE id = ?1",
            )?
            .query_row([&id], store_row)
            .optional()?
            .transpose()
        })
        .await
    }

    async fn list_stores(&self, limit: u32, cursor: Option<String>) -> Result<Page<StoreRecord>> {
        self.read_conn(move |conn| {
            id_page(
                conn,
                "stores",
                "id, name, region, attributes, updated_at",
                limit,
                cursor,
                store_row,
                |s| s.id.clone(),
            )
        })
        .await
    }

    async fn put_products(&self, products: Vec<ProductRecord>) -> Result<Vec<Written>> {
        self.write_conn(move |tx, _| {
            let mut out = Vec::with_capacity(products.len());
            for p in products {
                let before = tx
                    .prepare_cached(&format!("SELECT {PRODUCT_COLS} FROM products WHERE id = ?1"))?
                    .query_row([&p.id], product_row)
                    .optional()?
                    .transpose()?;
                if before.as_ref().is_some_and(|b| ProductRecord { updated_at: p.updated_at, ..b.clone() } == p) {
                    out.push(Written::Unchanged);
                    continue;
                }
                tx.prepare_cached(
                    "INSERT INTO products (id, name, store_id, department, category, brand, attributes, updated_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (id) DO UPDATE SET name = excluded.name, \
                     store_id = excluded.store_id, department = excluded.department, category = excluded.category, \
                     brand = excluded.brand, attributes = excluded.attributes, updated_at = excluded.updated_at",
                )?
                .execute(params![
                    p.id,
                    p.name,
                    p.store_id,
                    p.department,
                    p.category,
                    p.brand,
                    p.attributes.to_string(),
                    micros(p.updated_at)
                ])?;
                out.push(if before.is_some() { Written::Updated } else { Written::Inserted });
            }
            Ok(out)
        })
        .await
    }

    async fn product(&self, id: &str) -> Result<Option<ProductRecord>> {
        let id = id.to_string();
        self.read_point_conn(move |conn| {
            conn.prepare_cached(&format!(
                "SELECT {PRODUCT_COLS} FROM products WHERE id = ?1"
            ))?
            .query_row([&id], product_row)
            .optional()?
            .transpose()
        })
        .await
    }

    async fn list_products(
        &self,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<Page<ProductRecord>> {
        self.read_conn(move |conn| {
            id_page(
                conn,
                "products",
                PRODUCT_COLS,
                limit,
                cursor,
                product_row,
                |p| p.id.clone(),
            )
        })
        .await
    }
}
