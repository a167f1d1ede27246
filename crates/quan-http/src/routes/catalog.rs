//! The catalog the SCRM reads: stores and products (with department and category).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use jiff::Timestamp;
use quan_core::access::Role;
use quan_core::ErrorCode;
use quan_store::scrm::{ProductRecord, StoreRecord, Written};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::members::text;
use super::{PageBody, Paging, Q};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::json::Body;
use crate::AppState;

fn optional(field: &str, v: &Option<String>) -> ApiResult<()> {
    v.as_deref().map_or(Ok(()), |v| text(field, v))
}

fn object(v: Option<serde_json::Value>) -> ApiResult<serde_json::Value> {
    let v = v.unwrap_or_else(|| serde_json::json!({}));
    if !v.is_object() {
        return Err(ApiError::field(
            ErrorCode::InvalidType,
            "attributes",
            "must be an object",
        ));
    }
    Ok(v)
}

fn status(w: Written) -> StatusCode {
    if w == Written::Inserted {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreBody {
    pub name: Option<String>,
    pub region: Option<String>,
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
pub fn store(id: String, body: StoreBody, now: Timestamp) -> ApiResult<StoreRecord> {
    text("id", &id)?;
    optional("name", &body.name)?;
    optional("region", &body.region)?;
    Ok(StoreRecord {
        id,
        name: body.name,
        region: body.region,
        attributes: object(body.attributes)?,
        updated_at: now,
    })
}

/// Creates or replaces a store: `201` new, `200` otherwise.
#[utoipa::path(put, path = "/v1/stores/{id}", tag = "catalog", params(("id" = String, Path)), request_body = StoreBody,
    responses((status = 200, body = StoreView), (status = 201, body = StoreView), (status = 422, body = ErrorBody)))]
pub async fn put_store(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body, _): Body<StoreBody>,
) -> ApiResult<(StatusCode, Json<StoreView>)> {
    caller.require(&[Role::Platform])?;
    let record = store(id, body, state.now())?;
    let written = state.store.put_stores(vec![record.clone()]).await?[0];
    let saved = state
        .store
        .store_record(&record.id)
        .await?
        .unwrap_or(record);
    Ok((status(written), Json(saved.into())))
}

/// One store.
#[utoipa::path(get, path = "/v1/stores/{id}", tag = "catalog", params(("id" = String, Path)),
    responses((status = 200, body = StoreView), (status = 404, body = ErrorBody)))]
pub async fn get_store(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<StoreView>> {
    caller.require(&[Role::Platform, Role::Merchant])?;
    let s = state
        .store
        .store_record(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("store"))?;
    Ok(Json(s.into()))
}

/// Stores in id order.
#[utoipa::path(get, path = "/v1/stores", tag = "catalog", params(Paging), responses((status = 200, body = PageBody<StoreView>)))]
pub async fn list_stores(
    State(state): State<AppState>,
    caller: Caller,
    Q(p): Q<Paging>,
) -> ApiResult<Json<PageBody<StoreView>>> {
    caller.require(&[Role::Platform])?;
    Ok(PageBody::from(
        state
            .store
            .list_stores(p.limit()?, p.cursor.clone())
            .await?,
        StoreView::from,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductBody {
    pub name: Option<String>,
    /// The store that sells it (absent: every store).
    pub store_id: Option<String>,
    pub department: Option<String>,
    /// The category coupons and segment rules read.
    pub category: Option<String>,
    pub brand: Option<String>,
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
pub fn product(sku: String, body: ProductBody, now: Timestamp) -> ApiResult<ProductRecord> {
    text("sku", &sku)?;
    for (f, v) in [
        ("name", &body.name),
        ("store_id", &body.store_id),
        ("department", &body.department),
        ("category", &body.category),
        ("brand", &body.brand),
    ] {
        optional(f, v)?;
    }
    Ok(ProductRecord {
        id: sku,
        name: body.name,
        store_id: body.store_id,
        department: body.department,
        category: body.category,
        brand: body.brand,
        attributes: object(body.attributes)?,
        updated_at: now,
    })
}

/// Creates or replaces a product (by SKU): `201` new, `200` otherwise.
#[utoipa::path(put, path = "/v1/products/{sku}", tag = "catalog", params(("sku" = String, Path)), request_body = ProductBody,
    responses((status = 200, body = ProductView), (status = 201, body = ProductView), (status = 422, body = ErrorBody)))]
pub async fn put_product(
    State(state): State<AppState>,
    caller: Caller,
    Path(sku): Path<String>,
    Body(body, _): Body<ProductBody>,
) -> ApiResult<(StatusCode, Json<ProductView>)> {
    caller.require(&[Role::Platform])?;
    let record = product(sku, body, state.now())?;
    let written = state.store.put_products(vec![record.clone()]).await?[0];
    let saved = state.store.product(&record.id).await?.unwrap_or(record);
    Ok((status(written), Json(saved.into())))
}

/// One product.
#[utoipa::path(get, path = "/v1/products/{sku}", tag = "catalog", params(("sku" = String, Path)),
    responses((status = 200, body = ProductView), (status = 404, body = ErrorBody)))]
pub async fn get_product(
    State(state): State<AppState>,
    caller: Caller,
    Path(sku): Path<String>,
) -> ApiResult<Json<ProductView>> {
    caller.require(&[Role::Platform, Role::Merchant])?;
    let p = state
        .store
        .product(&sku)
        .await?
        .ok_or_else(|| ApiError::not_found("product"))?;
    Ok(Json(p.into()))
}

/// Products in SKU order.
#[utoipa::path(get, path = "/v1/products", tag = "catalog", params(Paging), responses((status = 200, body = PageBody<ProductView>)))]
pub async fn list_products(
    State(state): State<AppState>,
    caller: Caller,
    Q(p): Q<Paging>,
) -> ApiResult<Json<PageBody<ProductView>>> {
    caller.require(&[Role::Platform])?;
    Ok(PageBody::from(
        state
            .store
            .list_products(p.limit()?, p.cursor.clone())
            .await?,
        ProductView::from,
    ))
}
