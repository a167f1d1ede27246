//! Wallets: a user's coupons by status, one coupon with its ledger, and revocation.

use axum::extract::{Path, State};
use axum::Json;
use jiff::Timestamp;
use quan_core::access::{Principal, Role};
use quan_core::coupon::CouponStatus;
use quan_core::ErrorCode;
use quan_store::{CouponRecord, LedgerEntry, WalletQuery};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{PageBody, Paging, Q};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::json::Body;
use crate::AppState;

/// A coupon in a wallet; `status` is as of now (a claimed coupon past its end is `expired`).
#[derive(Debug, Serialize, ToSchema)]
pub struct CouponView {
    pub id: String,
    pub template_id: String,
    pub store_id: Option<String>,
    pub user_id: String,
    pub code: String,
    pub status: CouponStatus,
    /// How it reached the wallet: public, link, claim_code, service, campaign.
    pub route: String,
    #[schema(value_type = String, format = DateTime)]
    pub claimed_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub valid_from: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub valid_until: Timestamp,
    pub order_id: Option<String>,
}

impl CouponView {
    pub(crate) fn new(c: CouponRecord, now: Timestamp) -> Self {
        CouponView {
            status: c.status.as_of(c.valid_until, now),
            id: c.id,
            template_id: c.template_id,
            store_id: c.store_id,
            user_id: c.user_id,
            code: c.code,
            route: c.route,
            claimed_at: c.claimed_at,
            valid_from: c.valid_from,
            valid_until: c.valid_until,
            order_id: c.order_id,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerView {
    pub seq: i64,
    pub event: String,
    pub from_status: Option<String>,
    pub to_status: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// The API key (or `system`) that made the change.
    pub actor: String,
    pub reason: Option<String>,
    pub order_id: Option<String>,
}

impl From<LedgerEntry> for LedgerView {
    fn from(e: LedgerEntry) -> Self {
        LedgerView {
            seq: e.seq,
            event: e.event,
            from_status: e.from_status,
            to_status: e.to_status,
            at: e.at,
            actor: e.actor,
            reason: e.reason,
            order_id: e.order_id,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CouponDetail {
    #[serde(flatten)]
    pub coupon: CouponView,
    /// Every status change, oldest first.
    pub ledger: Vec<LedgerView>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct WalletParams {
    pub status: Option<CouponStatus>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// A user's coupons, optionally by status.
#[utoipa::path(get, path = "/v1/users/{user_id}/coupons", tag = "wallet", params(("user_id" = String, Path), WalletParams),
    responses((status = 200, body = PageBody<CouponView>), (status = 403, body = ErrorBody)))]
pub async fn wallet(
    State(state): State<AppState>,
    caller: Caller,
    Path(user_id): Path<String>,
    Q(q): Q<WalletParams>,
) -> ApiResult<Json<PageBody<CouponView>>> {
    let principal = &caller.0;
    if !principal.speaks_for(&user_id) {
        return Err(ApiError::forbidden(
            "a customer key reads its own wallet only",
        ));
    }
    let limit = Paging {
        limit: q.limit,
        cursor: None,
    }
    .limit()?;
    let now = state.now();
    let stores = match principal.role {
        Role::Merchant | Role::Guide => principal.store_filter().map(<[String]>::to_vec),
        _ => None,
    };
    let page = state
        .store
        .wallet(WalletQuery {
            user_id,
            status: q.status,
            stores,
            now,
            limit,
            cursor: q.cursor,
        })
        .await?;
    Ok(PageBody::from(page, |c| CouponView::new(c, now)))
}

async fn visible_coupon(
    state: &AppState,
    principal: &Principal,
    id: &str,
) -> ApiResult<CouponRecord> {
    let found = state.store.coupon(id).await?;
    match found {
        Some(c)
            if principal.role == Role::Customer
                && principal.user_id.as_deref() == Some(&c.user_id) =>
        {
            Ok(c)
        }
        Some(c)
            if principal.role != Role::Customer && principal.owns_store(c.store_id.as_deref()) =>
        {
            Ok(c)
        }
        _ => Err(ApiError::not_found("coupon")),
    }
}

/// One coupon with its ledger.
#[utoipa::path(get, path = "/v1/coupons/{id}", tag = "wallet", params(("id" = String, Path)),
    responses((status = 200, body = CouponDetail), (status = 404, body = ErrorBody)))]
pub async fn coupon(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<CouponDetail>> {
    let c = visible_coupon(&state, &caller.0, &id).await?;
    let ledger = state
        .store
        .ledger(&id)
        .await?
        .into_iter()
        .map(LedgerView::from)
        .collect();
    Ok(Json(CouponDetail {
        coupon: CouponView::new(c, state.now()),
        ledger,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeBody {
    /// Why, for the ledger.
    pub reason: String,
}

/// Revokes a claimed coupon (operators and the owning merchant).
#[utoipa::path(post, path = "/v1/coupons/{id}/revoke", tag = "wallet", params(("id" = String, Path)), request_body = RevokeBody,
    responses((status = 200, body = CouponDetail), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body, _): Body<RevokeBody>,
) -> ApiResult<Json<CouponDetail>> {
    let principal = caller.require(&[Role::Platform, Role::Merchant])?;
    visible_coupon(&state, principal, &id).await?;
    if body.reason.trim().is_empty() || body.reason.len() > 500 {
        return Err(ApiError::field(
            ErrorCode::InvalidValue,
            "reason",
            "must be 1..500 characters",
        ));
    }
    match state
        .store
        .revoke_coupon(&id, &principal.key_id, &body.reason, state.now())
        .await?
    {
        Ok(c) => {
            let ledger = state
                .store
                .ledger(&id)
                .await?
                .into_iter()
                .map(LedgerView::from)
                .collect();
            Ok(Json(CouponDetail {
                coupon: CouponView::new(c, state.now()),
                ledger,
            }))
        }
        Err(ErrorCode::InvalidState) => Err(ApiError::new(
            ErrorCode::InvalidState,
            "only a claimed coupon can be revoked",
        )),
        Err(code) => Err(ApiError::code(code)),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedeemBody {
    /// The coupon's own code, as the member shows it at the counter.
    pub code: String,
    /// The store where it is redeemed.
    pub store_id: String,
    /// The purchase at the counter, minor units: the coupon's threshold is checked on it.
    pub amount: i64,
    /// Items in the purchase, for item thresholds (default 1).
    #[serde(default)]
    pub items: Option<i64>,
    /// The point-of-sale order, for the ledger.
    #[serde(default)]
    pub order_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RedeemView {
    pub coupon_id: String,
    /// Money off the purchase.
    pub discount: i64,
    pub payable: i64,
}

/// Redeems a coupon by its code at a store counter (the offline channel).
#[utoipa::path(post, path = "/v1/coupons/redeem", tag = "wallet", request_body = RedeemBody,
    responses((status = 200, body = RedeemView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn redeem_by_code(
    State(state): State<AppState>,
    caller: Caller,
    Body(body, _): Body<RedeemBody>,
) -> ApiResult<Json<RedeemView>> {
    use quan_core::checkout::money::discount;
    use quan_core::template::{Benefit, Channel, Scope};
    let principal = caller.require(&[Role::Platform, Role::Merchant, Role::Guide])?;
    if !principal.owns_store(Some(&body.store_id)) {
        return Err(ApiError::field(
            ErrorCode::Forbidden,
            "store_id",
            "not one of this key's stores",
        ));
    }
    if body.amount < 1 || body.amount > quan_core::template::MAX_AMOUNT {
        return Err(ApiError::field(
            ErrorCode::NotPositive,
            "amount",
            "must be a positive amount",
        ));
    }
    let items = body.items.unwrap_or(1);
    if !(1..=100_000).contains(&items) {
        return Err(ApiError::field(
            ErrorCode::NotPositive,
            "items",
            "must be within 1..100000",
        ));
    }
    let code = body.code.trim().to_ascii_uppercase();
    let Some(coupon) = state.store.coupon_by_code(&code).await? else {
        return Err(ApiError::field(
            ErrorCode::NotFound,
            "code",
            "no coupon has this code",
        ));
    };
    let template = state
        .store
        .template(&coupon.template_id)
        .await?
        .ok_or_else(|| ApiError::code(ErrorCode::Internal))?;
    let spec = &template.spec;
    let applies = match &spec.scope {
        Scope::Platform { .. } => true,
        Scope::Store { store_id } => *store_id == body.store_id,
        Scope::Category { store_id, .. } | Scope::Product { store_id, .. } => {
            *store_id == body.store_id
        }
    };
    if !applies {
        return Err(ApiError::field(
            ErrorCode::CouponNotUsable,
            "store_id",
            "the coupon is not for this store",
        ));
    }
    if spec
        .channels
        .as_ref()
        .is_some_and(|c| !c.contains(&Channel::OfflineStore))
    {
        return Err(ApiError::field(
            ErrorCode::CouponNotUsable,
            "code",
            "the coupon is not usable in stores",
        ));
    }
    let off = match &spec.benefit {
        Benefit::Gift { threshold, .. } => (body.amount >= *threshold).then_some(0),
        Benefit::FreeShipping { .. } => None,
        benefit => discount(benefit, body.amount, items),
    };
    let Some(off) = off else {
        return Err(ApiError::field(
            ErrorCode::CouponNotUsable,
            "amount",
            "below the coupon's threshold",
        ));
    };
    match state
        .store
        .redeem_coupon(
            &coupon.id,
            body.order_id.as_deref(),
            state.now(),
            &principal.key_id,
        )
        .await?
    {
        Ok(c) => Ok(Json(RedeemView {
            coupon_id: c.id,
            discount: off,
            payable: body.amount - off,
        })),
        Err(ErrorCode::InvalidState) => Err(ApiError::field(
            ErrorCode::CouponNotUsable,
            "code",
            "the coupon is used, expired, revoked or not yet valid",
        )),
        Err(code) => Err(ApiError::code(code)),
    }
}
