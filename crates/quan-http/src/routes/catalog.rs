//! The catalog the SCRM reads: stores and products (with department and category).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use quan_app::catalog::{ProductBody, ProductView, StoreBody, StoreView};
use quan_app::page::{PageBody, Paging};
use quan_core::text::Id;

use super::written;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Body, Caller, PathIds, QueryParams};
use crate::AppState;

/// Creates or replaces a store: `201` new, `200` otherwise.
#[utoipa::path(put, path = "/v1/stores/{id}", tag = "catalog", operation_id = "stores_put", params(("id" = String, Path)), request_body = StoreBody,
    responses((status = 200, body = StoreView), (status = 201, body = StoreView), (status = 422, body = ErrorBody)))]
pub async fn put_store(
    State(state): State<AppState>,
    Caller(p): Caller,
    PathIds(id): PathIds<Id>,
    Body(body, _): Body<StoreBody>,
) -> ApiResult<(StatusCode, Json<StoreView>)> {
    let (w, view) = state.app.put_store(&p, id, body).await?;
    Ok(written(w, view))
}

/// One store (a merchant: its own; another's reads as not found).
#[utoipa::path(get, path = "/v1/stores/{id}", tag = "catalog", operation_id = "stores_get", params(("id" = String, Path)),
    responses((status = 200, body = StoreView), (status = 404, body = ErrorBody)))]
pub async fn get_store(
    State(state): State<AppState>,
    Caller(p): Caller,
    PathIds(id): PathIds<Id>,
) -> ApiResult<Json<StoreView>> {
    Ok(Json(state.app.store_view(&p, &id).await?))
}

/// Stores in id order.
#[utoipa::path(get, path = "/v1/stores", tag = "catalog", operation_id = "stores_list", params(Paging), responses((status = 200, body = PageBody<StoreView>)))]
pub async fn list_stores(
    State(state): State<AppState>,
    Caller(p): Caller,
    QueryParams(paging): QueryParams<Paging>,
) -> ApiResult<Json<PageBody<StoreView>>> {
    Ok(Json(state.app.list_stores(&p, paging).await?))
}

/// Creates or replaces a product (by SKU): `201` new, `200` otherwise.
#[utoipa::path(put, path = "/v1/products/{sku}", tag = "catalog", operation_id = "products_put", params(("sku" = String, Path)), request_body = ProductBody,
    responses((status = 200, body = ProductView), (status = 201, body = ProductView), (status = 422, body = ErrorBody)))]
pub async fn put_product(
    State(state): State<AppState>,
    Caller(p): Caller,
    PathIds(sku): PathIds<Id>,
    Body(body, _): Body<ProductBody>,
) -> ApiResult<(StatusCode, Json<ProductView>)> {
    let (w, view) = state.app.put_product(&p, sku, body).await?;
    Ok(written(w, view))
}

/// One product (a merchant: those of its stores and those every store sells).
#[utoipa::path(get, path = "/v1/products/{sku}", tag = "catalog", operation_id = "products_get", params(("sku" = String, Path)),
    responses((status = 200, body = ProductView), (status = 404, body = ErrorBody)))]
pub async fn get_product(
    State(state): State<AppState>,
    Caller(p): Caller,
    PathIds(sku): PathIds<Id>,
) -> ApiResult<Json<ProductView>> {
    Ok(Json(state.app.product_view(&p, &sku).await?))
}

/// Products in SKU order.
#[utoipa::path(get, path = "/v1/products", tag = "catalog", operation_id = "products_list", params(Paging), responses((status = 200, body = PageBody<ProductView>)))]
pub async fn list_products(
    State(state): State<AppState>,
    Caller(p): Caller,
    QueryParams(paging): QueryParams<Paging>,
) -> ApiResult<Json<PageBody<ProductView>>> {
    Ok(Json(state.app.list_products(&p, paging).await?))
}
