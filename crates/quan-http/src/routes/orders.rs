//! Orders: lock the chosen coupons to an order, redeem them on payment, release them on cancel,
//! and give money and coupons back on refund.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use jiff::{SignedDuration, Timestamp};
use quan_core::access::{Principal, Role};
use quan_core::checkout::refund::{paid_lines, LineRefund, RefundAsk};
use quan_core::checkout::{Cart, Line, Quote, QuoteContext, QuoteError};
use quan_core::template::Channel;
use quan_core::ErrorCode;
use quan_store::{LockRefusal, NewOrder, OrderRecord};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::checkout::{order_number, owned_offers, price};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::json::Body;
use crate::AppState;

/// How long an order holds its coupons unless paid or cancelled first (default).
const LOCK_SECONDS: i64 = 15 * 60;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderBody {
    pub order_id: String,
    pub user_id: String,
    #[serde(default)]
    pub channel: Option<Channel>,
    #[serde(default)]
    pub region: Option<String>,
    pub lines: Vec<Line>,
    #[serde(default)]
    pub shipping: Option<BTreeMap<String, i64>>,
    /// Exactly the coupons to lock (empty: none).
    pub coupon_ids: Vec<String>,
    /// How long the lock holds, 60..=86400 seconds (default 900).
    #[serde(default)]
    pub lock_seconds: Option<i64>,
}

/// An order with the pricing of its coupons.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderView {
    pub order_id: String,
    pub user_id: String,
    /// `locked`, `paid`, `cancelled`, or `expired` (the lock lapsed before payment).
    pub status: String,
    #[schema(value_type = String, format = DateTime)]
    pub lock_until: Timestamp,
    pub coupon_ids: Vec<String>,
    #[serde(flatten)]
    pub quote: Quote,
}

fn view(o: OrderRecord) -> ApiResult<OrderView> {
    let quote: Quote =
        serde_json::from_str(&o.quote).map_err(|_| ApiError::code(ErrorCode::Internal))?;
    Ok(OrderView {
        order_id: o.id,
        user_id: o.user_id,
        status: o.status.to_string(),
        lock_until: o.lock_until,
        coupon_ids: o.coupon_ids,
        quote,
    })
}

fn text(field: &str, v: &str) -> ApiResult<()> {
    if v.trim().is_empty() || v.len() > 128 {
        return Err(ApiError::field(
            ErrorCode::InvalidValue,
            field,
            "must be 1..128 characters",
        ));
    }
    Ok(())
}

async fn visible(state: &AppState, principal: &Principal, id: &str) -> ApiResult<OrderRecord> {
    match state.store.order(id).await? {
        Some(o) if principal.speaks_for(&o.user_id) => Ok(o),
        _ => Err(ApiError::not_found("order")),
    }
}

/// Prices the cart with exactly `coupon_ids` and locks them to the order, all or none.
#[utoipa::path(post, path = "/v1/orders", tag = "orders", request_body = OrderBody,
    responses((status = 201, body = OrderView), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Body(body, raw): Body<OrderBody>,
) -> ApiResult<(StatusCode, Json<OrderView>)> {
    let principal = caller.require(&[Role::Platform, Role::Customer])?;
    text("order_id", &body.order_id)?;
    text("user_id", &body.user_id)?;
    if !principal.speaks_for(&body.user_id) {
        return Err(ApiError::field(
            ErrorCode::Forbidden,
            "user_id",
            "a customer key orders for its own user only",
        ));
    }
    let request_hash = hash(&raw);
    // A retry of a locked order answers the order as it stands.
    if let Some(existing) = state.store.order(&body.order_id).await? {
        return if principal.speaks_for(&existing.user_id) && existing.user_id == body.user_id {
            Ok((StatusCode::CREATED, Json(view(existing)?)))
        } else {
            Err(ApiError::field(
                ErrorCode::Conflict,
                "order_id",
                "an order with this id exists",
            ))
        };
    }
    if state.store.history_order(&body.order_id).await?.is_some() {
        return Err(ApiError::field(
            ErrorCode::Conflict,
            "order_id",
            "an ingested order has this id",
        ));
    }
    let lock_seconds = body.lock_seconds.unwrap_or(LOCK_SECONDS);
    if !(60..=86_400).contains(&lock_seconds) {
        return Err(ApiError::field(
            ErrorCode::InvalidValue,
            "lock_seconds",
            "must be within 60..86400",
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, id) in body.coupon_ids.iter().enumerate() {
        if !seen.insert(id) {
            return Err(ApiError::field(
                ErrorCode::InvalidValue,
                format!("coupon_ids[{i}]"),
                "each coupon once",
            ));
        }
    }
    let cart = Cart::parse(
        body.lines.clone(),
        body.shipping.clone().unwrap_or_default(),
    )?;
    let now = state.now();
    // Locked coupons are candidates too: a lock that lapsed is taken over (the store checks).
    let wallet = state
        .store
        .usable_coupons(&body.user_id, now, true, 500)
        .await?;
    for (i, id) in body.coupon_ids.iter().enumerate() {
        if !wallet.iter().any(|c| &c.id == id) {
            return Err(ApiError::field(
                ErrorCode::CouponNotUsable,
                format!("coupon_ids[{i}]"),
                "not a usable coupon of this member's wallet",
            ));
        }
    }
    let chosen: Vec<_> = wallet
        .into_iter()
        .filter(|c| body.coupon_ids.contains(&c.id))
        .collect();
    let offers = owned_offers(&state, &chosen).await?;
    let order_number = order_number(&state, &body.user_id, &offers).await?;
    let ctx = QuoteContext {
        at: now,
        zone: state.zone.clone(),
        channel: body.channel,
        region: body.region.clone(),
        order_number,
    };
    let quote = match price(cart.clone(), offers, ctx, body.coupon_ids.clone(), vec![]).await? {
        Ok(q) => q,
        Err(QuoteError::PinNotApplicable(id)) => {
            let i = body.coupon_ids.iter().position(|c| *c == id).unwrap_or(0);
            return Err(ApiError::field(
                ErrorCode::CouponNotUsable,
                format!("coupon_ids[{i}]"),
                "this coupon cannot apply to this cart",
            ));
        }
        Err(QuoteError::TooComplex) => return Err(ApiError::code(ErrorCode::TooComplex)),
    };
    let order = NewOrder {
        id: body.order_id.clone(),
        user_id: body.user_id.clone(),
        request_hash,
        quote: serde_json::to_string(&quote).expect("quote serializes"),
        lines: paid_lines(cart.lines(), &quote),
        coupon_ids: body.coupon_ids.clone(),
        payable: quote.payable,
        lock_until: now + SignedDuration::from_secs(lock_seconds),
        now,
        actor: principal.key_id.clone(),
    };
    match state.store.lock_order(order).await? {
        Ok(o) => Ok((StatusCode::CREATED, Json(view(o)?))),
        Err(LockRefusal::Conflict) => Err(ApiError::field(
            ErrorCode::Conflict,
            "order_id",
            "an order with this id exists",
        )),
        Err(LockRefusal::CouponNotUsable(id)) => {
            let i = body.coupon_ids.iter().position(|c| *c == id).unwrap_or(0);
            Err(ApiError::field(
                ErrorCode::CouponNotUsable,
                format!("coupon_ids[{i}]"),
                "the coupon was taken or is no longer valid",
            ))
        }
    }
}

fn hash(raw: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    quan_store::hex(&Sha256::digest(raw))
}

/// One order: a checkout order with its pricing, or else an order of a member's history.
#[utoipa::path(get, path = "/v1/orders/{order_id}", tag = "orders", params(("order_id" = String, Path)),
    responses((status = 200, body = OrderView, description = "a checkout order (an ingested one answers `HistoryOrderView`)"), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let principal = caller.require(&[Role::Platform, Role::Customer])?;
    if state.store.order(&id).await?.is_none() {
        if let Some(h) = super::history::history_view(&state, &id).await? {
            if principal.speaks_for(&h.order.user_id) {
                return Ok(Json(h).into_response());
            }
        }
    }
    Ok(Json(view(visible(&state, principal, &id).await?)?).into_response())
}

fn state_error(code: ErrorCode, what: &str) -> ApiError {
    match code {
        ErrorCode::InvalidState => ApiError::new(ErrorCode::InvalidState, what),
        code => ApiError::code(code),
    }
}

/// Redeems the order's locked coupons (payment succeeded). Paying twice answers the paid order.
#[utoipa::path(post, path = "/v1/orders/{order_id}/pay", tag = "orders", params(("order_id" = String, Path)),
    responses((status = 200, body = OrderView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn pay(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<OrderView>> {
    let principal = caller.require(&[Role::Platform])?;
    visible(&state, principal, &id).await?;
    match state
        .store
        .pay_order(&id, state.now(), &principal.key_id)
        .await?
    {
        Ok(o) => Ok(Json(view(o)?)),
        Err(code) => Err(state_error(
            code,
            "the order was cancelled or its lock lapsed",
        )),
    }
}

/// Releases the order's coupons back to the wallet. Refused once paid.
#[utoipa::path(post, path = "/v1/orders/{order_id}/cancel", tag = "orders", params(("order_id" = String, Path)),
    responses((status = 200, body = OrderView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<OrderView>> {
    let principal = caller.require(&[Role::Platform, Role::Customer])?;
    visible(&state, principal, &id).await?;
    match state
        .store
        .cancel_order(&id, state.now(), &principal.key_id)
        .await?
    {
        Ok(o) => Ok(Json(view(o)?)),
        Err(code) => Err(state_error(code, "a paid order is refunded, not cancelled")),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundBody {
    pub lines: Vec<RefundAsk>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShippingRefund {
    pub store_id: String,
    pub amount: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RefundView {
    pub order_id: String,
    /// Money back in all.
    pub amount: i64,
    pub lines: Vec<LineRefund>,
    /// Shipping paid for a store's shipment, returned with its last line.
    pub shipping: Vec<ShippingRefund>,
    /// Coupons given back (claimed again while still valid, otherwise expired).
    pub coupons_back: Vec<String>,
}

/// Refunds units of a paid order's lines from the stored apportionment.
#[utoipa::path(post, path = "/v1/orders/{order_id}/refund", tag = "orders", params(("order_id" = String, Path)), request_body = RefundBody,
    responses((status = 200, body = RefundView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn refund(
    State(state): State<AppState>,
    caller: Caller,
    idem_header: super::IdempotencyHeader,
    Path(id): Path<String>,
    Body(body, raw): Body<RefundBody>,
) -> ApiResult<Response> {
    let principal = caller.require(&[Role::Platform])?.clone();
    visible(&state, &principal, &id).await?;
    let idem = crate::routes::idempotency_key(
        &idem_header,
        &principal.key_id,
        &format!("refund {id}"),
        &raw,
    )?;
    Ok(crate::routes::once(&state, idem, || async {
        let (order, plan) = state
            .store
            .refund_order(&id, body.lines, state.now(), &principal.key_id)
            .await?
            .map_err(ApiError::from)?;
        let shipping: Vec<ShippingRefund> = plan
            .shipping
            .iter()
            .map(|(store, amount)| ShippingRefund {
                store_id: store.clone(),
                amount: *amount,
            })
            .collect();
        let amount = plan.lines.iter().map(|l| l.amount).sum::<i64>()
            + shipping.iter().map(|s| s.amount).sum::<i64>();
        let out = RefundView {
            order_id: order.id,
            amount,
            lines: plan.lines,
            shipping,
            coupons_back: plan.coupons_back,
        };
        Ok((
            StatusCode::OK,
            serde_json::to_value(out).expect("serializes"),
        ))
    })
    .await)
}
