//! One store's merchant layer: every legal configuration, kept once per distinct effect.
//!
//! A configuration is a set of the store's merchant coupons (at most one store-wide, at most one
//! per template, every pin) and an assignment of each line eligible for a used coupon to exactly
//! one of them, with every used coupon's threshold met on exactly its lines. What the rest of the
//! cart can see of a configuration is its *signature*: its money off and, per platform class, the
//! post-merchant base it leaves; with shipping at stake, its share of every line. Of the
//! configurations with one signature only the best by the tie-breaks of section 6.4 is kept: with
//! everything else equal, a combination with it ranks better than one with any of the others.

use std::cmp::Ordering;
use std::collections::HashMap;

use jiff::Timestamp;

use super::{shares_of, Cand, QuoteError};
use crate::checkout::cart::Cart;
use crate::checkout::money::discount;
use crate::template::Benefit;

/// The most configurations one store may keep before the quote is refused.
const MAX_CONFIGS: usize = 20_000;
/// The most search nodes one store's enumeration may visit before the quote is refused.
const MAX_NODES: usize = 2_000_000;
/// The most merchant coupons of one store that can each be used (more: refused as too complex).
const MAX_COUPONS: usize = 16;
/// A line no used coupon takes.
pub(super) const NONE: u32 = u32::MAX;

/// What the search needs to know of a configuration's effect beyond its money off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Signature {
    /// Money off alone: every platform class holds all of the store's lines or none.
    MoneyOff,
    /// Money off and the post-merchant base of the platform classes that split the store.
    ClassBases,
    /// Every line's share: shipping thresholds see the platform's rounding across stores.
    Shares,
}

/// How a platform class (the lines one platform coupon may take) meets a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Overlap {
    None,
    All,
    /// Some of the store's lines.
    Partial,
}

/// The store as the enumeration sees it.
pub(super) struct Store<'s> {
    /// Cart indices of its lines, in cart order.
    pub lines: &'s [usize],
    /// Its merchant candidates.
    pub coupons: Vec<usize>,
    /// Per platform class: how it meets the store, and membership per store line.
    pub classes: Vec<(Overlap, Vec<bool>)>,
    pub signature: Signature,
}

/// One legal merchant configuration of a store.
#[derive(Debug, Clone)]
pub(super) struct Config {
    /// Merchant money off.
    pub total: i64,
    /// The used coupons (candidate index, discount), in candidate order.
    pub used: Vec<(usize, i64)>,
    /// Per store line: the candidate taking it, or [`NONE`].
    pub taker: Vec<u32>,
    /// Per platform class: the base its store lines keep after the merchant layer.
    pub class_base: Vec<i64>,
    /// Per store line: its merchant share (empty when the signature is money off alone).
    pub shares: Vec<i64>,
    /// Tie-break data: sorted expiries, sorted id ranks, and the id rank taking each store line.
    pub expiries: Vec<Timestamp>,
    pub ids: Vec<u32>,
    pub assignment: Vec<u32>,
    mask: u32,
}

impl Config {
    /// Each store line's merchant share (computed when it was not kept).
    pub fn line_shares(&self, cart: &Cart, store_lines: &[usize]) -> Vec<i64> {
        if !self.shares.is_empty() || store_lines.is_empty() {
            return self.shares.clone();
        }
        line_shares(cart, store_lines, &self.taker, &self.used)
    }

    /// Section 6.4 between two configurations of one store (`Less`: `self` is better), for
    /// equal signatures: fewer coupons, earlier expiries, smaller ids, then lines given to smaller
    /// ids.
    fn cmp_ties(&self, other: &Config) -> Ordering {
        self.used
            .len()
            .cmp(&other.used.len())
            .then_with(|| self.expiries.cmp(&other.expiries))
            .then_with(|| self.ids.cmp(&other.ids))
            .then_with(|| self.assignment.cmp(&other.assignment))
    }
}

fn line_shares(
    cart: &Cart,
    store_lines: &[usize],
    taker: &[u32],
    used: &[(usize, i64)],
) -> Vec<i64> {
    let lines = cart.lines();
    let mut shares = vec![0i64; store_lines.len()];
    for &(c, d) in used {
        let mine: Vec<usize> = (0..store_lines.len())
            .filter(|&k| taker[k] == c as u32)
            .collect();
        for (k, s) in shares_of(d, &mine, |k| lines[store_lines[k]].base()) {
            shares[k] = s;
        }
    }
    shares
}

/// The least base and item count a discount benefit needs (a used coupon needs a line).
fn needs(benefit: &Benefit) -> (i64, i64) {
    match benefit {
        Benefit::Reduction { threshold, .. } => (*threshold, 1),
        Benefit::Percent {
            min_amount,
            min_items,
            ..
        } => (min_amount.unwrap_or(0), min_items.unwrap_or(1).max(1)),
        Benefit::Tiered { tiers } => (
            0,
            tiers.iter().map(|t| t.min_items).min().unwrap_or(1).max(1),
        ),
        Benefit::Gift { .. } | Benefit::FreeShipping { .. } => (0, 1),
    }
}

/// Every legal configuration of `store`, one per signature (see the module comment), in no
/// particular order. Empty when the store's pins cannot all be used.
pub(super) fn configs(
    cart: &Cart,
    cands: &[Cand],
    store: &Store,
) -> Result<Vec<Config>, QuoteError> {
    let lines = cart.lines();
    // A coupon that misses its threshold on every line it could take is never used.
    let mut usable = Vec::with_capacity(store.coupons.len());
    for &c in &store.coupons {
        let b: i64 = cands[c].lines.iter().map(|&i| lines[i].base()).sum();
        let n: i64 = cands[c].lines.iter().map(|&i| lines[i].qty).sum();
        if discount(cands[c].benefit(), b, n).is_some() {
            usable.push(c);
        } else if cands[c].pinned {
            return Err(QuoteError::PinNotApplicable(
                cands[c].offer.coupon_id.clone(),
            ));
        }
    }
    if usable.len() > MAX_COUPONS {
        return Err(QuoteError::TooComplex);
    }
    // Bit j of a subset is `usable[j]`; by id, so that walking a line's bits in order tries
    // its coupons by id.
    usable.sort_by_key(|&c| cands[c].rank);
    let store_lines = store.lines;
    let eligible: Vec<u32> = store_lines
        .iter()
        .map(|i| {
            (0..usable.len())
                .filter(|&j| cands[usable[j]].lines.binary_search(i).is_ok())
                .fold(0u32, |m, j| m | 1 << j)
        })
        .collect();
    let rem: Vec<Vec<(i64, i64)>> = (0..usable.len())
        .map(|j| {
            let mut rem = vec![(0i64, 0i64); store_lines.len() + 1];
            for k in (0..store_lines.len()).rev() {
                let (b, n) = rem[k + 1];
                let l = &lines[store_lines[k]];
                rem[k] = if eligible[k] & (1 << j) != 0 {
                    (b + l.base(), n + l.qty)
                } else {
                    (b, n)
                };
            }
            rem
        })
        .collect();
    let pins = (0..usable.len())
        .filter(|&j| cands[usable[j]].pinned)
        .fold(0u32, |m, j| m | 1 << j);
    let mut walk = Walk {
        cart,
        cands,
        store,
        need: usable.iter().map(|&c| needs(cands[c].benefit())).collect(),
        b: vec![0; usable.len()],
        n: vec![0; usable.len()],
        usable,
        eligible,
        rem,
        found: HashMap::new(),
        out: Vec::new(),
        nodes: 0,
        mask: 0,
        pick: vec![NONE; store_lines.len()],
        expiries: Vec::new(),
        ids: Vec::new(),
    };
    'subsets: for mask in 0u32..(1 << walk.usable.len()) {
        if mask & pins != pins {
            continue;
        }
        let set: Vec<usize> = bits(mask).map(|j| walk.usable[j]).collect();
        if set.iter().filter(|&&c| cands[c].store_wide).count() > 1 {
            continue;
        }
        for (k, &a) in set.iter().enumerate() {
            if set[k + 1..]
                .iter()
                .any(|&b| cands[a].same_template(&cands[b]))
            {
                continue 'subsets;
            }
        }
        walk.mask = mask;
        walk.expiries = set.iter().map(|&c| cands[c].expiry()).collect();
        walk.expiries.sort();
        walk.ids = set.iter().map(|&c| cands[c].rank).collect();
        walk.go(0)?;
    }
    Ok(walk.out)
}

/// The set bits of `mask`, lowest first.
fn bits(mut mask: u32) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        (mask != 0).then(|| {
            let j = mask.trailing_zeros() as usize;
            mask &= mask - 1;
            j
        })
    })
}

/// The depth-first enumeration of one subset's line assignments, in lexicographic order of the
/// assignment (lines in cart order, each line's coupons by id), so that the first assignment
/// found with a signature is the subset's best for it.
struct Walk<'w, 'a, 't> {
    cart: &'w Cart,
    cands: &'w [Cand<'a, 't>],
    store: &'w Store<'w>,
    /// The store's coupons that can be used at all, by id: bit j of a subset is `usable[j]`.
    usable: Vec<usize>,
    /// Per store line: the usable coupons eligible for it.
    eligible: Vec<u32>,
    /// rem[j][k]: base and items of the store lines from k on that coupon j may take.
    rem: Vec<Vec<(i64, i64)>>,
    need: Vec<(i64, i64)>,
    found: HashMap<Vec<i64>, usize>,
    out: Vec<Config>,
    nodes: usize,
    // The subset being walked, and the walk's state.
    mask: u32,
    b: Vec<i64>,
    n: Vec<i64>,
    /// Per store line: the coupon (bit) taking it, or NONE.
    pick: Vec<u32>,
    expiries: Vec<Timestamp>,
    ids: Vec<u32>,
}

impl Walk<'_, '_, '_> {
    fn go(&mut self, k: usize) -> Result<(), QuoteError> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(QuoteError::TooComplex);
        }
        // Cut when a coupon can no longer reach its threshold with the lines left.
        for j in bits(self.mask) {
            let (rb, rn) = self.rem[j][k];
            if self.b[j] + rb < self.need[j].0 || self.n[j] + rn < self.need[j].1 {
                return Ok(());
            }
        }
        if k == self.store.lines.len() {
            return self.leaf();
        }
        let takers = self.eligible[k] & self.mask;
        if takers == 0 {
            self.pick[k] = NONE;
            return self.go(k + 1);
        }
        let line = &self.cart.lines()[self.store.lines[k]];
        let (base, qty) = (line.base(), line.qty);
        for j in bits(takers) {
            self.b[j] += base;
            self.n[j] += qty;
            self.pick[k] = j as u32;
            let result = self.go(k + 1);
            self.b[j] -= base;
            self.n[j] -= qty;
            result?;
        }
        Ok(())
    }

    fn leaf(&mut self) -> Result<(), QuoteError> {
        let mut used = Vec::with_capacity(self.ids.len());
        let mut total = 0;
        for j in bits(self.mask) {
            let c = self.usable[j];
            let Some(d) = discount(self.cands[c].benefit(), self.b[j], self.n[j]) else {
                return Ok(());
            };
            total += d;
            used.push((c, d));
        }
        used.sort_unstable_by_key(|u| u.0);
        let taker: Vec<u32> = self
            .pick
            .iter()
            .map(|&j| {
                if j == NONE {
                    NONE
                } else {
                    self.usable[j as usize] as u32
                }
            })
            .collect();
        let store_lines = self.store.lines;
        let shares = match self.store.signature {
            Signature::MoneyOff => Vec::new(),
            _ => line_shares(self.cart, store_lines, &taker, &used),
        };
        let lines = self.cart.lines();
        let class_base: Vec<i64> = self
            .store
            .classes
            .iter()
            .map(|(overlap, member)| match overlap {
                Overlap::None => 0,
                Overlap::All => store_lines.iter().map(|&i| lines[i].base()).sum::<i64>() - total,
                Overlap::Partial => (0..store_lines.len())
                    .filter(|&k| member[k])
                    .map(|k| lines[store_lines[k]].base() - shares[k])
                    .sum(),
            })
            .collect();
        let key: Vec<i64> = match self.store.signature {
            Signature::MoneyOff => vec![total],
            Signature::ClassBases => std::iter::once(total)
                .chain(
                    self.store
                        .classes
                        .iter()
                        .zip(&class_base)
                        .filter(|((o, _), _)| *o == Overlap::Partial)
                        .map(|(_, b)| *b),
                )
                .collect(),
            Signature::Shares => shares.clone(),
        };
        let existing = self.found.get(&key).copied();
        if existing.is_some_and(|e| self.out[e].mask == self.mask) {
            // The same subset, found earlier in assignment order: better on every tie-break.
            return Ok(());
        }
        let assignment: Vec<u32> = taker
            .iter()
            .map(|&c| {
                if c == NONE {
                    0
                } else {
                    self.cands[c as usize].rank
                }
            })
            .collect();
        let config = Config {
            total,
            used,
            taker,
            class_base,
            shares,
            expiries: self.expiries.clone(),
            ids: self.ids.clone(),
            assignment,
            mask: self.mask,
        };
        match existing {
            Some(e) => {
                if config.cmp_ties(&self.out[e]) == Ordering::Less {
                    self.out[e] = config;
                }
            }
            None => {
                self.found.insert(key, self.out.len());
                self.out.push(config);
                if self.out.len() > MAX_CONFIGS {
                    return Err(QuoteError::TooComplex);
                }
            }
        }
        Ok(())
    }
}
