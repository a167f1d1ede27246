//! Buying is not joining (article 004): an ingested order keeps its customer's history and RFM
//! but makes no member; putting a member or a `signup` does, keeping the history.

use quan_core::scrm::{History, RfmScore};
use quan_store::on_both_backends;
use quan_store::prelude::*;
use quan_store::scrm::{self, Aggregates, EventRecord, Written};
use quan_store::testing::Backend;
use quan_store::{ClaimCommand, ClaimOutcome};
use serde_json::json;

use crate::common::*;

on_both_backends!(buying_is_not_joining,);

/// The outcomes of `user`'s claims of each template, in order: `"ok"` or the refusal.
async fn claims(s: &dyn Store, templates: &[&str], user: &str) -> Vec<String> {
    let mut out = Vec::new();
    for t in templates {
        let cmd = ClaimCommand {
            now: t0(),
            ..claim(t, user)
        };
        out.push(match s.claim(cmd).await.unwrap() {
            ClaimOutcome::Claimed(_) => "ok".to_string(),
            ClaimOutcome::Refused(code) => code.as_str().to_string(),
            other => panic!("{user} {t}: {other:?}"),
        });
    }
    out
}

async fn buying_is_not_joining(backend: Backend) {
    let db = open(backend).await;
    let s = &*db.store;
    let now = t0();
    use Written::*;
    let members_only = active(s, "t-members", json!({"distribution": ["member_only"]})).await;
    let welcome = active(
        s,
        "t-welcome",
        json!({"audience": {"kind": "new_members", "within_days": 7}}),
    )
    .await;
    let returning = active(s, "t-back", json!({"audience": {"kind": "returning"}})).await;
    let all = [&*members_only, &*welcome, &*returning];

    // Two buyers known only from ingested orders.
    let orders = vec![
        order("b1", "bob", "completed", days_ago(10), &[("tea", 300)]),
        order("b2", "bob", "paid", days_ago(4), &[("tea", 200)]),
        order("c1", "cy", "completed", days_ago(20), &[("tea", 900)]),
    ];
    assert_eq!(
        s.put_orders(orders, now, Aggregates::Current)
            .await
            .unwrap(),
        [Inserted, Inserted, Inserted]
    );
    let run = scrm::recompute_rfm(s, now).await.unwrap();
    assert_eq!((run.scored, run.unscored), (2, 0));
    let bob = s.member("bob").await.unwrap().expect("bob has a row");
    assert!(!bob.is_member(), "buying is not joining");
    assert_eq!(bob.profile.joined_at, None);
    let bob_history = History {
        orders: 2,
        spent: 500,
        first: Some(days_ago(10)),
        last: Some(days_ago(4)),
        prev: Some(days_ago(10)),
    };
    assert_eq!(bob.history, bob_history);
    assert_ne!(bob.rfm, RfmScore::NONE, "a buyer is scored");
    assert_eq!(
        claims(s, &all, "bob").await,
        ["route_not_allowed", "not_in_audience", "ok"],
        "a buyer is no member, nor a new one; its orders still count"
    );
    assert_eq!(
        claims(s, &all, "nobody").await,
        ["route_not_allowed", "not_in_audience", "not_in_audience"]
    );
    let joined_lately = rule(json!({"kind": "joined_within", "days": 3650}));
    let buyers = rule(json!({"kind": "orders", "min": 1}));
    assert!(scrm::rule_members(s, &joined_lately, now)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        scrm::rule_members(s, &buyers, now).await.unwrap(),
        ["bob", "cy"],
        "rules still read a buyer's history"
    );
    // Another order of a buyer keeps it a buyer.
    let b3 = order("b3", "bob", "paid", days_ago(3), &[("cup", 100)]);
    s.put_orders(vec![b3], now, Aggregates::Current)
        .await
        .unwrap();
    assert_eq!(
        s.member("bob").await.unwrap().unwrap().profile.joined_at,
        None
    );

    // A signup makes bob a member, joined at the event's time, with its history.
    let signup = EventRecord {
        id: "e1".into(),
        user_id: "bob".into(),
        kind: "signup".into(),
        at: days_ago(2),
        store_id: None,
        order_id: None,
        data: json!({}),
    };
    assert_eq!(s.put_events(vec![signup], now).await.unwrap(), [Inserted]);
    let bob = s.member("bob").await.unwrap().unwrap();
    assert_eq!(
        (bob.is_member(), bob.profile.joined_at, bob.history.orders),
        (true, Some(days_ago(2)), 3)
    );
    assert_eq!(claims(s, &all[..2], "bob").await, ["ok", "ok"]);

    // Putting cy as a member is a new member (`Inserted`) that keeps its history and scores.
    let cy_before = s.member("cy").await.unwrap().unwrap();
    assert_eq!(
        s.put_members(vec![profile("cy", days_ago(1), &["tea"])], now)
            .await
            .unwrap(),
        [Inserted]
    );
    let cy = s.member("cy").await.unwrap().unwrap();
    assert_eq!(cy.profile.joined_at, Some(days_ago(1)));
    assert_eq!((cy.history, cy.rfm), (cy_before.history, cy_before.rfm));
    assert_eq!(claims(s, &all[..2], "cy").await, ["ok", "ok"]);
    assert_eq!(
        scrm::rule_members(s, &joined_lately, now).await.unwrap(),
        ["bob", "cy"]
    );
    // A later order or signup leaves a member's join time.
    let c2 = order("c2", "cy", "paid", days_ago(0), &[("tea", 100)]);
    s.put_orders(vec![c2], now, Aggregates::Current)
        .await
        .unwrap();
    let late = EventRecord {
        id: "e2".into(),
        user_id: "cy".into(),
        kind: "signup".into(),
        at: now,
        store_id: None,
        order_id: None,
        data: json!({}),
    };
    s.put_events(vec![late], now).await.unwrap();
    let cy = s.member("cy").await.unwrap().unwrap();
    assert_eq!(
        (cy.profile.joined_at, cy.history.orders),
        (Some(days_ago(1)), 2)
    );
}
