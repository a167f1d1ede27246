//! Wallets: a user's coupons by status, one coupon with its ledger, revocation, and
//! redemption at a store counter.

use axum::extract::State;
use axum::Json;
use quan_app::counter::{RedeemBody, RedeemView};
use quan_app::page::PageBody;
use quan_app::wallet::{CouponDetail, CouponView, RevokeBody, WalletParams};
use quan_core::text::Id;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Body, Caller, PathIds, QueryParams};
use crate::AppState;

/// A user's coupons, optionally by status.
#[utoipa::path(get, path = "/v1/users/{user_id}/coupons", tag = "wallet", operation_id = "wallet_list", params(("user_id" = String, Path), WalletParams),
    responses((status = 200, body = PageBody<CouponView>), (status = 403, body = ErrorBody)))]
pub async fn wallet(
    State(state): State<AppState>,
    Caller(p): Caller,
    PathIds(user_id): PathIds<Id>,
    QueryParams(q): QueryParams<WalletParams>,
) -> ApiResult<Json<PageBody<CouponView>>> {
    Ok(Json(state.app.wallet(&p, user_id, q).await?))
}

/// One coupon with its ledger.
#[utoipa::path(get, path = "/v1/coupons/{id}", tag = "wallet", operation_id = "wallet_coupon", params(("id" = String, Path)),
    responses((status = 200, body = CouponDetail), (status = 404, body = ErrorBody)))]
pub async fn coupon(
    State(state): State<AppState>,
    Caller(p): Caller,
    PathIds(id): PathIds<Id>,
) -> ApiResult<Json<CouponDetail>> {
    Ok(Json(state.app.coupon(&p, &id).await?))
}

/// Revokes a claimed coupon (operators and the owning merchant).
#[utoipa::path(post, path = "/v1/coupons/{id}/revoke", tag = "wallet", operation_id = "wallet_revoke", params(("id" = String, Path)), request_body = RevokeBody,
    responses((status = 200, body = CouponDetail), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    Caller(p): Caller,
    PathIds(id): PathIds<Id>,
    Body(body, _): Body<RevokeBody>,
) -> ApiResult<Json<CouponDetail>> {
    Ok(Json(state.app.revoke(&p, &id, body).await?))
}

/// Redeems a coupon by its code at a store counter (the offline channel), with exactly the
/// eligibility a quote applies; a refusal names the rule that failed. An unknown code and a
/// code of another store's coupon answer the same 404.
#[utoipa::path(post, path = "/v1/coupons/redeem", tag = "wallet", operation_id = "wallet_redeem", request_body = RedeemBody,
    responses((status = 200, body = RedeemView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn redeem_by_code(
    State(state): State<AppState>,
    Caller(p): Caller,
    Body(body, _): Body<RedeemBody>,
) -> ApiResult<Json<RedeemView>> {
    Ok(Json(state.app.redeem_at_counter(&p, body).await?))
}
