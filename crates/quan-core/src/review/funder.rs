//! Money split by funder: each template's share by its funding basis points, rounded down,
//! the remaining units given one at a time to the largest fractional parts (ties: platform,
//! merchant, supplier), so the parts add up to the whole exactly.

use serde::Serialize;
use utoipa::ToSchema;

use crate::template::Funding;

/// Money by who pays it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct ByFunder {
    pub platform: i64,
    pub merchant: i64,
    pub supplier: i64,
}

impl ByFunder {
    /// `amount` split by `funding` (the shares sum to 10000, as a parsed template's do).
    pub fn split(amount: i64, funding: &Funding) -> ByFunder {
        let bps = [
            funding.platform_bp,
            funding.merchant_bp,
            funding.supplier_bp,
        ];
        let exact: Vec<i128> = bps
            .iter()
            .map(|bp| i128::from(amount) * i128::from(*bp))
            .collect();
        let mut parts: Vec<i64> = exact.iter().map(|e| e.div_euclid(10_000) as i64).collect();
        let mut left = amount - parts.iter().sum::<i64>();
        let mut order: Vec<usize> = (0..3).collect();
        // Largest remainder first; a stable sort keeps platform, merchant, supplier on ties.
        order.sort_by_key(|&i| std::cmp::Reverse(exact[i].rem_euclid(10_000)));
        for i in order {
            if left == 0 {
                break;
            }
            if bps[i] > 0 {
                parts[i] += 1;
                left -= 1;
            }
        }
        ByFunder {
            platform: parts[0],
            merchant: parts[1],
            supplier: parts[2],
        }
    }

    pub fn total(&self) -> i64 {
        self.platform + self.merchant + self.supplier
    }
}

impl std::ops::AddAssign for ByFunder {
    fn add_assign(&mut self, o: ByFunder) {
        self.platform += o.platform;
        self.merchant += o.merchant;
        self.supplier += o.supplier;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn funding(platform_bp: i64, merchant_bp: i64, supplier_bp: i64) -> Funding {
        Funding {
            platform_bp,
            merchant_bp,
            supplier_bp,
        }
    }

    #[test]
    fn thirds_give_the_odd_unit_to_the_platform() {
        let f = funding(3334, 3333, 3333);
        assert_eq!(
            ByFunder::split(100, &f),
            ByFunder {
                platform: 34,
                merchant: 33,
                supplier: 33
            }
        );
        // 1 × 3333 / 10000 = 0.3333 each; the platform's 0.3334 is largest.
        assert_eq!(ByFunder::split(1, &f).platform, 1);
    }

    #[test]
    fn the_largest_remainder_wins_the_unit() {
        // 7 × 50% = 3.5, 7 × 30% = 2.1, 7 × 20% = 1.4: 3 + 2 + 1 = 6, the unit to the platform.
        assert_eq!(
            ByFunder::split(7, &funding(5000, 3000, 2000)),
            ByFunder {
                platform: 4,
                merchant: 2,
                supplier: 1
            }
        );
        // 9 × 10% = 0.9, 9 × 90% = 8.1: the unit to the merchant, whose remainder is larger.
        assert_eq!(
            ByFunder::split(9, &funding(0, 1000, 9000)),
            ByFunder {
                platform: 0,
                merchant: 1,
                supplier: 8
            }
        );
    }

    proptest! {
        #[test]
        fn parts_add_up_and_stay_within_a_unit(amount in 0i64..1_000_000_000_000, a in 0i64..=10_000, b in 0i64..=10_000) {
            let (p, m) = (a.min(b), a.max(b) - a.min(b));
            let f = funding(p, m, 10_000 - p - m);
            let s = ByFunder::split(amount, &f);
            prop_assert_eq!(s.total(), amount);
            for (part, bp) in [(s.platform, f.platform_bp), (s.merchant, f.merchant_bp), (s.supplier, f.supplier_bp)] {
                let exact = amount as f64 * bp as f64 / 10_000.0;
                prop_assert!((part as f64 - exact).abs() < 1.0 + 1e-6, "{part} vs {exact}");
                if bp == 0 { prop_assert_eq!(part, 0); }
            }
        }
    }
}
