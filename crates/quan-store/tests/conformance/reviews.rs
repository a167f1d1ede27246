//! What a campaign's review reads: each arm's members with their orders in the attribution
//! window and before it, the coupons the campaign granted as they stand, and its messages.

use jiff::SignedDuration;
use quan_core::campaign::MessageChannel;
use quan_core::coupon::CouponStatus;
use quan_core::review::Outcome;
use quan_store::on_both_backends;
use quan_store::scrm::Aggregates;
use quan_store::testing::Backend;
use quan_store::{ArmMember, CategorySales, CountsOf, MessageCounts, NewEntry, NewMessage};
use serde_json::json;

use crate::campaigns::campaign;
use crate::common::*;

on_both_backends!(a_review_reads_arms_coupons_and_messages);

fn entry(user: &str, held_out: bool) -> NewEntry {
    NewEntry {
        user_id: user.into(),
        occurrence: "once".into(),
        due_at: t0(),
        held_out,
        allocated: None,
    }
}

async fn a_review_reads_arms_coupons_and_messages(backend: Backend) {
    let db = open(backend).await;
    let s = &*db.store;
    let t = active(s, "t1", json!({"distribution": ["campaign_only"]})).await;
    campaign(
        s,
        "c1",
        json!({"name": "c", "trigger": {"kind": "once"}, "holdout_bp": 5000,
            "actions": [{"kind": "grant", "template_id": t}]}),
    )
    .await;
    s.add_entries(
        "c1",
        vec![entry("a", false), entry("b", false), entry("h", true)],
        None,
        t0(),
    )
    .await
    .unwrap();
    s.treat_due(t0(), "test").await.unwrap();
    let day = |d: i64| t0() + SignedDuration::from_hours(24 * d);
    s.put_orders(
        vec![
            order("a-pre", "a", "paid", day(-2), &[("tea", 300)]),
            order("a-0", "a", "paid", t0(), &[("tea", 1_000)]),
            order("a-6", "a", "paid", day(6), &[("tea", 200)]),
            order("a-7", "a", "paid", day(7), &[("tea", 5_000)]),
            order("a-refunded", "a", "refunded", day(1), &[("tea", 7_000)]),
            order("h-1", "h", "paid", day(1), &[("tea", 400)]),
            order("h-old", "h", "paid", day(-8), &[("tea", 900)]),
        ],
        day(8),
        Aggregates::Current,
    )
    .await
    .unwrap();
    let mut arms = s
        .campaign_outcomes("c1", SignedDuration::from_hours(24 * 7))
        .await
        .unwrap();
    arms.sort_by_key(|m| (m.treated, m.outcome.revenue));
    let member = |treated: bool, converted: bool, revenue: i64, pre_revenue: i64| ArmMember {
        treated,
        outcome: Outcome {
            converted,
            revenue,
            pre_revenue,
        },
    };
    assert_eq!(
        arms,
        vec![
            // h: its order of day 1 counts; the one of eight days before is outside both windows.
            member(false, true, 400, 0),
            // b: nothing.
            member(true, false, 0, 0),
            // a: at entry and on day 6, not on day 7 (the window's end) nor the refunded one;
            // two days before entry is its pre-period.
            member(true, true, 1_200, 300),
        ]
    );

    // The counters: two coupons granted by the campaign on its entry day; one redeemed at a
    // counter the next day, its discount given and its purchase an order of the campaign.
    let counts = s
        .coupon_counts(CountsOf::Campaign("c1".into()))
        .await
        .unwrap();
    assert_eq!(counts.len(), 1, "{counts:?}");
    let entry_day = counts[0].day;
    assert_eq!(
        (
            counts[0].template_id.as_str(),
            counts[0].route.as_str(),
            counts[0].claimed,
            counts[0].used
        ),
        (t.as_str(), "campaign", 2, 0)
    );
    let coupons = s.campaign_entries("c1", None, 10, None).await.unwrap();
    let used: String = coupons
        .items
        .iter()
        .find_map(|e| e.coupon_ids.first().cloned())
        .expect("a treated entry's coupon");
    let redeemed = s
        .redeem_coupon(&used, Some("pos-9"), SALE, day(1), "guide")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (redeemed.status, redeemed.campaign_id.as_deref()),
        (CouponStatus::Redeemed, Some("c1"))
    );
    let counts = s
        .coupon_counts(CountsOf::Campaign("c1".into()))
        .await
        .unwrap();
    let next = counts
        .iter()
        .find(|c| c.day == entry_day + 1)
        .expect("a row the next day");
    assert_eq!((next.claimed, next.used, next.given), (0, 1, SALE.discount));
    let sales = s
        .sales_counts(CountsOf::Campaign("c1".into()))
        .await
        .unwrap();
    assert_eq!(
        sales.iter().map(|x| (x.orders, x.gmv)).collect::<Vec<_>>(),
        vec![(1, SALE.payable)]
    );
    let mut by_member = s.campaign_member_coupons("c1").await.unwrap();
    by_member.sort_by_key(|c| c.user_id.clone());
    let got: Vec<(&str, bool, i64)> = by_member
        .iter()
        .map(|c| (c.user_id.as_str(), c.redeemed, c.given))
        .collect();
    let user_of_used = redeemed.user_id.as_str();
    assert_eq!(got.len(), 2);
    assert!(
        got.contains(&(user_of_used, true, SALE.discount)),
        "{got:?}"
    );
    assert!(
        got.iter()
            .any(|(u, r, g)| *u != user_of_used && !r && *g == 0),
        "{got:?}"
    );
    // A second coupon named on the same purchase counts it once.
    let other = coupons
        .items
        .iter()
        .filter_map(|e| e.coupon_ids.first().cloned())
        .find(|c| c != &used)
        .expect("b's coupon");
    s.redeem_coupon(&other, Some("pos-9"), SALE, day(1), "guide")
        .await
        .unwrap()
        .unwrap();
    let sales = s
        .sales_counts(CountsOf::Campaign("c1".into()))
        .await
        .unwrap();
    assert_eq!(sales.iter().map(|x| x.orders).sum::<i64>(), 1);

    for (i, user) in ["a", "b"].iter().enumerate() {
        s.enqueue_message(NewMessage {
            id: format!("msg{i}"),
            campaign_id: Some("c1".into()),
            user_id: user.to_string(),
            channel: MessageChannel::Sms,
            text: "hi".into(),
            link_template_id: None,
            now: t0(),
        })
        .await
        .unwrap();
    }
    assert!(s.mark_sent("msg0", at(1)).await.unwrap());
    assert_eq!(
        s.campaign_messages("c1").await.unwrap(),
        MessageCounts {
            sent: 2,
            delivered: 1,
            dead: 0
        }
    );
    assert_eq!(
        s.campaign_messages("none").await.unwrap(),
        MessageCounts::default()
    );
    // Opens of the campaign's claim links, per day, summed.
    for day in [20_500, 20_500, 20_501] {
        s.record_link_open("c1", day).await.unwrap();
    }
    assert_eq!(s.link_opens("c1").await.unwrap(), 3);
    assert_eq!(s.link_opens("none").await.unwrap(), 0);
}

on_both_backends!(calculators_read_paid_orders_and_category_sales);

/// The calculators' reads: counted orders paid in a window (a refunded one is not counted),
/// and per category the amount and units of counted lines with a positive quantity.
async fn calculators_read_paid_orders_and_category_sales(backend: Backend) {
    let db = open(backend).await;
    let s = &*db.store;
    let day = |d: i64| t0() + SignedDuration::from_hours(24 * d);
    let categorized = |mut o: quan_store::scrm::HistoryOrder, cats: &[(&str, i64)]| {
        for (line, (category, qty)) in o.lines.iter_mut().zip(cats) {
            line.category = Some(category.to_string());
            line.qty = *qty;
        }
        o
    };
    s.put_orders(
        vec![
            categorized(
                order(
                    "o1",
                    "a",
                    "paid",
                    day(1),
                    &[("milk", 2_400), ("veg", 1_000)],
                ),
                &[("baby", 2), ("greens", 4)],
            ),
            categorized(
                order("o2", "b", "paid", day(2), &[("milk", 1_200), ("free", 0)]),
                &[("baby", 1), ("greens", 0)],
            ),
            categorized(
                order("o3", "b", "refunded", day(2), &[("milk", 9_999)]),
                &[("baby", 1)],
            ),
            order("o4", "c", "paid", day(5), &[("tea", 500)]),
            order("o5", "c", "paid", day(-1), &[("tea", 700)]),
        ],
        day(6),
        Aggregates::Current,
    )
    .await
    .unwrap();
    let mut paid = s.paid_orders(t0(), day(5)).await.unwrap();
    paid.sort_by_key(|o| o.paid_at);
    let seen: Vec<(&str, i64)> = paid
        .iter()
        .map(|o| (o.user_id.as_str(), o.amount))
        .collect();
    assert_eq!(
        seen,
        vec![("a", 3_400), ("b", 1_200)],
        "[t0, day 5): o4 is at its end"
    );
    assert_eq!(paid[0].paid_at, day(1));
    let sales = s.category_sales(t0(), day(6)).await.unwrap();
    assert_eq!(
        sales,
        vec![
            CategorySales {
                category: "baby".into(),
                amount: 3_600,
                units: 3
            },
            CategorySales {
                category: "greens".into(),
                amount: 1_000,
                units: 4
            },
        ]
    );
}
