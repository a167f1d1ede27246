//! The campaign action `allocate` on both backends: refusals, an allocation from smoothed
//! rates that gives the budget to the members it makes a difference for, and one from a model
//! trained on how the tenant's coupons ended.

use std::collections::HashMap;

use crate::common;
use common::campaign::*;
use common::{code, field, Backend, TestApp};
use jiff::{SignedDuration, Timestamp};

const SALE: quan_store::CounterSale = quan_store::CounterSale {
    discount: 500,
    payable: 9_500,
};
use quan_store::{ClaimCommand, ClaimOutcome, ClaimRoute};
use serde_json::{json, Value};

async fn coupon_template(t: &TestApp, off: i64, distribution: &str) -> String {
    t.active(json!({"distribution": [distribution],
        "benefit": {"kind": "reduction", "threshold": 0, "off": off}}))
        .await
}

async fn refused(t: &TestApp, body: Value) -> (u16, String, String) {
    let (st, b) = t.post("/v1/campaigns", body).await;
    (st, code(&b).to_string(), field(&b).to_string())
}

/// Every refusal names its field, and nothing is created.
async fn allocate_refusals(backend: Backend) {
    let t = TestApp::start(backend).await;
    let a = coupon_template(&t, 500, "campaign_only").await;
    let public = coupon_template(&t, 500, "public").await;
    let base = |action: Value, trigger: Value| json!({"name": "smart", "trigger": trigger, "actions": [action]});
    let once = json!({"kind": "once"});
    let cases = [
        (
            base(
                json!({"kind": "allocate", "template_ids": [a], "budget": 1000}),
                json!({"kind": "event", "event": "signup"}),
            ),
            "trigger.kind",
        ),
        (
            base(
                json!({"kind": "allocate", "template_ids": [a], "budget": 0}),
                once.clone(),
            ),
            "actions[0].budget",
        ),
        (
            base(
                json!({"kind": "allocate", "template_ids": [], "budget": 10}),
                once.clone(),
            ),
            "actions[0].template_ids",
        ),
        (
            base(
                json!({"kind": "allocate", "template_ids": [a, a], "budget": 10}),
                once.clone(),
            ),
            "actions[0].template_ids[1]",
        ),
        (
            base(
                json!({"kind": "allocate", "template_ids": [a], "budget": 10, "expected_use_bp": 0}),
                once.clone(),
            ),
            "actions[0].expected_use_bp",
        ),
        (
            base(
                json!({"kind": "allocate", "template_ids": [public], "budget": 10}),
                once.clone(),
            ),
            "actions[0].template_ids[0]",
        ),
    ];
    for (body, want) in cases {
        let (st, _, f) = refused(&t, body.clone()).await;
        assert_eq!((st, f.as_str()), (422, want), "{body}");
    }
    let both = json!({"name": "smart", "trigger": once, "actions": [
        {"kind": "allocate", "template_ids": [a], "budget": 10},
        {"kind": "grant", "template_id": a}]});
    let (st, _, f) = refused(&t, both).await;
    assert_eq!((st, f.as_str()), (422, "actions[1]"));
    let (_, list) = t.get("/v1/campaigns").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 0, "{list}");
}
both!(allocate_refusals);

/// With no coupon history the scores are smoothed rates (10% by default). Members who order
/// every fortnight would mostly have bought anyway; the budget, enough for the others, goes to
/// them, each the cheaper coupon (the same chance of use, a quarter of the cost). Held-out
/// members are recorded and get nothing.
async fn allocate_from_rates(backend: Backend) {
    let t = TestApp::start(backend).await;
    let small = coupon_template(&t, 500, "campaign_only").await;
    let large = coupon_template(&t, 2000, "campaign_only").await;
    let mut frequent = Vec::new();
    for i in 0..20 {
        let user = format!("m{i:02}");
        member(&t, &user, json!({"joined_at": "2025-06-01T00:00:00Z"})).await;
        // Every member's basket is 100.00; the first ten order six times in the last 91 days.
        let orders = if i < 10 { 6 } else { 1 };
        for k in 0..orders {
            let paid = t.clock_now() - SignedDuration::from_hours(24 * (5 + 14 * k));
            order(
                &t,
                &format!("o-{user}-{k}"),
                &user,
                &paid.to_string(),
                "food",
                10_000,
            )
            .await;
        }
        if i < 10 {
            frequent.push(user);
        }
    }
    // A minimum ROI of 5: a rare buyer's redemption earns 71.90 (100.00 less the 28% it would
    // have bought anyway) for 0.50 of expected cost; a frequent buyer's earns 13.85.
    let body = json!({"name": "smart", "trigger": {"kind": "once"}, "holdout_bp": 2000,
        "actions": [{"kind": "allocate", "template_ids": [large, small], "budget": 100_000,
            "min_roi_bp": 50_000}]});
    let id = run_campaign(&t, body).await;
    let rare: Vec<String> = (10..20)
        .map(|i| format!("m{i:02}"))
        .filter(|u| !held(&id, u, 2000))
        .collect();
    let budget = 100_000;

    let c = campaign(&t, &id).await;
    let report = &c["allocation"];
    assert_eq!(report["model"]["kind"], "rates", "{c}");
    assert_eq!(
        report["members"].as_u64(),
        Some(20 - held_count(&id)),
        "{c}"
    );
    let spend = report["spend"].as_f64().unwrap();
    assert!(spend <= budget as f64 + 1e-6, "{report}");
    let (objective, bound) = (
        report["objective"].as_f64().unwrap(),
        report["upper_bound"].as_f64().unwrap(),
    );
    assert!(bound >= objective - 1e-6, "{report}");
    assert!(report["gap"].as_f64().unwrap() < 0.05, "{report}");

    let statuses: HashMap<String, String> = entries(&t, &id).await.into_iter().collect();
    assert_eq!(statuses.len(), 20);
    for i in 0..20 {
        let user = format!("m{i:02}");
        let got = wallet(&t, &user).await;
        let want = if held(&id, &user, 2000) {
            ("held_out", vec![])
        } else if rare.contains(&user) {
            ("treated", vec![small.clone()])
        } else {
            ("unallocated", vec![])
        };
        assert_eq!((statuses[&user].as_str(), got), (want.0, want.1), "{user}");
    }
    assert!(frequent.iter().all(|u| statuses[u] != "treated"));

    assert_eq!(c["stats"]["treated"].as_u64(), Some(rare.len() as u64));
    assert_eq!(c["status"], "ended", "{c}");
    let (st, b) = t
        .get(&format!("/v1/campaigns/{id}/members?status=treated"))
        .await;
    assert_eq!(st, 200);
    for e in b["items"].as_array().unwrap() {
        assert_eq!(e["template_id"].as_str(), Some(small.as_str()), "{e}");
    }

    // Without the minimum, a budget of five small coupons (5 × 10% × 5.00) buys five of the
    // rare buyers and no one else.
    let body = json!({"name": "tight", "trigger": {"kind": "once"},
        "actions": [{"kind": "allocate", "template_ids": [small, large], "budget": 250}]});
    let tight = run_campaign(&t, body).await;
    let treated: Vec<String> = entries(&t, &tight)
        .await
        .into_iter()
        .filter(|(_, s)| s == "treated")
        .map(|(u, _)| u)
        .collect();
    assert_eq!(treated.len(), 5, "{treated:?}");
    assert!(treated.iter().all(|u| !frequent.contains(u)), "{treated:?}");
    let tc = campaign(&t, &tight).await;
    assert!(
        tc["allocation"]["spend"].as_f64().unwrap() <= 250.0 + 1e-6,
        "{tc}"
    );
}
both!(allocate_from_rates);

fn held_count(id: &str) -> u64 {
    (0..20)
        .filter(|i| held(id, &format!("m{i:02}"), 2000))
        .count() as u64
}

/// With enough settled coupons the scores come from a trained model: members who used their
/// last coupons are scored above members who let theirs lapse.
async fn allocate_from_trained_model(backend: Backend) {
    let t = TestApp::start(backend).await;
    let past = coupon_template(&t, 800, "campaign_only").await;
    let offer = coupon_template(&t, 800, "campaign_only").await;
    let start = t.clock_now();
    // 300 members, three coupons each over the last months: the even ones use theirs.
    let users: Vec<String> = (0..300).map(|i| format!("h{i:03}")).collect();
    for u in &users {
        member(&t, u, json!({"joined_at": "2025-06-01T00:00:00Z"})).await;
        let paid = start - SignedDuration::from_hours(24 * 10);
        order(&t, &format!("o-{u}"), u, &paid.to_string(), "food", 5_000).await;
    }
    for round in 0..3i64 {
        let at = start - SignedDuration::from_hours(24 * (90 - 30 * round));
        for (i, u) in users.iter().enumerate() {
            let claimed = claim_at(&t, &past, u, at).await;
            if i % 2 == 0 {
                let r = t
                    .store
                    .redeem_coupon(
                        &claimed,
                        None,
                        SALE,
                        at + SignedDuration::from_hours(24),
                        "test",
                    )
                    .await
                    .unwrap();
                assert!(r.is_ok(), "{r:?}");
            }
        }
    }
    let body = json!({"name": "smart", "trigger": {"kind": "once"},
        "actions": [{"kind": "allocate", "template_ids": [offer], "budget": 1_000_000}]});
    let id = run_campaign(&t, body).await;
    let c = campaign(&t, &id).await;
    let model = &c["allocation"]["model"];
    assert_eq!(model["kind"], "trained", "{c}");
    assert_eq!(model["examples"].as_u64(), Some(900), "{c}");
    assert_eq!(model["positives"].as_u64(), Some(450), "{c}");
    // The first round's coupons carry no history to tell the two halves apart; the later
    // rounds do.
    assert!(model["auc"].as_f64().unwrap() > 0.7, "{c}");
    // A budget that covers everyone: every member is treated once, with the one template.
    assert_eq!(c["stats"]["treated"].as_u64(), Some(300), "{c}");
    assert_eq!(c["stats"]["granted"].as_u64(), Some(300), "{c}");
}
both!(allocate_from_trained_model);

/// Claims a coupon at `at`, through the store's claim (the campaign route).
async fn claim_at(t: &TestApp, template: &str, user: &str, at: Timestamp) -> String {
    let outcome = t
        .store
        .claim(ClaimCommand {
            template_id: template.to_string(),
            user_id: user.to_string(),
            channel: None,
            region: None,
            route: ClaimRoute::Campaign("cmp_past".into()),
            idempotency: None,
            actor: "test".into(),
            stores: None,
            now: at,
        })
        .await
        .unwrap();
    match outcome {
        ClaimOutcome::Claimed(c) => c.coupon_id,
        other => panic!("{other:?}"),
    }
}

/// Where past campaigns held members out, value is uplift: members who ordered after a
/// campaign only when treated are worth a coupon; members who order every month anyway, and
/// spend more, are not.
async fn allocate_by_uplift(backend: Backend) {
    let t = TestApp::start(backend).await;
    let past = coupon_template(&t, 1000, "campaign_only").await;
    let offer = coupon_template(&t, 1000, "campaign_only").await;
    let start = t.clock_now();
    let day = |d: i64| SignedDuration::from_hours(24 * d);
    let then = start - day(90);
    let responsive: Vec<String> = (0..150).map(|i| format!("r{i:03}")).collect();
    let steady: Vec<String> = (0..150).map(|i| format!("s{i:03}")).collect();
    // The two kinds bought alike before; only their profiles (age) tell them apart.
    for (group, age) in [(&responsive, 25), (&steady, 55)] {
        for u in group.iter() {
            member(
                &t,
                u,
                json!({"joined_at": "2025-06-01T00:00:00Z", "attributes": {"age": age}}),
            )
            .await;
            for k in 0..2 {
                let paid = (then - day(20 + 30 * k)).to_string();
                order(&t, &format!("o-{u}-{k}"), u, &paid, "food", 5_000).await;
            }
        }
    }
    // 90 days ago, a campaign held half of them out.
    t.set_now(&then.to_string()).await;
    let body = json!({"name": "past", "trigger": {"kind": "once"}, "holdout_bp": 5000,
        "actions": [{"kind": "grant", "template_id": past}]});
    let past_id = run_campaign(&t, body).await;
    // The steady members go on ordering every month, treated or not; the responsive ones
    // ordered once, five days later, only when treated.
    let after = (then + day(5)).to_string();
    for u in &steady {
        for k in 0..3 {
            let paid = (then + day(10 + 30 * k)).to_string();
            order(&t, &format!("o-{u}-after-{k}"), u, &paid, "food", 5_000).await;
        }
    }
    for u in responsive.iter().filter(|u| !held(&past_id, u, 5000)) {
        order(&t, &format!("o-{u}-after"), u, &after, "food", 5_000).await;
    }
    t.set_now(&start.to_string()).await;

    // A budget for 100 coupons at the expected cost the rates give (no past coupon was used:
    // (0 + 20 × 10%) / (treated + 20) of 10.00).
    let treated_before = responsive
        .iter()
        .chain(&steady)
        .filter(|u| !held(&past_id, u, 5000))
        .count() as f64;
    let cost = 2.0 / (treated_before + 20.0) * 1000.0;
    let budget = (100.0 * cost).floor() as i64 + 1;
    let body = json!({"name": "smart", "trigger": {"kind": "once"},
        "actions": [{"kind": "allocate", "template_ids": [offer], "budget": budget}]});
    let id = run_campaign(&t, body).await;
    let c = campaign(&t, &id).await;
    let report = &c["allocation"];
    assert_eq!(report["value"]["kind"], "uplift", "{report}");
    assert_eq!(
        report["value"]["treated"].as_u64().unwrap() + report["value"]["control"].as_u64().unwrap(),
        300,
        "{report}"
    );
    assert_eq!(report["members"].as_u64(), Some(300), "{report}");
    assert!(
        report["spend"].as_f64().unwrap() <= budget as f64 + 1e-6,
        "{report}"
    );
    let treated: Vec<String> = entries(&t, &id)
        .await
        .into_iter()
        .filter(|(_, s)| s == "treated")
        .map(|(u, _)| u)
        .collect();
    assert_eq!(treated.len(), 100, "{report}");
    assert!(treated.iter().all(|u| u.starts_with('r')), "{treated:?}");
}
both!(allocate_by_uplift);
