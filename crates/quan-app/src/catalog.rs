//! The catalog the SCRM reads: stores and products (with department and category).
//!
//! A merchant reads its own stores, and the products of its stores (and those sold by every
//! store); any other id reads as not found, exactly like an id that does not exist.

use jiff::Timestamp;
use quan_core::access::{Principal, Role};
use quan_core::text::{Id, Label, Name};
use quan_store::scrm::{ProductRecord, StoreRecord, Written};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::events::object;
use crate::page::{PageBody, Paging};
use crate::{require, App, Error, Result};

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreBody {
    pub name: Option<Name>,
    pub region: Option<Label>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub attributes: Option<serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StoreView {
    pub id: String,
    pub name: Option<String>,
    pub region: Option<String>,
    #[schema(value_type = Object)]
    pub attributes: serde_json::Value,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<StoreRecord> for StoreView {
    fn from(s: StoreRecord) -> Self {
        StoreView {
            id: s.id,
            name: s.name,
            region: s.region,
            attributes: s.attributes,
            updated_at: s.updated_at,
        }
    }
}

/// Checks a store; the error names the field.
pub fn store(id: Id, body: StoreBody, now: Timestamp) -> Result<StoreRecord> {
    Ok(StoreRecord {
        id: id.into_string(),
        name: body.name.map(Into::into),
        region: body.region.map(Into::into),
        attributes: object("attributes", body.attributes)?,
        updated_at: now,
    })
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductBody {
    pub name: Option<Name>,
    /// The store that sells it (absent: every store).
    pub store_id: Option<Id>,
    pub department: Option<Label>,
    /// The category coupons and segment rules read.
    pub category: Option<Label>,
    pub brand: Option<Label>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub attributes: Option<serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductView {
    pub sku: String,
    pub name: Option<String>,
    pub store_id: Option<String>,
    pub department: Option<String>,
    pub category: Option<String>,
    pub brand: Option<String>,
    #[schema(value_type = Object)]
    pub attributes: serde_json::Value,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl From<ProductRecord> for ProductView {
    fn from(p: ProductRecord) -> Self {
        ProductView {
            sku: p.id,
            name: p.name,
            store_id: p.store_id,
            department: p.department,
            category: p.category,
            brand: p.brand,
            attributes: p.attributes,
            updated_at: p.updated_at,
        }
    }
}

/// Checks a product; the error names the field.
pub fn product(sku: Id, body: ProductBody, now: Timestamp) -> Result<ProductRecord> {
    Ok(ProductRecord {
        id: sku.into_string(),
        name: body.name.map(Into::into),
        store_id: body.store_id.map(Id::into_string),
        department: body.department.map(Into::into),
        category: body.category.map(Into::into),
        brand: body.brand.map(Into::into),
        attributes: object("attributes", body.attributes)?,
        updated_at: now,
    })
}

impl App {
    /// Creates or replaces a store.
    pub async fn put_store(
        &self,
        principal: &Principal,
        id: Id,
        body: StoreBody,
    ) -> Result<(Written, StoreView)> {
        require(principal, &[Role::Platform])?;
        let record = store(id, body, self.now())?;
        let written = self.store.put_stores(vec![record.clone()]).await?[0];
        let saved = self.store.store_record(&record.id).await?.unwrap_or(record);
        Ok((written, saved.into()))
    }

    /// One store: operators any, a merchant its own.
    pub async fn store_view(&self, principal: &Principal, id: &Id) -> Result<StoreView> {
        require(principal, &[Role::Platform, Role::Merchant])?;
        match self.store.store_record(id).await? {
            Some(s) if principal.owns_store(Some(&s.id)) => Ok(s.into()),
            _ => Err(Error::not_found("store")),
        }
    }

    /// Stores in id order.
    pub async fn list_stores(
        &self,
        principal: &Principal,
        paging: Paging,
    ) -> Result<PageBody<StoreView>> {
        require(principal, &[Role::Platform])?;
        let page = self
            .store
            .list_stores(paging.limit()?, paging.cursor)
            .await?;
        Ok(PageBody::from(page, StoreView::from))
    }

    /// Creates or replaces a product (by SKU).
    pub async fn put_product(
        &self,
        principal: &Principal,
        sku: Id,
        body: ProductBody,
    ) -> Result<(Written, ProductView)> {
        require(principal, &[Role::Platform])?;
        let record = product(sku, body, self.now())?;
        let written = self.store.put_products(vec![record.clone()]).await?[0];
        let saved = self.store.product(&record.id).await?.unwrap_or(record);
        Ok((written, saved.into()))
    }

    /// One product: operators any, a merchant those of its stores and those every store sells.
    pub async fn product_view(&self, principal: &Principal, sku: &Id) -> Result<ProductView> {
        require(principal, &[Role::Platform, Role::Merchant])?;
        match self.store.product(sku).await? {
            Some(p)
                if p.store_id.is_none() && principal.role == Role::Merchant
                    || principal.owns_store(p.store_id.as_deref()) =>
            {
                Ok(p.into())
            }
            _ => Err(Error::not_found("product")),
        }
    }

    /// Products in SKU order.
    pub async fn list_products(
        &self,
        principal: &Principal,
        paging: Paging,
    ) -> Result<PageBody<ProductView>> {
        require(principal, &[Role::Platform])?;
        let page = self
            .store
            .list_products(paging.limit()?, paging.cursor)
            .await?;
        Ok(PageBody::from(page, ProductView::from))
    }
}
