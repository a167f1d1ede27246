//! `GET /metrics` on both backends: requests by route and status, the store's claim groups,
//! for platform keys only.

mod common;

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
