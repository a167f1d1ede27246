//! Helpers of the campaign tests: playbooks from examples/campaigns, the worker run to
//! quiescence, members, events, orders, wallets and entries over HTTP.

use quan_app::playbooks::{PlaybookApplied, PlaybookBody};
use quan_core::access::{Principal, Role};
use serde_json::{json, Value};

use super::{TestApp, ADMIN};

pub fn operator() -> Principal {
    Principal {
        key_id: "test".into(),
        role: Role::Platform,
        store_ids: vec![],
        user_id: None,
    }
}

/// Applies `examples/campaigns/{name}` (activated) through the same use case as
/// `quan campaigns apply`.
pub async fn playbook(t: &TestApp, name: &str) -> PlaybookApplied {
    let path = format!(
        "{}/../../examples/campaigns/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read(&path).expect("playbook file");
    let body: PlaybookBody = quan_app::input::parse(&text).expect("a playbook");
    t.app
        .apply_playbook(&operator(), body, true)
        .await
        .expect("applied")
}

/// Runs the campaign worker until a run finds nothing to do.
pub async fn settle(t: &TestApp) {
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    for _ in 0..100 {
        if !t.app.run_campaigns().await.expect("run").busy() {
            return;
        }
    }
    panic!("the campaign worker never settled");
}

/// Runs `n` campaign workers at once until each finds nothing to do, then settles.
pub async fn race_workers(t: &TestApp, n: usize) {
    let runs: Vec<_> = (0..n)
        .map(|_| {
            let app = t.app.clone();
            tokio::spawn(async move { while app.run_campaigns().await.expect("run").busy() {} })
        })
        .collect();
    for r in runs {
        r.await.unwrap();
    }
    settle(t).await;
}

pub async fn member(t: &TestApp, id: &str, body: Value) {
    let (st, b) = t
        .call(
            "PUT",
            &format!("/v1/members/{id}"),
            Some(ADMIN),
            Some(body),
            &[],
        )
        .await;
    assert!(st == 200 || st == 201, "{st} {b}");
}

pub async fn event(t: &TestApp, id: &str, user: &str, kind: &str, data: Value) {
    let (st, b) = t
        .post(
            "/v1/events",
            json!({"event_id": id, "user_id": user, "kind": kind, "data": data}),
        )
        .await;
    assert!(st == 200 || st == 201, "{st} {b}");
}

/// Ingests a paid order of one line at `paid_at`.
pub async fn order(t: &TestApp, id: &str, user: &str, paid_at: &str, category: &str, amount: i64) {
    let body = json!({"user_id": user, "paid_at": paid_at, "status": "paid",
        "lines": [{"line_id": "1", "sku": format!("sku-{category}"), "store_id": "s1", "category": category, "qty": 1, "amount": amount}]});
    let (st, b) = t
        .call(
            "PUT",
            &format!("/v1/orders/{id}"),
            Some(ADMIN),
            Some(body),
            &[],
        )
        .await;
    assert!(st == 200 || st == 201, "{st} {b}");
}

/// The template ids of a member's coupons, sorted.
pub async fn wallet(t: &TestApp, user: &str) -> Vec<String> {
    let (st, b) = t.get(&format!("/v1/users/{user}/coupons?limit=500")).await;
    assert_eq!(st, 200, "{b}");
    let mut ids: Vec<String> = b["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["template_id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

/// Creates a campaign from `body`, activates it and runs the worker until it settles.
pub async fn run_campaign(t: &TestApp, body: Value) -> String {
    let (st, b) = t.post("/v1/campaigns", body).await;
    assert_eq!(st, 201, "{b}");
    let id = b["id"].as_str().unwrap().to_string();
    let (st, b) = t
        .post(&format!("/v1/campaigns/{id}/activate"), json!({}))
        .await;
    assert_eq!(st, 200, "{b}");
    settle(t).await;
    id
}

/// The members with a message waiting in the outbox, sorted.
pub async fn texted(t: &TestApp) -> Vec<String> {
    let (st, b) = t.get("/v1/outbox?status=pending").await;
    assert_eq!(st, 200, "{b}");
    let mut users: Vec<String> = b["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["user_id"].as_str().unwrap().to_string())
        .collect();
    users.sort();
    users
}

pub async fn campaign(t: &TestApp, id: &str) -> Value {
    let (st, b) = t.get(&format!("/v1/campaigns/{id}")).await;
    assert_eq!(st, 200, "{b}");
    b
}

/// Every entry of a campaign (all pages), as (user, status).
pub async fn entries(t: &TestApp, id: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut cursor = String::new();
    loop {
        let (st, b) = t
            .get(&format!(
                "/v1/campaigns/{id}/members?limit=500{}",
                if cursor.is_empty() {
                    String::new()
                } else {
                    format!("&cursor={}", urlencode(&cursor))
                }
            ))
            .await;
        assert_eq!(st, 200, "{b}");
        for e in b["items"].as_array().unwrap() {
            out.push((
                e["user_id"].as_str().unwrap().to_string(),
                e["status"].as_str().unwrap().to_string(),
            ));
        }
        match b["next"].as_str() {
            Some(n) => cursor = n.to_string(),
            None => return out,
        }
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Whether the holdout of `campaign` takes `user` at `bp`.
pub fn held(campaign: &str, user: &str, bp: u32) -> bool {
    quan_core::campaign::holdout::held_out(campaign, user, bp)
}
