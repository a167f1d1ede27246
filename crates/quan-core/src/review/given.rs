//! What a paid checkout order's coupons gave and what the order cost, net of its refunds.
//!
//! A coupon's share of a line counts for the units not refunded: floor(share × kept / qty), so
//! a fully refunded line keeps none of it. A free-shipping coupon's waived fee counts while its
//! store keeps a line not fully refunded (the store's last line takes the shipment back).

use std::collections::BTreeMap;

use crate::checkout::refund::{shipment_paid, store_refunded, PaidLine};
use crate::checkout::Quote;

/// Each coupon of the order and what it took off, net of refunds.
pub fn net_discounts(quote: &Quote, lines: &[PaidLine]) -> BTreeMap<String, i64> {
    let line = |id: &str| lines.iter().find(|l| l.line_id == id);
    quote
        .coupons
        .iter()
        .map(|c| {
            let given = if c.lines.is_empty() {
                match &c.store_id {
                    Some(store) if !store_refunded(lines, store) => c.discount,
                    Some(_) => 0,
                    None => c.discount,
                }
            } else {
                c.lines
                    .iter()
                    .map(|s| match line(&s.line_id) {
                        Some(l) if l.qty > 0 => {
                            let kept = i128::from(l.qty - l.refunded_qty);
                            (i128::from(s.amount) * kept / i128::from(l.qty)) as i64
                        }
                        _ => 0,
                    })
                    .sum()
            };
            (c.coupon_id.clone(), given)
        })
        .collect()
}

/// What the order cost the member less what was refunded: its payable, less the lines'
/// refunds and each fully refunded store's shipment (its fee less what was waived).
pub fn net_payable(quote: &Quote, lines: &[PaidLine]) -> i64 {
    let refunded_lines: i64 = lines.iter().map(|l| l.refunded).sum();
    let refunded_shipping: i64 = quote
        .shipping_by_store
        .keys()
        .filter(|store| store_refunded(lines, store))
        .map(|store| shipment_paid(quote, store))
        .sum();
    quote.payable - refunded_lines - refunded_shipping
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkout::{Applied, LineShare};

    fn line(
        id: &str,
        store: &str,
        qty: i64,
        paid: i64,
        refunded_qty: i64,
        refunded: i64,
    ) -> PaidLine {
        PaidLine {
            line_id: id.into(),
            sku: id.into(),
            category: None,
            store_id: store.into(),
            qty,
            paid,
            refunded_qty,
            refunded,
        }
    }

    /// Two lines of store s1 (3 × 40.00 and 1 × 30.00), a 15.00 coupon over both (12.00 and
    /// 3.00 by base), and free shipping of s1's 8.00.
    fn quote() -> Quote {
        Quote {
            subtotal: 15_000,
            discount: 1_500,
            shipping: 800,
            shipping_waived: 800,
            payable: 13_500,
            shipping_by_store: [("s1".to_string(), 800)].into(),
            coupons: vec![
                Applied {
                    coupon_id: "c15".into(),
                    discount: 1_500,
                    lines: vec![
                        LineShare {
                            line_id: "a".into(),
                            amount: 1_200,
                        },
                        LineShare {
                            line_id: "b".into(),
                            amount: 300,
                        },
                    ],
                    store_id: None,
                },
                Applied {
                    coupon_id: "ship".into(),
                    discount: 800,
                    lines: vec![],
                    store_id: Some("s1".into()),
                },
            ],
            gifts: vec![],
            not_applied: vec![],
        }
    }

    #[test]
    fn nothing_refunded_gives_the_whole_discount() {
        let lines = [
            line("a", "s1", 3, 10_800, 0, 0),
            line("b", "s1", 1, 2_700, 0, 0),
        ];
        let d = net_discounts(&quote(), &lines);
        assert_eq!((d["c15"], d["ship"]), (1_500, 800));
        assert_eq!(net_payable(&quote(), &lines), 13_500);
    }

    #[test]
    fn a_partial_refund_keeps_the_units_not_refunded() {
        // One of a's three units back (it returned floor(10800 / 3) = 3600): the coupon keeps
        // floor(1200 × 2 / 3) = 800 of a and all of b.
        let lines = [
            line("a", "s1", 3, 10_800, 1, 3_600),
            line("b", "s1", 1, 2_700, 0, 0),
        ];
        let d = net_discounts(&quote(), &lines);
        assert_eq!((d["c15"], d["ship"]), (800 + 300, 800));
        assert_eq!(net_payable(&quote(), &lines), 13_500 - 3_600);
    }

    #[test]
    fn a_full_refund_gives_nothing_and_costs_nothing() {
        let lines = [
            line("a", "s1", 3, 10_800, 3, 10_800),
            line("b", "s1", 1, 2_700, 1, 2_700),
        ];
        let d = net_discounts(&quote(), &lines);
        assert_eq!((d["c15"], d["ship"]), (0, 0));
        // The shipment came back too: its fee less what free shipping waived, 0.
        assert_eq!(net_payable(&quote(), &lines), 0);
    }
}
