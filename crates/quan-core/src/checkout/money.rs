//! Benefit arithmetic (docs/DOMAIN.md section 3) and apportionment (section 6.5), exact to the
//! unit.

use crate::template::Benefit;

/// The money off a discount benefit gives on base `b` with `n` items, or `None` when its
/// threshold (amount or item count) is not met. Gift and free-shipping benefits give no money off.
pub fn discount(benefit: &Benefit, b: i64, n: i64) -> Option<i64> {
    let off = |rate_bp: i64| (i128::from(b) * i128::from(10_000 - rate_bp) / 10_000) as i64;
    match benefit {
        Benefit::Reduction {
            threshold,
            off: amount,
        } => (b >= *threshold).then(|| (*amount).min(b)),
        Benefit::Percent {
            min_amount,
            min_items,
            rate_bp,
            cap,
        } => {
            let met = min_amount.is_none_or(|m| b >= m) && min_items.is_none_or(|m| n >= m);
            met.then(|| cap.map_or(off(*rate_bp), |c| off(*rate_bp).min(c)))
        }
        Benefit::Tiered { tiers } => tiers
            .iter()
            .filter(|t| t.min_items <= n)
            .max_by_key(|t| t.min_items)
            .map(|t| off(t.rate_bp)),
        Benefit::Gift { .. } | Benefit::FreeShipping { .. } => None,
    }
}

/// Splits `amount` over parts in proportion to `weights`: each share rounded down, then the
/// remainder given one unit at a time to the largest fractional parts, earlier parts first on
/// ties. Shares sum to `amount` exactly; with `amount` ≤ Σ weights no share exceeds its weight.
pub fn apportion(amount: i64, weights: &[i64]) -> Vec<i64> {
    let total: i128 = weights.iter().map(|w| i128::from(*w)).sum();
    if total == 0 {
        let mut shares = vec![0; weights.len()];
        if let Some(first) = shares.first_mut() {
            *first = amount;
        }
        return shares;
    }
    let mut shares = Vec::with_capacity(weights.len());
    let mut fractions = Vec::with_capacity(weights.len());
    for (i, w) in weights.iter().enumerate() {
        let exact = i128::from(amount) * i128::from(*w);
        shares.push((exact / total) as i64);
        fractions.push((exact % total, i));
    }
    let mut left = amount - shares.iter().sum::<i64>();
    fractions.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, i) in fractions {
        if left == 0 {
            break;
        }
        shares[i] += 1;
        left -= 1;
    }
    shares
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::Tier;
    use proptest::prelude::*;

    #[test]
    fn reductions_percentages_and_tiers() {
        let r = Benefit::Reduction {
            threshold: 9900,
            off: 1000,
        };
        assert_eq!(discount(&r, 9899, 1), None);
        assert_eq!(discount(&r, 9900, 1), Some(1000));
        let direct = Benefit::Reduction {
            threshold: 0,
            off: 1000,
        };
        assert_eq!(
            discount(&direct, 600, 1),
            Some(600),
            "never more than the base"
        );
        let p = Benefit::Percent {
            min_amount: Some(10000),
            min_items: None,
            rate_bp: 8500,
            cap: Some(2000),
        };
        assert_eq!(
            discount(&p, 10001, 1),
            Some(1500),
            "floor(10001 × 15%) = 1500"
        );
        assert_eq!(discount(&p, 50000, 1), Some(2000), "capped");
        assert_eq!(discount(&p, 9999, 1), None);
        let t = Benefit::Tiered {
            tiers: vec![
                Tier {
                    min_items: 2,
                    rate_bp: 9000,
                },
                Tier {
                    min_items: 3,
                    rate_bp: 8000,
                },
            ],
        };
        assert_eq!(discount(&t, 30000, 1), None);
        assert_eq!(discount(&t, 30000, 2), Some(3000));
        assert_eq!(discount(&t, 30000, 5), Some(6000));
    }

    #[test]
    fn largest_remainder_with_earlier_lines_first() {
        assert_eq!(apportion(100, &[1, 1, 1]), vec![34, 33, 33]);
        assert_eq!(apportion(10, &[3, 3, 4]), vec![3, 3, 4]);
        assert_eq!(apportion(1000, &[9900]), vec![1000]);
        assert_eq!(apportion(5, &[2, 2]), vec![3, 2]);
    }

    proptest! {
        #[test]
        fn shares_sum_exactly_and_stay_within_weights(weights in prop::collection::vec(0i64..1_000_000, 1..20), frac in 0.0f64..=1.0) {
            let total: i64 = weights.iter().sum();
            let amount = (total as f64 * frac) as i64;
            let shares = apportion(amount, &weights);
            prop_assert_eq!(shares.iter().sum::<i64>(), amount);
            for (s, w) in shares.iter().zip(&weights) {
                prop_assert!(*s >= 0 && s <= w);
            }
        }
    }
}
