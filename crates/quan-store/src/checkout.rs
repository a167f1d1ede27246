//! The backend-neutral decisions of checkout orders, which both backends read the facts for
//! and write: an order's next step, what a refund returns and what its coupons become.

use jiff::Timestamp;
use quan_core::checkout::order::{self, OrderAction, Step};
use quan_core::checkout::refund::{self, RefundAsk, RefundPlan};
use quan_core::coupon::{CouponStatus, LedgerEvent};
use quan_core::{ErrorCode, FieldError};

use crate::model::{CouponRecord, OrderRecord};
use crate::{Result, StoreError};

/// The order's next step when `action` is asked at `now` ([`order::step`]).
pub(crate) fn step(order: &OrderRecord, action: OrderAction, now: Timestamp) -> Step {
    order::step(action, order.status, order.lock_until, now)
}

/// What refunding `ask` of the order returns: refused unless the order is paid, else the
/// arithmetic of [`refund::plan`] over its paid lines and stored quote. (The outer error: the
/// stored quote is unreadable.)
pub(crate) fn refund_plan(
    order: &OrderRecord,
    ask: &[RefundAsk],
    now: Timestamp,
) -> Result<Result<RefundPlan, FieldError>> {
    if step(order, OrderAction::Refund, now) != Step::Refund {
        return Ok(Err(FieldError::new(
            ErrorCode::InvalidState,
            "status",
            "only a paid order is refunded",
        )));
    }
    let quote: quan_core::checkout::Quote = serde_json::from_str(&order.quote)
        .map_err(|_| StoreError::Corrupt("order quote".into()))?;
    Ok(refund::plan(&order.lines, &quote, ask))
}

/// A coupon that a refund gives back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CouponBack<'a> {
    pub coupon: &'a CouponRecord,
    pub to: CouponStatus,
    pub event: LedgerEvent,
}

/// The coupons of `plan.coupons_back` that come back, each once and in the plan's order, from
/// those coupons as stored (`stored`; a coupon not found is skipped): [`refund::give_back`].
pub(crate) fn coupons_back<'a>(
    plan: &RefundPlan,
    stored: &'a [CouponRecord],
    now: Timestamp,
) -> Vec<CouponBack<'a>> {
    let mut seen = std::collections::HashSet::new();
    plan.coupons_back
        .iter()
        .filter(|id| seen.insert(id.as_str()))
        .filter_map(|id| stored.iter().find(|c| &c.id == id))
        .filter_map(|coupon| {
            let (to, event) = refund::give_back(coupon.status, coupon.valid_until, now)?;
            Some(CouponBack { coupon, to, event })
        })
        .collect()
}
