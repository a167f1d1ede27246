//! The exact finish: members the bound decides are fixed, the rest searched by branch and
//! bound under the same Lagrangian.

use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use super::dual::{Duals, Solver};
use super::Settings;
use crate::instance::NONE;

impl Solver<'_> {
    /// The exact finish: with the best multipliers' bound `L` and the allocation's value `z`, a
    /// member whose other options each cost more than `L − z` of the bound is fixed to its best
    /// one (no better allocation gives it another); a branch and bound, bounded by the same
    /// Lagrangian, searches the members left. Returns whether the allocation is proven optimal.
    pub(super) fn finish(&self, choice: &mut [u8], settings: &Settings) -> bool {
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
        // Members open so far, over all blocks: past the limit the pass stops (nothing is
        // searched then).
        let opened = AtomicUsize::new(0);
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
                    if m % 256 == 0 && opened.load(Ordering::Relaxed) > limit {
                        break;
                    }
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
                        opened.fetch_add(1, Ordering::Relaxed);
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
        if fixed.core.len() > limit || opened.into_inner() > limit {
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

    pub(super) fn reduced(&self, j: usize, d: &Duals) -> f64 {
        self.inst.value()[j] as f64
            - d.lambda * self.inst.cost()[j] as f64
            - d.mu[self.inst.option()[j] as usize]
    }

    /// Floating point sums in another order could in principle put the spend a hair above the
    /// budget; take away the least efficient coupons until it is within. Returns the totals.
    pub(super) fn guard_budget(&self, choice: &mut [u8]) -> (f64, f64, u64) {
        let totals = self.totals(choice);
        let mut spend = totals.1;
        if spend <= self.c.budget {
            return totals;
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
                break;
            }
        }
        self.totals(choice)
    }
}

pub(super) struct Branch {
    pub(super) option: u8,
    pub(super) cost: f64,
    pub(super) value: f64,
    pub(super) reduced: f64,
}

/// Depth-first branch and bound over the open members.
pub(super) struct Bb<'a> {
    pub(super) core: &'a [Vec<Branch>],
    /// Σ of the best reduced values of the members from each depth on.
    pub(super) suffix: &'a [f64],
    pub(super) slot: &'a [u8; 256],
    pub(super) duals: &'a Duals,
    pub(super) stock: &'a [(u8, u64)],
    pub(super) fixed_value: f64,
    /// The value to beat.
    pub(super) incumbent: f64,
    pub(super) best: Option<Vec<u8>>,
    pub(super) path: Vec<u8>,
    pub(super) nodes: u64,
    pub(super) node_limit: u64,
}

impl Bb<'_> {
    pub(super) fn dfs(&mut self, depth: usize, budget: f64, stock: &mut [i64], value: f64) {
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
