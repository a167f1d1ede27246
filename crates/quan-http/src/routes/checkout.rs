//! Checkout quotes: the best combination of a member's wallet coupons for a cart.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use jiff::Timestamp;
use quan_core::access::Role;
use quan_core::checkout::{self, Cart, Line, Offer, Quote, QuoteContext, QuoteError};
use quan_core::template::{Channel, Template};
use quan_core::ErrorCode;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::json::Body;
use crate::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteBody {
    pub user_id: String,
    #[serde(default)]
    pub channel: Option<Channel>,
    #[serde(default)]
    pub region: Option<String>,
    /// Price as of this time (default: now), for validity and usable hours.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub at: Option<Timestamp>,
    pub lines: Vec<Line>,
    /// Shipping fee per store, minor units.
    #[serde(default)]
    pub shipping: Option<BTreeMap<String, i64>>,
    /// Coupons that must be used.
    #[serde(default)]
    pub pin: Option<Vec<String>>,
    /// Coupons that must not be used.
    #[serde(default)]
    pub exclude: Option<Vec<String>>,
}

/// The most coupons of a wallet a quote considers (the soonest-expiring first).
const WALLET_LIMIT: u32 = 200;

/// Prices a cart with the best legal combination of the member's coupons (domain.md section 6).
#[utoipa::path(post, path = "/v1/checkout/quote", tag = "checkout", request_body = QuoteBody,
    responses((status = 200, body = Quote), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn quote(
    State(state): State<AppState>,
    caller: Caller,
    Body(body, _): Body<QuoteBody>,
) -> ApiResult<Json<Quote>> {
    let principal = caller.require(&[Role::Platform, Role::Customer])?;
    if !principal.speaks_for(&body.user_id) {
        return Err(ApiError::field(
            ErrorCode::Forbidden,
            "user_id",
            "a customer key quotes for its own user only",
        ));
    }
    let cart = Cart::parse(body.lines, body.shipping.unwrap_or_default())?;
    let at = body.at.unwrap_or_else(|| state.now());
    let wallet = state
        .store
        .usable_coupons(&body.user_id, at, false, WALLET_LIMIT)
        .await?;
    let offers = owned_offers(&state, &wallet).await?;
    let pin = body.pin.unwrap_or_default();
    if let Some(foreign) = pin
        .iter()
        .find(|p| !offers.iter().any(|o| &o.coupon_id == *p))
    {
        return Err(ApiError::field(
            ErrorCode::PinNotApplicable,
            foreign.clone(),
            "not a usable coupon of this member's wallet",
        ));
    }
    let order_number = order_number(&state, &body.user_id, &offers).await?;
    let ctx = QuoteContext {
        at,
        zone: state.zone.clone(),
        channel: body.channel,
        region: body.region,
        order_number,
    };
    match price(cart, offers, ctx, pin, body.exclude.unwrap_or_default()).await? {
        Ok(q) => Ok(Json(q)),
        Err(QuoteError::PinNotApplicable(id)) => Err(ApiError::field(
            ErrorCode::PinNotApplicable,
            id,
            "this pinned coupon cannot be used on this cart",
        )),
        Err(QuoteError::TooComplex) => Err(ApiError::code(ErrorCode::TooComplex)),
    }
}

/// A wallet coupon with its parsed template, owned, so pricing can run off the async workers.
pub(crate) struct OwnedOffer {
    pub coupon_id: String,
    pub template_id: String,
    pub template: Arc<Template>,
    pub valid_from: Timestamp,
    pub valid_until: Timestamp,
}

/// The coupons with their templates, each template parsed (or cached) once.
pub(crate) async fn owned_offers(
    state: &AppState,
    coupons: &[quan_store::CouponRecord],
) -> ApiResult<Vec<OwnedOffer>> {
    let mut templates: HashMap<&str, Arc<Template>> = HashMap::new();
    let mut out = Vec::with_capacity(coupons.len());
    for c in coupons {
        if !templates.contains_key(c.template_id.as_str()) {
            templates.insert(&c.template_id, state.priced_template(&c.template_id).await?);
        }
        out.push(OwnedOffer {
            coupon_id: c.id.clone(),
            template_id: c.template_id.clone(),
            template: templates[c.template_id.as_str()].clone(),
            valid_from: c.valid_from,
            valid_until: c.valid_until,
        });
    }
    Ok(out)
}

/// Which paid order of the member this would be, read only when a coupon asks (`usable_on_orders`).
pub(crate) async fn order_number(
    state: &AppState,
    user_id: &str,
    offers: &[OwnedOffer],
) -> ApiResult<i64> {
    if offers
        .iter()
        .all(|o| o.template.spec().usable_on_orders.is_none())
    {
        return Ok(1);
    }
    Ok(state
        .store
        .member(user_id)
        .await?
        .map_or(1, |m| m.history.orders + 1))
}

/// Runs the solver: in place for a small cart, on a blocking thread for one that could take a
/// while (it must not stall the async workers).
pub(crate) async fn price(
    cart: Cart,
    offers: Vec<OwnedOffer>,
    ctx: QuoteContext,
    pin: Vec<String>,
    exclude: Vec<String>,
) -> ApiResult<Result<Quote, QuoteError>> {
    let small = checkout::effort(&cart, &borrow(&offers)) <= INLINE_EFFORT;
    let solve = move || checkout::quote(&cart, &borrow(&offers), &ctx, &pin, &exclude);
    // Small carts (the usual ones) are priced here, in microseconds; the rest on a blocking
    // thread, so that a hard cart cannot stall the async workers.
    if small {
        return Ok(solve());
    }
    tokio::task::spawn_blocking(solve)
        .await
        .map_err(|_| ApiError::code(ErrorCode::Internal))
}

/// The most merchant-layer walk (`checkout::effort`) a quote may need to be priced in place.
const INLINE_EFFORT: u64 = 4_096;

fn borrow(offers: &[OwnedOffer]) -> Vec<Offer<'_>> {
    offers
        .iter()
        .map(|o| Offer {
            coupon_id: o.coupon_id.clone(),
            template_id: o.template_id.clone(),
            template: &o.template,
            valid_from: o.valid_from,
            valid_until: o.valid_until,
        })
        .collect()
}
