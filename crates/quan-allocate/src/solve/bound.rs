//! The bound reported: the dual function at the best multipliers, over the file's own numbers.
//!
//! The instance keeps each cost rounded up and each value rounded down to `f32`, and marks the
//! pairs where that changed the number ([`crate::Instance::rounded`]). For such a pair the
//! file's cost is above the `f32` below the stored one and its value below the `f32` above
//! the stored one; the bound takes those (and counts the pair as eligible if those numbers
//! would make it so), so for any multipliers ≥ 0 it is at least the dual function of the
//! file's numbers, hence (weak duality) at least the optimum of their LP relaxation and of
//! every allocation. Its own `f64` arithmetic is covered too: when any operation may have
//! rounded, a bound on the rounding errors of the terms and of the block-wise sums is added
//! (about 2⁻⁵²·(block + blocks) of the terms' magnitudes, of order 1e-11 relative at ten
//! million members).

use rayon::prelude::*;

use super::dual::{Duals, Solver};
use super::BLOCK;
use crate::instance::step;

/// The rounding error of `s = a + b` (Knuth's two-sum): `a + b = s + e` exactly.
fn error(a: f64, b: f64, s: f64) -> f64 {
    let bb = s - a;
    let aa = s - bb;
    (a - aa) + (b - bb)
}

#[derive(Default)]
struct Part {
    sum: f64,
    /// Σ over members of the largest |value| + λ·cost + μ among their pairs.
    size: f64,
    exact: bool,
}

impl Solver<'_> {
    /// An upper bound, at `d`, on the optimum of the LP relaxation of the file's own numbers.
    pub(super) fn file_bound(&self, d: &Duals) -> f64 {
        let (opt, cost, value) = (self.inst.option(), self.inst.cost(), self.inst.value());
        let roi = self.c.min_roi;
        let parts: Vec<Part> = (0..self.blocks())
            .into_par_iter()
            .map(|b| {
                let mut p = Part {
                    exact: true,
                    ..Part::default()
                };
                for m in self.members_of(b) {
                    let (mut best, mut size) = (0.0f64, 0.0f64);
                    for j in self.inst.pairs_of(m) {
                        let (mut c, mut v) = (cost[j], value[j]);
                        if self.inst.rounded(j) {
                            v = step(v, true);
                            c = if c > 0.0 {
                                step(c, false).max(0.0)
                            } else {
                                0.0
                            };
                            // Eligible on the file's numbers only if on these (with a hair to
                            // spare for how the file's ROI test might be rounded).
                            let floor = roi * c as f64 * (1.0 - f64::EPSILON);
                            if !(v > 0.0 && v as f64 >= floor) {
                                continue;
                            }
                        } else if !self.c.eligible(c, v) {
                            continue;
                        }
                        let (c, v, mu) = (c as f64, v as f64, d.mu[opt[j] as usize]);
                        best = best.max(v - d.lambda * c - mu);
                        size = size.max(v.abs() + d.lambda * c + mu);
                    }
                    let s = p.sum + best;
                    p.exact &= error(p.sum, best, s) == 0.0;
                    p.sum = s;
                    p.size += size;
                }
                p
            })
            .collect();
        // With every multiplier 0 each term is a value as stored, exactly; then only the sums
        // can round, and the two-sums tell whether they did.
        let mut exact = d.lambda == 0.0 && d.mu.iter().all(|&x| x == 0.0);
        let (mut sum, mut size) = (0.0f64, 0.0f64);
        for p in &parts {
            let s = sum + p.sum;
            exact &= p.exact && error(sum, p.sum, s) == 0.0;
            sum = s;
            size += p.size;
        }
        let limits = d.lambda * self.c.budget
            + self
                .c
                .stock
                .iter()
                .map(|&(o, n)| d.mu[o as usize] * n as f64)
                .sum::<f64>();
        let total = sum + limits;
        if exact && limits == 0.0 {
            return total;
        }
        let ops = (BLOCK.min(self.inst.members()) + parts.len() + self.c.stock.len() + 8) as f64;
        total + ops * f64::EPSILON * (size + limits)
    }
}
