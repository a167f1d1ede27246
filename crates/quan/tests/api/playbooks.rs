//! Every playbook of examples/campaigns, end to end on both backends with an injected clock:
//! the right members get the right reward at the right time, nobody else does, and held-out
//! members never do.

use crate::common;

use common::campaign::*;
use common::{Backend, TestApp};
use serde_json::json;

/// The campaign ids of an applied playbook, in file order.
fn ids(p: &quan_app::playbooks::PlaybookApplied) -> Vec<String> {
    p.campaigns.iter().map(|c| c.id.clone()).collect()
}

async fn welcome_pack(backend: Backend) {
    let t = TestApp::start(backend).await;
    let p = playbook(&t, "welcome-pack.json").await;
    let cid = &ids(&p)[0];
    let mut pack: Vec<String> = p.templates.values().cloned().collect();
    pack.sort();
    assert!(
        p.campaigns[0].warnings.is_empty(),
        "{:?}",
        p.campaigns[0].warnings
    );
    // A buyer who never signs up gets nothing.
    order(
        &t,
        "o-buyer",
        "buyer",
        "2026-03-01T10:00:00Z",
        "fresh",
        5000,
    )
    .await;
    let users: Vec<String> = (0..30).map(|i| format!("new{i:02}")).collect();
    for u in &users {
        event(&t, &format!("signup-{u}"), u, "signup", json!({})).await;
    }
    settle(&t).await;
    let mut treated = 0;
    for u in &users {
        let wallet = wallet(&t, u).await;
        if held(cid, u, 1000) {
            assert!(wallet.is_empty(), "held-out {u} got {wallet:?}");
        } else {
            assert_eq!(wallet, pack, "{u} gets the whole pack");
            treated += 1;
        }
    }
    assert!(treated > 0);
    assert!(wallet(&t, "buyer").await.is_empty());
    // The same signup again, and another signup event of a member: nothing more.
    event(&t, "signup-new00", "new00", "signup", json!({})).await;
    event(&t, "signup-again-new01", "new01", "signup", json!({})).await;
    settle(&t).await;
    let c = campaign(&t, cid).await;
    assert_eq!(c["stats"]["treated"], treated);
    // new01's second signup is another entry: held out again if new01 is held out.
    let again = usize::from(held(cid, "new01", 1000));
    assert_eq!(c["stats"]["held_out"], 30 - treated + again);
    assert_eq!(c["stats"]["granted"], treated * 4);
    assert_eq!(c["stats"]["spent"], treated * (2000 + 1000 + 800 + 1500));
    assert_eq!(
        wallet(&t, "new01").await.len(),
        if held(cid, "new01", 1000) { 0 } else { 4 }
    );
    let second = entries(&t, cid).await;
    let mut statuses: Vec<&str> = second
        .iter()
        .filter(|(u, _)| u == "new01")
        .map(|(_, s)| s.as_str())
        .collect();
    statuses.sort();
    if !held(cid, "new01", 1000) {
        assert_eq!(statuses, ["capped", "treated"], "the frequency cap holds");
    }
}
both!(welcome_pack);

async fn new_customer_24h(backend: Backend) {
    let t = TestApp::start(backend).await;
    // Joined two days before the campaign: not newly inactive, not entered.
    member(&t, "old", json!({"joined_at": "2026-02-28T00:00:00Z"})).await;
    let p = playbook(&t, "new-customer-24h.json").await;
    let (cid, nudge) = (&ids(&p)[0], &p.templates["nudge_30"]);
    let users: Vec<String> = (0..20).map(|i| format!("n{i:02}")).collect();
    for u in &users {
        event(&t, &format!("su-{u}"), u, "signup", json!({})).await;
    }
    // n03 orders two hours after joining.
    t.set_now("2026-03-02T04:00:00Z").await;
    order(&t, "o-n03", "n03", "2026-03-02T04:00:00Z", "fresh", 3000).await;
    t.set_now("2026-03-03T01:00:00Z").await; // 23 hours after joining
    settle(&t).await;
    for u in &users {
        assert!(wallet(&t, u).await.is_empty(), "{u} too early");
    }
    t.set_now("2026-03-03T03:00:00Z").await; // 25 hours
    settle(&t).await;
    for u in &users {
        let want = if u == "n03" || held(cid, u, 1000) {
            vec![]
        } else {
            vec![nudge.clone()]
        };
        assert_eq!(wallet(&t, u).await, want, "{u}");
    }
    assert!(wallet(&t, "old").await.is_empty());
    // A later scan grants nobody twice.
    t.set_now("2026-03-04T03:00:00Z").await;
    settle(&t).await;
    let c = campaign(&t, cid).await;
    let treated = users
        .iter()
        .filter(|u| *u != "n03" && !held(cid, u, 1000))
        .count();
    assert_eq!(c["stats"]["treated"], treated);
}
both!(new_customer_24h);

async fn first_order_gift_then_threshold(backend: Backend) {
    let t = TestApp::start(backend).await;
    let p = playbook(&t, "first-order-gift-then-threshold.json").await;
    let (gift, threshold) = (&p.templates["store_gift"], &p.templates["second_visit_15"]);
    member(&t, "m1", json!({"joined_at": "2026-01-01T00:00:00Z"})).await;
    member(&t, "m2", json!({"joined_at": "2026-01-01T00:00:00Z"})).await;
    order(&t, "m2-a", "m2", "2026-02-01T02:00:00Z", "fresh", 3000).await;
    // m1's first order, m2's second.
    order(&t, "m1-a", "m1", "2026-03-02T02:00:00Z", "fresh", 3000).await;
    order(&t, "m2-b", "m2", "2026-03-02T02:00:00Z", "fresh", 3000).await;
    event(&t, "paid-m1-a", "m1", "order_paid", json!({})).await;
    event(&t, "paid-m2-b", "m2", "order_paid", json!({})).await;
    settle(&t).await;
    assert_eq!(wallet(&t, "m1").await, vec![gift.clone()]);
    assert!(wallet(&t, "m2").await.is_empty(), "not a first order");
    t.set_now("2026-03-05T01:59:00Z").await; // 71:59 later
    settle(&t).await;
    assert_eq!(wallet(&t, "m1").await, vec![gift.clone()]);
    t.set_now("2026-03-05T02:00:00Z").await; // 72 hours
    settle(&t).await;
    let mut want = vec![gift.clone(), threshold.clone()];
    want.sort();
    assert_eq!(wallet(&t, "m1").await, want);
    assert!(wallet(&t, "m2").await.is_empty());
}
both!(first_order_gift_then_threshold);

async fn repurchase_after_delivery(backend: Backend) {
    let t = TestApp::start(backend).await;
    let p = playbook(&t, "repurchase-after-delivery.json").await;
    let dairy = &p.templates["dairy_again"];
    for u in ["d1", "d2", "n1"] {
        member(&t, u, json!({"joined_at": "2026-01-01T00:00:00Z"})).await;
    }
    order(&t, "d1-a", "d1", "2026-03-01T02:00:00Z", "dairy", 2500).await;
    order(&t, "d2-a", "d2", "2026-03-01T02:00:00Z", "dairy", 2500).await;
    order(&t, "n1-a", "n1", "2026-03-01T02:00:00Z", "snacks", 2500).await;
    event(&t, "conf-d1", "d1", "order_confirmed", json!({})).await;
    event(&t, "conf-n1", "n1", "order_confirmed", json!({})).await;
    event(&t, "ship-d1", "d1", "order_shipped", json!({})).await;
    event(&t, "ship-d2", "d2", "order_shipped", json!({})).await;
    settle(&t).await;
    assert_eq!(wallet(&t, "d1").await, vec![dairy.clone()], "confirmed");
    assert!(
        wallet(&t, "d2").await.is_empty(),
        "shipped, not yet seven days"
    );
    assert!(wallet(&t, "n1").await.is_empty(), "no dairy bought");
    t.set_now("2026-03-09T02:00:00Z").await; // seven days after shipping
    settle(&t).await;
    assert_eq!(wallet(&t, "d2").await, vec![dairy.clone()]);
    // d1 was treated by the confirmation campaign; the shipping one treats it once too.
    assert_eq!(wallet(&t, "d1").await.len(), 2);
    assert!(wallet(&t, "n1").await.is_empty());
}
both!(repurchase_after_delivery);

async fn tier_maintenance_tasks(backend: Backend) {
    let t = TestApp::start(backend).await;
    member(
        &t,
        "g1",
        json!({"joined_at": "2026-01-01T00:00:00Z", "tier": "gold", "guide_id": "guide-a"}),
    )
    .await;
    member(
        &t,
        "p1",
        json!({"joined_at": "2026-01-01T00:00:00Z", "tier": "platinum", "guide_id": "guide-b"}),
    )
    .await;
    member(
        &t,
        "s1",
        json!({"joined_at": "2026-01-01T00:00:00Z", "tier": "silver", "guide_id": "guide-a"}),
    )
    .await;
    let p = playbook(&t, "tier-maintenance-tasks.json").await;
    let cid = &ids(&p)[0];
    settle(&t).await; // Monday 10:00: the first tick is next Monday 09:00
    let c = campaign(&t, cid).await;
    assert_eq!(c["trigger_at"], "2026-03-09T01:00:00Z");
    assert_eq!(c["stats"]["entered"], 0);
    t.set_now("2026-03-09T01:00:30Z").await;
    settle(&t).await;
    let mut got = entries(&t, cid).await;
    got.sort();
    assert_eq!(
        got,
        [
            ("g1".to_string(), "treated".to_string()),
            ("p1".into(), "treated".into())
        ]
    );
    // A task grants nothing by itself: the guide grants the coupon.
    assert!(wallet(&t, "g1").await.is_empty());
    let c = campaign(&t, cid).await;
    assert_eq!(c["trigger_at"], "2026-03-16T01:00:00Z");
    // The next Monday: one more task each.
    t.set_now("2026-03-16T01:05:00Z").await;
    settle(&t).await;
    assert_eq!(campaign(&t, cid).await["stats"]["treated"], 4);
}
both!(tier_maintenance_tasks);

async fn win_back_7_days(backend: Backend) {
    let t = TestApp::start(backend).await;
    for u in ["w1", "w2", "w3"] {
        member(&t, u, json!({"joined_at": "2026-01-01T00:00:00Z"})).await;
    }
    let p = playbook(&t, "win-back-7-days.json").await;
    let (cid, snacks) = (&ids(&p)[0], &p.templates["snacks_back"]);
    order(&t, "w1-a", "w1", "2026-03-02T02:00:00Z", "snacks", 2000).await;
    order(&t, "w2-a", "w2", "2026-03-02T02:00:00Z", "snacks", 2000).await;
    order(&t, "w3-a", "w3", "2026-03-02T02:00:00Z", "dairy", 2000).await;
    t.set_now("2026-03-05T02:00:00Z").await;
    order(&t, "w2-b", "w2", "2026-03-05T02:00:00Z", "snacks", 2000).await;
    t.set_now("2026-03-09T03:00:00Z").await; // w1: 7 days and an hour; w2: 4 days
    settle(&t).await;
    let w1 = if held(cid, "w1", 1000) {
        vec![]
    } else {
        vec![snacks.clone()]
    };
    assert_eq!(wallet(&t, "w1").await, w1);
    assert!(wallet(&t, "w2").await.is_empty());
    t.set_now("2026-03-12T03:00:00Z").await; // w2: 7 days and an hour
    settle(&t).await;
    let w2 = if held(cid, "w2", 1000) {
        vec![]
    } else {
        vec![snacks.clone()]
    };
    assert_eq!(wallet(&t, "w2").await, w2);
    assert_eq!(wallet(&t, "w1").await, w1, "once per lapse");
    assert!(wallet(&t, "w3").await.is_empty(), "never bought snacks");
    // The SMS waits in the outbox (no webhook is set) for the treated members only.
    let (st, b) = t.get("/v1/outbox?status=pending").await;
    assert_eq!(st, 200, "{b}");
    let mut texted: Vec<&str> = b["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["user_id"].as_str().unwrap())
        .collect();
    texted.sort();
    let want: Vec<&str> = ["w1", "w2"]
        .into_iter()
        .filter(|u| !held(cid, u, 1000))
        .collect();
    assert_eq!(texted, want);
    assert!(b["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["channel"] == "sms"));
}
both!(win_back_7_days);

async fn follow_store(backend: Backend) {
    let t = TestApp::start(backend).await;
    let p = playbook(&t, "follow-store.json").await;
    let (cid, coupon) = (&ids(&p)[0], &p.templates["follow_5"]);
    event(&t, "f1-a", "f1", "follow", json!({})).await;
    event(&t, "f1-b", "f1", "follow", json!({})).await; // unfollowed and followed again
    event(&t, "f2-a", "f2", "follow", json!({})).await;
    event(&t, "v1", "f3", "visit", json!({})).await;
    settle(&t).await;
    assert_eq!(wallet(&t, "f1").await, vec![coupon.clone()]);
    assert_eq!(wallet(&t, "f2").await, vec![coupon.clone()]);
    assert!(wallet(&t, "f3").await.is_empty());
    let mut got = entries(&t, cid).await;
    got.sort();
    let f1: Vec<&str> = got
        .iter()
        .filter(|(u, _)| u == "f1")
        .map(|(_, s)| s.as_str())
        .collect();
    let mut f1 = f1;
    f1.sort();
    assert_eq!(f1, ["capped", "treated"]);
}
both!(follow_store);

async fn group_buy(backend: Backend) {
    let t = TestApp::start(backend).await;
    let p = playbook(&t, "group-buy.json").await;
    let coupon = &p.templates["group_10"];
    for u in ["a", "b", "c"] {
        event(
            &t,
            &format!("g7-{u}"),
            u,
            "order_paid",
            json!({"group": "completed", "group_id": "g7"}),
        )
        .await;
    }
    event(&t, "solo-d", "d", "order_paid", json!({})).await;
    event(&t, "open-e", "e", "order_paid", json!({"group": "open"})).await;
    settle(&t).await;
    for u in ["a", "b", "c"] {
        assert_eq!(wallet(&t, u).await, vec![coupon.clone()], "{u}");
    }
    for u in ["d", "e"] {
        assert!(wallet(&t, u).await.is_empty(), "{u}");
    }
}
both!(group_buy);

async fn thursday_slow_day(backend: Backend) {
    let t = TestApp::start(backend).await;
    let users: Vec<String> = (0..20).map(|i| format!("t{i:02}")).collect();
    for u in &users {
        member(&t, u, json!({"joined_at": "2026-01-01T00:00:00Z"})).await;
    }
    let p = playbook(&t, "thursday-slow-day.json").await;
    let (cid, coupon) = (&ids(&p)[0], &p.templates["thursday_8"]);
    settle(&t).await;
    t.set_now("2026-03-05T01:59:00Z").await; // Thursday 09:59 local
    settle(&t).await;
    assert!(wallet(&t, "t00").await.is_empty());
    t.set_now("2026-03-05T02:00:00Z").await; // Thursday 10:00
    settle(&t).await;
    t.set_now("2026-03-05T03:00:00Z").await; // an hour later: the same tick, nothing more
    settle(&t).await;
    for u in &users {
        let n = if held(cid, u, 500) { 0 } else { 1 };
        let w = wallet(&t, u).await;
        assert_eq!(w.len(), n, "{u}");
        assert!(w.iter().all(|id| id == coupon));
    }
    t.set_now("2026-03-12T02:00:01Z").await; // the next Thursday
    settle(&t).await;
    for u in &users {
        let n = if held(cid, u, 500) { 0 } else { 2 };
        assert_eq!(wallet(&t, u).await.len(), n, "{u}");
    }
}
both!(thursday_slow_day);

async fn member_exclusive_link(backend: Backend) {
    let t = TestApp::start(backend).await;
    member(
        &t,
        "vip",
        json!({"joined_at": "2026-01-01T00:00:00Z", "tier": "gold"}),
    )
    .await;
    member(
        &t,
        "plain",
        json!({"joined_at": "2026-01-01T00:00:00Z", "tier": "silver"}),
    )
    .await;
    let p = playbook(&t, "member-exclusive-link.json").await;
    let cid = &ids(&p)[0];
    settle(&t).await;
    assert_eq!(
        entries(&t, cid).await,
        [("vip".to_string(), "treated".to_string())]
    );
    // The coupon is only claimable with the link the message carries.
    assert!(wallet(&t, "vip").await.is_empty());
    let (st, b) = t
        .claim(&p.templates["vip_hidden_50"], json!({"user_id": "vip"}))
        .await;
    assert_eq!((st, common::code(&b)), (409, "needs_link"));
    // `once` fires once.
    t.set_now("2026-03-09T02:00:00Z").await;
    settle(&t).await;
    assert_eq!(campaign(&t, cid).await["stats"]["entered"], 1);
}
both!(member_exclusive_link);

/// Smart issuance: lapsed members are allocated one of three depths (with no history to learn
/// from, the same chance of use for each, so the cheapest earns the most per cost); active
/// members are not in the audience; held-out ones get nothing; the treated get the SMS.
async fn smart_allocation(backend: Backend) {
    let t = TestApp::start(backend).await;
    let lapsed = ["l1", "l2", "l3", "l4", "l5", "l6"];
    for u in lapsed.iter().chain(&["a1"]) {
        member(&t, u, json!({"joined_at": "2025-01-01T00:00:00Z"})).await;
    }
    for u in lapsed {
        order(
            &t,
            &format!("{u}-o"),
            u,
            "2025-06-01T02:00:00Z",
            "snacks",
            20_000,
        )
        .await;
    }
    order(&t, "a1-o", "a1", "2026-03-01T02:00:00Z", "snacks", 20_000).await;
    let p = playbook(&t, "smart-allocation.json").await;
    let cid = &ids(&p)[0];
    settle(&t).await;
    let cheapest = &p.templates["winback_10"];
    let mut treated = Vec::new();
    for u in lapsed {
        let want = if held(cid, u, 1000) {
            vec![]
        } else {
            treated.push(u);
            vec![cheapest.clone()]
        };
        assert_eq!(wallet(&t, u).await, want, "{u}");
    }
    assert!(wallet(&t, "a1").await.is_empty(), "an active member");
    let c = campaign(&t, cid).await;
    assert_eq!(
        c["allocation"]["chosen"].as_u64(),
        Some(treated.len() as u64),
        "{c}"
    );
    assert_eq!(c["stats"]["entered"].as_u64(), Some(6), "{c}");
    assert_eq!(texted(&t).await, treated);
}
both!(smart_allocation);
