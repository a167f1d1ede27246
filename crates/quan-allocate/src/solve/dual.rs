//! The Lagrangian dual: multipliers, the parallel passes that price the members, and the search
//! along each multiplier, narrowed to the members whose choice the bracket leaves open.
//!
//! For fixed multipliers each member takes the pair of best reduced value, the upper envelope
//! of lines in the multiplier being searched; so a member that takes the same pair at both ends
//! of the bracket takes it throughout (a convex function equal to an affine one at two points
//! is that function between them). Such members are summed once, and the passes inside the
//! bracket look only at the others, fewer as the bracket closes.

use rayon::prelude::*;

use super::line::Open;
use super::{Constraints, BLOCK};
use crate::instance::{Instance, NONE};

#[derive(Debug, Clone, PartialEq)]
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

/// A pass's figures at some multipliers, over the members it looked at.
#[derive(Debug, Clone, Default)]
pub(super) struct Eval {
    /// Σ over members of the best reduced value, at least 0 (giving nothing).
    pub(super) reduced: f64,
    pub(super) spend: f64,
    /// Members choosing each stocked option.
    pub(super) used: Vec<u64>,
}

impl Eval {
    fn add(&mut self, o: &Eval) {
        self.reduced += o.reduced;
        self.spend += o.spend;
        if self.used.len() < o.used.len() {
            self.used.resize(o.used.len(), 0);
        }
        for (u, x) in self.used.iter_mut().zip(&o.used) {
            *u += x;
        }
    }
}

/// Members a pass looks at: all of them, or a list (ascending).
#[derive(Clone, Copy)]
pub(super) enum Scope<'s> {
    All,
    List(&'s [u32]),
    /// The members a bracket leaves open.
    Open(&'s [Open]),
}

pub(super) struct Solver<'a> {
    pub(super) inst: &'a Instance,
    pub(super) c: &'a Constraints,
    /// The stock slot of each option, or `NONE`.
    pub(super) slot: [u8; 256],
    /// The least dual value seen, and the multipliers that gave it.
    pub(super) bound: f64,
    pub(super) bound_duals: Option<Duals>,
    /// Passes over all members.
    pub(super) passes: u32,
    /// The choice (a pair's place among its member's, or `NONE`) of every member at the
    /// multipliers where the last search ended.
    pub(super) at: Option<(Duals, Vec<u8>)>,
    /// A search from 0 starts from a sample's answer on at least this many members.
    sampled: usize,
}

/// Members in a sample for the first guess at a multiplier: one in this many.
const STRIDE: usize = 64;

impl<'a> Solver<'a> {
    pub(super) fn new(inst: &'a Instance, c: &'a Constraints, sampled: usize) -> Self {
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
            at: None,
            sampled,
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

    /// Adds pair `j` (of a member choosing it) to `e`'s spend and stock counts.
    #[inline]
    fn count(&self, e: &mut Eval, j: usize) {
        e.spend += self.inst.cost()[j] as f64;
        let s = self.slot[self.inst.option()[j] as usize];
        if s != NONE {
            e.used[s as usize] += 1;
        }
    }

    /// One pass over the members of `scope` at `d`: their part of the dual function, and each
    /// one's choice in `out` (a pair's place among its member's pairs, or `NONE`). Blocks are
    /// summed in order, so the figures are the same on any number of threads.
    pub(super) fn pass(&self, d: &Duals, scope: Scope, out: &mut [u8]) -> Eval {
        let k = self.c.stock.len();
        let one = |m: usize, e: &mut Eval, x: &mut u8| {
            let (j, r) = self.best(m, d);
            *x = NONE;
            if j != usize::MAX {
                e.reduced += r;
                self.count(e, j);
                *x = (j - self.inst.pairs_of(m).start) as u8;
            }
        };
        let fresh = || Eval {
            used: vec![0; k],
            ..Eval::default()
        };
        let parts: Vec<Eval> = match scope {
            Scope::All => out
                .par_chunks_mut(BLOCK)
                .enumerate()
                .map(|(b, chunk)| {
                    let mut e = fresh();
                    for (i, x) in chunk.iter_mut().enumerate() {
                        one(b * BLOCK + i, &mut e, x);
                    }
                    e
                })
                .collect(),
            Scope::List(list) => list
                .par_chunks(BLOCK)
                .zip(out.par_chunks_mut(BLOCK))
                .map(|(ms, chunk)| {
                    let mut e = fresh();
                    for (&m, x) in ms.iter().zip(chunk) {
                        one(m as usize, &mut e, x);
                    }
                    e
                })
                .collect(),
            Scope::Open(list) => list
                .par_chunks(BLOCK)
                .zip(out.par_chunks_mut(BLOCK))
                .map(|(os, chunk)| {
                    let mut e = fresh();
                    for (o, x) in os.iter().zip(chunk) {
                        one(o.m as usize, &mut e, x);
                    }
                    e
                })
                .collect(),
        };
        let mut e = fresh();
        for p in &parts {
            e.add(p);
        }
        e
    }

    /// The dual function's value at `d` given the members' part, recorded as a bound.
    pub(super) fn record(&mut self, d: &Duals, e: &Eval) {
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
    }

    /// The largest multiplier worth trying for `var` over the members of `scope`: beyond it
    /// nothing that uses it is chosen.
    pub(super) fn ceiling(&self, var: Var, scope: Scope) -> f64 {
        let (opt, cost, value) = (self.inst.option(), self.inst.cost(), self.inst.value());
        let of = |j: usize| {
            if !self.c.eligible(cost[j], value[j]) {
                return 0.0;
            }
            match var {
                Var::Lambda if cost[j] > 0.0 => value[j] as f64 / cost[j] as f64,
                Var::Mu(k) if opt[j] == self.c.stock[k].0 => value[j] as f64,
                _ => 0.0,
            }
        };
        let top = match scope {
            Scope::All => (0..self.inst.pairs())
                .into_par_iter()
                .with_min_len(1 << 16)
                .map(of)
                .reduce(|| 0.0, f64::max),
            Scope::List(l) => l
                .iter()
                .flat_map(|&m| self.inst.pairs_of(m as usize))
                .map(of)
                .fold(0.0, f64::max),
            Scope::Open(l) => l
                .iter()
                .flat_map(|o| self.inst.pairs_of(o.m as usize))
                .map(of)
                .fold(0.0, f64::max),
        };
        // A little above, so that at the ceiling every such pair's reduced value is below 0,
        // also with its numbers widened by their rounding (a relative 2.4e-7 at most, for the
        // bound over the file's numbers).
        top * (1.0 + 1e-6) + f64::MIN_POSITIVE
    }

    /// Minimises the dual function along one multiplier: the least value at which the budget
    /// (or the option's stock) is respected. From a cold start on a large instance the search
    /// is first run on a sample of the members, whose answer is the first guess.
    pub(super) fn search(&mut self, d: &mut Duals, var: Var) {
        let members = self.inst.members();
        let x = get(d, &self.c.stock, var);
        if x == 0.0 && members >= self.sampled.max(STRIDE) {
            let sample: Vec<u32> = (STRIDE / 2..members)
                .step_by(STRIDE)
                .map(|m| m as u32)
                .collect();
            let share = sample.len() as f64 / members as f64;
            let mut guess = d.clone();
            self.line(&mut guess, var, Scope::List(&sample), share);
            set(d, &self.c.stock, var, get(&guess, &self.c.stock, var));
        }
        let at = self.line(d, var, Scope::All, 1.0);
        self.at = Some((d.clone(), at));
    }
}

/// The multiplier `var` of `d`.
pub(super) fn get(d: &Duals, stock: &[(u8, u64)], var: Var) -> f64 {
    match var {
        Var::Lambda => d.lambda,
        Var::Mu(k) => d.mu[stock[k].0 as usize],
    }
}

pub(super) fn set(d: &mut Duals, stock: &[(u8, u64)], var: Var, x: f64) {
    match var {
        Var::Lambda => d.lambda = x,
        Var::Mu(k) => d.mu[stock[k].0 as usize] = x,
    }
}
