//! Buying is not joining (article 004: 购物了不等于加入店铺会员), over HTTP on both backends: an
//! ingested order keeps the buyer's history and RFM but makes no member; putting the member, a
//! `signup` or creating it makes one, keeping the history.

use crate::common;

use common::{code, Backend, TestApp, ADMIN};
use serde_json::{json, Value};

async fn put(app: &TestApp, path: &str, body: Value) -> (u16, Value) {
    app.call("PUT", path, Some(ADMIN), Some(body), &[]).await
}

/// An order of one line, 1200 of dairy.
fn order(user: &str, paid_at: &str) -> Value {
    json!({"user_id": user, "paid_at": paid_at, "status": "paid",
        "lines": [{"line_id": "1", "sku": "milk", "store_id": "s1", "category": "dairy", "qty": 2, "amount": 1200}]})
}

/// The answers to `user`'s claims of each template: `"ok"` or the refusal's code.
async fn claims(app: &TestApp, templates: &[&str], user: &str) -> Vec<String> {
    let mut out = Vec::new();
    for t in templates {
        let (st, b) = app.claim(t, json!({"user_id": user})).await;
        out.push(match st {
            201 => "ok".to_string(),
            409 => code(&b).to_string(),
            _ => panic!("{user} {t}: {st} {b}"),
        });
    }
    out
}

async fn buying_is_not_joining(backend: Backend) {
    let app = TestApp::start(backend).await; // now: 2026-03-02T02:00:00Z
    let members_only = app.active(json!({"distribution": ["member_only"]})).await;
    let welcome = app
        .active(json!({"audience": {"kind": "new_members", "within_days": 7}}))
        .await;
    let both = [members_only.as_str(), welcome.as_str()];

    // A buyer known only from the POS: history and RFM, no membership.
    let (st, b) = put(
        &app,
        "/v1/orders/POS-1",
        order("u1", "2026-03-01T10:00:00Z"),
    )
    .await;
    assert_eq!(st, 201, "{b}");
    let (st, run) = app.post("/v1/rfm/recompute", json!({})).await;
    assert_eq!((st, run["scored"].as_i64()), (200, Some(1)), "{run}");
    let (st, m) = app.get("/v1/members/u1").await;
    assert_eq!(st, 200, "{m}");
    assert_eq!(
        (
            &m["member"],
            &m["joined_at"],
            m["orders_count"].as_i64(),
            m["total_spent"].as_i64(),
            m["lifecycle_stage"].as_str(),
        ),
        (
            &json!(false),
            &Value::Null,
            Some(1),
            Some(1200),
            Some("first_order")
        ),
        "{m}"
    );
    assert!(m["rfm"]["r"].as_i64() > Some(0), "a buyer is scored: {m}");
    assert_eq!(
        claims(&app, &both, "u1").await,
        ["route_not_allowed", "not_in_audience"]
    );
    let (_, list) = app.get("/v1/members").await;
    assert_eq!(
        (list["total"].as_i64(), &list["items"][0]["member"]),
        (Some(1), &json!(false)),
        "{list}"
    );
    let (_, v) = app.get("/v1/members/u1/360").await;
    assert_eq!(v["member"]["member"], false, "{v}");
    let (st, _) = put(
        &app,
        "/v1/segments/dairy",
        json!({"name": "Dairy", "rule": {"kind": "bought", "category": "dairy", "within_days": 30}}),
    )
    .await;
    assert_eq!(st, 201);
    let (_, csv) = app.get("/v1/segments/dairy/members.csv").await;
    let csv = csv.as_str().unwrap().to_string();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].ends_with(",total_spent,member"), "{csv}");
    assert!(
        lines[1].starts_with("u1,,") && lines[1].ends_with(",1,1200,false"),
        "{csv}"
    );

    // PUT /v1/members makes the buyer a member (a new one: 201), joined now, with its history.
    let (st, m) = put(&app, "/v1/members/u1", json!({"tier": "gold"})).await;
    assert_eq!(st, 201, "{m}");
    assert_eq!(
        (
            &m["member"],
            m["joined_at"].as_str(),
            m["orders_count"].as_i64()
        ),
        (&json!(true), Some("2026-03-02T02:00:00Z"), Some(1)),
        "{m}"
    );
    assert_eq!(claims(&app, &both, "u1").await, ["ok", "ok"]);
    let (_, csv) = app.get("/v1/segments/dairy/members.csv").await;
    assert!(
        csv.as_str()
            .unwrap()
            .contains("u1,2026-03-02T02:00:00Z,gold,"),
        "{csv}"
    );

    // A signup makes a buyer a member joined at the event; a later PUT keeps that time.
    put(
        &app,
        "/v1/orders/POS-2",
        order("u2", "2026-02-01T10:00:00Z"),
    )
    .await;
    assert_eq!(
        claims(&app, &both, "u2").await,
        ["route_not_allowed", "not_in_audience"]
    );
    let (st, _) = app
        .post(
            "/v1/events",
            json!({"event_id": "e1", "user_id": "u2", "kind": "signup", "at": "2026-03-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(st, 201);
    let (_, m) = app.get("/v1/members/u2").await;
    assert_eq!(
        (
            &m["member"],
            m["joined_at"].as_str(),
            m["orders_count"].as_i64()
        ),
        (&json!(true), Some("2026-03-01T00:00:00Z"), Some(1)),
        "{m}"
    );
    assert_eq!(claims(&app, &both, "u2").await, ["ok", "ok"]);
    let (st, m) = put(&app, "/v1/members/u2", json!({"tier": "gold"})).await;
    assert_eq!(
        (st, m["joined_at"].as_str()),
        (200, Some("2026-03-01T00:00:00Z"))
    );

    // An old signup is a member, but no new one.
    put(
        &app,
        "/v1/orders/POS-3",
        order("u3", "2026-02-01T10:00:00Z"),
    )
    .await;
    app.post(
        "/v1/events",
        json!({"event_id": "e2", "user_id": "u3", "kind": "signup", "at": "2026-01-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(claims(&app, &both, "u3").await, ["ok", "not_in_audience"]);

    // POST /v1/members: a buyer joins by it; a member's id is a conflict.
    put(
        &app,
        "/v1/orders/POS-4",
        order("u4", "2026-02-01T10:00:00Z"),
    )
    .await;
    let (st, m) = app.post("/v1/members", json!({"id": "u4"})).await;
    assert_eq!(
        (st, &m["member"], m["total_spent"].as_i64()),
        (201, &json!(true), Some(1200)),
        "{m}"
    );
    let (st, b) = app.post("/v1/members", json!({"id": "u4"})).await;
    assert_eq!((st, code(&b)), (409, "conflict"));

    // The OpenAPI document says what `member` and a null `joined_at` mean.
    let (_, doc) = app.call("GET", "/openapi.json", None, None, &[]).await;
    let view = &doc["components"]["schemas"]["MemberView"]["properties"];
    assert!(
        view["member"]["description"]
            .as_str()
            .is_some_and(|d| d.contains("joined")),
        "{view}"
    );
    assert!(
        view["joined_at"]["description"]
            .as_str()
            .is_some_and(|d| d.contains("null")),
        "{view}"
    );
}
both!(buying_is_not_joining);
