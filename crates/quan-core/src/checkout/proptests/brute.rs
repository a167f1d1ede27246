//! The independent brute force: every legal combination on a cart, and the best by section 6.4.
//!
//! The brute force below shares nothing with `solver/` but the benefit arithmetic and the
//! apportionment of `money.rs` and the public types. It enumerates every set of discount coupons
//! (merchant and platform), every assignment of lines to the merchant coupons of the set, and
//! every placement of free-shipping coupons on shipments, keeps the legal combinations, and picks
//! the best by the order of section 6.4. The property compares that with `quote()`.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;

use super::now;
use crate::checkout::money::{apportion, discount};
use crate::checkout::{Cart, Line, Offer};
use crate::template::{Benefit, Scope, Template};

/// Line eligibility by scope and `excludes_activity_price` (docs/DOMAIN.md section 6, "Eligibility").
pub(super) fn eligible(template: &Template, line: &Line) -> bool {
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
pub(super) struct Best {
    pub(super) key: Key,
    pub(super) money_off: i64,
    pub(super) waived: i64,
    /// Discount coupons: id → (discount, [(line index, share)]).
    pub(super) discounts: BTreeMap<String, (i64, Vec<(usize, i64)>)>,
    /// Free-shipping coupons used.
    pub(super) shipping: BTreeSet<String>,
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
pub(super) fn brute_force(
    cart: &Cart,
    offers: &[Offer],
    pin: &[String],
    exclude: &[String],
) -> Option<Best> {
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
