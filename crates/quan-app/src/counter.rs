//! Redemption at a store counter (the offline channel): the coupon's own code, checked by
//! exactly the eligibility a quote applies, then redeemed.
//!
//! The purchase is a cart of the counter's store: its lines (with categories, SKUs and
//! activity prices, for scoped coupons) or just an amount and a number of items. The one
//! function of `quan_core::checkout::eligibility` decides whether the coupon may be used (time,
//! weekdays, hours, the `offline_store` channel, the store's region, the member's order number,
//! scope, activity prices) and the solver prices it, pinned, as a quote would.

use quan_core::access::{Principal, Role};
use quan_core::checkout::eligibility::{self, Unusable};
use quan_core::checkout::{Cart, Line, QuoteContext, QuoteError};
use quan_core::coupon::CouponStatus;
use quan_core::template::{Benefit, Channel, MAX_AMOUNT};
use quan_core::text::{Id, Label};
use quan_core::ErrorCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::checkout::price;
use crate::{require, App, Error, Result};

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedeemBody {
    /// The coupon's own code, as the member shows it at the counter.
    pub code: Id,
    /// The store where it is redeemed.
    pub store_id: Id,
    /// The purchase, minor units, when no `lines` are given (one anonymous line of the store:
    /// category- and product-scoped coupons need `lines`).
    #[serde(default)]
    pub amount: Option<i64>,
    /// Items in that purchase, for item thresholds (default 1).
    #[serde(default)]
    pub items: Option<i64>,
    /// The purchase line by line (instead of `amount`).
    #[serde(default)]
    pub lines: Option<Vec<CounterLine>>,
    /// The region of the store (default: the store's own region, when quan knows the store).
    #[serde(default)]
    pub region: Option<Label>,
    /// The point-of-sale order, for the ledger.
    #[serde(default)]
    pub order_id: Option<Id>,
}

/// A line of a counter purchase; its store is the counter's.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CounterLine {
    pub line_id: Id,
    pub sku: Id,
    #[serde(default)]
    pub category: Option<Label>,
    pub unit_price: i64,
    #[serde(default)]
    pub activity_price: Option<i64>,
    pub qty: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RedeemView {
    pub coupon_id: String,
    /// Money off the purchase.
    pub discount: i64,
    pub payable: i64,
    /// The gift a gift coupon adds, if it is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gift_sku: Option<String>,
}

/// The purchase as a cart of the counter's store.
fn cart(body: &RedeemBody) -> Result<Cart> {
    let store = body.store_id.to_string();
    let lines = match (&body.lines, body.amount) {
        (Some(_), Some(_)) => {
            return Err(Error::field(
                ErrorCode::InvalidValue,
                "amount",
                "give an amount or lines, not both",
            ))
        }
        (None, None) => {
            return Err(Error::field(
                ErrorCode::MissingField,
                "amount",
                "give the purchase's amount or its lines",
            ))
        }
        (Some(lines), None) => lines
            .iter()
            .map(|l| Line {
                line_id: l.line_id.to_string(),
                sku: l.sku.to_string(),
                store_id: store.clone(),
                category: l.category.clone().map(Into::into),
                unit_price: l.unit_price,
                activity_price: l.activity_price,
                qty: l.qty,
            })
            .collect(),
        (None, Some(amount)) => {
            if amount < 1 {
                return Err(Error::field(
                    ErrorCode::NotPositive,
                    "amount",
                    "must be a positive amount",
                ));
            }
            if amount > MAX_AMOUNT {
                return Err(Error::field(ErrorCode::TooLarge, "amount", "too large"));
            }
            let items = body.items.unwrap_or(1);
            if items < 1 {
                return Err(Error::field(ErrorCode::NotPositive, "items", "at least 1"));
            }
            if items > 100_000 {
                return Err(Error::field(ErrorCode::TooLarge, "items", "at most 100000"));
            }
            if items > amount {
                return Err(Error::field(
                    ErrorCode::InvalidValue,
                    "items",
                    "more items than minor units of the amount",
                ));
            }
            // `items` units summing to `amount`: (items - r) at q and r at q + 1.
            let (q, r) = (amount / items, amount % items);
            let line = |id: &str, unit_price, qty| Line {
                line_id: id.into(),
                sku: "counter".into(),
                store_id: store.clone(),
                category: None,
                unit_price,
                activity_price: None,
                qty,
            };
            let mut lines = vec![line("1", q, items - r)];
            if r > 0 {
                lines.push(line("2", q + 1, r));
            }
            lines
        }
    };
    if body.lines.is_some() && body.items.is_some() {
        return Err(Error::field(
            ErrorCode::InvalidValue,
            "items",
            "lines carry their own quantities",
        ));
    }
    Cart::parse(lines, Default::default()).map_err(Into::into)
}

fn refusal(reason: Unusable) -> Error {
    let field = match reason {
        Unusable::WrongRegion => "region",
        Unusable::WrongStore => "store_id",
        Unusable::OutOfScope | Unusable::ActivityPriceExcluded => "lines",
        _ => "code",
    };
    Error::field(reason.code(), field, reason.code().meaning())
}

impl App {
    /// Redeems a coupon by its code at a store counter. An unknown code, and a code of a
    /// coupon of a store the caller does not hold, answer the same 404.
    pub async fn redeem_at_counter(
        &self,
        principal: &Principal,
        body: RedeemBody,
    ) -> Result<RedeemView> {
        require(principal, &[Role::Platform, Role::Merchant, Role::Guide])?;
        if !principal.owns_store(Some(&body.store_id)) {
            return Err(Error::field(
                ErrorCode::Forbidden,
                "store_id",
                "not one of this key's stores",
            ));
        }
        let cart = cart(&body)?;
        let unknown = || Error::field(ErrorCode::NotFound, "code", "no coupon has this code");
        let code = body.code.to_ascii_uppercase();
        let coupon = match self.store.coupon_by_code(&code).await? {
            Some(c) if c.store_id.is_none() || principal.owns_store(c.store_id.as_deref()) => c,
            _ => return Err(unknown()),
        };
        let offers = self.owned_offers(std::slice::from_ref(&coupon)).await?;
        let offer = &offers[0];
        if matches!(offer.template.spec().benefit, Benefit::FreeShipping { .. }) {
            return Err(Error::field(
                ErrorCode::OutOfScope,
                "code",
                "a free-shipping coupon has no shipment to waive at a counter",
            ));
        }
        let region = match body.region.clone() {
            Some(r) => Some(r.into_string()),
            None => self
                .store
                .store_record(&body.store_id)
                .await?
                .and_then(|s| s.region),
        };
        let now = self.now();
        let ctx = QuoteContext {
            at: now,
            zone: self.zone.clone(),
            channel: Some(Channel::OfflineStore),
            region,
            order_number: self.order_number(&coupon.user_id, &offers).await?,
        };
        match coupon.status {
            CouponStatus::Claimed => {}
            CouponStatus::Expired => return Err(refusal(Unusable::Expired)),
            _ => {
                return Err(Error::field(
                    ErrorCode::CouponNotUsable,
                    "code",
                    "the coupon is used, locked by an order, or revoked",
                ))
            }
        }
        eligibility::check(&offer.borrow(), &ctx, &cart).map_err(refusal)?;
        let pin = vec![coupon.id.clone()];
        let quote = match price(cart, offers, ctx, pin, vec![]).await? {
            Ok(q) => q,
            Err(QuoteError::PinNotApplicable(_)) => {
                return Err(Error::field(
                    ErrorCode::BelowThreshold,
                    "amount",
                    ErrorCode::BelowThreshold.meaning(),
                ))
            }
            Err(QuoteError::TooComplex) => return Err(Error::code(ErrorCode::TooComplex)),
        };
        let order_id = body.order_id.as_ref().map(Id::as_str);
        let sale = quan_store::CounterSale {
            discount: quote.discount,
            payable: quote.payable,
        };
        match self
            .store
            .redeem_coupon(&coupon.id, order_id, sale, now, &principal.key_id)
            .await?
        {
            Ok(c) => Ok(RedeemView {
                coupon_id: c.id,
                discount: quote.discount,
                payable: quote.payable,
                gift_sku: quote.gifts.into_iter().next().map(|g| g.sku),
            }),
            Err(ErrorCode::InvalidState) => Err(Error::field(
                ErrorCode::CouponNotUsable,
                "code",
                "the coupon is used, expired, revoked or not yet valid",
            )),
            Err(code) => Err(Error::code(code)),
        }
    }
}
