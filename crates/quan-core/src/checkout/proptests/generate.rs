//! Random carts and wallets for the property, and the carts and templates built from them.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use super::brute::eligible;
use crate::checkout::{Cart, Line};
use crate::template::{Benefit, Scope, Template, TemplateSpec, Tier};

const STORES: [&str; 3] = ["s0", "s1", "s2"];
const SKUS: [&str; 5] = ["a", "b", "c", "d", "e"];
const CATEGORIES: [&str; 3] = ["x", "y", "z"];
/// Round amounts for reductions and caps.
const ROUND: [i64; 5] = [100, 200, 300, 500, 1000];
/// Coupon ids whose byte order differs from their position (and from any numeric reading).
pub(super) const IDS: [&str; 12] = [
    "c1", "c2", "c10", "c3", "C4", "b7", "c01", "d", "c11", "a9", "Z", "c2x",
];

#[derive(Debug, Clone)]
struct RawLine {
    store: usize,
    sku: usize,
    /// 3: no category.
    category: usize,
    price: i64,
    /// Activity price as a percentage of the unit price.
    activity: Option<i64>,
    qty: i64,
}

fn raw_line() -> impl Strategy<Value = RawLine> {
    (
        0..3usize,
        0..SKUS.len(),
        0..4usize,
        100i64..=20_000,
        prop::option::weighted(0.3, 40i64..=100),
        1i64..=3,
    )
        .prop_map(|(store, sku, category, price, activity, qty)| RawLine {
            store,
            sku,
            category,
            price,
            activity,
            qty,
        })
}

#[derive(Debug, Clone)]
pub(super) struct RawCoupon {
    /// 0, 1: reduction with a threshold; 2: no threshold (直降); 3: percent; 4: tiered; 5: free shipping.
    kind: u8,
    /// 0: store, 1: category, 2: product, 3: platform (free shipping: 0..=2 store, 3 platform).
    scope: u8,
    store: usize,
    pick: (usize, usize),
    /// Threshold as a percentage of the base of the lines the coupon is eligible for.
    frac: i64,
    /// A round reduction (so that totals tie and the later tie-breaks decide), or a percentage
    /// of the threshold.
    off: Result<usize, i64>,
    rate: i64,
    cap: Option<i64>,
    /// 0: no minimum, 1: min_amount, 2: min_items.
    min: u8,
    items: i64,
    tiers: usize,
    /// 0: expired; 1: not yet valid; otherwise valid until now + 1..3 h (ties on purpose).
    pub(super) expiry: u8,
    excludes_activity: bool,
    /// 1: another coupon of the previous coupon's template (at most one of them may be used);
    /// 2: a coupon of a separate template with the same content (both may be used). Either way
    /// the totals tie, and expiries and ids decide.
    pub(super) twin: u8,
}

fn raw_coupon() -> impl Strategy<Value = RawCoupon> {
    (
        (0u8..6, 0u8..4, 0..3usize, (0..5usize, 0..5usize)),
        (
            prop_oneof![1 => Just(0i64), 6 => 20i64..=105],
            prop_oneof![3 => (0..ROUND.len()).prop_map(Ok), 2 => (3i64..=40).prop_map(Err)],
            5000i64..=9800,
            prop::option::of(prop_oneof![
                (0..ROUND.len()).prop_map(|k| ROUND[k]),
                100i64..=4000
            ]),
        ),
        (
            0u8..3,
            1i64..=5,
            1usize..=3,
            0u8..14,
            prop::bool::weighted(0.2),
            prop_oneof![4 => Just(0u8), 1 => Just(1u8), 1 => Just(2u8)],
        ),
    )
        .prop_map(
            |(
                (kind, scope, store, pick),
                (frac, off, rate, cap),
                (min, items, tiers, expiry, excludes_activity, twin),
            )| RawCoupon {
                kind,
                scope,
                store,
                pick,
                frac,
                off,
                rate,
                cap,
                min,
                items,
                tiers,
                expiry,
                excludes_activity,
                twin,
            },
        )
}

#[derive(Debug, Clone)]
pub(super) struct RawCase {
    pub(super) stores: usize,
    lines: Vec<RawLine>,
    /// Shipping fee per store (absent, or 0..1500).
    fees: Vec<Option<i64>>,
    pub(super) coupons: Vec<RawCoupon>,
    pub(super) pin: Option<usize>,
    pub(super) exclude: Option<u8>,
}

pub(super) fn raw_case() -> impl Strategy<Value = RawCase> {
    (
        1..=3usize,
        prop::collection::vec(raw_line(), 1..=8),
        prop::collection::vec(
            prop::option::of(prop_oneof![1 => Just(0i64), 5 => 1i64..1500]),
            3,
        ),
        prop::collection::vec(raw_coupon(), 1..=8),
        prop::option::weighted(0.15, 0..8usize),
        prop::option::weighted(0.15, any::<u8>()),
    )
        .prop_map(|(stores, lines, fees, coupons, pin, exclude)| RawCase {
            stores,
            lines,
            fees,
            coupons,
            pin,
            exclude,
        })
}

pub(super) fn build_cart(raw: &RawCase) -> Cart {
    let lines: Vec<Line> = raw
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| Line {
            line_id: format!("l{i}"),
            sku: SKUS[l.sku].into(),
            store_id: STORES[l.store % raw.stores].into(),
            category: CATEGORIES.get(l.category).map(|c| c.to_string()),
            unit_price: l.price,
            activity_price: l.activity.map(|p| (l.price * p / 100).max(1)),
            qty: l.qty,
        })
        .collect();
    let shipping: BTreeMap<String, i64> = (0..raw.stores)
        .filter(|&s| lines.iter().any(|l| l.store_id == STORES[s]))
        .filter_map(|s| raw.fees[s].map(|f| (STORES[s].to_string(), f)))
        .collect();
    Cart::parse(lines, shipping).unwrap()
}

fn make_template(scope: Scope, benefit: Benefit, excludes_activity_price: bool) -> Template {
    let funding = if scope.is_platform() {
        serde_json::json!({"platform_bp": 10000, "merchant_bp": 0})
    } else {
        serde_json::json!({"platform_bp": 0, "merchant_bp": 10000})
    };
    let spec: TemplateSpec = serde_json::from_value(serde_json::json!({
        "name": "t",
        "scope": serde_json::to_value(&scope).unwrap(),
        "benefit": serde_json::to_value(&benefit).unwrap(),
        "validity": {"kind": "relative", "days": 30},
        "funding": funding,
        "excludes_activity_price": excludes_activity_price,
    }))
    .unwrap();
    Template::parse(spec).unwrap()
}

/// A template from its raw parameters, with thresholds spread around the base of the lines it
/// is eligible for, so that they bind.
pub(super) fn build_template(raw: &RawCoupon, stores: usize, cart: &Cart) -> Template {
    let store = STORES[raw.store % stores].to_string();
    let (p, q) = raw.pick;
    let shipping = raw.kind == 5;
    let scope = match (raw.scope, shipping) {
        (3, _) => Scope::Platform {
            categories: (!shipping && p == 0).then(|| vec![CATEGORIES[q % 3].to_string()]),
        },
        (_, true) | (0, _) => Scope::Store { store_id: store },
        (1, _) => Scope::Category {
            store_id: store,
            categories: BTreeSet::from([CATEGORIES[p % 3], CATEGORIES[q % 3]])
                .into_iter()
                .map(String::from)
                .collect(),
        },
        _ => Scope::Product {
            store_id: store,
            skus: BTreeSet::from([SKUS[p], SKUS[q]])
                .into_iter()
                .map(String::from)
                .collect(),
        },
    };
    let excludes = raw.excludes_activity && !shipping;
    let probe = make_template(
        scope.clone(),
        Benefit::Reduction {
            threshold: 0,
            off: 1,
        },
        excludes,
    );
    let base: i64 = cart
        .lines()
        .iter()
        .filter(|l| eligible(&probe, l))
        .map(Line::base)
        .sum();
    let threshold = base * raw.frac / 100;
    let benefit = match raw.kind {
        0 | 1 if threshold > 0 => Benefit::Reduction {
            threshold,
            off: raw
                .off
                .map_or_else(|pct| threshold * pct / 100, |k| ROUND[k])
                .clamp(1, threshold),
        },
        0..=2 => Benefit::Reduction {
            threshold: 0,
            off: raw
                .off
                .map_or_else(|pct| base.max(1000) * pct / 100, |k| ROUND[k])
                .max(1),
        },
        3 => Benefit::Percent {
            min_amount: (raw.min == 1).then_some(threshold),
            min_items: (raw.min == 2).then_some(raw.items),
            rate_bp: raw.rate,
            cap: raw.cap,
        },
        4 => Benefit::Tiered {
            tiers: (0..raw.tiers)
                .map(|t| Tier {
                    min_items: raw.items + t as i64,
                    rate_bp: raw.rate - 800 * t as i64,
                })
                .collect(),
        },
        _ => Benefit::FreeShipping {
            threshold,
            cap: raw.cap.map(|c| c / 4 + 100),
        },
    };
    make_template(scope, benefit, excludes)
}
