//! `GET /metrics` on both backends: requests by route and status, the store's claim groups,
//! for platform keys only.

use crate::common;

use common::{Backend, TestApp, ADMIN};
use serde_json::json;

async fn metrics_count_requests_and_claim_groups(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = app.active(json!({})).await;
    for user in ["u1", "u2", "u3"] {
        let (st, b) = app.claim(&t, json!({"user_id": user})).await;
        assert_eq!(st, 201, "{b}");
    }
    let (st, _) = app.claim(&t, json!({"user_id": "  "})).await;
    assert_eq!(st, 422);
    let res = app
        .http
        .get(format!("{}/metrics", app.url))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = res.text().await.unwrap();
    let count = |status: &str| -> f64 {
        text.lines()
            .find(|l| {
                l.starts_with("quan_http_requests_total{")
                    && l.contains("route=\"/v1/templates/{id}/claim\"")
                    && l.contains("method=\"POST\"")
                    && l.contains(&format!("status=\"{status}\""))
            })
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    };
    // The recorder is the process's: other tests of this binary add to the same counters.
    assert!(count("201") >= 3.0, "{text}");
    assert!(count("422") >= 1.0, "{text}");
    assert!(
        text.contains("quan_http_request_duration_seconds_bucket"),
        "{text}"
    );
    let backend = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    assert!(
        text.contains(&format!(
            "quan_store_claim_group_size_count{{backend=\"{backend}\"}}"
        )),
        "{text}"
    );
    let merchant = app.key("merchant", &["s1"], None).await;
    let (st, b) = app
        .call("GET", "/metrics", Some(&merchant), None, &[])
        .await;
    assert_eq!((st, common::code(&b)), (403, "forbidden"));
    let (st, _) = app.call("GET", "/metrics", None, None, &[]).await;
    assert_eq!(st, 401);
}
both!(metrics_count_requests_and_claim_groups);

/// A campaign's run shows in `/metrics`: its grants, its entries by outcome, the backlog and
/// its lag behind the triggers.
async fn metrics_count_campaign_work(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = app.active(json!({"distribution": ["campaign_only"]})).await;
    let (st, c) = app
        .post(
            "/v1/campaigns",
            json!({"name": "m", "trigger": {"kind": "event", "event": "signup"},
                "actions": [{"kind": "grant", "template_id": t}]}),
        )
        .await;
    assert_eq!(st, 201, "{c}");
    let id = c["id"].as_str().unwrap();
    app.post(&format!("/v1/campaigns/{id}/activate"), json!({}))
        .await;
    let (st, _) = app
        .post(
            "/v1/events",
            json!({"event_id": "m-su", "user_id": "mu", "kind": "signup"}),
        )
        .await;
    assert_eq!(st, 201);
    while app.app.run_campaigns().await.unwrap().busy() {}
    let (st, text) = app.get("/metrics").await;
    assert_eq!(st, 200);
    let text = text.as_str().unwrap().to_string();
    assert!(
        text.contains(&format!(
            "quan_campaign_grants_total{{campaign=\"{id}\"}} 1"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "quan_campaign_entries_total{{campaign=\"{id}\",status=\"treated\"}} 1"
        )),
        "{text}"
    );
    assert!(
        text.contains("quan_campaign_backlog{kind=\"due_entries\"}"),
        "{text}"
    );
    assert!(text.contains("quan_campaign_lag_seconds"), "{text}");
}
both!(metrics_count_campaign_work);
