//! Reviewing what coupons cost and earned (docs/DOMAIN.md section 9): the money given split by
//! funder, ROI, and what a campaign's holdout says it added, with 95% intervals.
//!
//! - [`economics`]: LTV, CAC and its ceiling, a threshold from a category mix.
//! - [`forecast`]: the expected use rate of a coupon from similar ones, and the articles'
//!   figures before a campaign.
//! - [`funder`]: money split by the template's funding shares, parts that add up.
//! - [`given`]: what a checkout order's coupons gave and what it cost, net of refunds.
//! - [`uplift`]: incrementality from a treated and a held-out arm: conversion and revenue
//!   uplift with their intervals, CUPED, the sample-ratio check.

pub mod economics;
pub mod forecast;
pub mod funder;
pub mod given;
pub mod uplift;

pub use funder::ByFunder;
pub use uplift::{Arm, Incrementality, Outcome};

/// A figure rounded to whole units, halves away from zero (the rule for every money and basis
/// point figure a statistic reports).
pub fn whole(x: f64) -> i64 {
    x.round() as i64
}

/// `numerator × 10000 / denominator` rounded down, or `None` when nothing was given (ROI in
/// basis points: gmv over discount given).
pub fn ratio_bp_floor(numerator: i64, denominator: i64) -> Option<i64> {
    (denominator > 0)
        .then(|| (i128::from(numerator) * 10_000).div_euclid(i128::from(denominator)) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_round_away_from_zero() {
        assert_eq!(
            [whole(2.5), whole(-2.5), whole(2.4999), whole(-0.5)],
            [3, -3, 2, -1]
        );
    }

    #[test]
    fn roi_is_rounded_down() {
        // GMV 10,000.00 on 1,234.56 given: 8.10004...x, 81000 bp.
        assert_eq!(ratio_bp_floor(1_000_000, 123_456), Some(81_000));
        assert_eq!(ratio_bp_floor(1, 3), Some(3333));
        assert_eq!(ratio_bp_floor(5, 0), None);
    }
}
