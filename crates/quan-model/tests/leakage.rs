//! Nothing from at or after the decision time reaches a feature.

use std::collections::{HashMap, HashSet};

use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use quan_model::{
    features, Attributes, Basket, BenefitKind, CampaignKind, Exposure, Line, MemberHistory, Offer,
    Redemption, FEATURES,
};

fn t0() -> Timestamp {
    "2017-08-08T00:00:00Z".parse().unwrap()
}

fn days(n: f64) -> SignedDuration {
    SignedDuration::from_secs_f64(n * 86_400.0)
}

fn line(product: i64, category: u32, amount: i64, coupon: i64) -> Line {
    Line {
        product,
        category: Some(category),
        department: Some(category / 10),
        amount,
        coupon_discount: coupon,
    }
}

/// The offer covers products 100..110 (category 50, department 5).
fn offer() -> Offer {
    Offer {
        kind: CampaignKind::A,
        coupons: 12,
        duration_days: 47.0,
        products: (100..110).collect(),
        category_coverage: HashMap::from([(50, 0.25)]),
        departments: HashSet::from([5]),
        benefit: Some(BenefitKind::Reduction),
        depth: Some(0.2),
        threshold: Some(3_000),
    }
}

/// Bit equality, NaN included.
fn same(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

/// The member before T: four ordinary baskets, the last 40 days before T (at risk), one coupon
/// line, campaign 3 received and redeemed.
fn before(t: Timestamp) -> MemberHistory {
    MemberHistory {
        baskets: vec![
            Basket {
                at: t - days(300.0),
                lines: vec![line(1, 11, 1_000, 0), line(2, 12, 500, 0)],
            },
            Basket {
                at: t - days(200.0),
                lines: vec![line(1, 11, 1_200, 100), line(101, 50, 300, 0)],
            },
            Basket {
                at: t - days(120.0),
                lines: vec![line(3, 13, 2_000, 0)],
            },
            Basket {
                at: t - days(40.0),
                lines: vec![line(2, 12, 800, 0)],
            },
        ],
        redemptions: vec![Redemption {
            campaign: 3,
            at: t - days(190.0),
        }],
        exposures: vec![Exposure {
            campaign: 3,
            kind: CampaignKind::B,
            start: t - days(210.0),
        }],
        attributes: Attributes {
            age: Some(35.0),
            income: Some(50.0),
            household_size: Some(2.0),
            ..Attributes::default()
        },
    }
}

/// What happens at and after T: big baskets of the offer's products with coupons, campaigns 7
/// (of the offer's kind) and 9 received, 7 redeemed. `later(t, false)` dates them at and after
/// T; `later(t, true)` re-dates every one before T (the leaky twin), to show each would move
/// the features.
fn later(t: Timestamp, leak: bool) -> (Vec<Basket>, Vec<Redemption>, Vec<Exposure>) {
    let at = |after: f64, before: f64| {
        if leak {
            t - days(before)
        } else {
            t + days(after)
        }
    };
    (
        vec![
            Basket {
                at: at(0.0, 1.0 / 24.0), // exactly at T: already too late
                lines: vec![
                    line(100, 50, 9_000, 500),
                    line(102, 50, 4_000, 300),
                    line(7, 17, 100, 0),
                ],
            },
            Basket {
                at: at(200.0, 400.0),
                lines: vec![line(103, 50, 7_000, 700), line(104, 51, 2_500, 0)],
            },
        ],
        vec![Redemption {
            campaign: 7,
            at: at(5.0, 2.0 / 24.0),
        }],
        vec![
            Exposure {
                campaign: 7,
                kind: CampaignKind::A,
                start: at(1.0, 10.0),
            },
            Exposure {
                campaign: 9,
                kind: CampaignKind::C,
                start: at(2.0, 3.0),
            },
        ],
    )
}

fn with(
    mut h: MemberHistory,
    extra: (Vec<Basket>, Vec<Redemption>, Vec<Exposure>),
) -> MemberHistory {
    h.baskets.extend(extra.0);
    h.redemptions.extend(extra.1);
    h.exposures.extend(extra.2);
    h.sort();
    h
}

/// Features that come from the attributes or the offer alone, which no order can move.
const NOT_FROM_HISTORY: [&str; 13] = [
    "tier",
    "age",
    "income",
    "homeowner",
    "married",
    "household_size",
    "kids",
    "campaign_kind",
    "campaign_coupons",
    "campaign_products",
    "campaign_days",
    "benefit_kind",
    "depth",
];

#[test]
fn features_at_t_ignore_every_later_order_redemption_and_campaign() {
    let t = t0();
    let clean = with(before(t), (vec![], vec![], vec![]));
    let full = with(before(t), later(t, false));
    let leaky = with(before(t), later(t, true));

    let at_t = features(&clean.as_of(t), &offer());
    assert!(same(&features(&full.as_of(t), &offer()), &at_t));

    // The fixture catches a leak: had the later events been visible, every feature computed
    // from the history would differ.
    let leaked = features(&leaky.as_of(t), &offer());
    for (i, name) in FEATURES.iter().enumerate() {
        if NOT_FROM_HISTORY.contains(name) {
            continue;
        }
        assert!(
            at_t[i].to_bits() != leaked[i].to_bits(),
            "{name} would not notice a leak: {} vs {}",
            at_t[i],
            leaked[i]
        );
    }
}

#[test]
fn later_events_of_any_size_change_nothing() {
    let t = t0();
    let reference = features(&with(before(t), later(t, false)).as_of(t), &offer());
    let (mut b, mut r, mut e) = later(t, false);
    for basket in &mut b {
        for l in &mut basket.lines {
            l.amount *= 100;
            l.coupon_discount += 1_000;
        }
    }
    r.iter_mut().for_each(|x| x.campaign = 3);
    e.push(Exposure {
        campaign: 3,
        kind: CampaignKind::A,
        start: t,
    });
    let other = features(&with(before(t), (b, r, e)).as_of(t), &offer());
    assert!(same(&other, &reference));
}

fn arb_history(t: Timestamp) -> impl Strategy<Value = MemberHistory> {
    let offset = -400.0..60.0f64; // days from T
    let basket = (
        offset.clone(),
        prop::collection::vec((95i64..115, 0u32..60, 0i64..5_000, 0i64..300), 1..5),
    )
        .prop_map(move |(d, lines)| Basket {
            at: t + days(d),
            lines: lines
                .into_iter()
                .map(|(p, c, a, cd)| line(p, c, a, if cd < 200 { 0 } else { cd }))
                .collect(),
        });
    (
        prop::collection::vec(basket, 0..25),
        prop::collection::vec((1i64..10, offset.clone()), 0..6),
        prop::collection::vec((1i64..10, offset), 0..8),
    )
        .prop_map(move |(mut baskets, r, e)| {
            baskets.sort_by_key(|b| b.at);
            MemberHistory {
                baskets,
                redemptions: r
                    .into_iter()
                    .map(|(c, d)| Redemption {
                        campaign: c,
                        at: t + days(d),
                    })
                    .collect(),
                exposures: e
                    .into_iter()
                    .map(|(c, d)| Exposure {
                        campaign: c,
                        kind: if c % 2 == 0 {
                            CampaignKind::A
                        } else {
                            CampaignKind::B
                        },
                        start: t + days(d),
                    })
                    .collect(),
                attributes: Attributes::default(),
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Any history: the features at T are those of the history with everything at or after T
    /// removed by hand.
    #[test]
    fn features_equal_those_of_the_history_cut_by_hand(h in arb_history(t0())) {
        let t = t0();
        let cut = MemberHistory {
            baskets: h.baskets.iter().filter(|b| b.at < t).cloned().collect(),
            redemptions: h.redemptions.iter().filter(|r| r.at < t).copied().collect(),
            exposures: h.exposures.iter().filter(|e| e.start < t).copied().collect(),
            attributes: h.attributes,
        };
        let a = features(&h.as_of(t), &offer());
        let b = features(&cut.as_of(t), &offer());
        prop_assert!(same(&a, &b), "{:?}\n{:?}", a, b);
    }
}
