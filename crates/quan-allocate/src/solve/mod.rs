//! The solver: a Lagrangian dual on the budget and each stocked option, a repair and greedy fill,
//! then an exact finish by branch and bound over the members the bound leaves undecided.
//!
//! `dual.rs` prices members at given multipliers, `line.rs` searches one multiplier, `primal.rs`
//! turns multipliers into an allocation, `finish.rs` is the exact finish and `bound.rs` the
//! bound reported, over the file's own numbers.

use crate::instance::Instance;
use dual::{Duals, Solver, Var};

mod bound;
mod dual;
mod finish;
mod line;
mod primal;
#[cfg(test)]
mod tests;

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
    /// On an instance of at least this many members a search from 0 first runs on a sample
    /// (one member in 64), and starts from its answer.
    pub sampled: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            core_limit: 40,
            node_limit: 2_000_000,
            rounds: 12,
            sampled: 1 << 18,
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
    /// The Lagrangian dual bound over the file's own numbers (not only as the instance rounds
    /// them): at least the optimum of the LP relaxation of the file, hence the value of every
    /// allocation on the file's numbers (`solve/bound.rs`).
    pub upper_bound: f64,
    /// Whether the allocation is proven optimal (to 1e-9 relative) among all allocations of the
    /// instance as stored, by the exact finish or because the dual bound is met.
    pub optimal: bool,
    /// Passes over all members made by the dual search (passes over a sample, or over the
    /// members a bracket leaves open, are not counted).
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
    let mut s = Solver::new(inst, c, settings.sampled);
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
    let (objective, spend, chosen) = s.guard_budget(&mut choice);
    let bound = match s.bound_duals.clone() {
        Some(d) => s.file_bound(&d),
        None => s.bound,
    };
    Allocation {
        choice,
        chosen,
        objective,
        spend,
        upper_bound: bound.max(objective),
        optimal,
        passes: s.passes,
    }
}
