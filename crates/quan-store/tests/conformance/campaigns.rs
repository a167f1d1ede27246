//! Campaigns: entries written once per occurrence, trigger progress moved by one writer only,
//! the event inbox leased and settled, and treatment under the cap and the budget with grants
//! all or none.

use quan_core::campaign::decide::EntryStatus;
use quan_core::campaign::{CampaignAction, CampaignSpec, CampaignStatus};
use quan_store::on_both_backends;
use quan_store::scrm::EventRecord;
use quan_store::testing::Backend;
use quan_store::{NewCampaign, NewEntry, TriggerMove};
use serde_json::json;

use crate::common::*;

on_both_backends!(
    entries_are_written_once_per_occurrence,
    the_inbox_is_leased_and_settled,
    treatment_keeps_the_budget_and_packs_whole
);

fn spec(v: serde_json::Value) -> CampaignSpec {
    serde_json::from_value(v).unwrap()
}

fn entry(user: &str, occurrence: &str, held_out: bool) -> NewEntry {
    NewEntry {
        user_id: user.into(),
        occurrence: occurrence.into(),
        due_at: t0(),
        held_out,
        allocated: None,
    }
}

/// Creates and activates campaign `id` from its spec.
pub(crate) async fn campaign(s: &dyn quan_store::Store, id: &str, v: serde_json::Value) {
    s.insert_campaign(NewCampaign {
        id: id.into(),
        spec: spec(v),
        now: t0(),
    })
    .await
    .unwrap();
    s.set_campaign_status(id, CampaignAction::Activate, "test", t0())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

async fn entries_are_written_once_per_occurrence(backend: Backend) {
    let db = open(backend).await;
    let s = &*db.store;
    let t = active(s, "t1", json!({"distribution": ["campaign_only"]})).await;
    campaign(
        s,
        "c1",
        json!({"name": "c", "trigger": {"kind": "once"},
        "actions": [{"kind": "grant", "template_id": t}]}),
    )
    .await;
    let n = s
        .add_entries(
            "c1",
            vec![entry("a", "once", false), entry("b", "once", true)],
            None,
            t0(),
        )
        .await
        .unwrap();
    assert_eq!(n, Some(2));
    // Again, with one more: only the new one counts.
    let n = s
        .add_entries(
            "c1",
            vec![entry("a", "once", false), entry("c", "once", false)],
            None,
            t0(),
        )
        .await
        .unwrap();
    assert_eq!(n, Some(1));
    // The trigger moves from what was read, once.
    let moved = TriggerMove {
        from: None,
        to: Some(at(5)),
    };
    assert_eq!(
        s.add_entries("c1", vec![], Some(moved), t0())
            .await
            .unwrap(),
        Some(0)
    );
    assert_eq!(
        s.add_entries("c1", vec![entry("d", "once", false)], Some(moved), t0())
            .await
            .unwrap(),
        None
    );
    let c = s.campaign("c1").await.unwrap().unwrap();
    assert_eq!(
        (c.stats.entered, c.stats.held_out, c.stats.pending),
        (3, 1, 2)
    );
    assert_eq!(c.trigger_at, Some(at(5)));
    let page = s
        .campaign_entries("c1", Some(EntryStatus::HeldOut), 10, None)
        .await
        .unwrap();
    assert_eq!(
        page.items
            .iter()
            .map(|e| e.user_id.as_str())
            .collect::<Vec<_>>(),
        ["b"]
    );
    // Paused or ended, nothing enters.
    s.set_campaign_status("c1", CampaignAction::Pause, "test", t0())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        s.add_entries("c1", vec![entry("e", "once", false)], None, t0())
            .await
            .unwrap(),
        None
    );
    let ended = s
        .set_campaign_status("c1", CampaignAction::End, "operator", t0())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        (ended.status, ended.end_reason.as_deref()),
        (CampaignStatus::Ended, Some("operator"))
    );
    let page = s
        .campaign_entries("c1", Some(EntryStatus::Expired), 10, None)
        .await
        .unwrap();
    assert_eq!(
        page.total, 2,
        "pending entries expire when the campaign ends"
    );
    assert!(s
        .set_campaign_status("nope", CampaignAction::End, "x", t0())
        .await
        .unwrap()
        .is_none());
}

async fn the_inbox_is_leased_and_settled(backend: Backend) {
    let db = open(backend).await;
    let s = &*db.store;
    let t = active(s, "t1", json!({"distribution": ["campaign_only"]})).await;
    let ev = |id: &str, kind: &str| EventRecord {
        id: id.into(),
        user_id: "u1".into(),
        kind: kind.into(),
        at: t0(),
        store_id: None,
        order_id: None,
        data: json!({"x": 1}),
    };
    // Before any campaign waits for follows, a follow does not enter the inbox.
    s.put_events(vec![ev("e0", "follow")], t0()).await.unwrap();
    campaign(
        s,
        "c1",
        json!({"name": "c", "trigger": {"kind": "event", "event": "follow"},
        "actions": [{"kind": "grant", "template_id": t}]}),
    )
    .await;
    s.put_events(
        vec![ev("e1", "follow"), ev("e2", "visit"), ev("e1", "follow")],
        at(1),
    )
    .await
    .unwrap();
    let taken = s.take_inbox(at(2), at(100), 10).await.unwrap();
    assert_eq!(
        taken
            .iter()
            .map(|e| e.event_id.as_str())
            .collect::<Vec<_>>(),
        ["e1"]
    );
    assert_eq!(taken[0].data, json!({"x": 1}));
    assert!(
        s.take_inbox(at(3), at(100), 10).await.unwrap().is_empty(),
        "leased"
    );
    // The lease lapses: another worker takes it, and settles it.
    let again = s.take_inbox(at(101), at(200), 10).await.unwrap();
    assert_eq!(again.len(), 1);
    s.settle_inbox(
        vec!["e1".into()],
        vec![("c1".into(), entry("u1", "event:e1", false))],
        at(102),
    )
    .await
    .unwrap();
    assert!(s.take_inbox(at(300), at(400), 10).await.unwrap().is_empty());
    assert_eq!(s.campaign("c1").await.unwrap().unwrap().stats.entered, 1);
    let b = s.campaign_backlog(at(300)).await.unwrap();
    assert_eq!((b.due, b.inbox), (1, 0));
}

async fn treatment_keeps_the_budget_and_packs_whole(backend: Backend) {
    let db = open(backend).await;
    let s = &*db.store;
    let a = active(s, "ta", json!({"distribution": ["campaign_only"], "benefit": {"kind": "reduction", "threshold": 0, "off": 300}})).await;
    let b = active(
        s,
        "tb",
        json!({"distribution": ["campaign_only"], "stock": 2}),
    )
    .await;
    campaign(
        s,
        "c1",
        json!({"name": "pack", "trigger": {"kind": "once"}, "budget": {"count": 6},
        "actions": [{"kind": "grant_pack", "template_ids": [a, b]}]}),
    )
    .await;
    let users = ["u1", "u2", "u3", "u4", "u5"];
    let entries = users.iter().map(|u| entry(u, "once", false)).collect();
    s.add_entries("c1", entries, None, t0()).await.unwrap();
    let r = s.treat_due(at(1), "campaign").await.unwrap();
    // u1 and u2 get the pack; then tb is out of stock, so u3..u5 are refused and get nothing
    // of it (the budget of 6 coupons would have taken a third pack).
    assert_eq!((r.treated, r.refused), (2, 3), "{r:?}");
    assert_eq!(r.campaign_id.as_deref(), Some("c1"));
    assert_eq!(
        s.coupon_count(&a).await.unwrap(),
        2,
        "a refused pack grants nothing"
    );
    let c = s.campaign("c1").await.unwrap().unwrap();
    assert_eq!(
        (
            c.stats.treated,
            c.stats.granted,
            c.stats.spent,
            c.stats.pending
        ),
        (2, 4, 2 * (300 + 1000), 0)
    );
    assert_eq!(
        s.treat_due(at(2), "campaign").await.unwrap().entries(),
        0,
        "nothing left"
    );
    // A budget of one coupon: the first member is treated, the second is over budget and the
    // campaign ends.
    let more = vec![entry("v1", "once", false), entry("v2", "once", false)];
    let c2 = active(s, "tc", json!({"distribution": ["campaign_only"]})).await;
    campaign(
        s,
        "c2",
        json!({"name": "budget", "trigger": {"kind": "once"}, "budget": {"count": 1},
        "actions": [{"kind": "grant", "template_id": c2}]}),
    )
    .await;
    s.add_entries("c2", more, None, t0()).await.unwrap();
    let r = s.treat_due(at(3), "campaign").await.unwrap();
    assert_eq!((r.treated, r.over_budget), (1, 1), "{r:?}");
    let c = s.campaign("c2").await.unwrap().unwrap();
    assert_eq!(
        (c.status, c.end_reason.as_deref()),
        (CampaignStatus::Ended, Some("budget"))
    );
    let ledger = s
        .ledger(
            &s.wallet(quan_store::WalletQuery {
                user_id: "v1".into(),
                status: None,
                limit: 10,
                cursor: None,
                stores: None,
                now: at(3),
            })
            .await
            .unwrap()
            .items[0]
                .id,
        )
        .await
        .unwrap();
    assert_eq!(ledger[0].actor, "campaign:c2");
}
