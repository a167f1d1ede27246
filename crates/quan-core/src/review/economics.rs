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

/// What a group's orders say of its buyers, over `months` periods of 30 days: the inputs of
/// [`ltv`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Activity {
    /// Members with at least one counted order in the window.
    pub buyers: u64,
    pub orders: u64,
    pub revenue: i64,
    /// Orders per month a buyer is active: orders / active member-months.
    pub monthly_orders: f64,
    /// revenue / orders, rounded half up (0 without orders).
    pub average_order: i64,
    /// Of the buyers active in a month, the share not active the month after, pooled over
    /// every pair of consecutive months, bp rounded half up (`None` with one month or no
    /// activity before the last one).
    pub churn_bp: Option<u32>,
}

impl Activity {
    /// From each counted order's (buyer, month, amount), months numbered 0 (the latest) to
    /// `months − 1`; an order outside them is ignored.
    pub fn of(orders: impl IntoIterator<Item = (usize, usize, i64)>, months: usize) -> Activity {
        use std::collections::{HashMap, HashSet};
        let mut active: HashMap<usize, HashSet<usize>> = HashMap::new();
        let (mut count, mut revenue) = (0u64, 0i64);
        for (buyer, month, amount) in orders {
            if month < months {
                active.entry(buyer).or_default().insert(month);
                count += 1;
                revenue += amount;
            }
        }
        let member_months: usize = active.values().map(HashSet::len).sum();
        // Month k + 1 is the one before month k.
        let (mut before, mut lost) = (0u64, 0u64);
        for months_active in active.values() {
            for &m in months_active.iter().filter(|&&m| m > 0) {
                before += 1;
                lost += u64::from(!months_active.contains(&(m - 1)));
            }
        }
        Activity {
            buyers: active.len() as u64,
            orders: count,
            revenue,
            monthly_orders: if member_months > 0 {
                count as f64 / member_months as f64
            } else {
                0.0
            },
            average_order: if count > 0 {
                whole(revenue as f64 / count as f64)
            } else {
                0
            },
            churn_bp: (before > 0).then(|| whole(lost as f64 * 10_000.0 / before as f64) as u32),
        }
    }

    /// The group's LTV at `margin_bp` gross margin; `None` without churn.
    pub fn ltv(&self, margin_bp: u32) -> Option<i64> {
        ltv(
            self.monthly_orders,
            self.average_order,
            margin_bp,
            self.churn_bp?,
        )
    }
}

/// A prize of a lottery, as its reach is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrizeOdds {
    pub weight: u64,
    /// A big prize: what the 20% rule is about.
    pub big: bool,
    /// Units left; `None` unlimited.
    pub stock: Option<u64>,
}

/// The 20% rule (二八原则) of the after-payment lottery: a big prize reaches at least 20% of
/// participants.
pub const BIG_PRIZE_REACH_BP: i64 = 2_000;

/// The share of participants who win a big prize, bp rounded half up: with `draws` draws
/// each, 1 − (1 − p)^draws where p = Σ big weights / Σ weights, and, when the participants
/// are known, no more than the big prizes' stock can cover. `None` without weight.
pub fn big_prize_reach(prizes: &[PrizeOdds], draws: u32, participants: Option<u64>) -> Option<i64> {
    let total: u64 = prizes.iter().map(|p| p.weight).sum();
    if total == 0 {
        return None;
    }
    let big: u64 = prizes.iter().filter(|p| p.big).map(|p| p.weight).sum();
    let p = big as f64 / total as f64;
    let mut reach = 1.0 - (1.0 - p).powi(draws.max(1) as i32);
    if let Some(n) = participants.filter(|n| *n > 0) {
        let stock: Option<u64> = prizes
            .iter()
            .filter(|p| p.big)
            .map(|p| p.stock)
            .sum::<Option<u64>>();
        if let Some(stock) = stock {
            reach = reach.min(stock as f64 / n as f64);
        }
    }
    Some(whole(reach * 10_000.0))
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
    fn activity_by_hand() {
        // Buyer 0: 2 orders in month 0, 1 in month 1 (active in both: not lost).
        // Buyer 1: 1 order in month 2 only (lost going into month 1).
        // Buyer 2: months 1 and 0... and one order in month 12, outside the window.
        let orders = [
            (0, 0, 10_000),
            (0, 0, 10_000),
            (0, 1, 10_000),
            (1, 2, 5_000),
            (2, 1, 3_000),
            (2, 0, 3_000),
            (2, 12, 99_999),
        ];
        let a = Activity::of(orders, 12);
        assert_eq!((a.buyers, a.orders, a.revenue), (3, 6, 41_000));
        // 6 orders over 5 active member-months.
        assert!((a.monthly_orders - 1.2).abs() < 1e-12);
        assert_eq!(a.average_order, 6_833);
        // Months before another: buyer 0 month 1, buyer 1 month 2, buyer 2 month 1: 3, of
        // which buyer 1's was lost.
        assert_eq!(a.churn_bp, Some(3_333));
        // 1.2 × 68.33 × 10% / 33.33% = 24.60.
        assert_eq!(a.ltv(1_000), Some(2_460));
        let once = Activity::of([(0, 0, 100)], 12);
        assert_eq!((once.churn_bp, once.ltv(1_000)), (None, None));
        // The article's LTV from activity: buyers ordering twice a month at 100.00, 3 of 10
        // lost each month.
        let mut orders = Vec::new();
        for buyer in 0..10 {
            for month in 0..2 {
                if month == 0 && buyer < 3 {
                    continue;
                }
                orders.extend([(buyer, month, 10_000), (buyer, month, 10_000)]);
            }
        }
        let a = Activity::of(orders, 2);
        assert_eq!(
            (a.monthly_orders, a.average_order, a.churn_bp),
            (2.0, 10_000, Some(3_000))
        );
        assert_eq!(a.ltv(1_000), Some(6_667));
    }

    #[test]
    fn a_big_prize_reaches_by_odds_draws_and_stock() {
        let prizes = [
            PrizeOdds {
                weight: 1,
                big: true,
                stock: Some(100),
            },
            PrizeOdds {
                weight: 9,
                big: false,
                stock: None,
            },
        ];
        assert_eq!(big_prize_reach(&prizes, 1, None), Some(1_000));
        // Two draws: 1 − 0.9² = 19%, below the rule.
        assert_eq!(big_prize_reach(&prizes, 2, None), Some(1_900));
        // 1,000 participants and 100 units: at most 10%, whatever the odds.
        assert_eq!(big_prize_reach(&prizes, 5, Some(1_000)), Some(1_000));
        assert_eq!(big_prize_reach(&[], 1, None), None);
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
