//! What the redemption model reads (basket lines, coupon outcomes, decided entries) and
//! allocated entries: each carries its template, which treatment grants; a member the
//! allocation gave nothing is recorded `unallocated`.

use quan_core::campaign::decide::EntryStatus;
use quan_core::coupon::CouponStatus;
use quan_store::on_both_backends;
use quan_store::scrm::Aggregates;
use quan_store::testing::Backend;
use quan_store::NewEntry;
use serde_json::json;

use crate::campaigns::campaign;
use crate::common::*;

on_both_backends!(
    learning_reads_baskets_coupons_and_entries,
    allocated_entries_grant_their_template
);

async fn learning_reads_baskets_coupons_and_entries(backend: Backend) {
    let db = open(backend).await;
    let s = &*db.store;
    let o1 = order("o1", "u1", "paid", at(1), &[("a", 300), ("b", 200)]);
    let o2 = order("o2", "u1", "refunded", at(2), &[("a", 300)]);
    let o3 = order("o3", "u2", "paid", at(5), &[("c", 900)]);
    s.put_orders(vec![o1, o2, o3], at(6), Aggregates::Current)
        .await
        .unwrap();
    let lines = s.basket_lines(at(5)).await.unwrap();
    // Counted lines only (the refunded order is not), paid strictly before the cut.
    let got: Vec<(&str, &str, i64)> = lines
        .iter()
        .map(|l| (l.order_id.as_str(), l.sku.as_str(), l.amount))
        .collect();
    assert_eq!(got, vec![("o1", "a", 300), ("o1", "b", 200)]);
    assert_eq!(s.basket_lines(at(6)).await.unwrap().len(), 3);

    let t = active(
        s,
        "t1",
        json!({"validity": {"kind": "relative", "days": 1}}),
    )
    .await;
    let used = claimed(s, &t, "u1", at(1)).await;
    claimed(s, &t, "u2", at(1)).await;
    claimed(s, &t, "u3", at(10)).await;
    s.redeem_coupon(&used, None, SALE, at(2), "test")
        .await
        .unwrap()
        .unwrap();
    let outcomes = s.coupon_outcomes(at(10)).await.unwrap();
    assert_eq!(outcomes.len(), 2, "claimed before the cut only");
    let by_user: Vec<(&str, CouponStatus, Option<bool>)> = outcomes
        .iter()
        .map(|c| (c.user_id.as_str(), c.status, c.used(at(3))))
        .collect();
    // u2's coupon (a day's validity) is still open minutes after its claim, and settled
    // unused once its day is over.
    let late = days_after(at(1), 2);
    assert_eq!(
        by_user,
        vec![
            ("u1", CouponStatus::Redeemed, Some(true)),
            ("u2", CouponStatus::Claimed, None)
        ]
    );
    assert_eq!(outcomes[1].used(late), Some(false));
    assert_eq!(
        outcomes[0].used(at(1)),
        None,
        "its redemption was still to come"
    );

    let c = active(s, "tc", json!({"distribution": ["campaign_only"]})).await;
    campaign(
        s,
        "c1",
        json!({"name": "c", "trigger": {"kind": "once"},
            "actions": [{"kind": "grant", "template_id": c}]}),
    )
    .await;
    let entries = vec![entry("u1", false, None), entry("u2", true, None)];
    s.add_entries("c1", entries, None, at(20)).await.unwrap();
    assert!(
        s.entry_outcomes(at(21)).await.unwrap().len() == 1,
        "a pending entry is no outcome yet; the held-out one is"
    );
    s.treat_due(at(21), "campaign").await.unwrap();
    let got: Vec<(String, bool)> = s
        .entry_outcomes(at(22))
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.user_id, e.treated))
        .collect();
    assert_eq!(got, vec![("u1".into(), true), ("u2".into(), false)]);
}

fn days_after(t: jiff::Timestamp, days: i64) -> jiff::Timestamp {
    t + jiff::SignedDuration::from_hours(24 * days)
}

fn entry(user: &str, held_out: bool, allocated: Option<Option<&str>>) -> NewEntry {
    NewEntry {
        user_id: user.into(),
        occurrence: "once".into(),
        due_at: t0(),
        held_out,
        allocated: allocated.map(|t| t.map(String::from)),
    }
}

async fn allocated_entries_grant_their_template(backend: Backend) {
    let db = open(backend).await;
    let s = &*db.store;
    let off = |v: i64| json!({"distribution": ["campaign_only"], "benefit": {"kind": "reduction", "threshold": 0, "off": v}});
    let small = active(s, "ts", off(300)).await;
    let large = active(s, "tl", off(900)).await;
    campaign(
        s,
        "c1",
        json!({"name": "smart", "trigger": {"kind": "once"}, "budget": {"amount": 1500},
            "actions": [{"kind": "allocate", "template_ids": [small, large], "budget": 100}]}),
    )
    .await;
    let entries = vec![
        entry("u1", false, Some(Some(&small))),
        entry("u2", false, Some(Some(&large))),
        entry("u3", false, Some(None)),
        entry("u4", true, None),
        // The campaign's face-value budget (15.00) still binds: 3 + 9 leaves 3, not 9.
        entry("u5", false, Some(Some(&large))),
    ];
    assert_eq!(
        s.add_entries("c1", entries, None, t0()).await.unwrap(),
        Some(5)
    );
    let r = s.treat_due(at(1), "campaign").await.unwrap();
    assert_eq!((r.treated, r.over_budget), (2, 1), "{r:?}");
    let page = s.campaign_entries("c1", None, 10, None).await.unwrap();
    let got: Vec<(&str, EntryStatus, Option<&str>, usize)> = page
        .items
        .iter()
        .map(|e| {
            (
                e.user_id.as_str(),
                e.status,
                e.template_id.as_deref(),
                e.coupon_ids.len(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("u1", EntryStatus::Treated, Some(small.as_str()), 1),
            ("u2", EntryStatus::Treated, Some(large.as_str()), 1),
            ("u3", EntryStatus::Unallocated, None, 0),
            ("u4", EntryStatus::HeldOut, None, 0),
            ("u5", EntryStatus::OverBudget, Some(large.as_str()), 0),
        ]
    );
    assert_eq!(s.coupon_count(&small).await.unwrap(), 1);
    assert_eq!(s.coupon_count(&large).await.unwrap(), 1);
    let c = s.campaign("c1").await.unwrap().unwrap();
    assert_eq!((c.stats.granted, c.stats.spent), (2, 1200));
}
