//! The solver against an independent brute force of domain.md section 6.
//!
//! The brute force below shares nothing with `solver.rs` but the benefit arithmetic and the
//! apportionment of `money.rs` and the public types. It enumerates every set of discount coupons
//! (merchant and platform), every assignment of lines to the merchant coupons of the set, and
//! every placement of free-shipping coupons on shipments, keeps the legal combinations, and picks
//! the best by the order of section 6.4. The property compares that with `quote()`.
//!
//! Readings of section 6 made here: "at most one coupon of any one template" tells templates
//! apart by address (the callers build one `&Template` per template); a shipment is a store with
//! a fee above 0; the last tie-break (assignments) compares each line's merchant coupon id in the
//! order of the cart's lines; which of several equally good shipments a free-shipping coupon
//! waives is not specified, so the quote's choice is checked for legality rather than compared.
//! Gift coupons, usable hours, channels, regions and `usable_on_orders` are not generated.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;

use super::money::{apportion, discount};
use super::{quote, Cart, Line, Offer, Quote, QuoteContext, QuoteError};
use crate::template::{Benefit, Scope, Template, TemplateSpec, Tier};
use crate::zone::TenantZone;

const STORES: [&str; 3] = ["s0", "s1", "s2"];
const SKUS: [&str; 5] = ["a", "b", "c", "d", "e"];
const CATEGORIES: [&str; 3] = ["x", "y", "z"];
/// Round amounts for reductions and caps.
const ROUND: [i64; 5] = [100, 200, 300, 500, 1000];
/// Coupon ids whose byte order differs from their position (and from any numeric reading).
const IDS: [&str; 12] = [
    "c1", "c2", "c10", "c3", "C4", "b7", "c01", "d", "c11", "a9", "Z", "c2x",
];

fn now() -> Timestamp {
    "2026-06-01T04:00:00Z".parse().unwrap()
}

fn ctx() -> QuoteContext {
    QuoteContext {
        at: now(),
        zone: TenantZone::parse("Asia/Shanghai").unwrap(),
        channel: Some(crate::template::Channel::App),
        region: None,
        order_number: 1,
    }
}

// ---------------------------------------------------------------------------------------------
// Generation

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
struct RawCoupon {
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
    expiry: u8,
    excludes_activity: bool,
    /// 1: another coupon of the previous coupon's template (at most one of them may be used);
    /// 2: a coupon of a separate template with the same content (both may be used). Either way
    /// the totals tie, and expiries and ids decide.
    twin: u8,
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
struct RawCase {
    stores: usize,
    lines: Vec<RawLine>,
    /// Shipping fee per store (absent, or 0..1500).
    fees: Vec<Option<i64>>,
    coupons: Vec<RawCoupon>,
    pin: Option<usize>,
    exclude: Option<u8>,
}

fn raw_case() -> impl Strategy<Value = RawCase> {
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

fn build_cart(raw: &RawCase) -> Cart {
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

/// Line eligibility by scope and `excludes_activity_price` (domain.md 6, "Eligibility").
fn eligible(template: &Template, line: &Line) -> bool {
    let spec = template.spec();
    if spec.excludes_activity_price && line.activity_price.is_some() {
        return false;
    }
    let category_in = |cats: &[String]| match &line.category {
        Some(c) => cats.iter().any(|x| x == c),
        None => false,
    };
    match &spec.scope {
        Scope::Platform { categories: None } => true,
        Scope::Platform {
            categories: Some(cats),
        } => category_in(cats),
        Scope::Store { store_id } => line.store_id == *store_id,
        Scope::Category {
            store_id,
            categories,
        } => line.store_id == *store_id && category_in(categories),
        Scope::Product { store_id, skus } => line.store_id == *store_id && skus.contains(&line.sku),
    }
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
fn build_template(raw: &RawCoupon, stores: usize, cart: &Cart) -> Template {
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

// ---------------------------------------------------------------------------------------------
// The brute force

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Merchant,
    Platform,
    Shipping,
}

struct Usable<'o> {
    offer: &'o Offer<'o>,
    kind: Kind,
    store: Option<&'o str>,
    store_wide: bool,
    lines: Vec<usize>,
    pinned: bool,
}

/// The order of section 6.4 as a key to minimise: more discount, fewer coupons, sorted expiries,
/// sorted ids (bytes), then the assignment of lines (each line's merchant coupon id, in line order).
type Key = (
    Reverse<i64>,
    usize,
    Vec<Timestamp>,
    Vec<Vec<u8>>,
    Vec<Vec<u8>>,
);

#[derive(Debug)]
struct Best {
    key: Key,
    money_off: i64,
    waived: i64,
    /// Discount coupons: id → (discount, [(line index, share)]).
    discounts: BTreeMap<String, (i64, Vec<(usize, i64)>)>,
    /// Free-shipping coupons used.
    shipping: BTreeSet<String>,
}

/// Calls `f` with every choice of one element of each of `options`.
fn odometer(options: &[Vec<Option<usize>>], mut f: impl FnMut(&[Option<usize>])) {
    let mut pick = vec![0usize; options.len()];
    let mut current: Vec<Option<usize>> = options.iter().map(|o| o[0]).collect();
    loop {
        f(&current);
        let mut k = 0;
        loop {
            if k == options.len() {
                return;
            }
            pick[k] += 1;
            if pick[k] < options[k].len() {
                current[k] = options[k][pick[k]];
                break;
            }
            pick[k] = 0;
            current[k] = options[k][0];
            k += 1;
        }
    }
}

/// The best legal combination by brute force; `None` when the pins cannot all be used.
fn brute_force(cart: &Cart, offers: &[Offer], pin: &[String], exclude: &[String]) -> Option<Best> {
    let at = now();
    let lines = cart.lines();
    let bases: Vec<i64> = lines.iter().map(Line::base).collect();
    let mut usable: Vec<Usable> = Vec::new();
    for offer in offers {
        let pinned = pin.contains(&offer.coupon_id);
        let valid = offer.valid_from <= at && at < offer.valid_until;
        let spec = offer.template.spec();
        let on: Vec<usize> = (0..lines.len())
            .filter(|&i| eligible(offer.template, &lines[i]))
            .collect();
        if (!pinned && exclude.contains(&offer.coupon_id)) || !valid || on.is_empty() {
            if pinned {
                return None;
            }
            continue;
        }
        let kind = match (&spec.benefit, &spec.scope) {
            (Benefit::FreeShipping { .. }, _) => Kind::Shipping,
            (Benefit::Gift { .. }, _) => unreachable!("no gift coupons are generated"),
            (_, Scope::Platform { .. }) => Kind::Platform,
            _ => Kind::Merchant,
        };
        usable.push(Usable {
            offer,
            kind,
            store: spec.scope.store_id(),
            store_wide: matches!(spec.scope, Scope::Store { .. }),
            lines: on,
            pinned,
        });
    }
    let same_template = |a: &Usable, b: &Usable| std::ptr::eq(a.offer.template, b.offer.template);
    let discounters: Vec<usize> = (0..usable.len())
        .filter(|&u| usable[u].kind != Kind::Shipping)
        .collect();
    let shippers: Vec<usize> = (0..usable.len())
        .filter(|&u| usable[u].kind == Kind::Shipping)
        .collect();
    // Shipments: stores with a fee to waive.
    let shipments: Vec<(&str, i64)> = cart
        .shipping()
        .iter()
        .filter(|(_, f)| **f > 0)
        .map(|(s, f)| (s.as_str(), *f))
        .collect();
    let mut best: Option<Best> = None;

    for mask in 0u32..(1 << discounters.len()) {
        let set: Vec<usize> = (0..discounters.len())
            .filter(|b| mask & (1 << b) != 0)
            .map(|b| discounters[b])
            .collect();
        if discounters
            .iter()
            .any(|&u| usable[u].pinned && !set.contains(&u))
        {
            continue;
        }
        if set
            .iter()
            .filter(|&&u| usable[u].kind == Kind::Platform)
            .count()
            > 1
        {
            continue;
        }
        let wide_stores: Vec<&str> = set
            .iter()
            .filter(|&&u| usable[u].store_wide)
            .map(|&u| usable[u].store.unwrap())
            .collect();
        if wide_stores.iter().collect::<BTreeSet<_>>().len() < wide_stores.len() {
            continue;
        }
        if set.iter().enumerate().any(|(k, &a)| {
            set[k + 1..]
                .iter()
                .any(|&b| same_template(&usable[a], &usable[b]))
        }) {
            continue;
        }
        let merchants: Vec<usize> = set
            .iter()
            .copied()
            .filter(|&u| usable[u].kind == Kind::Merchant)
            .collect();
        let platform = set
            .iter()
            .copied()
            .find(|&u| usable[u].kind == Kind::Platform);
        // Each line eligible for a used merchant coupon goes to exactly one of them.
        let options: Vec<Vec<Option<usize>>> = (0..lines.len())
            .map(|i| {
                let takers: Vec<Option<usize>> = merchants
                    .iter()
                    .copied()
                    .filter(|&u| usable[u].lines.contains(&i))
                    .map(Some)
                    .collect();
                if takers.is_empty() {
                    vec![None]
                } else {
                    takers
                }
            })
            .collect();
        odometer(&options, |assign| {
            let mut line_off = vec![0i64; lines.len()];
            let mut discounts: BTreeMap<String, (i64, Vec<(usize, i64)>)> = BTreeMap::new();
            let mut money_off = 0;
            for &m in &merchants {
                let taken: Vec<usize> =
                    (0..lines.len()).filter(|&i| assign[i] == Some(m)).collect();
                if taken.is_empty() {
                    return;
                }
                let b: i64 = taken.iter().map(|&i| bases[i]).sum();
                let n: i64 = taken.iter().map(|&i| lines[i].qty).sum();
                let Some(d) = discount(&usable[m].offer.template.spec().benefit, b, n) else {
                    return;
                };
                let shares = apportion(d, &taken.iter().map(|&i| bases[i]).collect::<Vec<_>>());
                for (&i, &s) in taken.iter().zip(&shares) {
                    line_off[i] += s;
                }
                money_off += d;
                discounts.insert(
                    usable[m].offer.coupon_id.clone(),
                    (d, taken.into_iter().zip(shares).collect()),
                );
            }
            if let Some(p) = platform {
                let on = &usable[p].lines;
                let weights: Vec<i64> = on.iter().map(|&i| bases[i] - line_off[i]).collect();
                let n: i64 = on.iter().map(|&i| lines[i].qty).sum();
                let Some(d) = discount(
                    &usable[p].offer.template.spec().benefit,
                    weights.iter().sum(),
                    n,
                ) else {
                    return;
                };
                let shares = apportion(d, &weights);
                for (&i, &s) in on.iter().zip(&shares) {
                    line_off[i] += s;
                }
                money_off += d;
                discounts.insert(
                    usable[p].offer.coupon_id.clone(),
                    (d, on.iter().copied().zip(shares).collect()),
                );
            }
            let assignment: Vec<Vec<u8>> = assign
                .iter()
                .map(|a| a.map_or_else(Vec::new, |u| usable[u].offer.coupon_id.as_bytes().to_vec()))
                .collect();
            // Free shipping: each coupon on no shipment or on one it may waive; checked below.
            let after: BTreeMap<&str, i64> = shipments
                .iter()
                .map(|(s, _)| {
                    (
                        *s,
                        (0..lines.len())
                            .filter(|&i| lines[i].store_id == *s)
                            .map(|i| bases[i] - line_off[i])
                            .sum(),
                    )
                })
                .collect();
            let ship_options: Vec<Vec<Option<usize>>> = shippers
                .iter()
                .map(|_| {
                    std::iter::once(None)
                        .chain((0..shipments.len()).map(Some))
                        .collect()
                })
                .collect();
            odometer(&ship_options, |placed| {
                let mut taken = vec![false; shipments.len()];
                let mut waived = 0;
                let mut used: Vec<usize> = set.clone();
                let mut shipping = BTreeSet::new();
                for (j, &u) in shippers.iter().enumerate() {
                    let Some(k) = placed[j] else {
                        if usable[u].pinned {
                            return;
                        }
                        continue;
                    };
                    let (store, fee) = shipments[k];
                    let Benefit::FreeShipping { threshold, cap } =
                        &usable[u].offer.template.spec().benefit
                    else {
                        unreachable!()
                    };
                    if taken[k]
                        || usable[u].store.is_some_and(|own| own != store)
                        || after[store] < *threshold
                    {
                        return;
                    }
                    if used.iter().any(|&o| same_template(&usable[o], &usable[u])) {
                        return;
                    }
                    taken[k] = true;
                    waived += cap.map_or(fee, |c| fee.min(c));
                    used.push(u);
                    shipping.insert(usable[u].offer.coupon_id.clone());
                }
                let mut expiries: Vec<Timestamp> =
                    used.iter().map(|&u| usable[u].offer.valid_until).collect();
                expiries.sort();
                let mut ids: Vec<Vec<u8>> = used
                    .iter()
                    .map(|&u| usable[u].offer.coupon_id.as_bytes().to_vec())
                    .collect();
                ids.sort();
                let key: Key = (
                    Reverse(money_off + waived),
                    used.len(),
                    expiries,
                    ids,
                    assignment.clone(),
                );
                if best.as_ref().is_none_or(|b| key < b.key) {
                    best = Some(Best {
                        key,
                        money_off,
                        waived,
                        discounts: discounts.clone(),
                        shipping,
                    });
                }
            });
        });
    }
    best
}

// ---------------------------------------------------------------------------------------------
// The property

fn check(raw: &RawCase) -> Result<(), TestCaseError> {
    let cart = build_cart(raw);
    let mut templates: Vec<Template> = Vec::new();
    let mut template_of: Vec<usize> = Vec::new();
    for (i, c) in raw.coupons.iter().enumerate() {
        if c.twin == 1 && i > 0 {
            template_of.push(template_of[i - 1]);
        } else if c.twin == 2 && i > 0 {
            templates.push(templates[template_of[i - 1]].clone());
            template_of.push(templates.len() - 1);
        } else {
            templates.push(build_template(c, raw.stores, &cart));
            template_of.push(templates.len() - 1);
        }
    }
    let offers: Vec<Offer> = raw
        .coupons
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let (from, until) = match c.expiry {
                0 => (
                    now() - SignedDuration::from_hours(5),
                    now() - SignedDuration::from_hours(1),
                ),
                1 => (
                    now() + SignedDuration::from_mins(30),
                    now() + SignedDuration::from_hours(3),
                ),
                e => (
                    now() - SignedDuration::from_hours(1),
                    now() + SignedDuration::from_hours(1 + i64::from(e % 3)),
                ),
            };
            Offer {
                coupon_id: IDS[i].to_string(),
                template_id: format!("t{}", template_of[i]),
                template: &templates[template_of[i]],
                valid_from: from,
                valid_until: until,
            }
        })
        .collect();
    let pin: Vec<String> = raw
        .pin
        .filter(|&p| p < offers.len())
        .map(|p| offers[p].coupon_id.clone())
        .into_iter()
        .collect();
    let exclude: Vec<String> = raw.exclude.map_or_else(Vec::new, |m| {
        offers
            .iter()
            .enumerate()
            .filter(|(i, o)| m & (1 << i) != 0 && !pin.contains(&o.coupon_id))
            .map(|(_, o)| o.coupon_id.clone())
            .collect()
    });

    let expected = brute_force(&cart, &offers, &pin, &exclude);
    let got = quote(&cart, &offers, &ctx(), &pin, &exclude);
    // The exact cross-store bound, taken from the first node on, gives the same answer.
    let relaxed = super::solver::RELAXED.with(|r| r.replace(0));
    let eager = quote(&cart, &offers, &ctx(), &pin, &exclude);
    super::solver::RELAXED.with(|r| r.set(relaxed));
    prop_assert_eq!(&got, &eager, "relaxed-then-exact and exact bounds differ");
    let (best, q): (Best, Quote) = match (expected, got) {
        (None, Err(QuoteError::PinNotApplicable(id))) => {
            prop_assert!(
                pin.contains(&id),
                "refused a coupon that was not pinned: {id}"
            );
            return Ok(());
        }
        (None, other) => {
            return Err(TestCaseError::fail(format!(
                "the pins cannot all be used, but quote gave {other:?}"
            )))
        }
        (Some(best), Ok(q)) => (best, q),
        // The solver's documented budget (more than 20,000 merchant configurations in one store,
        // e.g. 8 overlapping coupons on 7 lines of one store): a refusal, not a wrong answer.
        // About 1 case in 150,000 here.
        (Some(_), Err(QuoteError::TooComplex)) => return Ok(()),
        (Some(best), Err(e)) => {
            return Err(TestCaseError::fail(format!(
                "quote failed with {e:?}; the brute force found {best:?}"
            )))
        }
    };
    let lines = cart.lines();
    let line_index = |id: &str| lines.iter().position(|l| l.line_id == id).unwrap();

    // The same optimum, with the same tie-breaks.
    let total = q.discount + q.shipping_waived;
    prop_assert_eq!(
        total,
        best.key.0 .0,
        "total discount; brute force: {:?}; quote: {:?}",
        best,
        q
    );
    prop_assert_eq!(
        (q.discount, q.shipping_waived),
        (best.money_off, best.waived)
    );
    let mut ids: Vec<Vec<u8>> = q
        .coupons
        .iter()
        .map(|c| c.coupon_id.as_bytes().to_vec())
        .collect();
    ids.sort();
    prop_assert_eq!(
        &ids,
        &best.key.3,
        "coupon set; brute force: {:?}; quote: {:?}",
        best,
        q
    );
    // The discount coupons, their amounts and lines (this checks the assignment tie-break).
    let discounts: BTreeMap<String, (i64, Vec<(usize, i64)>)> = q
        .coupons
        .iter()
        .filter(|c| c.store_id.is_none())
        .map(|c| {
            (
                c.coupon_id.clone(),
                (
                    c.discount,
                    c.lines
                        .iter()
                        .map(|s| (line_index(&s.line_id), s.amount))
                        .collect(),
                ),
            )
        })
        .collect();
    prop_assert_eq!(
        &discounts,
        &best.discounts,
        "discount coupons and their shares"
    );
    let shipping: BTreeSet<String> = q
        .coupons
        .iter()
        .filter(|c| c.store_id.is_some())
        .map(|c| c.coupon_id.clone())
        .collect();
    prop_assert_eq!(&shipping, &best.shipping);

    // Amounts add up.
    let mut line_off = vec![0i64; lines.len()];
    for c in q.coupons.iter().filter(|c| c.store_id.is_none()) {
        prop_assert_eq!(
            c.lines.iter().map(|s| s.amount).sum::<i64>(),
            c.discount,
            "shares of {} sum to its discount",
            c.coupon_id
        );
        for s in &c.lines {
            prop_assert!(s.amount >= 0);
            line_off[line_index(&s.line_id)] += s.amount;
        }
    }
    for (l, off) in lines.iter().zip(&line_off) {
        prop_assert!(
            *off <= l.base(),
            "line {} takes {} off a base of {}",
            l.line_id,
            off,
            l.base()
        );
    }
    prop_assert_eq!(q.discount, line_off.iter().sum::<i64>());
    prop_assert_eq!(q.subtotal, cart.subtotal());
    prop_assert_eq!(q.shipping, cart.shipping().values().sum::<i64>());
    prop_assert_eq!(
        q.payable,
        q.subtotal - q.discount + q.shipping - q.shipping_waived
    );

    // The shipments the quote waives are legal (which one of several equal shipments a coupon
    // takes is not specified, so it is checked rather than compared).
    let mut waived_stores = BTreeSet::new();
    let mut waived = 0;
    for c in q.coupons.iter().filter(|c| c.store_id.is_some()) {
        let store = c.store_id.as_deref().unwrap();
        let offer = offers.iter().find(|o| o.coupon_id == c.coupon_id).unwrap();
        let Benefit::FreeShipping { threshold, cap } = &offer.template.spec().benefit else {
            panic!("{} waives shipping", c.coupon_id)
        };
        prop_assert!(waived_stores.insert(store), "two coupons waive {}", store);
        prop_assert!(offer
            .template
            .spec()
            .scope
            .store_id()
            .is_none_or(|own| own == store));
        let fee = cart.shipping()[store];
        prop_assert_eq!(c.discount, cap.map_or(fee, |cap| fee.min(cap)));
        let after: i64 = lines
            .iter()
            .zip(&line_off)
            .filter(|(l, _)| l.store_id == store)
            .map(|(l, off)| l.base() - off)
            .sum();
        prop_assert!(
            after >= *threshold,
            "{} waives {} below its threshold",
            c.coupon_id,
            store
        );
        prop_assert!(c.lines.is_empty());
        waived += c.discount;
    }
    prop_assert_eq!(waived, q.shipping_waived);

    // Every wallet coupon is either applied or listed as not applied, once.
    let mut seen: Vec<&str> = q
        .coupons
        .iter()
        .map(|c| c.coupon_id.as_str())
        .chain(q.not_applied.iter().map(|n| n.coupon_id.as_str()))
        .collect();
    seen.sort_unstable();
    let mut all: Vec<&str> = offers.iter().map(|o| o.coupon_id.as_str()).collect();
    all.sort_unstable();
    prop_assert_eq!(seen, all);
    Ok(())
}

proptest! {
    // 1024 cases by default (about a second in debug); PROPTEST_CASES=N for a longer run.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1024),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn quote_is_the_brute_force_optimum(raw in raw_case()) {
        check(&raw)?;
    }
}
