//! The search across stores: for each platform option, a branch and bound over the stores'
//! merchant configurations that keeps the best combination by section 6.4.
//!
//! Stores meet only through the platform coupon (its base is the sum of what each store leaves)
//! and free shipping (its thresholds see the platform's apportionment). With the platform option
//! fixed, a partial choice of configurations for stores `..k` is cut when an upper bound of every
//! completion is *strictly* below the best total found, so no combination that could tie the best
//! is ever cut and the tie-breaks see every candidate. The bound relaxes the platform's threshold
//! with a Lagrange multiplier: for the stores left, ΣD ≤ Σ max(D) and, when the platform needs
//! Σb ≥ y more base, ΣD ≤ Σ max(D + b) − y; with a percentage (or tier) coupon, D + ρ·b is bounded
//! the same way. Shipping adds at most what placing every free-shipping coupon regardless of its
//! threshold would waive.

use std::collections::HashMap;
use std::rc::Rc;

use jiff::Timestamp;

use super::merchant::{self, Config, Overlap, Signature};
use super::reach::Reach;
use super::shipping::{self, Placed};
use super::{shares_of, Applied, Cand, Layout, LineShare, QuoteError, Role};
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
enum Halt {
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

/// How a platform coupon's money off grows with its base, for the bound.
#[derive(Debug, Clone, Copy)]
enum Growth {
    /// No platform coupon.
    Nothing,
    /// At most `off` once the base reaches `need`.
    Fixed { need: i64, off: i64 },
    /// `off_bp`/10,000 of the base once it reaches `need`, at most `cap`.
    Linear {
        need: i64,
        off_bp: i64,
        cap: Option<i64>,
    },
}

impl Growth {
    /// The base the platform coupon needs before it gives anything.
    fn need(self) -> i64 {
        match self {
            Growth::Fixed { need, .. } | Growth::Linear { need, .. } => need,
            Growth::Nothing => 0,
        }
    }
}

/// A platform option: no platform coupon, or one.
struct Platform {
    cand: Option<usize>,
    class: usize,
    items: i64,
    growth: Growth,
}

/// Suffix sums over stores of per-store maxima, for the bound at depth `k`.
struct Suffix {
    d: Vec<i64>,
    b: Vec<i64>,
    db: Vec<i64>,
    /// Σ max(10,000·D + off_bp·b), for linear growth.
    dab: Vec<i128>,
    /// When the platform class holds whole stores: the exact bound's data.
    exact: Option<Exact>,
}

/// The exact bound of a platform class that meets every store wholly or not at all: the class
/// base of stores `k..` at their best money off, and the losses they can add to it.
struct Exact {
    base0: Vec<i64>,
    reach: Rc<Reach>,
}

/// The best complete combination so far, and its rank.
struct Incumbent {
    total: i64,
    count: usize,
    expiries: Vec<Timestamp>,
    ids: Vec<u32>,
    assignment: Vec<u32>,
    platform: Option<(usize, i64)>,
    chosen: Vec<usize>,
    placed: Vec<Placed>,
    money_off: i64,
    waived: i64,
}

struct Search<'s, 'a, 't> {
    cart: &'s Cart,
    cands: &'s [Cand<'a, 't>],
    stores: Vec<&'s str>,
    store_lines: Vec<Vec<usize>>,
    configs: Vec<Vec<Config>>,
    /// [store][class]: how each platform class meets each store.
    overlaps: Vec<Vec<Overlap>>,
    /// Reach of each whole-store class, shared by its options.
    reach: HashMap<usize, Rc<Reach>>,
    shippers: Vec<usize>,
    fees: Vec<(&'s str, i64)>,
    /// The store of each shipment in `fees`.
    fee_stores: Vec<usize>,
    /// Whether any free-shipping coupon could waive a fee: leaves then place them.
    shipping: bool,
    /// The most free shipping could waive (thresholds aside).
    shipping_max: i64,
    best: Option<Incumbent>,
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
    fn suffix(&self, option: &Platform) -> Suffix {
        let n = self.configs.len();
        let off_bp = match option.growth {
            Growth::Linear { off_bp, .. } => i128::from(off_bp),
            _ => 0,
        };
        let mut suffix = Suffix {
            d: vec![0; n + 1],
            b: vec![0; n + 1],
            db: vec![0; n + 1],
            dab: vec![0; n + 1],
            exact: None,
        };
        for s in (0..n).rev() {
            let class = |c: &Config| {
                if option.cand.is_some() {
                    c.class_base[option.class]
                } else {
                    0
                }
            };
            let cs = &self.configs[s];
            suffix.d[s] = suffix.d[s + 1] + cs.iter().map(|c| c.total).max().unwrap_or(0);
            suffix.b[s] = suffix.b[s + 1] + cs.iter().map(class).max().unwrap_or(0);
            suffix.db[s] =
                suffix.db[s + 1] + cs.iter().map(|c| c.total + class(c)).max().unwrap_or(0);
            suffix.dab[s] = suffix.dab[s + 1]
                + cs.iter()
                    .map(|c| 10_000 * i128::from(c.total) + off_bp * i128::from(class(c)))
                    .max()
                    .unwrap_or(0);
        }
        suffix
    }

    /// The exact bound's data for `class`, when it meets every store wholly or not at all.
    /// `most`: the most any option of the class gives; `need`: the highest threshold among them.
    fn exact(&mut self, class: usize, (most, need): (i64, i64)) -> Option<Exact> {
        if self.overlaps.iter().any(|o| o[class] == Overlap::Partial) {
            return None;
        }
        let lines = self.cart.lines();
        let n = self.configs.len();
        let mut base0 = vec![0i64; n + 1];
        let mut losses: Vec<Vec<i64>> = vec![Vec::new(); n];
        let (mut widest, mut total) = (0i64, 0i64);
        for s in (0..n).rev() {
            base0[s] = base0[s + 1];
            if self.overlaps[s][class] != Overlap::All {
                continue;
            }
            // Configurations are sorted by money off, best first.
            let best = self.configs[s][0].total;
            let base: i64 = self.store_lines[s].iter().map(|&i| lines[i].base()).sum();
            base0[s] += base - best;
            let mut l: Vec<i64> = self.configs[s].iter().map(|c| best - c.total).collect();
            l.dedup();
            let last = *l.last().expect("a store has a configuration");
            widest = widest.max(last);
            total += last;
            losses[s] = l;
        }
        let reach = match self.reach.get(&class) {
            Some(r) => Rc::clone(r),
            None => {
                // Sums past the threshold's shortfall by more than one store's widest loss, or
                // past what the platform and shipping could give back, are never the least to
                // matter; past `top` they are only known to be "top or more" (still a bound).
                let short = (need - base0[0]).max(0);
                let top = (short + widest)
                    .min(most + self.shipping_max)
                    .min(total)
                    .clamp(63, (1 << 20) - 1);
                let r = Rc::new(Reach::new(&losses, top as usize));
                self.reach.insert(class, Rc::clone(&r));
                r
            }
        };
        Some(Exact { base0, reach })
    }

    /// An upper bound of the total of every completion of a choice for stores `..k` with merchant
    /// money off `d` and platform base `b` so far; `i64::MIN` when the platform coupon can no
    /// longer reach its threshold.
    fn bound(&self, option: &Platform, suffix: &Suffix, k: usize, d: i64, b: i64) -> i64 {
        let merchant = |need: i64| -> Option<i64> {
            if b + suffix.b[k] < need {
                return None;
            }
            let y = need - b;
            Some(if y <= 0 {
                suffix.d[k]
            } else {
                suffix.d[k].min(suffix.db[k] - y)
            })
        };
        if let (Some(p), Some(exact)) = (option.cand, &suffix.exact) {
            let need = option.growth.need();
            let Some(loss) = exact.reach.least_from(k, need - b - exact.base0[k]) else {
                return i64::MIN;
            };
            let base = b + exact.base0[k] + loss;
            let Some(platform) = discount(self.cands[p].benefit(), base, option.items) else {
                return i64::MIN;
            };
            return d + suffix.d[k] - loss + platform + self.shipping_max;
        }
        let rest = match option.growth {
            Growth::Nothing => suffix.d[k],
            Growth::Fixed { need, off } => match merchant(need) {
                Some(m) => m + off,
                None => return i64::MIN,
            },
            Growth::Linear { need, off_bp, cap } => {
                let Some(m) = merchant(need) else {
                    return i64::MIN;
                };
                let (a, y) = (i128::from(off_bp), i128::from(need - b));
                let mut most = a * i128::from(b) + suffix.dab[k];
                if y > 0 {
                    most = most.min(
                        a * i128::from(b) + 10_000 * i128::from(suffix.db[k]) - (10_000 - a) * y,
                    );
                }
                if let Some(cap) = cap {
                    most = most.min(10_000 * i128::from(m + cap));
                }
                i64::try_from(most.div_euclid(10_000)).unwrap_or(i64::MAX)
            }
        };
        d.saturating_add(rest).saturating_add(self.shipping_max)
    }

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

    /// Each line's merchant share under `chosen`.
    fn merchant_shares(&self, chosen: &[usize]) -> Vec<i64> {
        let mut shares = vec![0i64; self.cart.lines().len()];
        for (s, &x) in chosen.iter().enumerate() {
            let lines = &self.store_lines[s];
            for (k, a) in self.configs[s][x]
                .line_shares(self.cart, lines)
                .into_iter()
                .enumerate()
            {
                shares[lines[k]] = a;
            }
        }
        shares
    }

    /// The platform coupon's share of each of its lines, on the post-merchant base.
    fn platform_shares(&self, p: usize, amount: i64, merchant: &[i64]) -> Vec<(usize, i64)> {
        let lines = self.cart.lines();
        shares_of(amount, &self.cands[p].lines, |i| {
            lines[i].base() - merchant[i]
        })
    }

    fn leaf(&mut self, option: &Platform, chosen: &[usize], d: i64, b: i64) -> Result<(), Halt> {
        let platform = match option.cand {
            None => None,
            Some(p) => match discount(self.cands[p].benefit(), b, option.items) {
                Some(amount) => Some((p, amount)),
                None => return Ok(()),
            },
        };
        let money_off = d + platform.map_or(0, |p| p.1);
        let floor = self.best.as_ref().map_or(i64::MIN, |b| b.total);
        if money_off + self.shipping_max < floor {
            return Ok(());
        }
        let (waived, placed) = if self.shipping {
            let lines = self.cart.lines();
            let mut after: Vec<i64> = vec![0; self.fees.len()];
            let mut left: Vec<i64> = lines.iter().map(crate::checkout::Line::base).collect();
            if let Some((p, amount)) = platform {
                let merchant = self.merchant_shares(chosen);
                for (i, m) in merchant.iter().enumerate() {
                    left[i] -= m;
                }
                for (i, a) in self.platform_shares(p, amount, &merchant) {
                    left[i] -= a;
                }
            } else {
                // Without a platform coupon only each store's merchant money off matters.
                for (s, &x) in chosen.iter().enumerate() {
                    let first = self.store_lines[s][0];
                    left[first] -= self.configs[s][x].total;
                }
            }
            for (k, &s) in self.fee_stores.iter().enumerate() {
                after[k] = self.store_lines[s].iter().map(|&i| left[i]).sum();
            }
            match shipping::place(self.cands, &self.shippers, &self.fees, &after) {
                Some(p) => (p.waived, p.placed),
                None => return Ok(()),
            }
        } else {
            (0, Vec::new())
        };
        let total = money_off + waived;
        if total < floor {
            return Ok(());
        }
        let count = chosen
            .iter()
            .enumerate()
            .map(|(s, &x)| self.configs[s][x].used.len())
            .sum::<usize>()
            + usize::from(platform.is_some())
            + placed.len();
        if let Some(best) = &self.best {
            if total == best.total && count > best.count {
                return Ok(());
            }
        }
        let mut expiries: Vec<Timestamp> = Vec::with_capacity(count);
        let mut ids: Vec<u32> = Vec::with_capacity(count);
        let mut assignment = vec![0u32; self.cart.lines().len()];
        for (s, &x) in chosen.iter().enumerate() {
            let config = &self.configs[s][x];
            expiries.extend_from_slice(&config.expiries);
            ids.extend_from_slice(&config.ids);
            for (k, &r) in config.assignment.iter().enumerate() {
                assignment[self.store_lines[s][k]] = r;
            }
        }
        for c in platform
            .map(|p| p.0)
            .into_iter()
            .chain(placed.iter().map(|p| p.0))
        {
            expiries.push(self.cands[c].expiry());
            ids.push(self.cands[c].rank);
        }
        expiries.sort();
        ids.sort_unstable();
        let better = match &self.best {
            None => true,
            Some(best) => {
                total > best.total
                    || count < best.count
                    || (expiries.as_slice(), ids.as_slice(), assignment.as_slice())
                        < (
                            best.expiries.as_slice(),
                            best.ids.as_slice(),
                            best.assignment.as_slice(),
                        )
            }
        };
        if better {
            self.best = Some(Incumbent {
                total,
                count,
                expiries,
                ids,
                assignment,
                platform,
                chosen: chosen.to_vec(),
                placed,
                money_off,
                waived,
            });
        }
        Ok(())
    }

    /// The combination as the quote shows it.
    fn priced(&self, best: Incumbent) -> Best {
        let lines = self.cart.lines();
        let mut coupons = Vec::new();
        let mut used = Vec::new();
        for (s, &x) in best.chosen.iter().enumerate() {
            let config = &self.configs[s][x];
            let store_lines = &self.store_lines[s];
            let shares = config.line_shares(self.cart, store_lines);
            for &(c, amount) in &config.used {
                used.push(c);
                coupons.push(Applied {
                    coupon_id: self.cands[c].offer.coupon_id.clone(),
                    discount: amount,
                    lines: (0..store_lines.len())
                        .filter(|&k| config.taker[k] == c as u32)
                        .map(|k| LineShare {
                            line_id: lines[store_lines[k]].line_id.clone(),
                            amount: shares[k],
                        })
                        .collect(),
                    store_id: None,
                });
            }
        }
        if let Some((p, amount)) = best.platform {
            let merchant = self.merchant_shares(&best.chosen);
            used.push(p);
            coupons.push(Applied {
                coupon_id: self.cands[p].offer.coupon_id.clone(),
                discount: amount,
                lines: self
                    .platform_shares(p, amount, &merchant)
                    .into_iter()
                    .map(|(i, a)| LineShare {
                        line_id: lines[i].line_id.clone(),
                        amount: a,
                    })
                    .collect(),
                store_id: None,
            });
        }
        for &(c, k, waived) in &best.placed {
            used.push(c);
            coupons.push(Applied {
                coupon_id: self.cands[c].offer.coupon_id.clone(),
                discount: waived,
                lines: vec![],
                store_id: Some(self.fees[k].0.to_string()),
            });
        }
        Best {
            money_off: best.money_off,
            waived: best.waived,
            coupons,
            used,
        }
    }
}
