//! Checkout orders: lock the chosen coupons to an order, redeem them on payment, release them
//! on cancel, and give money and coupons back on refund.

use std::collections::{BTreeMap, HashSet};

use jiff::{SignedDuration, Timestamp};
use quan_core::access::{Principal, Role};
use quan_core::checkout::refund::{paid_lines, LineRefund, RefundAsk};
use quan_core::checkout::{Cart, Line, Quote, QuoteContext, QuoteError};
use quan_core::template::Channel;
use quan_core::text::{Id, Label};
use quan_core::ErrorCode;
use quan_store::{LockRefusal, NewOrder, OrderRecord};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::checkout::price;
use crate::history::HistoryOrderView;
use crate::{require, App, Error, Result};

/// How long an order holds its coupons unless paid or cancelled first (default).
const LOCK_SECONDS: i64 = 15 * 60;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderBody {
    pub order_id: Id,
    pub user_id: Id,
    #[serde(default)]
    pub channel: Option<Channel>,
    #[serde(default)]
    pub region: Option<Label>,
    pub lines: Vec<Line>,
    #[serde(default)]
    pub shipping: Option<BTreeMap<String, i64>>,
    /// Exactly the coupons to lock (empty: none).
    pub coupon_ids: Vec<Id>,
    /// How long the lock holds, 60..=86400 seconds (default 900).
    #[serde(default)]
    #[schema(minimum = 60, maximum = 86400)]
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

/// One order by id: a checkout order, or an order of a member's history.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum AnyOrder {
    Checkout(OrderView),
    History(HistoryOrderView),
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
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

fn view(o: OrderRecord) -> Result<OrderView> {
    let quote: Quote = serde_json::from_str(&o.quote).map_err(|_| Error::internal())?;
    Ok(OrderView {
        order_id: o.id,
        user_id: o.user_id,
        status: o.status.to_string(),
        lock_until: o.lock_until,
        coupon_ids: o.coupon_ids,
        quote,
    })
}

fn state_error(code: ErrorCode, what: &str) -> Error {
    match code {
        ErrorCode::InvalidState => Error::new(ErrorCode::InvalidState, what),
        code => Error::code(code),
    }
}

fn exists() -> Error {
    Error::field(
        ErrorCode::Conflict,
        "order_id",
        "an order with this id exists with another request",
    )
}

impl App {
    async fn visible_order(&self, principal: &Principal, id: &str) -> Result<OrderRecord> {
        match self.store.order(id).await? {
            Some(o) if principal.speaks_for(&o.user_id) => Ok(o),
            _ => Err(Error::not_found("order")),
        }
    }

    /// Prices the cart with exactly `coupon_ids` and locks them to the order, all or none. The
    /// same request again answers the order as it stands; the same id with another request is
    /// a conflict.
    pub async fn create_order(&self, principal: &Principal, body: OrderBody) -> Result<OrderView> {
        require(principal, &[Role::Platform, Role::Customer])?;
        if !principal.speaks_for(&body.user_id) {
            return Err(Error::field(
                ErrorCode::Forbidden,
                "user_id",
                "a customer key orders for its own user only",
            ));
        }
        let request_hash = crate::idempotency::fingerprint(
            "order",
            &serde_json::to_vec(&body).expect("an order serializes"),
        );
        let now = self.now();
        let lock_seconds = body.lock_seconds.unwrap_or(LOCK_SECONDS);
        let order = |quote: &Quote, lines, coupon_ids| NewOrder {
            id: body.order_id.to_string(),
            user_id: body.user_id.to_string(),
            request_hash: request_hash.clone(),
            quote: serde_json::to_string(quote).expect("a quote serializes"),
            lines,
            coupon_ids,
            payable: quote.payable,
            lock_until: now + SignedDuration::from_secs(lock_seconds),
            now,
            actor: principal.key_id.clone(),
        };
        if let Some(existing) = self.store.order(&body.order_id).await? {
            // A retry of the same request answers the order as it stands; the store compares
            // the request before anything else, so nothing is priced or locked again.
            if !principal.speaks_for(&existing.user_id) {
                return Err(exists());
            }
            let probe = order(&Quote::default(), vec![], vec![]);
            return match self.store.lock_order(probe).await? {
                Ok(o) => view(o),
                Err(_) => Err(exists()),
            };
        }
        if self.store.history_order(&body.order_id).await?.is_some() {
            return Err(Error::field(
                ErrorCode::Conflict,
                "order_id",
                "an ingested order has this id",
            ));
        }
        if !(60..=86_400).contains(&lock_seconds) {
            return Err(Error::field(
                ErrorCode::InvalidValue,
                "lock_seconds",
                "must be within 60..86400",
            ));
        }
        let coupon_ids: Vec<String> = body.coupon_ids.iter().map(Id::to_string).collect();
        let mut seen = HashSet::new();
        for (i, id) in coupon_ids.iter().enumerate() {
            if !seen.insert(id) {
                return Err(Error::field(
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
        // Locked coupons are candidates too: a lock that lapsed is taken over (the store checks).
        let wallet = self
            .store
            .usable_coupons(&body.user_id, now, true, u32::MAX)
            .await?;
        for (i, id) in coupon_ids.iter().enumerate() {
            if !wallet.iter().any(|c| &c.id == id) {
                return Err(Error::field(
                    ErrorCode::CouponNotUsable,
                    format!("coupon_ids[{i}]"),
                    "not a usable coupon of this member's wallet",
                ));
            }
        }
        let chosen: Vec<_> = wallet
            .into_iter()
            .filter(|c| coupon_ids.contains(&c.id))
            .collect();
        let offers = self.owned_offers(&chosen).await?;
        let ctx = QuoteContext {
            at: now,
            zone: self.zone.clone(),
            channel: body.channel,
            region: body.region.clone().map(Into::into),
            order_number: self.order_number(&body.user_id, &offers).await?,
        };
        let position = |id: &str| coupon_ids.iter().position(|c| c == id).unwrap_or(0);
        let quote = match price(cart.clone(), offers, ctx, coupon_ids.clone(), vec![]).await? {
            Ok(q) => q,
            Err(QuoteError::PinNotApplicable(id)) => {
                return Err(Error::field(
                    ErrorCode::CouponNotUsable,
                    format!("coupon_ids[{}]", position(&id)),
                    "this coupon cannot apply to this cart",
                ));
            }
            Err(QuoteError::TooComplex) => return Err(Error::code(ErrorCode::TooComplex)),
        };
        let new = order(&quote, paid_lines(cart.lines(), &quote), coupon_ids.clone());
        match self.store.lock_order(new).await? {
            Ok(o) => view(o),
            Err(LockRefusal::Conflict) => Err(exists()),
            Err(LockRefusal::CouponNotUsable(id)) => Err(Error::field(
                ErrorCode::CouponNotUsable,
                format!("coupon_ids[{}]", position(&id)),
                "the coupon was taken or is no longer valid",
            )),
        }
    }

    /// One order: a checkout order with its pricing, or else an order of a member's history.
    pub async fn any_order(&self, principal: &Principal, id: &Id) -> Result<AnyOrder> {
        require(principal, &[Role::Platform, Role::Customer])?;
        match self.store.order(id).await? {
            Some(o) if principal.speaks_for(&o.user_id) => Ok(AnyOrder::Checkout(view(o)?)),
            Some(_) => Err(Error::not_found("order")),
            None => match self.history_view(id).await? {
                Some(h) if principal.speaks_for(&h.order.user_id) => Ok(AnyOrder::History(h)),
                _ => Err(Error::not_found("order")),
            },
        }
    }

    /// Redeems the order's locked coupons (payment succeeded). Paying twice answers the paid
    /// order.
    pub async fn pay_order(&self, principal: &Principal, id: &Id) -> Result<OrderView> {
        require(principal, &[Role::Platform])?;
        self.visible_order(principal, id).await?;
        match self
            .store
            .pay_order(id, self.now(), &principal.key_id)
            .await?
        {
            Ok(o) => view(o),
            Err(code) => Err(state_error(
                code,
                "the order was cancelled or its lock lapsed",
            )),
        }
    }

    /// Releases the order's coupons back to the wallet. Refused once paid.
    pub async fn cancel_order(&self, principal: &Principal, id: &Id) -> Result<OrderView> {
        require(principal, &[Role::Platform, Role::Customer])?;
        self.visible_order(principal, id).await?;
        match self
            .store
            .cancel_order(id, self.now(), &principal.key_id)
            .await?
        {
            Ok(o) => view(o),
            Err(code) => Err(state_error(code, "a paid order is refunded, not cancelled")),
        }
    }

    /// Refunds units of a paid order's lines from the stored apportionment.
    pub async fn refund_order(
        &self,
        principal: &Principal,
        id: &Id,
        body: RefundBody,
    ) -> Result<RefundView> {
        require(principal, &[Role::Platform])?;
        self.visible_order(principal, id).await?;
        let (order, plan) = self
            .store
            .refund_order(id, body.lines, self.now(), &principal.key_id)
            .await??;
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
        Ok(RefundView {
            order_id: order.id,
            amount,
            lines: plan.lines,
            shipping,
            coupons_back: plan.coupons_back,
        })
    }
}
