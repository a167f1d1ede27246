//! The uplift statistics on hand-computed fixtures, and against simulated campaigns whose true
//! effect is known.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;

fn arm(members: &[(bool, i64, i64)]) -> Arm {
    Arm::of(
        members
            .iter()
            .map(|&(converted, revenue, pre_revenue)| Outcome {
                converted,
                revenue,
                pre_revenue,
            })
            .collect::<Vec<_>>()
            .iter(),
    )
}

/// `n` members, of whom `converted` spent `each`.
fn repeated(n: usize, converted: usize, each: i64) -> Arm {
    let mut a = Arm::default();
    for i in 0..n {
        let c = i < converted;
        a.add(&Outcome {
            converted: c,
            revenue: if c { each } else { 0 },
            pre_revenue: 0,
        });
    }
    a
}

#[test]
fn two_arms_of_a_hundred_by_hand() {
    // Treated: 30 of 100 spent 10.00; held out: 20 of 100. Revenue: means 300 and 200,
    // variances 2.1e9 / 9900 and 1.6e9 / 9900, se = sqrt(2121.21 + 1616.16) = 61.134,
    // half-width 1.959964 × 61.134 = 119.82. Conversion: 0.3 − 0.2, se = sqrt(0.0037),
    // half-width 0.11922.
    let (t, c) = (repeated(100, 30, 1000), repeated(100, 20, 1000));
    let r = incrementality(&t, &c, 5000, 2500);
    assert_eq!((r.treated.converted, r.treated.revenue), (30, 30_000));
    assert_eq!((r.control.converted, r.control.revenue), (20, 20_000));
    assert_eq!(r.conversion_uplift_bp, Some(1000));
    assert_eq!(r.conversion_uplift_ci95_bp, Some([-192, 2192]));
    assert_eq!(r.revenue_uplift_per_member, Some(100));
    assert_eq!(r.revenue_uplift_per_member_ci95, Some([-20, 220]));
    assert_eq!(r.incremental_revenue, Some(10_000));
    assert_eq!(
        r.incremental_roi_bp,
        Some(40_000),
        "10,000 added on 2,500 given"
    );
    assert_eq!(r.srm_p_value, Some(1.0));
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
}

#[test]
fn small_arms_take_students_t() {
    // Three a side with equal variances: Welch's df = 2 (n − 1) = 4, t(0.975, 4) = 2.776445;
    // se = sqrt(2 × 10000 / 3) = 81.65, half-width 226.70 around −100.
    let t = arm(&[(false, 0, 0), (true, 100, 0), (true, 200, 0)]);
    let c = arm(&[(true, 100, 0), (true, 200, 0), (true, 300, 0)]);
    let r = incrementality(&t, &c, 5000, 0);
    assert_eq!(r.revenue_uplift_per_member, Some(-100));
    assert_eq!(r.revenue_uplift_per_member_ci95, Some([-327, 127]));
    assert_eq!(r.incremental_roi_bp, None, "nothing was given");
    assert_eq!(r.warnings[0].code, "small_arm");
}

#[test]
fn the_sample_ratio_check_warns_when_the_split_is_broken() {
    // 520 / 480 against 50%: χ² = 1.6, p = erfc(sqrt(0.8)) = 0.2059.
    let p = sample_ratio_p(520, 480, 5000).unwrap();
    assert!((p - 0.205_903).abs() < 1e-6, "{p}");
    // 600 / 400: χ² = 40, p = 2.5e-10.
    let r = incrementality(&repeated(600, 0, 0), &repeated(400, 0, 0), 5000, 0);
    assert!(r.srm_p_value.unwrap() < 1e-9);
    assert_eq!(r.warnings[0].code, "sample_ratio_mismatch");
    // A 10% holdout split 900 / 100 is exactly as asked.
    assert_eq!(sample_ratio_p(900, 100, 1000), Some(1.0));
    assert_eq!(sample_ratio_p(0, 0, 1000), None);
    assert_eq!(sample_ratio_p(10, 0, 0), None);
}

#[test]
fn an_empty_arm_gives_no_comparison() {
    let r = incrementality(&repeated(10, 3, 100), &Arm::default(), 1000, 500);
    assert_eq!(r.conversion_uplift_bp, None);
    assert_eq!(r.revenue_uplift_per_member_ci95, None);
    assert_eq!(r.incremental_revenue, None);
    assert!(r.cuped.is_none());
    assert_eq!(r.warnings.last().unwrap().code, "empty_arm");
}

/// A simulated campaign: members convert with `p` and then spend uniformly in 1000..=21000
/// (mean 11000) plus `lift` if treated; each has a latent level of spending that shows in the
/// pre-period and, when `correlated`, in the post-period too.
fn simulate(rng: &mut StdRng, n: usize, p: f64, lift: i64, correlated: bool) -> Arm {
    let mut a = Arm::default();
    for _ in 0..n {
        let level: i64 = rng.random_range(0..=20_000);
        let pre = level + rng.random_range(0..=2_000);
        let converted = rng.random_bool(p);
        let mut revenue = if converted {
            rng.random_range(1_000..=21_000) + lift
        } else {
            0
        };
        if correlated {
            revenue += level;
        }
        a.add(&Outcome {
            converted,
            revenue,
            pre_revenue: pre,
        });
    }
    a
}

fn covers(ci: [i64; 2], truth: f64) -> bool {
    ci[0] as f64 <= truth && truth <= ci[1] as f64
}

#[test]
fn intervals_cover_the_true_effect_about_95_times_in_100() {
    // Treated convert at 12%, held out at 10%, the same spend when they do: the true
    // conversion uplift is 200 bp and the revenue uplift 0.02 × 11000 = 220 a member.
    let mut rng = StdRng::seed_from_u64(7);
    let (mut conversion, mut revenue, mut small) = (0, 0, 0);
    for _ in 0..200 {
        let t = simulate(&mut rng, 2000, 0.12, 0, false);
        let c = simulate(&mut rng, 2000, 0.10, 0, false);
        let r = incrementality(&t, &c, 5000, 1);
        conversion += usize::from(covers(r.conversion_uplift_ci95_bp.unwrap(), 200.0));
        revenue += usize::from(covers(r.revenue_uplift_per_member_ci95.unwrap(), 220.0));
        // Small arms, Student's t: 30 a side.
        let t = simulate(&mut rng, 30, 0.5, 3000, false);
        let c = simulate(&mut rng, 30, 0.5, 0, false);
        let r = incrementality(&t, &c, 5000, 1);
        small += usize::from(covers(r.revenue_uplift_per_member_ci95.unwrap(), 1500.0));
    }
    for (what, hits) in [
        ("conversion", conversion),
        ("revenue", revenue),
        ("small arms", small),
    ] {
        assert!(
            (182..=198).contains(&hits),
            "{what}: {hits} of 200 intervals covered the truth"
        );
    }
}

#[test]
fn cuped_narrows_the_interval_and_stays_unbiased() {
    // Every converted treated member spends 500 more: the true uplift is 0.3 × 500 = 150 a
    // member; the members' own levels, seen before entry, explain most of the spread.
    let mut rng = StdRng::seed_from_u64(11);
    let (mut covered, mut narrower, mut estimates) = (0, 0, Vec::new());
    for _ in 0..200 {
        let t = simulate(&mut rng, 1000, 0.3, 500, true);
        let c = simulate(&mut rng, 1000, 0.3, 0, true);
        let r = incrementality(&t, &c, 5000, 1);
        let plain = r.revenue_uplift_per_member_ci95.unwrap();
        let cuped = r.cuped.unwrap();
        let adjusted = cuped.revenue_uplift_per_member_ci95;
        covered += usize::from(covers(adjusted, 150.0));
        narrower += usize::from(adjusted[1] - adjusted[0] < plain[1] - plain[0]);
        estimates.push(cuped.revenue_uplift_per_member as f64);
        assert!(cuped.theta > 0.5 && cuped.theta < 1.5, "θ {}", cuped.theta);
    }
    assert_eq!(
        narrower, 200,
        "the pre-period explains spend, so every interval narrows"
    );
    assert!(
        (182..=198).contains(&covered),
        "{covered} of 200 CUPED intervals covered"
    );
    // Unbiased: the mean of the 200 estimates is within three of its standard errors of 150.
    let mean = estimates.iter().sum::<f64>() / 200.0;
    let sd = (estimates.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / 199.0).sqrt();
    assert!(
        (mean - 150.0).abs() < 3.0 * sd / 200f64.sqrt(),
        "mean CUPED estimate {mean}, sd {sd}"
    );
}
