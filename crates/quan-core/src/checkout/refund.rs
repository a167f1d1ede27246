//! Refunds (docs/DOMAIN.md section 6.6): money back per line from the stored apportionment, and
//! which coupons and shipments come back.

use std::collections::BTreeSet;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Line, Quote};
use crate::coupon::{CouponStatus, LedgerEvent};
use crate::error::{ErrorCode, FieldError};

/// A line of a paid order and how much of it has been refunded so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaidLine {
    pub line_id: String,
    /// The product and its category, for the member's order history.
    #[serde(default)]
    pub sku: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    pub store_id: String,
    pub qty: i64,
    /// What the line paid: its base amount less every coupon's share of it.
    pub paid: i64,
    pub refunded_qty: i64,
    pub refunded: i64,
}

/// The paid lines of an order priced by `quote`.
pub fn paid_lines(lines: &[Line], quote: &Quote) -> Vec<PaidLine> {
    lines
        .iter()
        .map(|l| {
            let off: i64 = quote
                .coupons
                .iter()
                .flat_map(|c| &c.lines)
                .filter(|s| s.line_id == l.line_id)
                .map(|s| s.amount)
                .sum();
            PaidLine {
                line_id: l.line_id.clone(),
                sku: l.sku.clone(),
                category: l.category.clone(),
                store_id: l.store_id.clone(),
                qty: l.qty,
                paid: l.base() - off,
                refunded_qty: 0,
                refunded: 0,
            }
        })
        .collect()
}

/// One line of a refund request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundAsk {
    #[serde(deserialize_with = "crate::text::de_id")]
    #[schema(value_type = crate::text::Id)]
    pub line_id: String,
    pub qty: i64,
}

/// Money returned for one line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LineRefund {
    pub line_id: String,
    pub qty: i64,
    pub amount: i64,
}

/// What a refund returns, and the order's lines after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundPlan {
    pub lines: Vec<LineRefund>,
    /// Shipping refunded with a store's last line: (store, what its shipment cost the member).
    pub shipping: Vec<(String, i64)>,
    /// Coupons all of whose lines are now fully refunded.
    pub coupons_back: Vec<String>,
    pub after: Vec<PaidLine>,
}

/// Refunding k of a line's q units returns floor(paid × k / q); the refund that takes the
/// line's last units returns the remainder, so a fully refunded line returns exactly what it
/// paid.
pub fn plan(
    before: &[PaidLine],
    quote: &Quote,
    ask: &[RefundAsk],
) -> Result<RefundPlan, FieldError> {
    if ask.is_empty() {
        return Err(FieldError::new(
            ErrorCode::EmptyList,
            "lines",
            "name at least one line to refund",
        ));
    }
    let mut after = before.to_vec();
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, a) in ask.iter().enumerate() {
        if !seen.insert(a.line_id.as_str()) {
            return Err(FieldError::new(
                ErrorCode::InvalidValue,
                format!("lines[{i}].line_id"),
                "each line once per refund",
            ));
        }
        let Some(line) = after.iter_mut().find(|l| l.line_id == a.line_id) else {
            return Err(FieldError::new(
                ErrorCode::NotFound,
                format!("lines[{i}].line_id"),
                "no such line in this order",
            ));
        };
        if a.qty < 1 {
            return Err(FieldError::new(
                ErrorCode::NotPositive,
                format!("lines[{i}].qty"),
                "must be at least 1",
            ));
        }
        if line.refunded_qty + a.qty > line.qty {
            return Err(FieldError::new(
                ErrorCode::TooLarge,
                format!("lines[{i}].qty"),
                "more than the units not yet refunded",
            ));
        }
        let total = line.refunded_qty + a.qty;
        let due = if total == line.qty {
            line.paid - line.refunded
        } else {
            (i128::from(line.paid) * i128::from(a.qty) / i128::from(line.qty)) as i64
        };
        line.refunded_qty = total;
        line.refunded += due;
        out.push(LineRefund {
            line_id: a.line_id.clone(),
            qty: a.qty,
            amount: due,
        });
    }
    let full = |id: &str, lines: &[PaidLine]| {
        lines
            .iter()
            .find(|l| l.line_id == id)
            .is_some_and(|l| l.refunded_qty == l.qty)
    };
    let coupons_back = quote
        .coupons
        .iter()
        .filter(|c| !c.lines.is_empty())
        .filter(|c| {
            c.lines.iter().any(|s| !full(&s.line_id, before))
                && c.lines.iter().all(|s| full(&s.line_id, &after))
        })
        .map(|c| c.coupon_id.clone())
        .collect::<Vec<_>>();
    // A store's shipment comes back with its last line; a free-shipping coupon with it.
    let stores: BTreeSet<&str> = before.iter().map(|l| l.store_id.as_str()).collect();
    let mut shipping = Vec::new();
    let mut coupons_back = coupons_back;
    for store in stores {
        if store_refunded(before, store) || !store_refunded(&after, store) {
            continue;
        }
        coupons_back.extend(
            quote
                .coupons
                .iter()
                .filter(|c| c.store_id.as_deref() == Some(store))
                .map(|c| c.coupon_id.clone()),
        );
        if quote
            .shipping_by_store
            .get(store)
            .is_some_and(|fee| *fee > 0)
        {
            shipping.push((store.to_string(), shipment_paid(quote, store)));
        }
    }
    Ok(RefundPlan {
        lines: out,
        shipping,
        coupons_back,
        after,
    })
}

/// Whether every line of `store` is fully refunded (a store without lines is not).
pub fn store_refunded(lines: &[PaidLine], store: &str) -> bool {
    let mut of_store = lines.iter().filter(|l| l.store_id == store).peekable();
    of_store.peek().is_some() && of_store.all(|l| l.refunded_qty == l.qty)
}

/// What `store`'s shipment cost the member: its fee less what free shipping waived (what a
/// refund of its last line returns with it).
pub fn shipment_paid(quote: &Quote, store: &str) -> i64 {
    let fee = quote.shipping_by_store.get(store).copied().unwrap_or(0);
    let waived: i64 = quote
        .coupons
        .iter()
        .filter(|c| c.store_id.as_deref() == Some(store))
        .map(|c| c.discount)
        .sum();
    fee - waived
}

/// What a coupon of [`RefundPlan::coupons_back`] becomes, stored as `status` and valid until
/// `valid_until`: a redeemed coupon comes back claimed while still valid at `now`, else expired,
/// with the ledger event saying which; any other coupon (already back) stays as it is (`None`).
pub fn give_back(
    status: CouponStatus,
    valid_until: Timestamp,
    now: Timestamp,
) -> Option<(CouponStatus, LedgerEvent)> {
    if status != CouponStatus::Redeemed {
        return None;
    }
    Some(if valid_until > now {
        (CouponStatus::Claimed, LedgerEvent::Restored)
    } else {
        (CouponStatus::Expired, LedgerEvent::Expired)
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::checkout::{Applied, LineShare};

    fn quote() -> Quote {
        Quote {
            subtotal: 10000,
            discount: 1000,
            shipping: 0,
            shipping_waived: 0,
            payable: 9000,
            shipping_by_store: BTreeMap::new(),
            coupons: vec![Applied {
                coupon_id: "c1".into(),
                discount: 1000,
                lines: vec![LineShare {
                    line_id: "a".into(),
                    amount: 1000,
                }],
                store_id: None,
            }],
            gifts: vec![],
            not_applied: vec![],
        }
    }

    fn lines() -> Vec<PaidLine> {
        vec![PaidLine {
            line_id: "a".into(),
            sku: "sku-a".into(),
            category: None,
            store_id: "s".into(),
            qty: 3,
            paid: 9000 - 1,
            refunded_qty: 0,
            refunded: 0,
        }]
    }

    #[test]
    fn coupons_come_back_claimed_while_valid() {
        let t = |s: &str| -> jiff::Timestamp { s.parse().unwrap() };
        let (until, before, after) = (
            t("2026-03-02T00:00:00Z"),
            t("2026-03-01T00:00:00Z"),
            t("2026-03-02T00:00:00Z"),
        );
        assert_eq!(
            give_back(CouponStatus::Redeemed, until, before),
            Some((CouponStatus::Claimed, LedgerEvent::Restored))
        );
        assert_eq!(
            give_back(CouponStatus::Redeemed, until, after),
            Some((CouponStatus::Expired, LedgerEvent::Expired))
        );
        for status in [
            CouponStatus::Claimed,
            CouponStatus::Expired,
            CouponStatus::Locked,
        ] {
            assert_eq!(give_back(status, until, before), None, "{status:?}");
        }
    }

    #[test]
    fn partial_refunds_add_up_to_what_was_paid() {
        let q = quote();
        let p1 = plan(
            &lines(),
            &q,
            &[RefundAsk {
                line_id: "a".into(),
                qty: 1,
            }],
        )
        .unwrap();
        assert_eq!(p1.lines[0].amount, 2999, "floor(8999 × 1 / 3)");
        assert!(p1.coupons_back.is_empty());
        let p2 = plan(
            &p1.after,
            &q,
            &[RefundAsk {
                line_id: "a".into(),
                qty: 2,
            }],
        )
        .unwrap();
        assert_eq!(p1.lines[0].amount + p2.lines[0].amount, 8999);
        assert_eq!(p2.coupons_back, vec!["c1".to_string()]);
        let e = plan(
            &p2.after,
            &q,
            &[RefundAsk {
                line_id: "a".into(),
                qty: 1,
            }],
        )
        .unwrap_err();
        assert_eq!(
            (e.code, e.field.as_str()),
            (ErrorCode::TooLarge, "lines[0].qty")
        );
    }

    #[test]
    fn each_refund_returns_its_own_share_and_the_last_the_remainder() {
        // A line of 3 units that paid 11: one unit returns floor(11 × 1 / 3) = 3 each time,
        // and the last unit the remainder, 5.
        let q = quote();
        let mut now = vec![PaidLine {
            paid: 11,
            ..lines().remove(0)
        }];
        let mut returned = Vec::new();
        for _ in 0..3 {
            let p = plan(
                &now,
                &q,
                &[RefundAsk {
                    line_id: "a".into(),
                    qty: 1,
                }],
            )
            .unwrap();
            returned.push(p.lines[0].amount);
            now = p.after;
        }
        assert_eq!(returned, vec![3, 3, 5]);
        assert_eq!(now[0].refunded, 11);
    }
}
