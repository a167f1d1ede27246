//! The catalog: stores and products, upserted set-based.

use std::collections::HashMap;

use async_trait::async_trait;

use super::{id_page, json};
use crate::records::*;
use crate::scrm::{batch, *};
use crate::sql::{Column, Db, Engine, Row, Strings};
use crate::traits::Catalog;
use crate::Result;

const STORE_COLS: &str = "id, name, region, attributes, updated_at";
const PRODUCT_COLS: &str =
    "id, name, store_id, department, category, brand, attributes, updated_at";

fn store_record(r: &Row) -> Result<StoreRecord> {
    Ok(StoreRecord {
        id: r.get(0)?,
        name: r.get(1)?,
        region: r.get(2)?,
        attributes: json(&r.get::<String>(3)?, "store attributes")?,
        updated_at: r.time(4)?,
    })
}

fn product_record(r: &Row) -> Result<ProductRecord> {
    Ok(ProductRecord {
        id: r.get(0)?,
        name: r.get(1)?,
        store_id: r.get(2)?,
        department: r.get(3)?,
        category: r.get(4)?,
        brand: r.get(5)?,
        attributes: json(&r.get::<String>(6)?, "product attributes")?,
        updated_at: r.time(7)?,
    })
}

/// What writing a catalog record does: `Unchanged` when `same` says its content (all but the
/// time of the write) is what is stored.
fn written<T>(before: Option<&T>, new: &T, same: fn(&T, &T) -> bool) -> Written {
    match before {
        None => Written::Inserted,
        Some(b) if same(b, new) => Written::Unchanged,
        Some(_) => Written::Updated,
    }
}

fn same_store(a: &StoreRecord, b: &StoreRecord) -> bool {
    (&a.name, &a.region, &a.attributes) == (&b.name, &b.region, &b.attributes)
}

fn same_product(a: &ProductRecord, b: &ProductRecord) -> bool {
    ProductRecord {
        updated_at: b.updated_at,
        ..a.clone()
    } == *b
}

fn texts<T>(rows: &[&T], f: impl Fn(&T) -> String) -> Vec<String> {
    rows.iter().map(|r| f(r)).collect()
}

fn maybe<T>(rows: &[&T], f: impl Fn(&T) -> &Option<String>) -> Vec<Option<String>> {
    rows.iter().map(|r| f(r).clone()).collect()
}

async fn upsert_stores(db: &mut Db<'_>, rows: &[&StoreRecord]) -> Result<u64> {
    let at: Vec<i64> = rows.iter().map(|s| micros(s.updated_at)).collect();
    db.execute_rows(
        "INSERT INTO stores (id, name, region, attributes, updated_at) \
         SELECT x.id, x.name, x.region, x.attributes, x.updated_at FROM {rows} WHERE true \
         ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, region = EXCLUDED.region, \
         attributes = EXCLUDED.attributes, updated_at = EXCLUDED.updated_at",
        &[],
        &[
            ("id", Column::Text(&texts(rows, |s| s.id.clone()))),
            ("name", Column::MaybeText(&maybe(rows, |s| &s.name))),
            ("region", Column::MaybeText(&maybe(rows, |s| &s.region))),
            (
                "attributes",
                Column::Text(&texts(rows, |s| s.attributes.to_string())),
            ),
            ("updated_at", Column::Int(&at)),
        ],
    )
    .await
}

async fn upsert_products(db: &mut Db<'_>, rows: &[&ProductRecord]) -> Result<u64> {
    let at: Vec<i64> = rows.iter().map(|p| micros(p.updated_at)).collect();
    db.execute_rows(
        "INSERT INTO products (id, name, store_id, department, category, brand, attributes, updated_at) \
         SELECT x.id, x.name, x.store_id, x.department, x.category, x.brand, x.attributes, x.updated_at \
         FROM {rows} WHERE true ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, \
         store_id = EXCLUDED.store_id, department = EXCLUDED.department, category = EXCLUDED.category, \
         brand = EXCLUDED.brand, attributes = EXCLUDED.attributes, updated_at = EXCLUDED.updated_at",
        &[],
        &[
            ("id", Column::Text(&texts(rows, |p| p.id.clone()))),
            ("name", Column::MaybeText(&maybe(rows, |p| &p.name))),
            ("store_id", Column::MaybeText(&maybe(rows, |p| &p.store_id))),
            ("department", Column::MaybeText(&maybe(rows, |p| &p.department))),
            ("category", Column::MaybeText(&maybe(rows, |p| &p.category))),
            ("brand", Column::MaybeText(&maybe(rows, |p| &p.brand))),
            ("attributes", Column::Text(&texts(rows, |p| p.attributes.to_string()))),
            ("updated_at", Column::Int(&at)),
        ],
    )
    .await
}

#[async_trait]
impl<E: Engine> Catalog for E {
    async fn put_stores(&self, stores: Vec<StoreRecord>) -> Result<Vec<Written>> {
        self.write(stores, |db, stores| {
            Box::pin(async move {
                let ids: Vec<String> = stores.iter().map(|s| s.id.clone()).collect();
                let before: HashMap<String, StoreRecord> = db
                    .query(
                        &format!("SELECT {STORE_COLS} FROM stores WHERE id = ANY($1) ORDER BY id FOR UPDATE"),
                        &[&Strings(&ids)],
                        store_record,
                    )
                    .await?
                    .into_iter()
                    .map(|s| (s.id.clone(), s))
                    .collect();
                let planned = batch::plan(
                    before,
                    stores,
                    |s| &s.id,
                    |b, s| written(b, s, same_store),
                    Clone::clone,
                );
                upsert_stores(db, &planned.rows).await?;
                Ok(planned.written)
            })
        })
        .await
    }

    async fn store_record(&self, id: &str) -> Result<Option<StoreRecord>> {
        let id = id.to_string();
        self.read_point(move |db| {
            Box::pin(async move {
                db.query_opt(
                    &format!("SELECT {STORE_COLS} FROM stores WHERE id = $1"),
                    &[&id],
                    store_record,
                )
                .await
            })
        })
        .await
    }

    async fn list_stores(&self, limit: u32, cursor: Option<String>) -> Result<Page<StoreRecord>> {
        self.read(move |db| {
            Box::pin(async move {
                id_page(db, "stores", STORE_COLS, limit, cursor, store_record, |s| {
                    s.id.clone()
                })
                .await
            })
        })
        .await
    }

    async fn put_products(&self, products: Vec<ProductRecord>) -> Result<Vec<Written>> {
        self.write(products, |db, products| {
            Box::pin(async move {
                let ids: Vec<String> = products.iter().map(|p| p.id.clone()).collect();
                let before: HashMap<String, ProductRecord> = db
                    .query(
                        &format!("SELECT {PRODUCT_COLS} FROM products WHERE id = ANY($1) ORDER BY id FOR UPDATE"),
                        &[&Strings(&ids)],
                        product_record,
                    )
                    .await?
                    .into_iter()
                    .map(|p| (p.id.clone(), p))
                    .collect();
                let planned = batch::plan(
                    before,
                    products,
                    |p| &p.id,
                    |b, p| written(b, p, same_product),
                    Clone::clone,
                );
                upsert_products(db, &planned.rows).await?;
                Ok(planned.written)
            })
        })
        .await
    }

    async fn product(&self, id: &str) -> Result<Option<ProductRecord>> {
        let id = id.to_string();
        self.read_point(move |db| {
            Box::pin(async move {
                db.query_opt(
                    &format!("SELECT {PRODUCT_COLS} FROM products WHERE id = $1"),
                    &[&id],
                    product_record,
                )
                .await
            })
        })
        .await
    }

    async fn list_products(
        &self,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<Page<ProductRecord>> {
        self.read(move |db| {
            Box::pin(async move {
                id_page(
                    db,
                    "products",
                    PRODUCT_COLS,
                    limit,
                    cursor,
                    product_record,
                    |p| p.id.clone(),
                )
                .await
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::Timestamp;

    #[test]
    fn a_new_write_time_alone_changes_nothing() {
        let s = StoreRecord {
            id: "s1".into(),
            name: Some("Main".into()),
            region: None,
            attributes: serde_json::json!({}),
            updated_at: Timestamp::UNIX_EPOCH,
        };
        let later = StoreRecord {
            updated_at: Timestamp::MAX,
            ..s.clone()
        };
        let renamed = StoreRecord {
            name: None,
            ..later.clone()
        };
        assert_eq!(written(None, &s, same_store), Written::Inserted);
        assert_eq!(written(Some(&s), &later, same_store), Written::Unchanged);
        assert_eq!(written(Some(&s), &renamed, same_store), Written::Updated);
    }
}
