//! The forecast before a campaign (docs/DOMAIN.md section 9, the articles' 活动前预估): the
//! expected use rate of a coupon from the tenant's similar coupons, and the figures it gives.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::template::{Benefit, TemplateSpec};

use super::ratio_bp_floor;

/// The weight, in coupons, of the broader rate a narrower one is smoothed toward.
pub const PRIOR_WEIGHT: f64 = 20.0;

/// Where an expected use rate came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// The tenant's redemption model (gradient-boosted trees), scored over the audience.
    Model,
    /// Settled coupons like this one (same benefit, depth band and threshold band), smoothed
    /// toward the tenant's rate.
    Similar,
    /// None like it has settled: the tenant's rate over every settled coupon, smoothed toward
    /// the prior.
    Tenant,
    /// Nothing has settled: the assumed rate.
    Prior,
}

/// What makes two coupons alike for their use rate: the benefit, how deep it cuts, and how
/// its threshold compares with the audience's average order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Likeness {
    kind: u8,
    depth_band: u8,
    threshold_band: u8,
}

impl Likeness {
    /// The likeness of a template offered to members whose average order is `average_order`.
    pub fn of(spec: &TemplateSpec, average_order: i64) -> Likeness {
        let (kind, depth, threshold) = match &spec.benefit {
            Benefit::Reduction { threshold, off } => {
                let base = if *threshold > 0 {
                    *threshold
                } else {
                    average_order
                };
                (0, share(*off, base), Some(*threshold))
            }
            Benefit::Percent {
                rate_bp,
                min_amount,
                ..
            } => (1, Some(1.0 - *rate_bp as f64 / 10_000.0), *min_amount),
            Benefit::Tiered { .. } => (2, None, None),
            Benefit::Gift { threshold, .. } => (3, None, Some(*threshold)),
            Benefit::FreeShipping { threshold, .. } => (4, None, Some(*threshold)),
        };
        Likeness {
            kind,
            depth_band: depth.map_or(0, |d| band(d, &[0.05, 0.10, 0.20, 0.30])),
            threshold_band: threshold
                .filter(|t| *t > 0)
                .map_or(0, |t| band_of(share(t, average_order), &[0.5, 1.0, 1.5])),
        }
    }
}

fn share(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// 1 + the number of `edges` at or below `x`: bands start at 1, 0 being "none".
fn band(x: f64, edges: &[f64]) -> u8 {
    1 + edges.iter().filter(|e| x >= **e).count() as u8
}

fn band_of(x: Option<f64>, edges: &[f64]) -> u8 {
    // A threshold with no average order to compare with: the top band.
    x.map_or(edges.len() as u8 + 1, |x| band(x, edges))
}

/// A rate of `used` out of `n`, smoothed toward `prior` with [`PRIOR_WEIGHT`] coupons.
pub fn smoothed(used: u64, n: u64, prior: f64) -> f64 {
    (used as f64 + PRIOR_WEIGHT * prior) / (n as f64 + PRIOR_WEIGHT)
}

/// An expected use rate and where it came from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UseRate {
    pub rate: f64,
    pub basis: Basis,
    /// The settled coupons it was learnt from.
    pub examples: u64,
}

impl UseRate {
    /// From settled coupons (each one's likeness and whether it was used), for a coupon like
    /// `target`: the similar ones' rate smoothed toward the tenant's, the tenant's smoothed
    /// toward `prior`, or `prior` alone.
    pub fn from_similar(settled: &[(Likeness, bool)], target: Likeness, prior: f64) -> UseRate {
        if settled.is_empty() {
            return UseRate {
                rate: prior,
                basis: Basis::Prior,
                examples: 0,
            };
        }
        let count = |it: &mut dyn Iterator<Item = &(Likeness, bool)>| {
            it.fold((0u64, 0u64), |(u, n), (_, used)| {
                (u + u64::from(*used), n + 1)
            })
        };
        let (used, n) = count(&mut settled.iter());
        let tenant = smoothed(used, n, prior);
        let (used_like, n_like) = count(&mut settled.iter().filter(|(l, _)| *l == target));
        if n_like == 0 {
            return UseRate {
                rate: tenant,
                basis: Basis::Tenant,
                examples: n,
            };
        }
        UseRate {
            rate: smoothed(used_like, n_like, tenant),
            basis: Basis::Similar,
            examples: n_like,
        }
    }
}

/// The articles' figures before a campaign, minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Figures {
    /// Coupons to be issued.
    pub issued: i64,
    /// The share of issued coupons expected to be used, bp.
    pub expected_use_bp: i64,
    pub face_value: i64,
    /// The order a use is expected in: the coupon's threshold, or the audience's average order
    /// when that is larger.
    pub order_value: i64,
    /// 优惠率: face value / that order, bp rounded down (absent without an order value).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discount_ratio_bp: Option<i64>,
    /// 发放价值: face value × expected use rate (per coupon).
    pub issue_value: i64,
    /// 发放成本: face value × issued.
    pub issue_cost: i64,
    /// 使用成本: issue value × issued, computed unrounded and rounded once.
    pub use_cost: i64,
    /// 使用张数: issued × expected use rate.
    pub expected_used: i64,
    /// 预计产出: the orders the uses come with, expected used × order value (unrounded).
    pub expected_output: i64,
    /// ROI = expected output / use cost, bp rounded down (absent when nothing is expected to
    /// be given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_roi_bp: Option<i64>,
}

impl Figures {
    /// The figures for `issued` coupons of `face_value`, used at `expected_use_bp`, each use
    /// in an order of `order_value`. Products are exact (i128) and each figure is rounded
    /// once, half up (every input is non-negative).
    pub fn new(face_value: i64, order_value: i64, issued: i64, expected_use_bp: i64) -> Figures {
        let round = |num: i128| -> i64 { ((num + 5_000) / 10_000) as i64 };
        let (f, o, n, bp) = (
            i128::from(face_value.max(0)),
            i128::from(order_value.max(0)),
            i128::from(issued.max(0)),
            i128::from(expected_use_bp.clamp(0, 10_000)),
        );
        let use_cost = round(f * n * bp);
        let expected_output = round(o * n * bp);
        Figures {
            issued,
            expected_use_bp: bp as i64,
            face_value,
            order_value,
            discount_ratio_bp: ratio_bp_floor(face_value, order_value),
            issue_value: round(f * bp),
            issue_cost: (f * n) as i64,
            use_cost,
            expected_used: round(n * bp),
            expected_output,
            expected_roi_bp: ratio_bp_floor(expected_output, use_cost),
        }
    }
}

/// The order a coupon is expected to be used in: its threshold, or the audience's average
/// order when that is larger (a member spends at least the threshold to use it).
pub fn order_value(spec: &TemplateSpec, average_order: i64) -> i64 {
    let threshold = match &spec.benefit {
        Benefit::Reduction { threshold, .. }
        | Benefit::Gift { threshold, .. }
        | Benefit::FreeShipping { threshold, .. } => *threshold,
        Benefit::Percent { min_amount, .. } => min_amount.unwrap_or(0),
        Benefit::Tiered { .. } => 0,
    };
    threshold.max(average_order)
}

/// The coupons a campaign issues to `members` when it holds `holdout_bp` of them out (the
/// holdout's share rounded down, as a stable hash splits them only roughly).
pub fn issued_to(members: i64, holdout_bp: u32) -> i64 {
    members - members * i64::from(holdout_bp.min(10_000)) / 10_000
}

/// A rate in [0, 1] as basis points, rounded half up.
pub fn rate_bp(rate: f64) -> i64 {
    (rate.clamp(0.0, 1.0) * 10_000.0).round() as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::tests::spec;

    #[test]
    fn the_articles_formulas_on_a_99_10_coupon() {
        // 1,000 coupons of 10.00 off 99.00, 25% expected to be used, each use in a 120.00
        // order: discount ratio 1000/12000 = 833 bp; issue value 2.50; issue cost 10,000.00;
        // use cost 2,500.00; 250 used; output 30,000.00; ROI 12x.
        let f = Figures::new(1_000, 12_000, 1_000, 2_500);
        assert_eq!(f.discount_ratio_bp, Some(833));
        assert_eq!(f.issue_value, 250);
        assert_eq!(f.issue_cost, 1_000_000);
        assert_eq!(f.use_cost, 250_000);
        assert_eq!(f.expected_used, 250);
        assert_eq!(f.expected_output, 3_000_000);
        assert_eq!(f.expected_roi_bp, Some(120_000));
    }

    #[test]
    fn each_figure_is_rounded_once() {
        // 3 coupons of 0.01 at 50%: per coupon 0.005 rounds to 0.01, but the use cost is
        // 0.015, rounded once to 0.02 (not 3 × 0.01).
        let f = Figures::new(1, 100, 3, 5_000);
        assert_eq!((f.issue_value, f.use_cost, f.expected_used), (1, 2, 2));
        let none = Figures::new(1_000, 0, 0, 0);
        assert_eq!((none.discount_ratio_bp, none.expected_roi_bp), (None, None));
    }

    #[test]
    fn the_order_value_is_at_least_the_threshold() {
        let s = spec(); // 99-10
        assert_eq!(order_value(&s, 5_000), 9_900);
        assert_eq!(order_value(&s, 15_000), 15_000);
    }

    #[test]
    fn similar_coupons_are_smoothed_toward_the_tenant_and_the_tenant_toward_the_prior() {
        let s = spec();
        let like = Likeness::of(&s, 10_000);
        let mut other = s.clone();
        other.benefit = Benefit::Percent {
            min_amount: None,
            min_items: None,
            rate_bp: 5_000,
            cap: None,
        };
        let unlike = Likeness::of(&other, 10_000);
        assert_ne!(like, unlike);
        assert_eq!(
            UseRate::from_similar(&[], like, 0.1),
            UseRate {
                rate: 0.1,
                basis: Basis::Prior,
                examples: 0
            }
        );
        // 40 unlike coupons, 20 used: the tenant's rate (20 + 20 × 0.1) / 60 = 0.3667.
        let mut settled: Vec<(Likeness, bool)> = (0..40).map(|i| (unlike, i % 2 == 0)).collect();
        let tenant = UseRate::from_similar(&settled, like, 0.1);
        assert_eq!((tenant.basis, tenant.examples), (Basis::Tenant, 40));
        assert!((tenant.rate - 22.0 / 60.0).abs() < 1e-12);
        // 10 like ones, none used: (0 + 20 × tenant) / 30, the tenant now over 50 coupons.
        settled.extend((0..10).map(|_| (like, false)));
        let similar = UseRate::from_similar(&settled, like, 0.1);
        let tenant = (20.0 + 2.0) / 70.0;
        assert_eq!((similar.basis, similar.examples), (Basis::Similar, 10));
        assert!((similar.rate - 20.0 * tenant / 30.0).abs() < 1e-12);
        assert_eq!(rate_bp(similar.rate), 2_095);
    }

    #[test]
    fn likeness_bands_depth_and_threshold() {
        let mut s = spec(); // 10 off 99: 10% deep, a threshold just under the average order
        let base = Likeness::of(&s, 10_000);
        assert_eq!((base.depth_band, base.threshold_band), (3, 2));
        s.benefit = Benefit::Reduction {
            threshold: 30_000,
            off: 1_000,
        };
        let high = Likeness::of(&s, 10_000);
        assert_eq!((high.depth_band, high.threshold_band), (1, 4));
    }
}
