//! Each complete choice of the search, priced and kept while it ranks first by section 6.4.
//!
//! A leaf prices the platform coupon on the base the stores leave and places the free-shipping
//! coupons on what is left after every discount; the best so far ([`Incumbent`]) is replaced by a
//! combination that ranks before it: a larger total, then fewer coupons, the sorted expiries, the
//! sorted ids, and each line to the smaller id. `priced` shows the winner as the quote does.

use jiff::Timestamp;

use super::search::{Best, Halt, Platform, Search};
use super::shipping::{self, Placed};
use super::{shares_of, Applied, LineShare};
use crate::checkout::money::discount;

/// The best complete combination so far, and its rank.
pub(super) struct Incumbent {
    pub(super) total: i64,
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

impl Search<'_, '_, '_> {
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

    pub(super) fn leaf(
        &mut self,
        option: &Platform,
        chosen: &[usize],
        d: i64,
        b: i64,
    ) -> Result<(), Halt> {
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
    pub(super) fn priced(&self, best: Incumbent) -> Best {
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
