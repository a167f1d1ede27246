//! The solver: a Lagrangian dual on the budget and each stocked option, a repair and greedy fill,
//! then an exact finish by branch and bound over the members the bound leaves undecided.

use rayon::prelude::*;

use crate::instance::{Instance, NONE};

/// Members per block of a parallel pass; blocks are summed in order, so a pass gives the same
/// figures on any number of threads.
const BLOCK: usize = 1 << 14;

/// What an allocation must respect.
#[derive(Debug, Clone, PartialEq)]
pub struct Constraints {
    budget: f64,
    /// (option, stock), at most one entry per option.
    stock: Vec<(u8, u64)>,
    min_roi: f64,
}

/// Why constraints were refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConstraintError {
    #[error("the budget must be a finite amount of at least 0")]
    Budget,
    #[error("the minimum ROI must be a finite number of at least 0")]
    MinRoi,
    #[error("stock for option {0:?}: the file has no such option")]
    UnknownOption(String),
    #[error("stock for option {0:?} is given twice")]
    StockTwice(String),
}

impl Constraints {
    /// A total budget, in the unit of the file's costs.
    pub fn new(budget: f64) -> Result<Self, ConstraintError> {
        if !(budget.is_finite() && budget >= 0.0) {
            return Err(ConstraintError::Budget);
        }
        Ok(Constraints {
            budget,
            stock: Vec::new(),
            min_roi: 0.0,
        })
    }

    /// At most `n` members get `option`.
    pub fn with_stock(
        mut self,
        inst: &Instance,
        option: &str,
        n: u64,
    ) -> Result<Self, ConstraintError> {
        let o = inst
            .option_index(option)
            .ok_or_else(|| ConstraintError::UnknownOption(option.into()))?;
        if self.stock.iter().any(|&(s, _)| s == o) {
            return Err(ConstraintError::StockTwice(option.into()));
        }
        self.stock.push((o, n));
        Ok(self)
    }

    /// Every pair given must return at least `r` per unit of cost: `value ≥ r × cost`.
    ///
    /// The minimum holds per coupon given, not on average over the allocation: an operator who
    /// asks for an ROI of 2 does not want a coupon that returns 0.5 hidden behind one that
    /// returns 10. It implies the allocation's own ROI (total value / spend) is at least `r`
    /// too, as a ratio of sums of pairs that each meet it. A pair of cost 0 and positive value
    /// meets any minimum.
    pub fn with_min_roi(mut self, r: f64) -> Result<Self, ConstraintError> {
        if !(r.is_finite() && r >= 0.0) {
            return Err(ConstraintError::MinRoi);
        }
        self.min_roi = r;
        Ok(self)
    }

    pub fn budget(&self) -> f64 {
        self.budget
    }

    /// The stock of each stocked option.
    pub fn stock(&self) -> &[(u8, u64)] {
        &self.stock
    }

    pub fn min_roi(&self) -> f64 {
        self.min_roi
    }

    /// Whether a pair may be given at all: positive value, and the minimum ROI. A pair of value
    /// at most 0 is never worth its cost (≥ 0), since giving nothing is worth 0 at 0.
    #[inline]
    pub fn eligible(&self, cost: f32, value: f32) -> bool {
        value > 0.0 && value as f64 >= self.min_roi * cost as f64
    }
}

/// How hard the solver tries beyond the dual and the fill.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The exact finish runs when at most this many members are left undecided by the bound.
    pub core_limit: usize,
    /// The exact finish gives up (keeping what it found) after this many nodes.
    pub node_limit: u64,
    /// Rounds of the multipliers' coordinate search when options have stock.
    pub rounds: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            core_limit: 40,
            node_limit: 2_000_000,
            rounds: 12,
        }
    }
}

/// The solver's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Allocation {
    /// The option of each member, or [`NONE`].
    pub choice: Vec<u8>,
    /// How many members get an option.
    pub chosen: u64,
    /// The total expected incremental value of the allocation.
    pub objective: f64,
    /// The total expected cost, at most the budget.
    pub spend: f64,
    /// The Lagrangian dual bound: at least the optimum of the LP relaxation, hence of every
    /// allocation.
    pub upper_bound: f64,
    /// Whether the allocation is proven optimal (to 1e-9 relative) among all allocations, by
    /// the exact finish or because the dual bound is met.
    pub optimal: bool,
    /// Passes over all members made by the dual search.
    pub passes: u32,
}

impl Allocation {
    /// `(upper_bound − objective) / upper_bound`, 0 when the bound is 0.
    pub fn gap(&self) -> f64 {
        if self.upper_bound > 0.0 {
            ((self.upper_bound - self.objective) / self.upper_bound).max(0.0)
        } else {
            0.0
        }
    }
}

/// Chooses at most one option per member to maximise the total value within the budget, the
/// stocks and the minimum ROI.
pub fn solve(inst: &Instance, c: &Constraints) -> Allocation {
    solve_with(inst, c, &Settings::default())
}

/// [`solve`] with explicit [`Settings`].
pub fn solve_with(inst: &Instance, c: &Constraints, settings: &Settings) -> Allocation {
    let mut s = Solver::new(inst, c);
    let mut duals = Duals {
        lambda: 0.0,
        mu: vec![0.0; inst.options().len()],
    };
    s.search(&mut duals, Var::Lambda);
    if !c.stock.is_empty() {
        for _ in 0..settings.rounds {
            let before = s.bound;
            for k in 0..c.stock.len() {
                s.search(&mut duals, Var::Mu(k));
            }
            s.search(&mut duals, Var::Lambda);
            if before - s.bound <= 1e-8 * before.abs().max(1.0) {
                break;
            }
        }
    }
    let mut choice = s.choose(&duals);
    s.repair_stock(&mut choice, &duals);
    s.fill(&mut choice);
    let optimal = s.finish(&mut choice, settings);
    s.guard_budget(&mut choice);
    let (objective, spend, chosen) = s.totals(&choice);
    Allocation {
        choice,
        chosen,
        objective,
        spend,
        upper_bound: s.bound.max(objective),
        optimal,
        passes: s.passes,
    }
}

#[derive(Debug, Clone)]
struct Duals {
    /// The price of a unit of budget.
    lambda: f64,
    /// The price of a unit of each option's stock (0 for options without stock).
    mu: Vec<f64>,
}

#[derive(Clone, Copy)]
enum Var {
    Lambda,
    /// The k-th stocked option.
    Mu(usize),
}

/// One pass's figures at some multipliers.
#[derive(Debug, Clone)]
struct Eval {
    /// Σ over members of the best reduced value, at least 0 (giving nothing).
    reduced: f64,
    spend: f64,
    /// Members choosing each stocked option.
    used: Vec<u64>,
}

struct Solver<'a> {
    inst: &'a Instance,
    c: &'a Constraints,
    /// The stock slot of each option, or `NONE`.
    slot: [u8; 256],
    /// The least dual value seen, and the multipliers that gave it.
    bound: f64,
    bound_duals: Option<Duals>,
    passes: u32,
}

impl<'a> Solver<'a> {
    fn new(inst: &'a Instance, c: &'a Constraints) -> Self {
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
    fn best(&self, m: usize, d: &Duals) -> (usize, f64) {
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

    fn blocks(&self) -> usize {
        self.inst.members().div_ceil(BLOCK)
    }

    fn members_of(&self, b: usize) -> std::ops::Range<usize> {
        b * BLOCK..((b + 1) * BLOCK).min(self.inst.members())
    }

    /// One pass: the dual function's parts at `d`; records the bound it gives.
    fn eval(&mut self, d: &Duals) -> Eval {
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
    fn ceiling(&self, var: Var) -> f64 {
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
    fn search(&mut self, d: &mut Duals, var: Var) {
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
    fn choose(&self, d: &Duals) -> Vec<u8> {
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
    fn pair(&self, m: usize, o: u8) -> usize {
        let r = self.inst.pairs_of(m);
        let start = r.start;
        start
            + self.inst.option()[r]
                .iter()
                .position(|&x| x == o)
                .expect("a chosen option is one of the member's")
    }

    fn cost_of(&self, m: usize, o: u8) -> f64 {
        if o == NONE {
            0.0
        } else {
            self.inst.cost()[self.pair(m, o)] as f64
        }
    }

    fn value_of(&self, m: usize, o: u8) -> f64 {
        if o == NONE {
            0.0
        } else {
            self.inst.value()[self.pair(m, o)] as f64
        }
    }

    /// Value, spend and count of an allocation, summed block by block in order.
    fn totals(&self, choice: &[u8]) -> (f64, f64, u64) {
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

    fn used(&self, choice: &[u8]) -> Vec<u64> {
        let mut used = vec![0u64; self.c.stock.len()];
        for &o in choice {
            if o != NONE && self.slot[o as usize] != NONE {
                used[self.slot[o as usize] as usize] += 1;
            }
        }
        used
    }

    /// Takes an option away from the members who lose least by it until no stock is exceeded.
    fn repair_stock(&self, choice: &mut [u8], d: &Duals) {
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
    fn fill(&self, choice: &mut [u8]) {
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

    /// The exact finish: with the best multipliers' bound `L` and the allocation's value `z`, a
    /// member whose other options each cost more than `L − z` of the bound is fixed to its best
    /// one (no better allocation gives it another); a branch and bound, bounded by the same
    /// Lagrangian, searches the members left. Returns whether the allocation is proven optimal.
    fn finish(&self, choice: &mut [u8], settings: &Settings) -> bool {
        let Some(d) = self.bound_duals.clone() else {
            return true;
        };
        let (z, _, _) = self.totals(choice);
        let tol = 1e-9 * self.bound.abs().max(1.0);
        let gap = self.bound - z;
        if gap <= tol {
            return true;
        }
        let open = gap - tol;
        let k = self.c.stock.len();
        // Per block: the fixed members' totals and the open members (stopping early when too
        // many to search).
        struct Part {
            value: f64,
            cost: f64,
            used: Vec<u64>,
            core: Vec<u32>,
        }
        let limit = settings.core_limit;
        let parts: Vec<Part> = (0..self.blocks())
            .into_par_iter()
            .map(|b| {
                let mut p = Part {
                    value: 0.0,
                    cost: 0.0,
                    used: vec![0; k],
                    core: Vec::new(),
                };
                for m in self.members_of(b) {
                    let (j, best) = self.best(m, &d);
                    let free = self
                        .inst
                        .pairs_of(m)
                        .filter(|&i| {
                            i != j
                                && self.c.eligible(self.inst.cost()[i], self.inst.value()[i])
                                && best - self.reduced(i, &d) < open
                        })
                        .count()
                        + usize::from(j != usize::MAX && best < open);
                    if free > 0 {
                        if p.core.len() <= limit {
                            p.core.push(m as u32);
                        }
                    } else if j != usize::MAX {
                        p.value += self.inst.value()[j] as f64;
                        p.cost += self.inst.cost()[j] as f64;
                        let s = self.slot[self.inst.option()[j] as usize];
                        if s != NONE {
                            p.used[s as usize] += 1;
                        }
                    }
                }
                p
            })
            .collect();
        let mut fixed = Part {
            value: 0.0,
            cost: 0.0,
            used: vec![0; k],
            core: Vec::new(),
        };
        for p in parts {
            fixed.value += p.value;
            fixed.cost += p.cost;
            for (u, pu) in fixed.used.iter_mut().zip(p.used) {
                *u += pu;
            }
            fixed.core.extend(p.core);
        }
        if fixed.core.len() > limit {
            return false;
        }
        let budget_left = self.c.budget - fixed.cost;
        let stock_left: Vec<i64> = self
            .c
            .stock
            .iter()
            .zip(&fixed.used)
            .map(|(&(_, n), &u)| n as i64 - u as i64)
            .collect();
        if budget_left < 0.0 || stock_left.iter().any(|&s| s < 0) {
            // The members the bound fixes alone break a limit: nothing beats `z`.
            return true;
        }
        // The open members' options (nothing included), best reduced value first.
        let core: Vec<Vec<Branch>> = fixed
            .core
            .iter()
            .map(|&m| {
                let m = m as usize;
                let mut opts = vec![Branch {
                    option: NONE,
                    cost: 0.0,
                    value: 0.0,
                    reduced: 0.0,
                }];
                for i in self.inst.pairs_of(m) {
                    let (c, v) = (self.inst.cost()[i], self.inst.value()[i]);
                    if self.c.eligible(c, v) {
                        opts.push(Branch {
                            option: self.inst.option()[i],
                            cost: c as f64,
                            value: v as f64,
                            reduced: self.reduced(i, &d),
                        });
                    }
                }
                opts.sort_by(|a, b| b.reduced.total_cmp(&a.reduced));
                opts
            })
            .collect();
        let mut suffix = vec![0.0; core.len() + 1];
        for i in (0..core.len()).rev() {
            suffix[i] = suffix[i + 1] + core[i][0].reduced.max(0.0);
        }
        let mut bb = Bb {
            core: &core,
            suffix: &suffix,
            slot: &self.slot,
            duals: &d,
            stock: &self.c.stock,
            fixed_value: fixed.value,
            incumbent: z + tol,
            best: None,
            path: vec![NONE; core.len()],
            nodes: 0,
            node_limit: settings.node_limit,
        };
        let mut stock_left = stock_left;
        bb.dfs(0, budget_left, &mut stock_left, 0.0);
        let complete = bb.nodes <= bb.node_limit;
        if let Some(path) = bb.best {
            let mut next = self.choose(&d);
            for (&m, o) in fixed.core.iter().zip(path) {
                next[m as usize] = o;
            }
            let (value, spend, _) = self.totals(&next);
            let used = self.used(&next);
            let within = spend <= self.c.budget
                && used.iter().zip(&self.c.stock).all(|(&u, &(_, n))| u <= n);
            if within && value > z {
                choice.copy_from_slice(&next);
            }
        }
        complete
    }

    fn reduced(&self, j: usize, d: &Duals) -> f64 {
        self.inst.value()[j] as f64
            - d.lambda * self.inst.cost()[j] as f64
            - d.mu[self.inst.option()[j] as usize]
    }

    /// Floating point sums in another order could in principle put the spend a hair above the
    /// budget; take away the least efficient coupons until it is within.
    fn guard_budget(&self, choice: &mut [u8]) {
        let (_, mut spend, _) = self.totals(choice);
        if spend <= self.c.budget {
            return;
        }
        let mut given: Vec<(f64, u32)> = choice
            .iter()
            .enumerate()
            .filter(|&(m, &o)| o != NONE && self.cost_of(m, o) > 0.0)
            .map(|(m, &o)| (self.value_of(m, o) / self.cost_of(m, o), m as u32))
            .collect();
        given.sort_by(|a, b| a.0.total_cmp(&b.0));
        for (_, m) in given {
            spend -= self.cost_of(m as usize, choice[m as usize]);
            choice[m as usize] = NONE;
            if spend <= self.c.budget && self.totals(choice).1 <= self.c.budget {
                return;
            }
        }
    }
}

struct Branch {
    option: u8,
    cost: f64,
    value: f64,
    reduced: f64,
}

/// Depth-first branch and bound over the open members.
struct Bb<'a> {
    core: &'a [Vec<Branch>],
    /// Σ of the best reduced values of the members from each depth on.
    suffix: &'a [f64],
    slot: &'a [u8; 256],
    duals: &'a Duals,
    stock: &'a [(u8, u64)],
    fixed_value: f64,
    /// The value to beat.
    incumbent: f64,
    best: Option<Vec<u8>>,
    path: Vec<u8>,
    nodes: u64,
    node_limit: u64,
}

impl Bb<'_> {
    fn dfs(&mut self, depth: usize, budget: f64, stock: &mut [i64], value: f64) {
        self.nodes += 1;
        if self.nodes > self.node_limit {
            return;
        }
        let total = self.fixed_value + value;
        if depth == self.core.len() {
            if total > self.incumbent {
                self.incumbent = total;
                self.best = Some(self.path.clone());
            }
            return;
        }
        // The Lagrangian bound of what is left: valid for any multipliers ≥ 0.
        let bound = total
            + self.duals.lambda * budget
            + self
                .stock
                .iter()
                .zip(stock.iter())
                .map(|(&(o, _), &s)| self.duals.mu[o as usize] * s as f64)
                .sum::<f64>()
            + self.suffix[depth];
        if bound <= self.incumbent {
            return;
        }
        for b in &self.core[depth] {
            if b.cost > budget {
                continue;
            }
            let s = if b.option == NONE {
                NONE
            } else {
                self.slot[b.option as usize]
            };
            if s != NONE {
                if stock[s as usize] <= 0 {
                    continue;
                }
                stock[s as usize] -= 1;
            }
            self.path[depth] = b.option;
            self.dfs(depth + 1, budget - b.cost, stock, value + b.value);
            if s != NONE {
                stock[s as usize] += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The exact optimum by trying every allocation.
    fn brute(inst: &Instance, c: &Constraints) -> f64 {
        fn go(inst: &Instance, c: &Constraints, m: usize, left: f64, used: &mut [u64]) -> f64 {
            if m == inst.members() {
                return 0.0;
            }
            let mut best = go(inst, c, m + 1, left, used);
            for j in inst.pairs_of(m) {
                let (cost, value) = (inst.cost()[j], inst.value()[j]);
                let o = inst.option()[j];
                let k = c.stock().iter().position(|&(s, _)| s == o);
                if !c.eligible(cost, value) || cost as f64 > left {
                    continue;
                }
                if let Some(k) = k {
                    if used[k] >= c.stock()[k].1 {
                        continue;
                    }
                    used[k] += 1;
                }
                let v = value as f64 + go(inst, c, m + 1, left - cost as f64, used);
                best = best.max(v);
                if let Some(k) = k {
                    used[k] -= 1;
                }
            }
            best
        }
        go(inst, c, 0, c.budget(), &mut vec![0; c.stock().len()])
    }

    /// Checks every limit on an allocation and that its figures are its own.
    fn check_feasible(inst: &Instance, c: &Constraints, a: &Allocation) {
        assert_eq!(a.choice.len(), inst.members());
        let (mut value, mut spend, mut chosen) = (0.0, 0.0, 0);
        let mut used = vec![0u64; inst.options().len()];
        for (m, &o) in a.choice.iter().enumerate() {
            if o == NONE {
                continue;
            }
            let j = inst
                .pairs_of(m)
                .find(|&j| inst.option()[j] == o)
                .expect("the member has the option");
            assert!(
                c.eligible(inst.cost()[j], inst.value()[j]),
                "ineligible pair given"
            );
            value += inst.value()[j] as f64;
            spend += inst.cost()[j] as f64;
            chosen += 1;
            used[o as usize] += 1;
        }
        assert!(
            spend <= c.budget(),
            "spend {spend} over budget {}",
            c.budget()
        );
        for &(o, n) in c.stock() {
            assert!(
                used[o as usize] <= n,
                "option {o}: {} given of {n}",
                used[o as usize]
            );
        }
        assert!((value - a.objective).abs() <= 1e-9 * value.abs().max(1.0));
        assert!((spend - a.spend).abs() <= 1e-9 * spend.abs().max(1.0));
        assert_eq!(chosen, a.chosen);
        assert!(a.upper_bound >= a.objective);
    }

    #[test]
    fn the_conformance_example() {
        let inst = Instance::from_rows([
            ("a", "x", 10.0, 30.0),
            ("a", "y", 20.0, 50.0),
            ("b", "x", 10.0, 25.0),
            ("b", "y", 20.0, 28.0),
            ("c", "x", 10.0, 5.0),
        ])
        .unwrap();
        let c = Constraints::new(30.0).unwrap();
        let a = solve(&inst, &c);
        check_feasible(&inst, &c, &a);
        assert_eq!(a.objective, 75.0);
        assert_eq!(a.spend, 30.0);
        assert_eq!(a.choice, [1, 0, NONE]);
        assert!(a.optimal);
        // The LP relaxation: a:y, b:x at 30 is also the LP optimum here.
        assert!((a.upper_bound - 75.0).abs() < 1e-6, "{}", a.upper_bound);
    }

    #[test]
    fn a_budget_that_does_not_bind_gives_everyone_their_best() {
        let inst = Instance::from_rows([
            ("a", "x", 10.0, 30.0),
            ("a", "y", 20.0, 50.0),
            ("b", "x", 10.0, -5.0),
        ])
        .unwrap();
        let a = solve(&inst, &Constraints::new(1000.0).unwrap());
        assert_eq!(a.choice, [1, NONE]);
        assert_eq!((a.objective, a.spend, a.upper_bound), (50.0, 20.0, 50.0));
        assert_eq!(a.gap(), 0.0);
    }

    #[test]
    fn stock_and_min_roi_are_kept() {
        let inst = Instance::from_rows([
            ("a", "x", 1.0, 10.0),
            ("b", "x", 1.0, 9.0),
            ("c", "x", 1.0, 8.0),
            ("c", "y", 4.0, 6.0),
        ])
        .unwrap();
        let c = Constraints::new(100.0)
            .unwrap()
            .with_stock(&inst, "x", 2)
            .unwrap();
        let a = solve(&inst, &c);
        check_feasible(&inst, &c, &a);
        assert_eq!(a.choice, [0, 0, 1]);
        // y returns 1.5 per unit of cost: under a minimum of 2 it is never given.
        let c = c.with_min_roi(2.0).unwrap();
        let a = solve(&inst, &c);
        assert_eq!(a.choice, [0, 0, NONE]);
        assert!(matches!(
            Constraints::new(1.0).unwrap().with_stock(&inst, "z", 1),
            Err(ConstraintError::UnknownOption(_))
        ));
        assert_eq!(Constraints::new(-1.0), Err(ConstraintError::Budget));
        assert_eq!(
            Constraints::new(1.0).unwrap().with_min_roi(f64::NAN),
            Err(ConstraintError::MinRoi)
        );
    }

    #[test]
    fn an_empty_instance_and_a_zero_budget() {
        let a = solve(&Instance::default(), &Constraints::new(5.0).unwrap());
        assert_eq!((a.chosen, a.objective, a.upper_bound), (0, 0.0, 0.0));
        let inst = Instance::from_rows([("a", "x", 1.0, 10.0), ("a", "free", 0.0, 2.0)]).unwrap();
        let a = solve(&inst, &Constraints::new(0.0).unwrap());
        assert_eq!((a.choice[0], a.objective, a.spend), (1, 2.0, 0.0));
    }

    type Rows = Vec<(String, String, f64, f64)>;

    /// Small instances with small integer costs and values: exact arithmetic, so the solver's
    /// objective must equal the brute-force optimum exactly.
    fn small() -> impl Strategy<Value = (Rows, f64, Vec<Option<u64>>, f64)> {
        let member = prop::collection::vec(prop::option::weighted(0.7, (0u32..=12, -3i32..=25)), 3);
        (
            prop::collection::vec(member, 1..=7),
            0u32..=60,
            prop::collection::vec(prop::option::weighted(0.3, 0u64..=4), 3),
            prop::sample::select(vec![0.0, 0.0, 1.0, 1.5, 2.5]),
        )
            .prop_map(|(members, budget, stock, roi)| {
                let mut rows = Vec::new();
                for (m, opts) in members.into_iter().enumerate() {
                    for (o, pair) in opts.into_iter().enumerate() {
                        if let Some((c, v)) = pair {
                            rows.push((format!("m{m}"), format!("o{o}"), c as f64, v as f64));
                        }
                    }
                }
                (rows, budget as f64, stock, roi)
            })
    }

    fn constraints(inst: &Instance, budget: f64, stock: &[Option<u64>], roi: f64) -> Constraints {
        let mut c = Constraints::new(budget).unwrap().with_min_roi(roi).unwrap();
        for (o, s) in stock.iter().enumerate() {
            if let (Some(n), Some(_)) = (s, inst.option_index(&format!("o{o}"))) {
                c = c.with_stock(inst, &format!("o{o}"), *n).unwrap();
            }
        }
        c
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        #[test]
        fn equals_brute_force_on_small_instances((rows, budget, stock, roi) in small()) {
            let inst = Instance::from_rows(rows.iter().map(|(m, o, c, v)| (m.as_str(), o.as_str(), *c, *v))).unwrap();
            let c = constraints(&inst, budget, &stock, roi);
            let a = solve(&inst, &c);
            check_feasible(&inst, &c, &a);
            let best = brute(&inst, &c);
            prop_assert_eq!(a.objective, best);
            prop_assert!(a.optimal);
            prop_assert!(a.upper_bound >= best - 1e-9);
        }
    }

    /// Larger instances with fractional numbers: never over budget or stock, the bound above.
    fn larger() -> impl Strategy<Value = (Rows, f64, Vec<Option<u64>>)> {
        let member = prop::collection::vec(
            prop::option::weighted(0.8, (0.0f64..50.0, -5.0f64..120.0)),
            5,
        );
        (
            prop::collection::vec(member, 1..=300),
            0.0f64..3000.0,
            prop::collection::vec(prop::option::weighted(0.4, 0u64..=60), 5),
        )
            .prop_map(|(members, budget, stock)| {
                let mut rows = Vec::new();
                for (m, opts) in members.into_iter().enumerate() {
                    for (o, pair) in opts.into_iter().enumerate() {
                        if let Some((c, v)) = pair {
                            rows.push((format!("m{m}"), format!("o{o}"), c, v));
                        }
                    }
                }
                (rows, budget, stock)
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        #[test]
        fn never_exceeds_budget_or_stock((rows, budget, stock) in larger()) {
            let inst = Instance::from_rows(rows.iter().map(|(m, o, c, v)| (m.as_str(), o.as_str(), *c, *v))).unwrap();
            let c = constraints(&inst, budget, &stock, 0.0);
            let a = solve(&inst, &c);
            check_feasible(&inst, &c, &a);
            prop_assert!(a.gap() <= 1.0);
        }
    }
}
