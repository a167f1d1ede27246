//! A coupon pack's expected cost against the customer-acquisition-cost ceiling
//! (docs/DOMAIN.md section 9: keep CAC at most 80% of LTV).

use serde::Serialize;
use utoipa::ToSchema;

/// The share of LTV that CAC may reach, basis points.
pub const CAC_CEILING_BP: i64 = 8_000;

/// A pack whose expected cost passes the CAC ceiling.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CacWarning {
    /// Σ face value × expected use rate, minor units (rounded half up).
    pub expected_cost: i64,
    /// 80% of the LTV, minor units (rounded down).
    pub ceiling: i64,
}

/// The pack's expected cost, and a warning when it exceeds 80% of `ltv`.
pub fn cac_check(face_values: &[i64], expected_use_bp: u32, ltv: i64) -> (i64, Option<CacWarning>) {
    let face: i128 = face_values.iter().map(|v| i128::from(*v)).sum();
    let expected = (face * i128::from(expected_use_bp) + 5_000) / 10_000;
    let expected_cost = i64::try_from(expected).unwrap_or(i64::MAX);
    let ceiling = crate::review::economics::cac_ceiling(ltv);
    let warning = (expected_cost > ceiling).then_some(CacWarning {
        expected_cost,
        ceiling,
    });
    (expected_cost, warning)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_articles_ltv_and_a_new_customer_pack() {
        // LTV = 2 orders a month × 100.00 × 10% margin / 30% churn = 66.67 (6667 fen).
        let ltv = 6_667;
        // A pack of 20 + 10 + 8 (free shipping) + 15 yuan, 60% expected use: 31.80 yuan.
        let (cost, warn) = cac_check(&[2_000, 1_000, 800, 1_500], 6_000, ltv);
        assert_eq!(cost, 3_180);
        assert_eq!(warn, None);
        // A bigger pack at 80% use: 58.40 passes the ceiling of 53.33.
        let (cost, warn) = cac_check(&[3_000, 2_000, 800, 1_500], 8_000, ltv);
        assert_eq!(cost, 5_840);
        assert_eq!(
            warn,
            Some(CacWarning {
                expected_cost: 5_840,
                ceiling: 5_333
            })
        );
    }
}
