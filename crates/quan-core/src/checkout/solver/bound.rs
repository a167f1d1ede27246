//! The upper bounds that cut the search across stores: a Lagrangian relaxation, and an exact one.
//!
//! The relaxed bound relaxes the platform's threshold with a Lagrange multiplier: for the stores
//! left, ΣD ≤ Σ max(D) and, when the platform needs Σb ≥ y more base, ΣD ≤ Σ max(D + b) − y; with
//! a percentage (or tier) coupon, D + ρ·b is bounded the same way. When the platform class holds
//! whole stores, the exact bound takes the least loss the stores left can make that still reaches
//! the threshold (`reach`). Shipping adds at most what placing every free-shipping coupon
//! regardless of its threshold would waive.

use std::rc::Rc;

use super::merchant::{Config, Overlap};
use super::reach::Reach;
use super::search::{Platform, Search};
use crate::checkout::money::discount;

/// How a platform coupon's money off grows with its base, for the bound.
#[derive(Debug, Clone, Copy)]
pub(super) enum Growth {
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
    pub(super) fn need(self) -> i64 {
        match self {
            Growth::Fixed { need, .. } | Growth::Linear { need, .. } => need,
            Growth::Nothing => 0,
        }
    }
}

/// Suffix sums over stores of per-store maxima, for the bound at depth `k`.
pub(super) struct Suffix {
    d: Vec<i64>,
    b: Vec<i64>,
    db: Vec<i64>,
    /// Σ max(10,000·D + off_bp·b), for linear growth.
    dab: Vec<i128>,
    /// When the platform class holds whole stores: the exact bound's data.
    pub(super) exact: Option<Exact>,
}

/// The exact bound of a platform class that meets every store wholly or not at all: the class
/// base of stores `k..` at their best money off, and the losses they can add to it.
pub(super) struct Exact {
    base0: Vec<i64>,
    reach: Rc<Reach>,
}

impl Search<'_, '_, '_> {
    pub(super) fn suffix(&self, option: &Platform) -> Suffix {
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
    pub(super) fn exact(&mut self, class: usize, (most, need): (i64, i64)) -> Option<Exact> {
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
    pub(super) fn bound(
        &self,
        option: &Platform,
        suffix: &Suffix,
        k: usize,
        d: i64,
        b: i64,
    ) -> i64 {
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
}
