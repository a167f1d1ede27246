//! Checkout quotes: the best combination of a member's wallet coupons for a cart, and the
//! pricing pieces orders and counter redemption share.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use jiff::Timestamp;
use quan_core::access::{Principal, Role};
use quan_core::checkout::{self, Cart, Line, Offer, Quote, QuoteContext, QuoteError};
use quan_core::template::{Channel, Template};
use quan_core::text::{Id, Label};
use quan_core::ErrorCode;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::{require, App, Error, Result};

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteBody {
    pub user_id: Id,
    #[serde(default)]
    pub channel: Option<Channel>,
    #[serde(default)]
    pub region: Option<Label>,
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
    pub pin: Option<Vec<Id>>,
    /// Coupons that must not be used.
    #[serde(default)]
    pub exclude: Option<Vec<Id>>,
}

/// A wallet coupon with its parsed template, owned, so pricing can run off the async workers.
pub struct OwnedOffer {
    pub coupon_id: String,
    pub template_id: String,
    pub template: Arc<Template>,
    pub valid_from: Timestamp,
    pub valid_until: Timestamp,
}

impl OwnedOffer {
    pub fn borrow(&self) -> Offer<'_> {
        Offer {
            coupon_id: self.coupon_id.clone(),
            template_id: self.template_id.clone(),
            template: &self.template,
            valid_from: self.valid_from,
            valid_until: self.valid_until,
        }
    }
}

fn ids(v: Option<Vec<Id>>) -> Vec<String> {
    v.unwrap_or_default()
        .into_iter()
        .map(Id::into_string)
        .collect()
}

impl App {
    /// Prices a cart with the best legal combination of the member's coupons (docs/DOMAIN.md
    /// section 6). Every usable coupon of the wallet is considered.
    pub async fn quote(&self, principal: &Principal, body: QuoteBody) -> Result<Quote> {
        require(principal, &[Role::Platform, Role::Customer])?;
        if !principal.speaks_for(&body.user_id) {
            return Err(Error::field(
                ErrorCode::Forbidden,
                "user_id",
                "a customer key quotes for its own user only",
            ));
        }
        let cart = Cart::parse(body.lines, body.shipping.unwrap_or_default())?;
        let at = body.at.unwrap_or_else(|| self.now());
        let wallet = self
            .store
            .usable_coupons(&body.user_id, at, false, u32::MAX)
            .await?;
        let offers = self.owned_offers(&wallet).await?;
        let pin = ids(body.pin);
        if let Some(foreign) = pin
            .iter()
            .find(|p| !offers.iter().any(|o| &o.coupon_id == *p))
        {
            return Err(Error::field(
                ErrorCode::PinNotApplicable,
                foreign.clone(),
                "not a usable coupon of this member's wallet",
            ));
        }
        let ctx = QuoteContext {
            at,
            zone: self.zone.clone(),
            channel: body.channel,
            region: body.region.map(Into::into),
            order_number: self.order_number(&body.user_id, &offers).await?,
        };
        match price(cart, offers, ctx, pin, ids(body.exclude)).await? {
            Ok(q) => Ok(q),
            Err(QuoteError::PinNotApplicable(id)) => Err(Error::field(
                ErrorCode::PinNotApplicable,
                id,
                "this pinned coupon cannot be used on this cart",
            )),
            Err(QuoteError::TooComplex) => Err(Error::code(ErrorCode::TooComplex)),
        }
    }

    /// The coupons with their templates, each template parsed (or cached) once.
    pub async fn owned_offers(
        &self,
        coupons: &[quan_store::CouponRecord],
    ) -> Result<Vec<OwnedOffer>> {
        let mut templates: HashMap<&str, Arc<Template>> = HashMap::new();
        let mut out = Vec::with_capacity(coupons.len());
        for c in coupons {
            if !templates.contains_key(c.template_id.as_str()) {
                templates.insert(&c.template_id, self.parsed_template(&c.template_id).await?);
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

    /// Which paid order of the member this would be, read only when a coupon asks
    /// (`usable_on_orders`).
    pub async fn order_number(&self, user_id: &str, offers: &[OwnedOffer]) -> Result<i64> {
        if offers
            .iter()
            .all(|o| o.template.spec().usable_on_orders.is_none())
        {
            return Ok(1);
        }
        Ok(self
            .store
            .member(user_id)
            .await?
            .map_or(1, |m| m.history.orders + 1))
    }
}

/// Runs the solver: in place for a small cart, on a blocking thread for one that could take a
/// while (it must not stall the async workers).
pub async fn price(
    cart: Cart,
    offers: Vec<OwnedOffer>,
    ctx: QuoteContext,
    pin: Vec<String>,
    exclude: Vec<String>,
) -> Result<Result<Quote, QuoteError>> {
    let small = checkout::effort(&cart, &borrow(&offers)) <= INLINE_EFFORT;
    let solve = move || checkout::quote(&cart, &borrow(&offers), &ctx, &pin, &exclude);
    // Small carts (the usual ones) are priced here, in microseconds; the rest on a blocking
    // thread, so that a hard cart cannot stall the async workers.
    if small {
        return Ok(solve());
    }
    tokio::task::spawn_blocking(solve)
        .await
        .map_err(|_| Error::internal())
}

/// The most merchant-layer walk (`checkout::effort`) a quote may need to be priced in place.
const INLINE_EFFORT: u64 = 4_096;

fn borrow(offers: &[OwnedOffer]) -> Vec<Offer<'_>> {
    offers.iter().map(OwnedOffer::borrow).collect()
}
