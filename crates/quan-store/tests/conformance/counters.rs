//! The daily counters against a rebuild from the ledgers, after randomized workloads of claims
//! and grants on three routes, checkout orders paid, cancelled and refunded in part or whole,
//! redemptions at a counter, revocations and expiry, over many tenant-local days (Shanghai):
//! the counters kept by the writes equal the ones rebuilt, and both equal what the coupons are.

use jiff::SignedDuration;
use quan_core::checkout::refund::RefundAsk;
use quan_core::coupon::CouponStatus;
use quan_core::zone::TenantZone;
use quan_store::on_both_backends;
use quan_store::testing::{fresh_store, Backend};
use quan_store::{ClaimCommand, ClaimOutcome, ClaimRoute, CountsOf};
use serde_json::json;

use crate::common::*;
use crate::orders::new_order;

on_both_backends!(counters_agree_with_a_rebuild_from_the_ledgers);

/// A small deterministic generator (xorshift64*), so a failing seed can be run again.
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

async fn counters_agree_with_a_rebuild_from_the_ledgers(backend: Backend) {
    for seed in [7u64, 2026, 31337] {
        let db = fresh_store(backend, TenantZone::parse("Asia/Shanghai").unwrap()).await;
        let s = &*db.store;
        let validity = json!({"kind": "relative", "days": 2});
        let routes = [
            (
                active(s, "t_public", json!({"validity": validity})).await,
                ClaimRoute::Public,
            ),
            (
                active(
                    s,
                    "t_campaign",
                    json!({"validity": validity, "distribution": ["campaign_only"]}),
                )
                .await,
                ClaimRoute::Campaign("c1".into()),
            ),
            (
                active(
                    s,
                    "t_service",
                    json!({"validity": validity, "distribution": ["service_only"],
                        "scope": {"kind": "store", "store_id": "s1"},
                        "funding": {"platform_bp": 0, "merchant_bp": 10000}}),
                )
                .await,
                ClaimRoute::Service,
            ),
        ];
        let mut dice = Dice(seed);
        let mut now = t0();
        let mut coupons: Vec<(String, String)> = Vec::new(); // (coupon, user)
        let mut paid: Vec<(String, i64)> = Vec::new(); // (order, units refunded)
        for step in 0..300 {
            now += SignedDuration::from_mins(30 + dice.below(600) as i64);
            let user = format!("u{}", dice.below(8));
            match dice.below(8) {
                0..=2 => {
                    let (template, route) = &routes[dice.below(3) as usize];
                    let outcome = s
                        .claim(ClaimCommand {
                            template_id: template.clone(),
                            user_id: user.clone(),
                            channel: None,
                            region: None,
                            route: route.clone(),
                            idempotency: None,
                            actor: "test".into(),
                            stores: None,
                            now,
                        })
                        .await
                        .unwrap();
                    if let ClaimOutcome::Claimed(c) = outcome {
                        coupons.push((c.coupon_id, user));
                    }
                }
                3 | 4 if !coupons.is_empty() => {
                    let (coupon, owner) =
                        coupons[dice.below(coupons.len() as u64) as usize].clone();
                    let id = format!("o{seed}-{step}");
                    let until = now + SignedDuration::from_mins(15);
                    let order = new_order(&id, &owner, &[&coupon], now, until);
                    if s.lock_order(order).await.unwrap().is_ok() {
                        if dice.below(4) == 0 {
                            s.cancel_order(&id, now, "test").await.unwrap().unwrap();
                        } else {
                            s.pay_order(&id, now, "test").await.unwrap().unwrap();
                            paid.push((id, 0));
                        }
                    }
                }
                5 if !paid.is_empty() => {
                    let i = dice.below(paid.len() as u64) as usize;
                    let units = 1 + dice.below(2) as i64;
                    if paid[i].1 + units <= 2 {
                        let ask = vec![RefundAsk {
                            line_id: "1".into(),
                            qty: units,
                        }];
                        s.refund_order(&paid[i].0, ask, now, "test")
                            .await
                            .unwrap()
                            .unwrap();
                        paid[i].1 += units;
                    }
                }
                6 if !coupons.is_empty() => {
                    let (coupon, _) = &coupons[dice.below(coupons.len() as u64) as usize];
                    let named = (dice.below(2) == 0).then(|| format!("pos-{}", dice.below(3)));
                    // Refused unless the coupon is claimed and valid: either way nothing else moves.
                    let _ = s
                        .redeem_coupon(coupon, named.as_deref(), SALE, now, "guide")
                        .await
                        .unwrap();
                }
                _ if !coupons.is_empty() => {
                    if dice.below(3) == 0 {
                        let (coupon, _) = &coupons[dice.below(coupons.len() as u64) as usize];
                        let _ = s
                            .revoke_coupon(coupon, "test", "mistake", now)
                            .await
                            .unwrap();
                    } else {
                        s.expire_due(now, 1000).await.unwrap();
                    }
                }
                _ => {}
            }
        }
        let kept = (
            s.coupon_counts(CountsOf::Everything).await.unwrap(),
            s.sales_counts(CountsOf::Everything).await.unwrap(),
        );
        let rebuilt = s.rebuild_counts().await.unwrap();
        assert!(
            rebuilt.coupon_entries > 100 && rebuilt.sales_entries > 5,
            "seed {seed}: {rebuilt:?}"
        );
        let again = (
            s.coupon_counts(CountsOf::Everything).await.unwrap(),
            s.sales_counts(CountsOf::Everything).await.unwrap(),
        );
        assert_eq!(
            kept, again,
            "seed {seed}: the counters kept differ from the rebuild"
        );

        // And both are what the coupons are now.
        let (counts, sales) = kept;
        let days: std::collections::BTreeSet<i64> = counts.iter().map(|c| c.day).collect();
        assert!(
            days.len() > 5,
            "seed {seed}: the workload spans days: {days:?}"
        );
        let mut redeemed = 0;
        for (coupon, _) in &coupons {
            let c = s.coupon(coupon).await.unwrap().unwrap();
            redeemed += i64::from(c.status == CouponStatus::Redeemed);
            let given: i64 = s
                .ledger(coupon)
                .await
                .unwrap()
                .iter()
                .map(|e| e.given)
                .sum();
            assert!(
                (0..=SALE.discount).contains(&given),
                "seed {seed}: {coupon} gave {given}"
            );
            if c.status != CouponStatus::Redeemed {
                assert_eq!(given, 0, "seed {seed}: {coupon} is {:?}", c.status);
            }
        }
        let sum = |f: fn(&quan_store::CouponCount) -> i64| counts.iter().map(f).sum::<i64>();
        assert_eq!(sum(|c| c.claimed), coupons.len() as i64, "seed {seed}");
        assert_eq!(sum(|c| c.used - c.returned), redeemed, "seed {seed}");
        assert!(
            redeemed > 0 && sum(|c| c.returned) > 0,
            "seed {seed}: {counts:?}"
        );
        assert!(
            counts.iter().all(
                |c| (c.campaign_id == "c1") == (c.template_id == "t_campaign")
                    && (c.store_id == "s1") == (c.template_id == "t_service")
            ),
            "seed {seed}: keys"
        );
        // A day's sales may be negative (a refund of an earlier day's order); each key's sum
        // is what its orders are now.
        let mut by_key: std::collections::BTreeMap<(&str, &str), (i64, i64)> = Default::default();
        for x in &sales {
            let e = by_key.entry((&x.kind, &x.key)).or_default();
            e.0 += x.orders;
            e.1 += x.gmv;
        }
        assert!(
            by_key
                .values()
                .all(|(o, g)| *o >= 0 && *g >= 0 && *g <= *o * SALE.payable.max(1500)),
            "seed {seed}: {by_key:?}"
        );
    }
}
