//! Customer economics (docs/DOMAIN.md section 9): lifetime value, acquisition cost and its
//! ceiling, and a threshold designed from a category mix. Money is in minor units; a figure
//! computed through a rate is rounded half away from zero ([`super::whole`]), except the CAC
//! ceiling, which is rounded down (`campaign::pack`).

use crate::campaign::pack::CAC_CEILING_BP;
use crate::{ErrorCode, FieldError};

use super::whole;

/// LTV = monthly purchase frequency × average order value × gross margin × (1 / monthly
/// churn): what a customer is worth over their life. `None` without churn (the formula has no
/// end then).
pub fn ltv(monthly_orders: f64, average_order: i64, margin_bp: u32, churn_bp: u32) -> Option<i64> {
    (churn_bp > 0).then(|| {
        whole(monthly_orders * average_order as f64 * f64::from(margin_bp) / f64::from(churn_bp))
    })
}

/// CAC = acquisition spend / acquired members; `None` without members.
pub fn cac(spend: i64, acquired: u64) -> Option<i64> {
    (acquired > 0).then(|| whole(spend as f64 / acquired as f64))
}

/// The most a member may cost to acquire: 80% of the LTV, rounded down.
pub fn cac_ceiling(ltv: i64) -> i64 {
    i64::try_from(i128::from(ltv) * i128::from(CAC_CEILING_BP) / 10_000).unwrap_or(i64::MAX)
}

/// A share of a category mix: the category's share of baskets (bp) and its average price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MixPart {
    pub share_bp: u32,
    pub average_price: i64,
}

/// A threshold for a coupon meant for this mix: Σ share × the category's average price, the
/// shares summing to 10000 (the error names `mix` otherwise).
pub fn threshold_from_mix(mix: &[MixPart]) -> Result<i64, FieldError> {
    let shares: u32 = mix.iter().map(|p| p.share_bp).sum();
    if mix.is_empty() || shares != 10_000 {
        return Err(FieldError::new(
            ErrorCode::InvalidValue,
            "mix",
            "the shares sum to 10000 basis points",
        ));
    }
    let sum: i128 = mix
        .iter()
        .map(|p| i128::from(p.share_bp) * i128::from(p.average_price))
        .sum();
    // Half away from zero, exactly: prices are never negative.
    Ok(((sum + 5_000) / 10_000) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::pack::cac_check;

    #[test]
    fn the_articles_ltv_is_66_67_and_its_ceiling_53_33() {
        // 2 orders a month × 100.00 × 10% / 30% = 66.666...: 66.67 (the article truncates to
        // 66); 80% of it, rounded down, 53.33 (the article's "about 52" is 80% of 66).
        let ltv = ltv(2.0, 10_000, 1_000, 3_000).unwrap();
        assert_eq!(ltv, 6_667);
        assert_eq!(cac_ceiling(ltv), 5_333);
        assert_eq!(cac_ceiling(6_600), 5_280);
        assert_eq!(super::ltv(2.0, 10_000, 1_000, 0), None, "no churn, no end");
    }

    #[test]
    fn the_29_10_coupon_against_a_cac_of_52() {
        // The new-customer coupon 29-10 (10.00 face value) redeemed by 25%-30% of members costs
        // 2.50-3.00 each, well inside the 52 the article allows; its 88-yuan pack at full use
        // does not fit.
        let ceiling_ltv = 6_500; // 80% of 65.00 is 52.00
        assert_eq!(cac_ceiling(ceiling_ltv), 5_200);
        for (use_bp, cost) in [(2_500, 250), (3_000, 300)] {
            assert_eq!(cac_check(&[1_000], use_bp, ceiling_ltv), (cost, None));
        }
        let (cost, warning) = cac_check(&[1_000, 1_500, 2_000, 800, 3_500], 10_000, ceiling_ltv);
        assert_eq!(cost, 8_800);
        assert_eq!(warning.map(|w| w.ceiling), Some(5_200));
        // The article's offline model: 330,000 yuan for 10,000 new customers, 33 yuan each,
        // within 52.
        assert_eq!(cac(33_000_000, 10_000), Some(3_300));
        assert_eq!(cac(10, 3), Some(3), "3.33 fen rounds to 3");
        assert_eq!(cac(1, 0), None);
    }

    #[test]
    fn the_threshold_mix_is_58() {
        // 20% mother-and-baby at 120, 40% fresh at 25, 40% fast-moving at 60: 58.00.
        let mix = [
            MixPart {
                share_bp: 2_000,
                average_price: 12_000,
            },
            MixPart {
                share_bp: 4_000,
                average_price: 2_500,
            },
            MixPart {
                share_bp: 4_000,
                average_price: 6_000,
            },
        ];
        assert_eq!(threshold_from_mix(&mix), Ok(5_800));
        let e = threshold_from_mix(&mix[..2]).unwrap_err();
        assert_eq!((e.code, e.field.as_str()), (ErrorCode::InvalidValue, "mix"));
        // Halves round up: 1/3 of 1.00 and 2/3 of 2.00 is 1.6666...
        let thirds = [
            MixPart {
                share_bp: 3_334,
                average_price: 100,
            },
            MixPart {
                share_bp: 6_666,
                average_price: 200,
            },
        ];
        assert_eq!(threshold_from_mix(&thirds), Ok(167));
    }
}
