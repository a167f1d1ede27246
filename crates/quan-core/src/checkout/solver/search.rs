//! The search across stores: for each platform option, a branch and bound over the stores'
//! merchant configurations that keeps the best combination by section 6.4.
//!
//! Stores meet only through the platform coupon (its base is the sum of what each store leaves)
//! and free shipping (its thresholds see the platform's apportionment). With the platform option
//! fixed, a partial choice of configurations for stores `..k` is cut when an upper bound of every
//! completion (`bound`) is *strictly* below the best total found, so no combination that could tie
//! the best is ever cut and the tie-breaks (`incumbent`) see every candidate.

use std::collections::HashMap;
use std::rc::Rc;

use super::bound::{Growth, Suffix};
use super::incumbent::Incumbent;
use super::merchant::{self, Config, Overlap, Signature};
use super::reach::Reach;
use super::shipping;
use super::{Applied, Cand, Layout, QuoteError, Role};
use crate::checkout::cart::Cart;
use crate::checkout::money::discount;
use crate::template::Benefit;

/// The most search nodes visited across stores before the quote is refused.
const MAX_NODES: usize = 5_000_000;
/// The nodes one platform option may visit under the relaxed bound before the exact bound is
/// built and the option walked again.
const RELAXED_NODES: usize = 2_000;

#[cfg(test)]
thread_local! {
    /// Tests set it to 0 to take the exact bound at once, or leave it at [`RELAXED_NODES`].
    pub(crate) static RELAXED: std::cell::Cell<usize> = const { std::cell::Cell::new(RELAXED_NODES) };
}

fn relaxed_nodes() -> usize {
    #[cfg(test)]
    return RELAXED.with(std::cell::Cell::get);
    #[cfg(not(test))]
    RELAXED_NODES
}

/// Why a walk stopped early.
pub(super) enum Halt {
    /// Past the node budget: the quote is refused.
    TooComplex,
    /// Past the relaxed bound's budget: build the exact bound and walk again.
    Escalate,
}

/// The chosen combination, priced.
pub(super) struct Best {
    pub money_off: i64,
    pub waived: i64,
    pub coupons: Vec<Applied>,
    /// Candidates used.
    pub used: Vec<usize>,
}

/// A platform option: no platform coupon, or one.
pub(super) struct Platform {
    pub(super) cand: Option<usize>,
    pub(super) class: usize,
    pub(super) items: i64,
    pub(super) growth: Growth,
}

pub(super) struct Search<'s, 'a, 't> {
    pub(super) cart: &'s Cart,
    pub(super) cands: &'s [Cand<'a, 't>],
    stores: Vec<&'s str>,
    pub(super) store_lines: Vec<Vec<usize>>,
    pub(super) configs: Vec<Vec<Config>>,
    /// [store][class]: how each platform class meets each store.
    pub(super) overlaps: Vec<Vec<Overlap>>,
    /// Reach of each whole-store class, shared by its options.
    pub(super) reach: HashMap<usize, Rc<Reach>>,
    pub(super) shippers: Vec<usize>,
    pub(super) fees: Vec<(&'s str, i64)>,
    /// The store of each shipment in `fees`.
    pub(super) fee_stores: Vec<usize>,
    /// Whether any free-shipping coupon could waive a fee: leaves then place them.
    pub(super) shipping: bool,
    /// The most free shipping could waive (thresholds aside).
    pub(super) shipping_max: i64,
    pub(super) best: Option<Incumbent>,
    nodes: usize,
    /// The node count past which the walk asks for the exact bound.
    budget: Option<usize>,
}

/// Finds the best combination of `cands` for `cart`.
pub(super) fn best<'s>(
    cart: &'s Cart,
    cands: &[Cand],
    layout: Layout<'s>,
) -> Result<Best, QuoteError> {
    let lines = cart.lines();
    let Layout {
        stores,
        store_lines,
    } = layout;
    let platforms: Vec<usize> = (0..cands.len())
        .filter(|&c| cands[c].role == Role::Platform)
        .collect();
    let shippers: Vec<usize> = (0..cands.len())
        .filter(|&c| cands[c].role == Role::Shipping)
        .collect();
    let mut classes: Vec<Vec<usize>> = platforms.iter().map(|&p| cands[p].lines.clone()).collect();
    classes.sort();
    classes.dedup();
    let fees: Vec<(&str, i64)> = stores
        .iter()
        .filter_map(|s| cart.shipping().get(*s).map(|f| (*s, *f)))
        .collect();
    let fee_stores: Vec<usize> = (0..stores.len())
        .filter(|&s| cart.shipping().contains_key(stores[s]))
        .collect();
    let unlimited = vec![i64::MAX; fees.len()];
    let loose = shipping::place(cands, &shippers, &fees, &unlimited);
    let shipping_max = loose.as_ref().map_or(0, |p| p.waived);
    let shipping = shipping_max > 0 || shippers.iter().any(|&c| cands[c].pinned);
    let coupled = shipping && !platforms.is_empty();

    let mut configs = Vec::with_capacity(stores.len());
    let mut store_overlaps = Vec::with_capacity(stores.len());
    for (s, own_lines) in store_lines.iter().enumerate() {
        let coupons: Vec<usize> = (0..cands.len())
            .filter(|&c| cands[c].role == Role::Merchant && cands[c].store_idx == Some(s))
            .collect();
        let overlaps: Vec<(Overlap, Vec<bool>)> = classes
            .iter()
            .map(|class| {
                let member: Vec<bool> = own_lines
                    .iter()
                    .map(|i| class.binary_search(i).is_ok())
                    .collect();
                let overlap = if member.iter().all(|&m| m) {
                    Overlap::All
                } else if member.iter().any(|&m| m) {
                    Overlap::Partial
                } else {
                    Overlap::None
                };
                (overlap, member)
            })
            .collect();
        let signature = if coupled {
            Signature::Shares
        } else if overlaps.iter().any(|(o, _)| *o == Overlap::Partial) {
            Signature::ClassBases
        } else {
            Signature::MoneyOff
        };
        let store = merchant::Store {
            lines: own_lines,
            coupons,
            classes: overlaps,
            signature,
        };
        let mut found = merchant::configs(cart, cands, &store)?;
        if found.is_empty() {
            let pinned = store
                .coupons
                .iter()
                .find(|&&c| cands[c].pinned)
                .expect("only pins leave a store without configurations");
            return Err(QuoteError::PinNotApplicable(
                cands[*pinned].offer.coupon_id.clone(),
            ));
        }
        found.sort_by_key(|c| std::cmp::Reverse(c.total));
        configs.push(found);
        store_overlaps.push(store.classes.iter().map(|(o, _)| *o).collect());
    }

    let pinned_platform = platforms.iter().copied().find(|&p| cands[p].pinned);
    let mut options: Vec<Platform> = Vec::new();
    if pinned_platform.is_none() {
        options.push(Platform {
            cand: None,
            class: 0,
            items: 0,
            growth: Growth::Nothing,
        });
    }
    for &p in &platforms {
        if pinned_platform.is_some_and(|q| q != p) {
            continue;
        }
        let class = classes
            .binary_search(&cands[p].lines)
            .expect("every platform coupon has its class");
        let items: i64 = cands[p].lines.iter().map(|&i| lines[i].qty).sum();
        let most: i64 = cands[p].lines.iter().map(|&i| lines[i].base()).sum();
        let growth = match cands[p].benefit() {
            Benefit::Reduction { threshold, off } => Growth::Fixed {
                need: *threshold,
                off: *off,
            },
            Benefit::Percent {
                min_amount,
                min_items,
                rate_bp,
                cap,
            } => {
                if min_items.is_some_and(|m| items < m) {
                    continue;
                }
                Growth::Linear {
                    need: min_amount.unwrap_or(0),
                    off_bp: 10_000 - rate_bp,
                    cap: *cap,
                }
            }
            Benefit::Tiered { tiers } => {
                let Some(tier) = tiers
                    .iter()
                    .filter(|t| t.min_items <= items)
                    .max_by_key(|t| t.min_items)
                else {
                    continue;
                };
                Growth::Linear {
                    need: 0,
                    off_bp: 10_000 - tier.rate_bp,
                    cap: None,
                }
            }
            Benefit::Gift { .. } | Benefit::FreeShipping { .. } => continue,
        };
        if discount(cands[p].benefit(), most, items).is_none() {
            continue;
        }
        options.push(Platform {
            cand: Some(p),
            class,
            items,
            growth,
        });
    }

    let mut search = Search {
        cart,
        cands,
        stores,
        store_lines,
        configs,
        overlaps: store_overlaps,
        reach: HashMap::new(),
        shippers,
        fees,
        fee_stores,
        shipping,
        shipping_max,
        best: None,
        nodes: 0,
        budget: None,
    };
    // Per class, the most any of its options can give: losses beyond it (and what shipping
    // could add) never pay.
    let mut options_ceiling: HashMap<usize, (i64, i64)> = HashMap::new();
    for o in &options {
        let Some(p) = o.cand else { continue };
        let lines_base: i64 = cands[p].lines.iter().map(|&i| lines[i].base()).sum();
        let most = super::upper_discount(cands[p].benefit(), lines_base, o.items);
        let need = o.growth.need();
        let e = options_ceiling.entry(o.class).or_insert((0, 0));
        *e = (e.0.max(most), e.1.max(need));
    }
    // The most promising option first: its incumbent then cuts the others early.
    let mut ranked: Vec<(i64, Platform, Suffix)> = Vec::with_capacity(options.len());
    for o in options {
        let suffix = search.suffix(&o);
        let bound = search.bound(&o, &suffix, 0, 0, 0);
        ranked.push((bound, o, suffix));
    }
    ranked.sort_by_key(|r| std::cmp::Reverse(r.0));
    let mut chosen = Vec::with_capacity(search.stores.len());
    for (bound, option, suffix) in &mut ranked {
        if search.best.as_ref().is_some_and(|b| *bound < b.total) {
            continue;
        }
        // The relaxed bound first; when it lets the walk wander, the exact one (dearer to set
        // up) and the walk again.
        let separable = option.cand.is_some()
            && search
                .overlaps
                .iter()
                .all(|o| o[option.class] != Overlap::Partial);
        search.budget = separable.then_some(search.nodes + relaxed_nodes());
        match search.walk(option, suffix, &mut chosen, 0, 0) {
            Ok(()) => {}
            Err(Halt::Escalate) => {
                chosen.clear();
                search.budget = None;
                suffix.exact = search.exact(option.class, options_ceiling[&option.class]);
                search
                    .walk(option, suffix, &mut chosen, 0, 0)
                    .map_err(|_| QuoteError::TooComplex)?;
            }
            Err(Halt::TooComplex) => return Err(QuoteError::TooComplex),
        }
    }
    let Some(best) = search.best.take() else {
        let pinned = cands
            .iter()
            .find(|c| c.pinned)
            .map(|c| c.offer.coupon_id.clone())
            .unwrap_or_default();
        return Err(QuoteError::PinNotApplicable(pinned));
    };
    Ok(search.priced(best))
}

impl Search<'_, '_, '_> {
    fn walk(
        &mut self,
        option: &Platform,
        suffix: &Suffix,
        chosen: &mut Vec<usize>,
        d: i64,
        b: i64,
    ) -> Result<(), Halt> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(Halt::TooComplex);
        }
        if self.budget.is_some_and(|b| self.nodes > b) {
            return Err(Halt::Escalate);
        }
        let k = chosen.len();
        if k == self.configs.len() {
            return self.leaf(option, chosen, d, b);
        }
        for x in 0..self.configs[k].len() {
            let config = &self.configs[k][x];
            let (d2, b2) = (
                d + config.total,
                b + if option.cand.is_some() {
                    config.class_base[option.class]
                } else {
                    0
                },
            );
            let bound = self.bound(option, suffix, k + 1, d2, b2);
            if bound == i64::MIN || self.best.as_ref().is_some_and(|best| bound < best.total) {
                continue;
            }
            chosen.push(x);
            let result = self.walk(option, suffix, chosen, d2, b2);
            chosen.pop();
            result?;
        }
        Ok(())
    }
}
