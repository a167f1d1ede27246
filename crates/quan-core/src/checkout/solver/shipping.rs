//! Free-shipping coupons on shipments: the placement that waives the most (section 6.3).

use std::cmp::Ordering;

use jiff::Timestamp;

use super::Cand;
use crate::template::Benefit;

/// A free-shipping coupon placed: (candidate index, index of the shipment in `fees`, fee waived).
pub(super) type Placed = (usize, usize, i64);

/// The best placement found: the fees it waives, and where each coupon goes.
pub(super) struct Placement {
    pub waived: i64,
    pub placed: Vec<Placed>,
    expiries: Vec<Timestamp>,
    ids: Vec<u32>,
}

impl Placement {
    /// Section 6.4 between placements (`Less`: `self` is better). With the discount coupons
    /// fixed, the better placement makes the better combination: totals and counts add up, and
    /// sorted lists of equal length extended by the same items compare as before.
    fn cmp_better(&self, other: &Placement) -> Ordering {
        other
            .waived
            .cmp(&self.waived)
            .then(self.placed.len().cmp(&other.placed.len()))
            .then_with(|| self.expiries.cmp(&other.expiries))
            .then_with(|| self.ids.cmp(&other.ids))
    }
}

/// The best placement of `shippers` on the shipments `fees` ((store, fee), one per store with a
/// fee), where `after[k]` is what shipment `k`'s store lines cost after every discount coupon
/// (a coupon's threshold is checked on it). Each coupon waives at most one shipment of its own
/// store (a platform one: any), each shipment is waived by at most one coupon, and at most one
/// coupon of any one template is used. `None` when a pinned coupon cannot be placed.
pub(super) fn place(
    cands: &[Cand],
    shippers: &[usize],
    fees: &[(&str, i64)],
    after: &[i64],
) -> Option<Placement> {
    let options: Vec<Vec<Option<usize>>> = shippers
        .iter()
        .map(|&c| {
            let Benefit::FreeShipping { threshold, .. } = cands[c].benefit() else {
                unreachable!("shippers are free-shipping coupons")
            };
            let mut o: Vec<Option<usize>> = Vec::new();
            if !cands[c].pinned {
                o.push(None);
            }
            o.extend(
                fees.iter()
                    .enumerate()
                    .filter(|(k, (s, fee))| {
                        *fee > 0
                            && cands[c].store.is_none_or(|own| own == *s)
                            && after[*k] >= *threshold
                    })
                    .map(|(k, _)| Some(k)),
            );
            o
        })
        .collect();
    if options.iter().any(Vec::is_empty) {
        return None;
    }
    let mut best: Option<Placement> = None;
    let mut pick = vec![0usize; options.len()];
    let mut taken = vec![false; fees.len()];
    loop {
        taken.fill(false);
        let mut placed: Vec<Placed> = Vec::new();
        let mut ok = true;
        for (j, &c) in shippers.iter().enumerate() {
            let Some(k) = options[j][pick[j]] else {
                continue;
            };
            if taken[k] || placed.iter().any(|p| cands[p.0].same_template(&cands[c])) {
                ok = false;
                break;
            }
            taken[k] = true;
            let Benefit::FreeShipping { cap, .. } = cands[c].benefit() else {
                unreachable!("shippers are free-shipping coupons")
            };
            let waived = cap.map_or(fees[k].1, |cap| fees[k].1.min(cap));
            placed.push((c, k, waived));
        }
        if ok {
            let mut expiries: Vec<Timestamp> = placed.iter().map(|p| cands[p.0].expiry()).collect();
            expiries.sort();
            let mut ids: Vec<u32> = placed.iter().map(|p| cands[p.0].rank).collect();
            ids.sort_unstable();
            let candidate = Placement {
                waived: placed.iter().map(|p| p.2).sum(),
                placed,
                expiries,
                ids,
            };
            if best
                .as_ref()
                .is_none_or(|b| candidate.cmp_better(b) == Ordering::Less)
            {
                best = Some(candidate);
            }
        }
        let mut k = 0;
        while k < pick.len() {
            pick[k] += 1;
            if pick[k] < options[k].len() {
                break;
            }
            pick[k] = 0;
            k += 1;
        }
        if k == pick.len() {
            break;
        }
    }
    best
}
