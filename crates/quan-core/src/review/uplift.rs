//! Incrementality for a campaign with a holdout (docs/DOMAIN.md section 9): each entered member
//! is treated or held out; a member converts with a paid order inside the attribution window,
//! and their revenue is what those orders paid less refunds.
//!
//! - Conversion uplift p_T − p_C, with the unpooled normal 95% interval.
//! - Revenue uplift per member, mean_T − mean_C over every member of each arm (zeros included),
//!   with Welch's 95% interval: the normal quantile 1.959964 when both arms hold at least 100
//!   members, Student's t with the Welch–Satterthwaite degrees of freedom below.
//! - CUPED: the same uplift less θ times the arms' difference in pre-period revenue (the
//!   same-length window before entering), θ = cov(Y, X) / var(X) pooled over both arms; its
//!   interval from the adjusted variances.
//! - The sample-ratio check: the chi-square (1 degree of freedom) p-value of the split against
//!   `holdout_bp`; below 0.001 the split is broken and the review warns.
//!
//! Sums are exact (`i128`); the statistics are `f64`, and every money or basis-point figure they
//! report is rounded half away from zero ([`super::whole`]).

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};
use utoipa::ToSchema;

use super::whole;

/// The normal quantile of a two-sided 95% interval.
pub const Z95: f64 = 1.959964;
/// Arms at least this large use [`Z95`] for revenue; smaller ones Student's t.
pub const NORMAL_FROM: u64 = 100;
/// A sample-ratio p-value below this means the split is broken.
pub const SRM_ALPHA: f64 = 0.001;

/// One member's outcome in the attribution window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub converted: bool,
    /// What their orders in the window paid, less refunds (minor units).
    pub revenue: i64,
    /// The same in the same-length window before they entered.
    pub pre_revenue: i64,
}

/// An arm's sufficient statistics: counts and exact sums of revenue (Y), pre-period revenue
/// (X), their squares and product.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Arm {
    pub members: u64,
    pub converted: u64,
    sum_y: i128,
    sum_yy: i128,
    sum_x: i128,
    sum_xx: i128,
    sum_xy: i128,
}

impl Arm {
    pub fn add(&mut self, o: &Outcome) {
        let (y, x) = (i128::from(o.revenue), i128::from(o.pre_revenue));
        self.members += 1;
        self.converted += u64::from(o.converted);
        self.sum_y += y;
        self.sum_yy += y * y;
        self.sum_x += x;
        self.sum_xx += x * x;
        self.sum_xy += x * y;
    }

    pub fn of<'a>(outcomes: impl IntoIterator<Item = &'a Outcome>) -> Arm {
        let mut arm = Arm::default();
        for o in outcomes {
            arm.add(o);
        }
        arm
    }

    /// The arm's revenue in all.
    pub fn revenue(&self) -> i64 {
        i64::try_from(self.sum_y).unwrap_or(i64::MAX)
    }

    fn n(&self) -> f64 {
        self.members as f64
    }

    fn mean_y(&self) -> f64 {
        self.sum_y as f64 / self.n()
    }

    fn mean_x(&self) -> f64 {
        self.sum_x as f64 / self.n()
    }

    /// Sample (co)variance, n − 1, from exact sums: (n Σab − Σa Σb) / (n (n − 1)).
    fn co(&self, sum_ab: i128, sum_a: i128, sum_b: i128) -> f64 {
        let n = i128::from(self.members);
        ((n * sum_ab - sum_a * sum_b) as f64) / ((n * (n - 1)) as f64)
    }

    fn var_y(&self) -> f64 {
        self.co(self.sum_yy, self.sum_y, self.sum_y)
    }

    fn var_x(&self) -> f64 {
        self.co(self.sum_xx, self.sum_x, self.sum_x)
    }

    fn cov_xy(&self) -> f64 {
        self.co(self.sum_xy, self.sum_x, self.sum_y)
    }

    fn plus(&self, o: &Arm) -> Arm {
        Arm {
            members: self.members + o.members,
            converted: self.converted + o.converted,
            sum_y: self.sum_y + o.sum_y,
            sum_yy: self.sum_yy + o.sum_yy,
            sum_x: self.sum_x + o.sum_x,
            sum_xx: self.sum_xx + o.sum_xx,
            sum_xy: self.sum_xy + o.sum_xy,
        }
    }
}

/// An arm as the review shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ArmView {
    pub members: u64,
    /// Members with a paid order in the attribution window.
    pub converted: u64,
    /// What those orders paid less refunds, minor units.
    pub revenue: i64,
}

impl From<&Arm> for ArmView {
    fn from(a: &Arm) -> ArmView {
        ArmView {
            members: a.members,
            converted: a.converted,
            revenue: a.revenue(),
        }
    }
}

/// The revenue uplift adjusted by the pre-period (CUPED), beside the plain estimate.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Cuped {
    pub revenue_uplift_per_member: i64,
    pub revenue_uplift_per_member_ci95: [i64; 2],
    /// θ = cov(revenue, pre-period revenue) / var(pre-period revenue), over both arms.
    pub theta: f64,
}

/// A reason to read the figures with care.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Warning {
    /// `sample_ratio_mismatch`, `empty_arm` or `small_arm`.
    pub code: String,
    pub message: String,
}

/// What the holdout says the campaign added. A figure that needs members in both arms (two in
/// each, for an interval) is `null` without them.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Incrementality {
    pub treated: ArmView,
    pub control: ArmView,
    /// p_T − p_C, basis points.
    pub conversion_uplift_bp: Option<i64>,
    pub conversion_uplift_ci95_bp: Option<[i64; 2]>,
    /// mean_T − mean_C, minor units per member.
    pub revenue_uplift_per_member: Option<i64>,
    pub revenue_uplift_per_member_ci95: Option<[i64; 2]>,
    /// The uplift per member times the treated members.
    pub incremental_revenue: Option<i64>,
    /// Incremental revenue × 10000 / money given (absent when nothing was given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incremental_roi_bp: Option<i64>,
    pub cuped: Option<Cuped>,
    /// The chi-square p-value of the treated / held-out split against the holdout share.
    pub srm_p_value: Option<f64>,
    pub warnings: Vec<Warning>,
}

/// The incrementality of a campaign that held out `holdout_bp` of its audience, whose coupons
/// gave `discount_given` (minor units, net of refunds).
pub fn incrementality(
    treated: &Arm,
    control: &Arm,
    holdout_bp: u32,
    discount_given: i64,
) -> Incrementality {
    let mut warnings = Vec::new();
    let srm_p_value = sample_ratio_p(treated.members, control.members, holdout_bp);
    if srm_p_value.is_some_and(|p| p < SRM_ALPHA) {
        warnings.push(warning(
            "sample_ratio_mismatch",
            format!(
                "{} treated and {} held out is not the {}% holdout asked (p < 0.001): do not trust the uplift",
                treated.members,
                control.members,
                f64::from(holdout_bp) / 100.0
            ),
        ));
    }
    let both = treated.members > 0 && control.members > 0;
    if !both {
        warnings.push(warning(
            "empty_arm",
            "an arm has no members yet: there is nothing to compare".into(),
        ));
    } else if treated.members < NORMAL_FROM || control.members < NORMAL_FROM {
        warnings.push(warning(
            "small_arm",
            format!("an arm has fewer than {NORMAL_FROM} members: the intervals are wide"),
        ));
    }
    let conversion = both.then(|| conversion_uplift(treated, control));
    let revenue = both.then(|| treated.mean_y() - control.mean_y());
    let revenue_ci = (treated.members > 1 && control.members > 1).then(|| {
        let half = welch_half_width(
            (treated.var_y(), treated.members),
            (control.var_y(), control.members),
        );
        let u = treated.mean_y() - control.mean_y();
        [whole(u - half), whole(u + half)]
    });
    let incremental = revenue.map(|u| u * treated.n());
    Incrementality {
        treated: treated.into(),
        control: control.into(),
        conversion_uplift_bp: conversion.map(|(u, _)| whole(u * 10_000.0)),
        conversion_uplift_ci95_bp: conversion
            .map(|(u, half)| [whole((u - half) * 10_000.0), whole((u + half) * 10_000.0)]),
        revenue_uplift_per_member: revenue.map(whole),
        revenue_uplift_per_member_ci95: revenue_ci,
        incremental_revenue: incremental.map(whole),
        incremental_roi_bp: incremental
            .filter(|_| discount_given > 0)
            .map(|r| whole(r * 10_000.0 / discount_given as f64)),
        cuped: (treated.members > 1 && control.members > 1).then(|| cuped(treated, control)),
        srm_p_value,
        warnings,
    }
}

fn warning(code: &str, message: String) -> Warning {
    Warning {
        code: code.into(),
        message,
    }
}

/// (p_T − p_C, the half-width of its 95% interval).
fn conversion_uplift(t: &Arm, c: &Arm) -> (f64, f64) {
    let (pt, pc) = (t.converted as f64 / t.n(), c.converted as f64 / c.n());
    let se = (pt * (1.0 - pt) / t.n() + pc * (1.0 - pc) / c.n()).sqrt();
    (pt - pc, Z95 * se)
}

/// The half-width of Welch's 95% interval for a difference of means, from each arm's sample
/// variance and size.
fn welch_half_width((vt, nt): (f64, u64), (vc, nc): (f64, u64)) -> f64 {
    let (at, ac) = (vt / nt as f64, vc / nc as f64);
    let se = (at + ac).sqrt();
    if nt >= NORMAL_FROM && nc >= NORMAL_FROM {
        return Z95 * se;
    }
    let df_denominator = at * at / (nt as f64 - 1.0) + ac * ac / (nc as f64 - 1.0);
    if df_denominator <= 0.0 {
        return Z95 * se; // no variance in either arm: the interval is a point
    }
    let df = (at + ac).powi(2) / df_denominator;
    let t = StudentsT::new(0.0, 1.0, df)
        .map(|d| d.inverse_cdf(0.975))
        .unwrap_or(Z95);
    t * se
}

fn cuped(t: &Arm, c: &Arm) -> Cuped {
    let pooled = t.plus(c);
    let var_x = pooled.var_x();
    let theta = if var_x > 0.0 {
        pooled.cov_xy() / var_x
    } else {
        0.0
    };
    let adjusted_var =
        |a: &Arm| (a.var_y() - 2.0 * theta * a.cov_xy() + theta * theta * a.var_x()).max(0.0);
    let u = (t.mean_y() - c.mean_y()) - theta * (t.mean_x() - c.mean_x());
    let half = welch_half_width((adjusted_var(t), t.members), (adjusted_var(c), c.members));
    Cuped {
        revenue_uplift_per_member: whole(u),
        revenue_uplift_per_member_ci95: [whole(u - half), whole(u + half)],
        theta,
    }
}

/// The chi-square goodness-of-fit p-value (1 degree of freedom) of `treated` and `control`
/// against a `holdout_bp` share held out; `None` without members or without a holdout.
pub fn sample_ratio_p(treated: u64, control: u64, holdout_bp: u32) -> Option<f64> {
    let n = (treated + control) as f64;
    let h = f64::from(holdout_bp) / 10_000.0;
    if n == 0.0 || h <= 0.0 || h >= 1.0 {
        return None;
    }
    let (et, ec) = (n * (1.0 - h), n * h);
    let chi2 = (treated as f64 - et).powi(2) / et + (control as f64 - ec).powi(2) / ec;
    // P(χ²₁ > x) = erfc(√(x / 2)).
    Some(statrs::function::erf::erfc((chi2 / 2.0).sqrt()))
}

#[cfg(test)]
mod tests;
