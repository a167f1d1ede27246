//! The primal allocation at the multipliers found: each member's best option, a repair of any
//! stock exceeded, a greedy fill of the budget left, and the allocation's totals.

use rayon::prelude::*;

use super::dual::{Duals, Solver};
use super::BLOCK;
use crate::instance::NONE;

impl Solver<'_> {
    /// Each member's best option at `d`: from the last search when it ended at `d`, otherwise
    /// by a pass.
    pub(super) fn choose(&self, d: &Duals) -> Vec<u8> {
        if let Some((at, places)) = &self.at {
            if at == d {
                let mut choice = vec![NONE; self.inst.members()];
                choice
                    .par_chunks_mut(BLOCK)
                    .zip(places.par_chunks(BLOCK))
                    .enumerate()
                    .for_each(|(b, (chunk, ps))| {
                        for (i, (x, &p)) in chunk.iter_mut().zip(ps).enumerate() {
                            if p != NONE {
                                let j = self.inst.pairs_of(b * BLOCK + i).start + p as usize;
                                *x = self.inst.option()[j];
                            }
                        }
                    });
                return choice;
            }
        }
        self.pass_choice(d)
    }

    /// Each member's best option at `d`, by a pass.
    pub(super) fn pass_choice(&self, d: &Duals) -> Vec<u8> {
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

    /// The best upgrade of each member of block `b` that fits in `left` and the stock left,
    /// only the first `top` of them in [`order`]; the least extra cost of the others, and of
    /// any upgrade that fits.
    fn upgrades(
        &self,
        b: usize,
        choice: &[u8],
        (left, stock_left): (f64, &[i64]),
        top: usize,
    ) -> (Vec<Upgrade>, f64, f64) {
        let (mut out, mut rest) = (Vec::with_capacity(2 * top), f64::INFINITY);
        let mut least = f64::INFINITY;
        let cut = |out: &mut Vec<Upgrade>, rest: &mut f64| {
            if out.len() > top {
                out.select_nth_unstable_by(top - 1, order);
                *rest = out[top..].iter().map(|x| x.2).fold(*rest, f64::min);
                out.truncate(top);
            }
        };
        for m in self.members_of(b) {
            if out.len() == 2 * top {
                cut(&mut out, &mut rest);
            }
            let cur = choice[m];
            let (c0, v0) = (self.cost_of(m, cur), self.value_of(m, cur));
            let mut best: Option<Upgrade> = None;
            for j in self.inst.pairs_of(m) {
                let o = self.inst.option()[j];
                let (c, v) = (self.inst.cost()[j], self.inst.value()[j]);
                if o == cur || !self.c.eligible(c, v) {
                    continue;
                }
                let (dc, dv) = (c as f64 - c0, v as f64 - v0);
                let s = self.slot[o as usize];
                if dv <= 0.0 || dc > left || (s != NONE && stock_left[s as usize] <= 0) {
                    continue;
                }
                least = least.min(dc);
                let eff = if dc <= 0.0 { f64::INFINITY } else { dv / dc };
                if best.is_none_or(|b| (eff, dv) > (b.0, b.1)) {
                    best = Some((eff, dv, dc, m as u32, o));
                }
            }
            out.extend(best);
        }
        cut(&mut out, &mut rest);
        (out, rest, least)
    }

    /// Whether member `m`, given option `cur`, has an upgrade of extra cost at most `left`.
    fn can_upgrade(&self, m: usize, cur: u8, left: f64) -> bool {
        let (c0, v0) = (self.cost_of(m, cur), self.value_of(m, cur));
        self.inst.pairs_of(m).any(|j| {
            let (c, v) = (self.inst.cost()[j], self.inst.value()[j]);
            self.inst.option()[j] != cur
                && self.c.eligible(c, v)
                && v as f64 > v0
                && c as f64 - c0 <= left
        })
    }

    /// Greedy fill: while budget and stock are left, upgrade members by the best value gained
    /// per unit of extra cost (ties: more value, then the lower member), each upgrade taken if
    /// it still fits. Only the best `top` upgrades are sorted: once what is left is below the
    /// extra cost of every upgrade after them, none of those could be taken anyway; otherwise
    /// the round is made again with more. Without stock, another round is made only if what is
    /// left could pay for some upgrade (of a member upgraded, or the cheapest of any other).
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
            let mut top = 1024;
            let taken = loop {
                // Per block its best `top` upgrades and the least extra cost of the others.
                let parts: Vec<(Vec<Upgrade>, f64, f64)> = (0..self.blocks())
                    .into_par_iter()
                    .map(|b| self.upgrades(b, choice, (left, &stock_left), top))
                    .collect();
                let mut rest = parts.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
                let least = parts.iter().map(|p| p.2).fold(f64::INFINITY, f64::min);
                let whole = rest == f64::INFINITY;
                let mut best: Vec<Upgrade> = parts.into_iter().flat_map(|p| p.0).collect();
                best.sort_by(order);
                // The first `top` of the blocks' best are the best `top` of all.
                if !whole && best.len() > top {
                    rest = best[top..].iter().map(|x| x.2).fold(rest, f64::min);
                    best.truncate(top);
                }
                let (mut left, mut stock, mut taken) = (left, stock_left.clone(), Vec::new());
                for &(_, _, dc, m, o) in &best {
                    let s = self.slot[o as usize];
                    if dc > left || (s != NONE && stock[s as usize] <= 0) {
                        continue;
                    }
                    left -= dc;
                    if s != NONE {
                        stock[s as usize] -= 1;
                    }
                    let old = choice[m as usize];
                    if old != NONE && self.slot[old as usize] != NONE {
                        stock[self.slot[old as usize] as usize] += 1;
                    }
                    taken.push((m, o));
                }
                if whole || left < rest {
                    break (taken, left, least);
                }
                top *= 16;
            };
            let (taken, left, least) = taken;
            if taken.is_empty() {
                return;
            }
            for &(m, o) in &taken {
                choice[m as usize] = o;
            }
            // The sums of the next round may differ from `left` in the last bits: a margin.
            let left = left * (1.0 + 1e-9) + 1e-9;
            let more = !self.c.stock.is_empty()
                || left >= least
                || taken
                    .iter()
                    .any(|&(m, o)| self.can_upgrade(m as usize, o, left));
            if !more {
                return;
            }
        }
    }
}

/// An upgrade: (value per extra cost, extra value, extra cost, member, option).
type Upgrade = (f64, f64, f64, u32, u8);

/// Best first: by value per extra cost, then extra value, then the lower member.
fn order(a: &Upgrade, b: &Upgrade) -> std::cmp::Ordering {
    b.0.total_cmp(&a.0)
        .then(b.1.total_cmp(&a.1))
        .then(a.3.cmp(&b.3))
}
