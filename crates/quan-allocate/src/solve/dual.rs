//! The Lagrangian dual: multipliers, the parallel passes that price every member, the search
//! along each multiplier, and the primal allocation at the end (stock repair, greedy fill).

use rayon::prelude::*;

use super::{Constraints, BLOCK};
use crate::instance::{Instance, NONE};

#[derive(Debug, Clone)]
pub(super) struct Duals {
    /// The price of a unit of budget.
    pub(super) lambda: f64,
    /// The price of a unit of each option's stock (0 for options without stock).
    pub(super) mu: Vec<f64>,
}

#[derive(Clone, Copy)]
pub(super) enum Var {
    Lambda,
    /// The k-th stocked option.
    Mu(usize),
}

/// One pass's figures at some multipliers.
#[derive(Debug, Clone)]
pub(super) struct Eval {
    /// Σ over members of the best reduced value, at least 0 (giving nothing).
    pub(super) reduced: f64,
    pub(super) spend: f64,
    /// Members choosing each stocked option.
    pub(super) used: Vec<u64>,
}

pub(super) struct Solver<'a> {
    pub(super) inst: &'a Instance,
    pub(super) c: &'a Constraints,
    /// The stock slot of each option, or `NONE`.
    pub(super) slot: [u8; 256],
    /// The least dual value seen, and the multipliers that gave it.
    pub(super) bound: f64,
    pub(super) bound_duals: Option<Duals>,
    pub(super) passes: u32,
}

impl<'a> Solver<'a> {
    pub(super) fn new(inst: &'a Instance, c: &'a Constraints) -> Self {
        let mut slot = [NONE; 256];
        for (k, &(o, _)) in c.stock.iter().enumerate() {
            slot[o as usize] = k as u8;
        }
        Solver {
            inst,
            c,
            slot,
            bound: f64::INFINITY,
            bound_duals: None,
            passes: 0,
        }
    }

    /// The best pair of member `m` at `d` (`usize::MAX` for none) and its reduced value.
    #[inline]
    pub(super) fn best(&self, m: usize, d: &Duals) -> (usize, f64) {
        let (opt, cost, value) = (self.inst.option(), self.inst.cost(), self.inst.value());
        let (mut best, mut best_r, mut best_c) = (usize::MAX, 0.0f64, 0.0f64);
        for j in self.inst.pairs_of(m) {
            let (c, v) = (cost[j], value[j]);
            if !self.c.eligible(c, v) {
                continue;
            }
            let (c, v) = (c as f64, v as f64);
            let r = v - d.lambda * c - d.mu[opt[j] as usize];
            if r > best_r || (r == best_r && c < best_c) {
                (best, best_r, best_c) = (j, r, c);
            }
        }
        (best, best_r)
    }

    pub(super) fn blocks(&self) -> usize {
        self.inst.members().div_ceil(BLOCK)
    }

    pub(super) fn members_of(&self, b: usize) -> std::ops::Range<usize> {
        b * BLOCK..((b + 1) * BLOCK).min(self.inst.members())
    }

    /// One pass: the dual function's parts at `d`; records the bound it gives.
    pub(super) fn eval(&mut self, d: &Duals) -> Eval {
        self.passes += 1;
        let k = self.c.stock.len();
        let this = &*self;
        let parts: Vec<Eval> = (0..this.blocks())
            .into_par_iter()
            .map(|b| {
                let mut e = Eval {
                    reduced: 0.0,
                    spend: 0.0,
                    used: vec![0; k],
                };
                for m in this.members_of(b) {
                    let (j, r) = this.best(m, d);
                    if j != usize::MAX {
                        e.reduced += r;
                        e.spend += this.inst.cost()[j] as f64;
                        let s = this.slot[this.inst.option()[j] as usize];
                        if s != NONE {
                            e.used[s as usize] += 1;
                        }
                    }
                }
                e
            })
            .collect();
        let mut e = Eval {
            reduced: 0.0,
            spend: 0.0,
            used: vec![0; k],
        };
        for p in parts {
            e.reduced += p.reduced;
            e.spend += p.spend;
            for (u, pu) in e.used.iter_mut().zip(p.used) {
                *u += pu;
            }
        }
        let dual = d.lambda * self.c.budget
            + self
                .c
                .stock
                .iter()
                .map(|&(o, n)| d.mu[o as usize] * n as f64)
                .sum::<f64>()
            + e.reduced;
        if dual < self.bound {
            self.bound = dual;
            self.bound_duals = Some(d.clone());
        }
        e
    }

    /// The largest multiplier worth trying for `var`: beyond it nothing that uses it is chosen.
    pub(super) fn ceiling(&self, var: Var) -> f64 {
        let (opt, cost, value) = (self.inst.option(), self.inst.cost(), self.inst.value());
        let pairs = 0..self.inst.pairs();
        let top = pairs
            .into_par_iter()
            .with_min_len(1 << 16)
            .filter(|&j| self.c.eligible(cost[j], value[j]))
            .map(|j| match var {
                Var::Lambda if cost[j] > 0.0 => value[j] as f64 / cost[j] as f64,
                Var::Mu(k) if opt[j] == self.c.stock[k].0 => value[j] as f64,
                _ => 0.0,
            })
            .reduce(|| 0.0, f64::max);
        // A little above, so that at the ceiling every such pair's reduced value is below 0.
        top * (1.0 + 1e-9) + f64::MIN_POSITIVE
    }

    /// Minimises the dual function along one multiplier: the least value at which the budget
    /// (or the option's stock) is respected, by false position alternated with bisection.
    pub(super) fn search(&mut self, d: &mut Duals, var: Var) {
        let (limit, measure): (f64, fn(&Eval, usize) -> f64) = match var {
            Var::Lambda => (self.c.budget, |e, _| e.spend),
            Var::Mu(k) => (self.c.stock[k].1 as f64, |e, k| e.used[k] as f64),
        };
        let k = match var {
            Var::Lambda => 0,
            Var::Mu(k) => k,
        };
        // The multiplier's place: the budget's, or a stocked option's.
        let place = match var {
            Var::Lambda => None,
            Var::Mu(k) => Some(self.c.stock[k].0 as usize),
        };
        let get = |d: &Duals| place.map_or(d.lambda, |o| d.mu[o]);
        let set = |d: &mut Duals, x: f64| match place {
            None => d.lambda = x,
            Some(o) => d.mu[o] = x,
        };
        let current = get(d);
        let e = self.eval(d);
        let over = measure(&e, k) - limit;
        // The bracket: `lo` over the limit, `hi` within it.
        let (mut lo, f_lo, mut hi, mut f_hi);
        if over > 0.0 {
            (lo, f_lo) = (current, over);
            hi = self.ceiling(var);
            set(d, hi);
            f_hi = measure(&self.eval(d), k) - limit;
        } else {
            if current == 0.0 {
                return;
            }
            (hi, f_hi) = (current, over);
            set(d, 0.0);
            let f0 = measure(&self.eval(d), k) - limit;
            if f0 <= 0.0 {
                return;
            }
            (lo, f_lo) = (0.0, f0);
        }
        // Close enough when what is left unused is a negligible share of the limit.
        let slack = 1e-8 * limit;
        // Illinois false position: the weight of an end kept twice in a row is halved, so the
        // bracket shrinks from both sides.
        let (mut w_lo, mut w_hi, mut kept) = (f_lo, f_hi, 0i8);
        for _ in 0..200 {
            // The dual function's slope along the multiplier is −f, so on [lo, hi] it lies within
            // (hi − lo)·(−f_hi) of its least value: stop once that is negligible.
            let settled = (hi - lo) * -f_hi <= 1e-10 * self.bound.abs().max(1.0);
            if -f_hi <= slack || settled || hi - lo <= 1e-14 * hi {
                break;
            }
            let mut x = lo + (hi - lo) * w_lo / (w_lo - w_hi);
            if !(x > lo && x < hi) {
                x = 0.5 * (lo + hi);
            }
            set(d, x);
            let f = measure(&self.eval(d), k) - limit;
            if f > 0.0 {
                (lo, w_lo) = (x, f);
                if kept == 1 {
                    w_hi *= 0.5;
                }
                kept = 1;
            } else {
                (hi, f_hi, w_hi) = (x, f, f);
                if kept == -1 {
                    w_lo *= 0.5;
                }
                kept = -1;
            }
        }
        set(d, hi);
    }

    /// Each member's best option at `d`.
    pub(super) fn choose(&self, d: &Duals) -> Vec<u8> {
        let mut choice = vec![NONE; self.inst.members()];
        choice
            .par_chunks_mut(BLOCK)
            .enumerate()
            .for_each(|(b, chunk)| {
                for (i, x) in chunk.iter_mut().enumerate() {
                    let (j, _) = self.best(b * BLOCK + i, d);
                    if j != usize::MAX {
                        *x = self.inst.option()[j];
                    }
                }
            });
        choice
    }

    /// The pair of member `m` with option `o`.
    pub(super) fn pair(&self, m: usize, o: u8) -> usize {
        let r = self.inst.pairs_of(m);
        let start = r.start;
        start
            + self.inst.option()[r]
                .iter()
                .position(|&x| x == o)
                .expect("a chosen option is one of the member's")
    }

    pub(super) fn cost_of(&self, m: usize, o: u8) -> f64 {
        if o == NONE {
            0.0
        } else {
            self.inst.cost()[self.pair(m, o)] as f64
        }
    }

    pub(super) fn value_of(&self, m: usize, o: u8) -> f64 {
        if o == NONE {
            0.0
        } else {
            self.inst.value()[self.pair(m, o)] as f64
        }
    }

    /// Value, spend and count of an allocation, summed block by block in order.
    pub(super) fn totals(&self, choice: &[u8]) -> (f64, f64, u64) {
        let parts: Vec<(f64, f64, u64)> = choice
            .par_chunks(BLOCK)
            .enumerate()
            .map(|(b, chunk)| {
                let mut t = (0.0, 0.0, 0);
                for (i, &o) in chunk.iter().enumerate() {
                    if o != NONE {
                        let j = self.pair(b * BLOCK + i, o);
                        t.0 += self.inst.value()[j] as f64;
                        t.1 += self.inst.cost()[j] as f64;
                        t.2 += 1;
                    }
                }
                t
            })
            .collect();
        parts
            .into_iter()
            .fold((0.0, 0.0, 0), |a, p| (a.0 + p.0, a.1 + p.1, a.2 + p.2))
    }

    pub(super) fn used(&self, choice: &[u8]) -> Vec<u64> {
        let mut used = vec![0u64; self.c.stock.len()];
        for &o in choice {
            if o != NONE && self.slot[o as usize] != NONE {
                used[self.slot[o as usize] as usize] += 1;
            }
        }
        used
    }

    /// Takes an option away from the members who lose least by it until no stock is exceeded.
    pub(super) fn repair_stock(&self, choice: &mut [u8], d: &Duals) {
        let used = self.used(choice);
        for (k, &(o, n)) in self.c.stock.iter().enumerate() {
            if used[k] <= n {
                continue;
            }
            let mut holders: Vec<(f64, u32)> = choice
                .par_iter()
                .enumerate()
                .filter(|&(_, &x)| x == o)
                .map(|(m, _)| {
                    let j = self.pair(m, o);
                    let r = self.inst.value()[j] as f64
                        - d.lambda * self.inst.cost()[j] as f64
                        - d.mu[o as usize];
                    // The best alternative: another eligible option, or nothing.
                    let alt = self
                        .inst
                        .pairs_of(m)
                        .filter(|&i| i != j)
                        .filter(|&i| self.c.eligible(self.inst.cost()[i], self.inst.value()[i]))
                        .map(|i| {
                            self.inst.value()[i] as f64
                                - d.lambda * self.inst.cost()[i] as f64
                                - d.mu[self.inst.option()[i] as usize]
                        })
                        .fold(0.0, f64::max);
                    (r - alt, m as u32)
                })
                .collect();
            holders.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            for &(_, m) in &holders[..(used[k] - n) as usize] {
                choice[m as usize] = NONE;
            }
        }
    }

    /// Greedy fill: while budget and stock are left, upgrade members by the best value gained
    /// per unit of extra cost.
    pub(super) fn fill(&self, choice: &mut [u8]) {
        for _ in 0..6 {
            let (_, spend, _) = self.totals(choice);
            let left = self.c.budget - spend;
            if left < 0.0 {
                return;
            }
            let mut stock_left: Vec<i64> = self.c.stock.iter().map(|&(_, n)| n as i64).collect();
            for (u, s) in self.used(choice).into_iter().zip(stock_left.iter_mut()) {
                *s -= u as i64;
            }
            let this = self;
            let stock_ref = &stock_left;
            let current = &*choice;
            let mut candidates: Vec<(f64, f64, f64, u32, u8)> = (0..this.blocks())
                .into_par_iter()
                .flat_map_iter(|b| {
                    this.members_of(b).filter_map(move |m| {
                        let cur = current[m];
                        let (c0, v0) = (this.cost_of(m, cur), this.value_of(m, cur));
                        let mut best: Option<(f64, f64, f64, u32, u8)> = None;
                        for j in this.inst.pairs_of(m) {
                            let o = this.inst.option()[j];
                            let (c, v) = (this.inst.cost()[j], this.inst.value()[j]);
                            if o == cur || !this.c.eligible(c, v) {
                                continue;
                            }
                            let (dc, dv) = (c as f64 - c0, v as f64 - v0);
                            let s = this.slot[o as usize];
                            if dv <= 0.0 || dc > left || (s != NONE && stock_ref[s as usize] <= 0) {
                                continue;
                            }
                            let eff = if dc <= 0.0 { f64::INFINITY } else { dv / dc };
                            if best.is_none_or(|b| (eff, dv) > (b.0, b.1)) {
                                best = Some((eff, dv, dc, m as u32, o));
                            }
                        }
                        best
                    })
                })
                .collect();
            candidates.sort_by(|a, b| {
                b.0.total_cmp(&a.0)
                    .then(b.1.total_cmp(&a.1))
                    .then(a.3.cmp(&b.3))
            });
            let mut left = left;
            let mut applied = 0;
            for (_, _, dc, m, o) in candidates {
                let s = self.slot[o as usize];
                if dc > left || (s != NONE && stock_left[s as usize] <= 0) {
                    continue;
                }
                left -= dc;
                if s != NONE {
                    stock_left[s as usize] -= 1;
                }
                let old = choice[m as usize];
                if old != NONE && self.slot[old as usize] != NONE {
                    stock_left[self.slot[old as usize] as usize] += 1;
                }
                choice[m as usize] = o;
                applied += 1;
            }
            if applied == 0 {
                return;
            }
        }
    }
}
