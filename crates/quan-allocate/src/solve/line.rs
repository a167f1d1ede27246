//! The search along one multiplier: a bracket found by steps out from the start, then closed by
//! false position (Illinois) alternated with bisection, each pass inside it looking only at
//! the members whose choice differs between the bracket's ends.

use rayon::prelude::*;

use super::dual::{get, set, Duals, Eval, Scope, Solver, Var};
use super::BLOCK;
use crate::instance::NONE;

/// A member the bracket leaves open: its place in the search's scope, its index, and its
/// choice at the bracket's low and high ends.
#[derive(Clone, Copy)]
pub(super) struct Open {
    pub(super) pos: u32,
    pub(super) m: u32,
    lo: u8,
    hi: u8,
}

/// The sums over the members whose choice is fixed on the bracket: their value and cost, and
/// how many take each stocked option.
#[derive(Clone, Default)]
struct Fixed {
    value: f64,
    cost: f64,
    used: Vec<u64>,
}

impl Fixed {
    fn add(&mut self, o: &Fixed) {
        self.value += o.value;
        self.cost += o.cost;
        for (u, x) in self.used.iter_mut().zip(&o.used) {
            *u += x;
        }
    }
}

/// One end of the bracket: the multiplier, and how far over the limit it is.
struct End {
    x: f64,
    f: f64,
}

/// What one search is about.
struct Line<'s> {
    var: Var,
    scope: Scope<'s>,
    /// Members in the scope.
    n: usize,
    limit: f64,
    share: f64,
    all: bool,
    /// The least dual value seen by this search.
    least: std::cell::Cell<f64>,
}

/// How much of the limit the members' part uses.
fn measure(var: Var, e: &Eval) -> f64 {
    match var {
        Var::Lambda => e.spend,
        Var::Mu(k) => e.used[k] as f64,
    }
}

impl Solver<'_> {
    fn fix(&self, f: &mut Fixed, m: usize, place: u8) {
        if place == NONE {
            return;
        }
        let j = self.inst.pairs_of(m).start + place as usize;
        f.value += self.inst.value()[j] as f64;
        f.cost += self.inst.cost()[j] as f64;
        let s = self.slot[self.inst.option()[j] as usize];
        if s != NONE {
            f.used[s as usize] += 1;
        }
    }

    /// The dual function's value at `d` from the members' part, `share` of the whole; over all
    /// members it is recorded as a bound.
    fn dual(&mut self, d: &Duals, e: &Eval, all: bool, share: f64) -> f64 {
        if all {
            self.record(d, e);
        }
        let stock: f64 = self
            .c
            .stock
            .iter()
            .map(|&(o, n)| d.mu[o as usize] * n as f64)
            .sum();
        (d.lambda * self.c.budget + stock) * share + e.reduced
    }

    /// A pass over all of `scope` at `x`: how far over the limit, and each member's choice.
    fn full(&mut self, d: &mut Duals, at: &Line, x: f64) -> (End, Vec<u8>) {
        set(d, &self.c.stock, at.var, x);
        let mut ch = vec![NONE; at.n];
        let e = self.pass(d, at.scope, &mut ch);
        if at.all {
            self.passes += 1;
        }
        let v = self.dual(d, &e, at.all, at.share);
        at.least.set(at.least.get().min(v));
        (
            End {
                x,
                f: measure(at.var, &e) - at.limit,
            },
            ch,
        )
    }

    /// Minimises the dual function along `var` over the members of `scope` (all, or a sample
    /// whose share of the members scales the limit), from `d`'s current value; leaves `d` at the
    /// least value within the limit and returns each scope member's choice there. Bounds are
    /// recorded, and passes counted, only over all members.
    pub(super) fn line(&mut self, d: &mut Duals, var: Var, scope: Scope, share: f64) -> Vec<u8> {
        let stock = self.c.stock.clone();
        let limit = share
            * match var {
                Var::Lambda => self.c.budget,
                Var::Mu(k) => stock[k].1 as f64,
            };
        let n = match scope {
            Scope::All => self.inst.members(),
            Scope::List(l) => l.len(),
            Scope::Open(l) => l.len(),
        };
        let at = Line {
            var,
            scope,
            n,
            limit,
            share,
            all: matches!(scope, Scope::All),
            least: std::cell::Cell::new(f64::INFINITY),
        };
        // The bracket: steps out from the start by 1%, 4%, 16%, 64%, then to the ceiling (up)
        // or 0 (down).
        let x0 = get(d, &stock, var);
        let grow = [0.01, 0.04, 0.16, 0.64];
        let (start, ch0) = self.full(d, &at, x0);
        let ((lo, ch_lo), (hi, ch_hi)) = if start.f > 0.0 {
            let mut lo = (start, ch0);
            let mut i = 0;
            let hi = loop {
                let up = x0 > 0.0 && i < grow.len();
                let x = if up {
                    x0 * (1.0 + grow[i])
                } else {
                    self.ceiling(var, scope)
                };
                let e = self.full(d, &at, x);
                if e.0.f <= 0.0 || !up {
                    break e;
                }
                lo = e;
                i += 1;
            };
            (lo, hi)
        } else {
            if x0 == 0.0 {
                return ch0;
            }
            let mut hi = (start, ch0);
            let mut i = 0;
            let lo = loop {
                let x = if i < grow.len() {
                    x0 * (1.0 - grow[i])
                } else {
                    0.0
                };
                let e = self.full(d, &at, x);
                if e.0.f > 0.0 {
                    break e;
                }
                if x == 0.0 {
                    return e.1;
                }
                hi = e;
                i += 1;
            };
            (lo, hi)
        };
        let (mut lo, mut hi) = (lo, hi);
        let mut at_hi = ch_hi.clone();
        let k_slots = stock.len();
        let fresh = || Fixed {
            used: vec![0; k_slots],
            ..Fixed::default()
        };
        // The members open on the first bracket; the rest summed.
        let member = |p: usize| match scope {
            Scope::All => p as u32,
            Scope::List(l) => l[p],
            Scope::Open(l) => l[p].m,
        };
        let parts: Vec<(Fixed, Vec<Open>)> = (0..n)
            .into_par_iter()
            .chunks(BLOCK)
            .map(|ps| {
                let (mut f, mut open) = (fresh(), Vec::new());
                for p in ps {
                    let m = member(p);
                    if ch_lo[p] == ch_hi[p] {
                        self.fix(&mut f, m as usize, ch_lo[p]);
                    } else {
                        open.push(Open {
                            pos: p as u32,
                            m,
                            lo: ch_lo[p],
                            hi: ch_hi[p],
                        });
                    }
                }
                (f, open)
            })
            .collect();
        drop((ch_lo, ch_hi));
        let (mut fixed, mut open) = (fresh(), Vec::new());
        for (f, o) in parts {
            fixed.add(&f);
            open.extend(o);
        }
        let slack = 1e-8 * limit;
        let (mut w_lo, mut w_hi, mut kept) = (lo.f, hi.f, 0i8);
        let mut ch = Vec::new();
        for _ in 0..200 {
            // The dual function's slope along the multiplier is −f, so on [lo, hi] it lies within
            // (hi − lo)·(−f_hi) of its least value: stop once that is negligible.
            let settled = (hi.x - lo.x) * -hi.f <= 1e-10 * at.least.get().abs().max(1.0);
            if -hi.f <= slack || settled || hi.x - lo.x <= 1e-14 * hi.x || open.is_empty() {
                break;
            }
            let mut x = lo.x + (hi.x - lo.x) * w_lo / (w_lo - w_hi);
            if !(x > lo.x && x < hi.x) {
                x = 0.5 * (lo.x + hi.x);
            }
            set(d, &stock, var, x);
            ch.clear();
            ch.resize(open.len(), NONE);
            let mut e = self.pass(d, Scope::Open(&open), &mut ch);
            e.reduced += fixed.value
                - d.lambda * fixed.cost
                - stock
                    .iter()
                    .zip(&fixed.used)
                    .map(|(&(o, _), &u)| d.mu[o as usize] * u as f64)
                    .sum::<f64>();
            e.spend += fixed.cost;
            for (u, x) in e.used.iter_mut().zip(&fixed.used) {
                *u += x;
            }
            let v = self.dual(d, &e, at.all, share);
            at.least.set(at.least.get().min(v));
            let f = measure(var, &e) - limit;
            let low = f > 0.0;
            if !low {
                for (o, &c) in open.iter().zip(&ch) {
                    at_hi[o.pos as usize] = c;
                }
            }
            // Members whose choice at x is the one at the end kept are fixed from now on.
            let parts: Vec<(Fixed, Vec<Open>)> = open
                .par_chunks(BLOCK)
                .zip(ch.par_chunks(BLOCK))
                .map(|(os, cs)| {
                    let (mut f, mut keep) = (fresh(), Vec::new());
                    for (o, &c) in os.iter().zip(cs) {
                        let other = if low { o.hi } else { o.lo };
                        if c == other {
                            self.fix(&mut f, o.m as usize, c);
                        } else if low {
                            keep.push(Open { lo: c, ..*o });
                        } else {
                            keep.push(Open { hi: c, ..*o });
                        }
                    }
                    (f, keep)
                })
                .collect();
            open.clear();
            for (f, o) in parts {
                fixed.add(&f);
                open.extend(o);
            }
            // Illinois false position: the weight of an end kept twice in a row is halved, so
            // the bracket shrinks from both sides.
            if low {
                (lo, w_lo) = (End { x, f }, f);
                if kept == 1 {
                    w_hi *= 0.5;
                }
                kept = 1;
            } else {
                (hi, w_hi) = (End { x, f }, f);
                if kept == -1 {
                    w_lo *= 0.5;
                }
                kept = -1;
            }
        }
        set(d, &stock, var, hi.x);
        at_hi
    }
}
