//! Campaigns end to end with the outbox and guide tasks, on both backends: a campaign's message
//! reaches its channel's webhook with the member's signed link, which claims the hidden coupon;
//! a campaign's task reaches the member's guide, who grants its coupon once.

use crate::common;

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use common::campaign::*;
use common::{Backend, TestApp, ADMIN};
use serde_json::{json, Value};

/// A webhook that answers 200 and keeps the bodies it got.
async fn receiver() -> (String, Arc<Mutex<Vec<Value>>>) {
    let got = Arc::new(Mutex::new(Vec::new()));
    let router = axum::Router::new()
        .route(
            "/hook",
            axum::routing::post(
                |State(got): State<Arc<Mutex<Vec<Value>>>>, body: Bytes| async move {
                    got.lock()
                        .unwrap()
                        .push(serde_json::from_slice(&body).unwrap());
                    "ok"
                },
            ),
        )
        .with_state(got.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, got)
}

async fn a_campaign_message_carries_a_link_that_claims(backend: Backend) {
    let t = TestApp::start(backend).await;
    let (url, got) = receiver().await;
    let (st, b) = t
        .call(
            "PUT",
            "/v1/channels/wechat",
            Some(ADMIN),
            Some(json!({"url": url, "secret": "a-secret-of-sixteen-bytes"})),
            &[],
        )
        .await;
    assert_eq!(st, 200, "{b}");
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
    settle(&t).await;
    let review = format!("/v1/campaigns/{}/review", p.campaigns[0].id);
    let funnel = |r: &serde_json::Value| {
        let f = &r["funnel"];
        (
            f["messages_sent"].clone(),
            f["messages_delivered"].clone(),
            f["messages_dead"].clone(),
        )
    };
    let (_, r) = t.get(&review).await;
    assert_eq!(
        funnel(&r),
        (json!(1), json!(0), json!(0)),
        "queued, not yet delivered: {r}"
    );
    let report = t.app.deliver_due().await.unwrap();
    assert_eq!(report.sent, 1);
    let (_, r) = t.get(&review).await;
    assert_eq!(funnel(&r), (json!(1), json!(1), json!(0)), "{r}");
    let bodies = got.lock().unwrap().clone();
    assert_eq!(bodies.len(), 1);
    assert_eq!(
        (bodies[0]["user_id"].as_str(), bodies[0]["channel"].as_str()),
        (Some("vip"), Some("wechat"))
    );
    assert_eq!(bodies[0]["campaign_id"], p.campaigns[0].id.as_str());
    let link = bodies[0]["link"].as_str().unwrap();
    let token = link.split("&link=").nth(1).unwrap();
    // The short link, for an SMS, leads to the same claim page.
    let short = bodies[0]["short_link"].as_str().unwrap();
    let redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(short)
        .send()
        .await
        .unwrap();
    assert_eq!(redirect.headers()["location"].to_str().unwrap(), link);
    // The member opens the claim page twice: two opens in the campaign's funnel.
    for _ in 0..2 {
        let (st, b) = t.get(&format!("/v1/links/{token}")).await;
        assert_eq!(st, 200, "{b}");
    }
    let (_, r) = t.get(&review).await;
    assert_eq!(r["funnel"]["links_opened"], 2, "{r}");
    let coupon = &p.templates["vip_hidden_50"];
    let (st, b) = t
        .claim(coupon, json!({"user_id": "vip", "link": token}))
        .await;
    assert_eq!(st, 201, "{b}");
}

async fn a_campaign_task_reaches_the_guide_who_grants_it_once(backend: Backend) {
    let t = TestApp::start(backend).await;
    let guide_a = t.key("guide", &["s1"], Some("guide-a")).await;
    let guide_b = t.key("guide", &["s1"], Some("guide-b")).await;
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
    let p = playbook(&t, "tier-maintenance-tasks.json").await;
    settle(&t).await; // Monday 10:00: the first tick is next Monday 09:00
    t.set_now("2026-03-09T01:00:30Z").await; // the next Monday 09:00 local
    settle(&t).await;
    let (st, list) = t
        .call("GET", "/v1/tasks?status=open", Some(&guide_a), None, &[])
        .await;
    assert_eq!((st, list["total"].as_i64()), (200, Some(1)), "{list}");
    let task = &list["items"][0];
    assert_eq!(task["user_id"], "g1");
    assert_eq!(task["template_id"], p.templates["tier_gift"].as_str());
    assert!(task["message"].as_str().unwrap().contains("保级"));
    let id = task["id"].as_str().unwrap();
    let (st, _) = t
        .call("GET", &format!("/v1/tasks/{id}"), Some(&guide_b), None, &[])
        .await;
    assert_eq!(st, 404);
    let grant = format!("/v1/tasks/{id}/grant");
    let (st, first) = t.call("POST", &grant, Some(&guide_a), None, &[]).await;
    assert_eq!(st, 201, "{first}");
    let (_, second) = t.call("POST", &grant, Some(&guide_a), None, &[]).await;
    assert_eq!(second["coupon_id"], first["coupon_id"]);
    assert_eq!(wallet(&t, "g1").await.len(), 1);
    let (st, done) = t
        .call(
            "POST",
            &format!("/v1/tasks/{id}/complete"),
            Some(&guide_a),
            Some(json!({"outcome": "called, coupon granted"})),
            &[],
        )
        .await;
    assert_eq!((st, done["status"].as_str()), (200, Some("done")), "{done}");
}

both!(a_campaign_message_carries_a_link_that_claims);
both!(a_campaign_task_reaches_the_guide_who_grants_it_once);
