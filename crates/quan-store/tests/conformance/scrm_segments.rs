//! Purchase conditions and segments, evaluated for all members and, inside claims, for one.

use std::sync::Arc;

use quan_core::scrm::Purchase;
use quan_core::ErrorCode;
use quan_store::on_both_backends;
use quan_store::prelude::*;
use quan_store::scrm::{self, Aggregates, SegmentDefinition, SegmentRecord};
use quan_store::testing::Backend;
use quan_store::ClaimOutcome;
use serde_json::json;

use crate::common::*;

on_both_backends!(purchases_and_segments,);

async fn purchases_and_segments(backend: Backend) {
    let db = open(backend).await;
    let s = &*db.store;
    let now = t0();
    s.put_products(vec![product("tea", "tea"), product("cup", "ware")])
        .await
        .unwrap();
    let orders = vec![
        order("u1-a", "u1", "completed", days_ago(5), &[("tea", 500)]),
        order("u2-a", "u2", "completed", days_ago(40), &[("tea", 3000)]),
        order("u2-b", "u2", "paid", days_ago(2), &[("cup", 100)]),
        order("u3-a", "u3", "refunded", days_ago(1), &[("tea", 9999)]),
    ];
    s.put_orders(orders, now, Aggregates::Current)
        .await
        .unwrap();
    s.put_members(vec![profile("u4", days_ago(200), &["vip"])], now)
        .await
        .unwrap();

    let bought = |category: &str, within_days| Purchase::Bought {
        category: category.into(),
        within_days,
    };
    for (p, want) in [
        (bought("tea", 30), ids(&["u1"])),
        (bought("tea", 60), ids(&["u1", "u2"])),
        (bought("tea", 5), ids(&[])), // the window's start is exclusive
        (bought("ware", 7), ids(&["u2"])),
        (
            Purchase::Spent {
                min: 1000,
                within_days: None,
            },
            ids(&["u2"]),
        ),
        (
            Purchase::Spent {
                min: 500,
                within_days: Some(30),
            },
            ids(&["u1"]),
        ),
        (
            Purchase::Orders {
                min: 2,
                within_days: None,
            },
            ids(&["u2"]),
        ),
        (
            Purchase::Orders {
                min: 1,
                within_days: Some(10),
            },
            ids(&["u1", "u2"]),
        ),
    ] {
        assert_eq!(s.purchase_members(&p, now).await.unwrap(), want, "{p:?}");
        for user in ["u1", "u2", "u3", "u4"] {
            assert_eq!(
                s.member_purchased(user, &p, now).await.unwrap(),
                want.contains(user),
                "{user} {p:?}"
            );
        }
    }

    let tea_or_vip = rule(json!({"kind": "or", "rules": [
        {"kind": "bought", "category": "tea", "within_days": 30},
        {"kind": "tag", "tag": "vip"}
    ]}));
    let big_not_vip = rule(json!({"kind": "and", "rules": [
        {"kind": "spent", "min": 1000},
        {"kind": "not", "rule": {"kind": "tag", "tag": "vip"}}
    ]}));
    let new = rule(json!({"kind": "stage", "stages": ["new"]}));
    assert_eq!(
        scrm::rule_members(s, &tea_or_vip, now).await.unwrap(),
        ["u1", "u4"]
    );
    assert_eq!(
        scrm::rule_members(s, &big_not_vip, now).await.unwrap(),
        ["u2"]
    );
    assert_eq!(
        scrm::rule_members(s, &new, now).await.unwrap(),
        ["u3", "u4"],
        "a refunded order is no purchase"
    );

    let segment = |id: &str, definition| SegmentRecord {
        id: id.into(),
        name: format!("segment {id}"),
        definition,
        created_at: now,
        updated_at: now,
    };
    let ruled = s
        .put_segment(segment(
            "s-rule",
            SegmentDefinition::Rule(tea_or_vip.clone()),
        ))
        .await
        .unwrap();
    assert_eq!(
        ruled,
        segment("s-rule", SegmentDefinition::Rule(tea_or_vip))
    );
    let listed = s
        .put_segment(segment(
            "s-list",
            SegmentDefinition::Listed(vec!["u3".into(), "u2".into(), "u2".into()]),
        ))
        .await
        .unwrap();
    assert_eq!(
        listed.definition,
        SegmentDefinition::Listed(vec!["u2".into(), "u3".into()])
    );
    assert_eq!(s.segment("s-rule").await.unwrap(), Some(ruled.clone()));
    assert_eq!(s.segment("s-none").await.unwrap(), None);
    let page = s.list_segments(1, None).await.unwrap();
    assert_eq!(
        (page.items, page.total, page.next.as_deref()),
        (vec![listed.clone()], 2, Some("s-list"))
    );
    let page = s.list_segments(1, page.next).await.unwrap();
    assert_eq!((page.items, page.next), (vec![ruled.clone()], None));

    assert_eq!(
        scrm::segment_members(s, &ruled, now).await.unwrap(),
        ["u1", "u4"]
    );
    assert_eq!(
        scrm::segment_members(s, &listed, now).await.unwrap(),
        ["u2", "u3"]
    );
    for (segment, user, want) in [
        ("s-rule", "u1", true),
        ("s-rule", "u2", false),
        ("s-rule", "u4", true),
        ("s-rule", "ghost", false),
        ("s-list", "u2", true),
        ("s-list", "u1", false),
        ("s-none", "u1", false),
    ] {
        assert_eq!(
            scrm::in_segment(s, segment, user, now).await.unwrap(),
            want,
            "{segment} {user}"
        );
    }

    // Claims of `segment` audiences ask the same questions inside the claim's transaction.
    for (segment, yes, no) in [
        ("s-rule", ["u1", "u4"], ["u2", "ghost"]),
        ("s-list", ["u2", "u3"], ["u1", "u4"]),
    ] {
        let template = active_template(
            s,
            &format!("t-{segment}"),
            json!({"kind": "segment", "segment_id": segment}),
        )
        .await;
        for user in yes {
            let outcome = s.claim(claim(&template, user)).await.unwrap();
            assert!(
                matches!(outcome, ClaimOutcome::Claimed(_)),
                "{segment} {user}: {outcome:?}"
            );
        }
        for user in no {
            let outcome = s.claim(claim(&template, user)).await.unwrap();
            assert_eq!(
                outcome,
                ClaimOutcome::Refused(ErrorCode::NotInAudience),
                "{segment} {user}"
            );
        }
    }
    // Claims of one batch decided together (PostgreSQL batches claims of a template).
    let template = active_template(
        s,
        "t-batch",
        json!({"kind": "segment", "segment_id": "s-rule"}),
    )
    .await;
    let outcomes = concurrent_claims(&db.store, &template, &["u1", "u2", "u4", "ghost"]).await;
    let claimed: Vec<bool> = outcomes
        .iter()
        .map(|o| matches!(o, ClaimOutcome::Claimed(_)))
        .collect();
    assert_eq!(claimed, [true, false, true, false]);
}

async fn active_template(s: &dyn Store, id: &str, audience: serde_json::Value) -> String {
    active(
        s,
        id,
        json!({"name": "segment coupon", "audience": audience}),
    )
    .await
}

/// Submits claims at once (they may share a batch) and waits for all, in order.
async fn concurrent_claims(
    s: &Arc<dyn Store>,
    template: &str,
    users: &[&str],
) -> Vec<ClaimOutcome> {
    let pending: Vec<_> = users
        .iter()
        .map(|user| {
            let (s, cmd) = (s.clone(), claim(template, user));
            tokio::spawn(async move { s.claim(cmd).await })
        })
        .collect();
    let mut out = Vec::new();
    for p in pending {
        out.push(p.await.expect("claim task").unwrap());
    }
    out
}
