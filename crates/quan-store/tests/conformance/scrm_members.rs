//! Members, stores, events and RFM scores.

use std::collections::HashMap;

use jiff::SignedDuration;
use quan_core::scrm::{History, RfmScore, RfmTier};
use quan_store::on_both_backends;
use quan_store::scrm::{self, Aggregates, EventRecord, MemberProfile, StoreRecord, Written};
use quan_store::testing::Backend;
use serde_json::json;

use crate::common::*;

on_both_backends!(
    members_and_stores_are_idempotent,
    rfm_full_and_incremental,
    events_create_and_update_members,
);

async fn members_and_stores_are_idempotent(backend: Backend) {
    let db = open(backend).await;
    let s = &*db.store;
    use Written::*;

    let p = MemberProfile {
        id: "m1".into(),
        joined_at: Some(days_ago(100)),
        tier: Some("gold".into()),
        region: Some("east".into()),
        channel: Some("wechat".into()),
        guide_id: Some("g1".into()),
        points: 10,
        tags: vec!["vip".into(), "tea".into()],
        attributes: json!({"age": 30, "nested": {"a": [1, 2.5, null]}}),
    };
    assert_eq!(
        s.put_members(vec![p.clone()], days_ago(3)).await.unwrap(),
        [Inserted]
    );
    assert_eq!(
        s.put_members(vec![p.clone()], days_ago(2)).await.unwrap(),
        [Unchanged]
    );
    let m = s.member("m1").await.unwrap().expect("m1");
    assert_eq!(
        (&m.profile, m.updated_at),
        (&p, days_ago(3)),
        "an unchanged write leaves updated_at"
    );
    let p2 = MemberProfile {
        points: 20,
        ..p.clone()
    };
    let put = s
        .put_members(
            vec![
                p2.clone(),
                profile("m3", days_ago(1), &[]),
                profile("m2", days_ago(1), &[]),
            ],
            days_ago(1),
        )
        .await
        .unwrap();
    assert_eq!(put, [Updated, Inserted, Inserted]);
    let m = s.member("m1").await.unwrap().expect("m1");
    assert_eq!((&m.profile, m.updated_at), (&p2, days_ago(1)));
    assert_eq!(
        (m.history, m.rfm, m.rfm_at),
        (History::default(), RfmScore::NONE, None)
    );
    assert!(s.member("m9").await.unwrap().is_none());
    let page = s.list_members(None, 2, None).await.unwrap();
    let got: Vec<&str> = page.items.iter().map(|m| m.profile.id.as_str()).collect();
    assert_eq!(
        (got, page.total, page.next.as_deref()),
        (vec!["m1", "m2"], 3, Some("m2"))
    );
    let page = s.list_members(None, 2, page.next).await.unwrap();
    assert_eq!((page.items.len(), page.next), (1, None));
    let all: Vec<String> = s
        .all_members()
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.profile.id)
        .collect();
    assert_eq!(all, ["m1", "m2", "m3"]);

    let store = StoreRecord {
        id: "s1".into(),
        name: Some("Main St".into()),
        region: Some("east".into()),
        attributes: json!({"open": "9-21"}),
        updated_at: days_ago(2),
    };
    assert_eq!(s.put_stores(vec![store.clone()]).await.unwrap(), [Inserted]);
    let again = StoreRecord {
        updated_at: days_ago(1),
        ..store.clone()
    };
    assert_eq!(s.put_stores(vec![again]).await.unwrap(), [Unchanged]);
    let moved = StoreRecord {
        region: Some("west".into()),
        updated_at: days_ago(1),
        ..store.clone()
    };
    assert_eq!(s.put_stores(vec![moved.clone()]).await.unwrap(), [Updated]);
    assert_eq!(s.store_record("s1").await.unwrap(), Some(moved));
    let page = s.list_stores(10, None).await.unwrap();
    assert_eq!((page.items.len(), page.total, page.next), (1, 1, None));

    assert_eq!(s.setting("x").await.unwrap(), None);
    s.put_setting("x", "1".into()).await.unwrap();
    s.put_setting("x", "2".into()).await.unwrap();
    assert_eq!(s.setting("x").await.unwrap().as_deref(), Some("2"));
}

async fn rfm_full_and_incremental(backend: Backend) {
    let db = open(backend).await;
    let s = &*db.store;
    let now = t0();
    // a < b < c < d < e in recency, frequency and money alike: one member per quintile.
    let plan: [(&str, &[i64], i64); 6] = [
        ("a", &[100], 100),
        ("b", &[50, 60], 200),
        ("c", &[10, 20, 30], 300),
        ("d", &[4, 6, 8, 9], 1000),
        ("e", &[1, 2, 3, 5, 7], 2000),
        ("f", &[400], 5000), // outside the 365-day window
    ];
    let mut orders = Vec::new();
    for (user, days, amount) in plan {
        for d in days {
            orders.push(order(
                &format!("{user}-{d}"),
                user,
                "completed",
                days_ago(*d),
                &[("tea", amount)],
            ));
        }
    }
    s.put_orders(orders, now, Aggregates::Current)
        .await
        .unwrap();
    s.put_members(vec![profile("g", days_ago(500), &[])], now)
        .await
        .unwrap();

    let config = scrm::rfm_config(s).await.unwrap();
    let inputs = s.rfm_inputs(config.window_start(now), now).await.unwrap();
    let by_id: HashMap<&str, _> = inputs.iter().map(|i| (i.member_id.as_str(), i)).collect();
    assert_eq!(by_id.len(), 5, "f's order is out of the window, g has none");
    let e = by_id["e"];
    assert_eq!(
        (e.last, e.frequency, e.monetary),
        (days_ago(1).as_microsecond(), 5, 10000)
    );

    let run = scrm::recompute_rfm(s, now).await.unwrap();
    assert_eq!((run.scored, run.unscored), (5, 2));
    let tiers: HashMap<&str, usize> = run.tiers.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(
        tiers,
        HashMap::from([("S", 1), ("A", 1), ("B", 1), ("C", 2)])
    );
    let score = |r, f, m, tier| RfmScore { r, f, m, tier };
    for (id, want) in [
        ("a", score(1, 1, 1, RfmTier::C)),
        ("b", score(2, 2, 2, RfmTier::C)),
        ("c", score(3, 3, 3, RfmTier::B)),
        ("d", score(4, 4, 4, RfmTier::A)),
        ("e", score(5, 5, 5, RfmTier::S)),
        ("f", RfmScore::NONE),
        ("g", RfmScore::NONE),
    ] {
        let m = s.member(id).await.unwrap().unwrap();
        assert_eq!((m.rfm, m.rfm_at), (want, Some(now)), "{id}");
    }
    assert!(s.setting(scrm::RFM_CUTS_SETTING).await.unwrap().is_some());

    // A new order rescores its member against the cuts at once.
    let later = now.checked_add(SignedDuration::from_hours(1)).unwrap();
    let fresh = order("f-new", "f", "paid", now, &[("tea", 50000)]);
    s.put_orders(vec![fresh], later, Aggregates::Current)
        .await
        .unwrap();
    let f = s.member("f").await.unwrap().unwrap();
    assert_eq!((f.rfm, f.rfm_at), (score(5, 1, 5, RfmTier::A), Some(later)));
    let e = s.member("e").await.unwrap().unwrap();
    assert_eq!(
        (e.rfm, e.rfm_at),
        (score(5, 5, 5, RfmTier::S), Some(now)),
        "others keep their scores"
    );
}

async fn events_create_and_update_members(backend: Backend) {
    let db = open(backend).await;
    let s = &*db.store;
    let now = t0();
    use Written::*;
    let event = |id: &str, user: &str, kind: &str, at, data| EventRecord {
        id: id.into(),
        user_id: user.into(),
        kind: kind.into(),
        at,
        store_id: Some("s1".into()),
        order_id: None,
        data,
    };
    let signup = event("e1", "new1", "signup", days_ago(3), json!({"source": "qr"}));
    assert!(s.member("new1").await.unwrap().is_none());
    assert_eq!(
        s.put_events(vec![signup.clone()], now).await.unwrap(),
        [Inserted]
    );
    let m = s
        .member("new1")
        .await
        .unwrap()
        .expect("signup creates the member");
    assert_eq!(
        (m.profile.joined_at, m.profile.tier),
        (Some(days_ago(3)), None)
    );
    assert_eq!(
        s.put_events(vec![signup.clone()], now).await.unwrap(),
        [Unchanged]
    );
    let other = EventRecord {
        data: json!({"source": "link"}),
        ..signup
    };
    assert_eq!(s.put_events(vec![other], now).await.unwrap(), [Conflict]);

    let tier = event(
        "e2",
        "new1",
        "tier_changed",
        days_ago(2),
        json!({"tier": "gold"}),
    );
    let visit = event("e3", "new1", "visit", days_ago(1), json!({}));
    assert_eq!(
        s.put_events(vec![tier, visit], now).await.unwrap(),
        [Inserted, Inserted]
    );
    assert_eq!(
        s.member("new1")
            .await
            .unwrap()
            .unwrap()
            .profile
            .tier
            .as_deref(),
        Some("gold")
    );

    // A signup of a known member leaves it as it is.
    s.put_members(vec![profile("old", days_ago(100), &[])], now)
        .await
        .unwrap();
    let late = event("e4", "old", "signup", days_ago(1), json!({}));
    assert_eq!(s.put_events(vec![late], now).await.unwrap(), [Inserted]);
    assert_eq!(
        s.member("old").await.unwrap().unwrap().profile.joined_at,
        Some(days_ago(100))
    );

    let page = s.list_events("new1", 2, None).await.unwrap();
    let got: Vec<&str> = page.items.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(
        (got, page.total, page.next.as_deref()),
        (vec!["e1", "e2"], 3, Some("e2"))
    );
    assert_eq!(page.items[0].data, json!({"source": "qr"}));
    let page = s.list_events("new1", 2, page.next).await.unwrap();
    let got: Vec<&str> = page.items.iter().map(|e| e.id.as_str()).collect();
    assert_eq!((got, page.next), (vec!["e3"], None));
}
