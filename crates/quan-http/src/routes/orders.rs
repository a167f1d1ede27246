//! Orders: lock the chosen coupons to an order, redeem them on payment, release them on cancel,
//! and give money and coupons back on refund.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use quan_app::orders::{AnyOrder, OrderBody, OrderView, RefundBody, RefundView};
use quan_core::text::Id;

use super::created;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Body, Caller, PathIds};
use crate::AppState;

/// Prices the cart with exactly `coupon_ids` and locks them to the order, all or none. The same
/// request again answers the order; the same `order_id` with another request answers 409.
#[utoipa::path(post, path = "/v1/orders", tag = "orders", operation_id = "orders_create", request_body = OrderBody,
    responses((status = 201, body = OrderView), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Caller(p): Caller,
    Body(body, _): Body<OrderBody>,
) -> ApiResult<(StatusCode, Json<OrderView>)> {
    Ok(created(state.app.create_order(&p, body).await?))
}

/// One order: a checkout order with its pricing, or else an order of a member's history.
#[utoipa::path(get, path = "/v1/orders/{order_id}", tag = "orders", operation_id = "orders_get", params(("order_id" = String, Path)),
    responses((status = 200, body = AnyOrder, description = "a checkout order (`OrderView`) or an ingested one (`HistoryOrderView`)"), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Caller(p): Caller,
    PathIds(id): PathIds<Id>,
) -> ApiResult<Json<AnyOrder>> {
    Ok(Json(state.app.any_order(&p, &id).await?))
}

/// Redeems the order's locked coupons (payment succeeded). Paying twice answers the paid order.
#[utoipa::path(post, path = "/v1/orders/{order_id}/pay", tag = "orders", operation_id = "orders_pay", params(("order_id" = String, Path)),
    responses((status = 200, body = OrderView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn pay(
    State(state): State<AppState>,
    Caller(p): Caller,
    PathIds(id): PathIds<Id>,
) -> ApiResult<Json<OrderView>> {
    Ok(Json(state.app.pay_order(&p, &id).await?))
}

/// Releases the order's coupons back to the wallet. Refused once paid.
#[utoipa::path(post, path = "/v1/orders/{order_id}/cancel", tag = "orders", operation_id = "orders_cancel", params(("order_id" = String, Path)),
    responses((status = 200, body = OrderView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    Caller(p): Caller,
    PathIds(id): PathIds<Id>,
) -> ApiResult<Json<OrderView>> {
    Ok(Json(state.app.cancel_order(&p, &id).await?))
}

/// Refunds units of a paid order's lines from the stored apportionment.
#[utoipa::path(post, path = "/v1/orders/{order_id}/refund", tag = "orders", operation_id = "orders_refund", params(("order_id" = String, Path)), request_body = RefundBody,
    responses((status = 200, body = RefundView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn refund(
    State(state): State<AppState>,
    Caller(p): Caller,
    PathIds(id): PathIds<Id>,
    Body(body, _): Body<RefundBody>,
) -> ApiResult<Json<RefundView>> {
    Ok(Json(state.app.refund_order(&p, &id, body).await?))
}
