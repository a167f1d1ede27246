//! The global holdout on both backends: members it keeps out enter no campaign (an audience's,
//! or an event's), and the programme's review compares everyone else with them over a window,
//! against a count made here from the orders the test wrote.

use crate::common;

use std::collections::BTreeSet;

use common::campaign::*;
use common::{field, template, Backend, TestApp};
use serde_json::json;

async fn the_global_holdout_enters_nothing_and_measures_the_programme(backend: Backend) {
    let t = TestApp::start(backend).await;
    let (st, b) = t
        .call(
            "PUT",
            "/v1/programme",
            Some(common::ADMIN),
            Some(json!({"global_holdout_bp": 6000})),
            &[],
        )
        .await;
    assert_eq!((st, field(&b)), (422, "global_holdout_bp"), "{b}");
    let (st, b) = t
        .call(
            "PUT",
            "/v1/programme",
            Some(common::ADMIN),
            Some(json!({"global_holdout_bp": 5000})),
            &[],
        )
        .await;
    assert_eq!(st, 200, "{b}");
    let tpl = t
        .active(template(json!({"distribution": ["campaign_only"]})))
        .await;
    let members: Vec<String> = (0..40).map(|i| format!("g{i:02}")).collect();
    for m in &members {
        member(&t, m, json!({"joined_at": "2026-01-01T00:00:00Z"})).await;
    }
    let id = run_campaign(
        &t,
        json!({"name": "everyone", "trigger": {"kind": "once"},
            "actions": [{"kind": "grant", "template_id": tpl}]}),
    )
    .await;
    let entered: BTreeSet<String> = entries(&t, &id).await.into_iter().map(|(u, _)| u).collect();
    let kept: Vec<&String> = members.iter().filter(|m| !entered.contains(*m)).collect();
    assert!(
        !kept.is_empty() && !entered.is_empty(),
        "a half held out of 40: {} entered",
        entered.len()
    );
    for m in &kept {
        assert!(wallet(&t, m).await.is_empty(), "{m} got a coupon");
    }

    // An event campaign: the kept-out member's signup enters nothing, another's enters.
    let ev = run_campaign(
        &t,
        json!({"name": "on signup", "trigger": {"kind": "event", "event": "signup"},
            "actions": [{"kind": "grant", "template_id": tpl}]}),
    )
    .await;
    let inside = entered.iter().next().unwrap().clone();
    event(&t, "s1", kept[0], "signup", json!({})).await;
    event(&t, "s2", &inside, "signup", json!({})).await;
    settle(&t).await;
    let on_signup: Vec<String> = entries(&t, &ev).await.into_iter().map(|(u, _)| u).collect();
    assert_eq!(on_signup, vec![inside.clone()]);

    // Orders in the 30 days before now (2026-03-02 02:00) and in the 30 before those.
    let mut expect = [(0i64, 0i64, 0i64); 2]; // [treated, control]: members, converted, revenue
    for (i, m) in members.iter().enumerate() {
        let arm = usize::from(!entered.contains(m));
        expect[arm].0 += 1;
        if i % 3 == 0 {
            order(
                &t,
                &format!("in-{i}"),
                m,
                "2026-02-20T00:00:00Z",
                "tea",
                1_000 + i as i64,
            )
            .await;
            expect[arm].1 += 1;
            expect[arm].2 += 1_000 + i as i64;
        }
        if i % 4 == 0 {
            order(
                &t,
                &format!("pre-{i}"),
                m,
                "2026-01-10T00:00:00Z",
                "tea",
                700,
            )
            .await;
        }
    }
    let (st, r) = t.get("/v1/programme/review?days=30").await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["global_holdout_bp"], 5000);
    let h = &r["incrementality"];
    for (arm, name) in [(0, "treated"), (1, "control")] {
        assert_eq!(
            (
                &h[name]["members"],
                &h[name]["converted"],
                &h[name]["revenue"]
            ),
            (
                &json!(expect[arm].0),
                &json!(expect[arm].1),
                &json!(expect[arm].2)
            ),
            "{name}: {h}"
        );
    }
    let (st, b) = t.get("/v1/programme/review?days=0").await;
    assert_eq!((st, field(&b)), (422, "days"), "{b}");
}
both!(the_global_holdout_enters_nothing_and_measures_the_programme);
