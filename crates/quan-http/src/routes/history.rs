//! Members' orders (SCRM): ingestion from outside (`PUT /v1/orders/{id}`) and the order list.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use quan_app::history::{HistoryOrderView, IngestBody, OrderListQuery, OrderSummaryView};
use quan_app::page::PageBody;
use quan_core::text::Id;

use super::written;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Body, Caller, PathIds, QueryParams};
use crate::AppState;

/// Ingests an order from outside, idempotent by id: `201` new, `200` updated or unchanged,
/// `409` when the id is a checkout order's or another customer's order.
#[utoipa::path(put, path = "/v1/orders/{order_id}", tag = "orders", operation_id = "orders_ingest", params(("order_id" = String, Path)), request_body = IngestBody,
    responses((status = 200, body = HistoryOrderView), (status = 201, body = HistoryOrderView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put(
    State(state): State<AppState>,
    Caller(p): Caller,
    PathIds(id): PathIds<Id>,
    Body(body, _): Body<IngestBody>,
) -> ApiResult<(StatusCode, Json<HistoryOrderView>)> {
    let (w, view) = state.app.ingest_order(&p, id, body).await?;
    Ok(written(w, view))
}

/// Members' orders (ingested, and checkout orders once paid), in id order.
#[utoipa::path(get, path = "/v1/orders", tag = "orders", operation_id = "orders_list", params(OrderListQuery),
    responses((status = 200, body = PageBody<OrderSummaryView>)))]
pub async fn list(
    State(state): State<AppState>,
    Caller(p): Caller,
    QueryParams(q): QueryParams<OrderListQuery>,
) -> ApiResult<Json<PageBody<OrderSummaryView>>> {
    Ok(Json(state.app.list_history(&p, q).await?))
}
