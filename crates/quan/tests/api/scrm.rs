//! The SCRM over HTTP on both backends: order ingestion, events, lifecycle stages as the clock
//! moves, RFM on a hand-computed fixture, rule segments against hand-computed membership.

use crate::common;

use common::{code, field, Backend, TestApp, ADMIN};
use serde_json::{json, Value};

async fn put(app: &TestApp, path: &str, body: Value) -> (u16, Value) {
    app.call("PUT", path, Some(ADMIN), Some(body), &[]).await
}

/// An order of one line.
fn order(user: &str, paid_at: &str, amount: i64, category: &str) -> Value {
    json!({"user_id": user, "paid_at": paid_at, "status": "completed",
        "lines": [{"line_id": "1", "sku": format!("sku-{category}"), "store_id": "s1", "category": category, "qty": 1, "amount": amount}]})
}

async fn ingest(app: &TestApp, id: &str, body: Value) {
    let (st, b) = put(app, &format!("/v1/orders/{id}"), body).await;
    assert!(st == 201 || st == 200, "{st} {b}");
}

async fn orders_are_ingested_idempotently(backend: Backend) {
    let app = TestApp::start(backend).await;
    let body = json!({"user_id": "u1", "paid_at": "2026-02-01T10:00:00Z", "status": "paid", "channel": "pos",
    "lines": [
        {"line_id": "1", "sku": "milk", "store_id": "s1", "category": "dairy", "qty": 2, "amount": 1000},
        {"line_id": "2", "sku": "scale", "store_id": "s1", "qty": 0, "amount": 0}
    ]});
    let (st, b) = put(&app, "/v1/orders/h1", body.clone()).await;
    assert_eq!(st, 201, "{b}");
    assert_eq!(
        (
            b["amount"].as_i64(),
            b["store_id"].as_str(),
            b["source"].as_str()
        ),
        (Some(1000), Some("s1"), Some("ingest"))
    );
    let (st, _) = put(&app, "/v1/orders/h1", body.clone()).await;
    assert_eq!(st, 200, "the same order again changes nothing");
    let (_, m) = app.get("/v1/members/u1").await;
    assert_eq!(
        (m["orders_count"].as_i64(), m["total_spent"].as_i64()),
        (Some(1), Some(1000)),
        "{m}"
    );
    assert_eq!(
        (&m["member"], &m["joined_at"]),
        (&json!(false), &Value::Null),
        "an unknown buyer gets its history, but buying is not joining"
    );

    // A changed order replaces the old one; a refunded order does not count.
    let mut changed = body.clone();
    changed["lines"][0]["amount"] = json!(1200);
    let (st, b) = put(&app, "/v1/orders/h1", changed).await;
    assert_eq!((st, b["amount"].as_i64()), (200, Some(1200)));
    let mut refunded = body.clone();
    refunded["status"] = json!("refunded");
    ingest(&app, "h2", refunded).await;
    let (_, m) = app.get("/v1/members/u1").await;
    assert_eq!(
        (m["orders_count"].as_i64(), m["total_spent"].as_i64()),
        (Some(1), Some(1200))
    );

    // Lists and reads.
    let (_, list) = app.get("/v1/orders?user_id=u1&limit=1").await;
    assert_eq!(
        (
            list["total"].as_i64(),
            list["items"].as_array().unwrap().len()
        ),
        (Some(2), 1)
    );
    let next = list["next"].as_str().unwrap().to_string();
    let (_, list) = app
        .get(&format!("/v1/orders?user_id=u1&limit=1&cursor={next}"))
        .await;
    assert_eq!(
        (
            list["items"][0]["order_id"].as_str(),
            list["next"].as_null()
        ),
        (Some("h2"), Some(()))
    );
    let (st, o) = app.get("/v1/orders/h1").await;
    assert_eq!((st, o["lines"].as_array().map(Vec::len)), (200, Some(2)));

    // Bad input names the field and writes nothing.
    let mut bad = body.clone();
    bad["lines"][1]["qty"] = json!(-1);
    let (st, b) = put(&app, "/v1/orders/h3", bad).await;
    assert_eq!((st, code(&b), field(&b)), (422, "negative", "lines[1].qty"));
    let mut bad = body.clone();
    bad["status"] = json!("lost");
    let (st, b) = put(&app, "/v1/orders/h3", bad).await;
    // An unknown status is refused as every enum's unknown value is.
    assert_eq!((st, code(&b), field(&b)), (400, "invalid_type", "status"));
    let mut bad = body.clone();
    bad["coupon"] = json!("x");
    let (st, b) = put(&app, "/v1/orders/h3", bad).await;
    assert_eq!((st, code(&b)), (400, "unknown_field"));
    let (st, _) = app.get("/v1/orders/h3").await;
    assert_eq!(st, 404);

    // Events: signup makes the member, tier_changed sets its tier, ids are idempotent.
    let signup =
        json!({"event_id": "e1", "user_id": "u9", "kind": "signup", "at": "2026-02-10T00:00:00Z"});
    let (st, _) = app.post("/v1/events", signup.clone()).await;
    assert_eq!(st, 201);
    let (st, _) = app.post("/v1/events", signup).await;
    assert_eq!(st, 200);
    let (st, b) = app
        .post(
            "/v1/events",
            json!({"event_id": "e1", "user_id": "u9", "kind": "visit"}),
        )
        .await;
    assert_eq!((st, code(&b)), (409, "conflict"));
    let (st, _) = app
        .post("/v1/events", json!({"event_id": "e2", "user_id": "u9", "kind": "tier_changed", "data": {"tier": "gold"}}))
        .await;
    assert_eq!(st, 201);
    let (st, b) = app
        .post(
            "/v1/events",
            json!({"event_id": "e3", "user_id": "u9", "kind": "teleport"}),
        )
        .await;
    assert_eq!((st, field(&b)), (422, "kind"));
    let (_, m) = app.get("/v1/members/u9").await;
    assert_eq!(m["member"], true, "a signup joins");
    assert_eq!(
        (
            m["joined_at"].as_str(),
            m["tier"].as_str(),
            m["lifecycle_stage"].as_str()
        ),
        (Some("2026-02-10T00:00:00Z"), Some("gold"), Some("new"))
    );
    let (_, ev) = app.get("/v1/members/u9/events").await;
    assert_eq!(ev["total"], 2);

    // Stores and products; a line without a category takes its product's.
    let (st, _) = put(
        &app,
        "/v1/stores/s1",
        json!({"name": "Flagship", "region": "sh"}),
    )
    .await;
    assert_eq!(st, 201);
    let (st, _) = put(
        &app,
        "/v1/products/bread",
        json!({"category": "bakery", "department": "food"}),
    )
    .await;
    assert_eq!(st, 201);
    let (st, _) = put(
        &app,
        "/v1/products/bread",
        json!({"category": "bakery", "department": "food"}),
    )
    .await;
    assert_eq!(st, 200);
    ingest(
        &app,
        "h4",
        json!({"user_id": "u2", "paid_at": "2026-02-20T00:00:00Z", "status": "paid",
        "lines": [{"line_id": "1", "sku": "bread", "store_id": "s1", "qty": 1, "amount": 300}]}),
    )
    .await;
    let (_, o) = app.get("/v1/orders/h4").await;
    assert_eq!(o["lines"][0]["category"], "bakery");
    let (_, stores) = app.get("/v1/stores").await;
    assert_eq!(stores["items"][0]["name"], "Flagship");
}
both!(orders_are_ingested_idempotently);

async fn lifecycle_moves_with_orders_and_time(backend: Backend) {
    let app = TestApp::start(backend).await; // now: 2026-03-02T02:00:00Z
    let stage = |m: &Value| m["lifecycle_stage"].as_str().unwrap().to_string();
    let (st, m) = put(
        &app,
        "/v1/members/m",
        json!({"joined_at": "2026-03-01T00:00:00Z"}),
    )
    .await;
    assert_eq!((st, stage(&m)), (201, "new".into()));
    ingest(&app, "o1", order("m", "2026-03-02T01:00:00Z", 100, "tea")).await;
    assert_eq!(stage(&app.get("/v1/members/m").await.1), "first_order");
    app.set_now("2026-03-31T00:00:00Z").await;
    assert_eq!(
        stage(&app.get("/v1/members/m").await.1),
        "first_order",
        "29 days idle"
    );
    app.set_now("2026-04-01T01:00:00Z").await;
    assert_eq!(
        stage(&app.get("/v1/members/m").await.1),
        "at_risk",
        "30 days idle"
    );
    ingest(&app, "o2", order("m", "2026-04-01T01:00:00Z", 100, "tea")).await;
    assert_eq!(stage(&app.get("/v1/members/m").await.1), "active");
    app.set_now("2026-06-30T01:00:00Z").await;
    assert_eq!(
        stage(&app.get("/v1/members/m").await.1),
        "lapsed",
        "90 days idle"
    );
    ingest(&app, "o3", order("m", "2026-06-30T01:00:00Z", 100, "tea")).await;
    assert_eq!(stage(&app.get("/v1/members/m").await.1), "won_back");
    ingest(&app, "o4", order("m", "2026-07-01T01:00:00Z", 100, "tea")).await;
    app.set_now("2026-07-01T02:00:00Z").await;
    assert_eq!(stage(&app.get("/v1/members/m").await.1), "active");
    // As of a past time, only the orders paid by then count.
    let (_, past) = app.get("/v1/members/m?as_of=2026-06-29T00:00:00Z").await;
    assert_eq!(
        (stage(&past), past["orders_count"].as_i64()),
        ("at_risk".into(), Some(2))
    );
    // Configured gaps.
    let (st, b) = put(
        &app,
        "/v1/scrm/config",
        json!({"lifecycle": {"at_risk_days": 10, "lapsed_days": 5},
        "rfm": {"window_days": 365, "tiers": {"s": 13, "a": 10, "b": 7}}}),
    )
    .await;
    assert_eq!((st, field(&b)), (422, "lifecycle.lapsed_days"));
    let (st, _) = put(
        &app,
        "/v1/scrm/config",
        json!({"lifecycle": {"at_risk_days": 1, "lapsed_days": 2},
        "rfm": {"window_days": 365, "tiers": {"s": 13, "a": 10, "b": 7}}}),
    )
    .await;
    assert_eq!(st, 200);
    app.set_now("2026-07-03T02:00:00Z").await;
    assert_eq!(stage(&app.get("/v1/members/m").await.1), "lapsed");
}
both!(lifecycle_moves_with_orders_and_time);

/// Ten members: (id, last order hour, orders, money); the quintiles are worked out by hand in
/// quan-core's rfm tests: r = 1,5,4,1,3,3,4,2,2,5; f = m = 1,5,4,2,3,1,4,2,3,5; tiers CSACBCACBS.
const FIXTURE: [(&str, i64, i64, i64); 10] = [
    ("m01", 100, 1, 500),
    ("m02", 900, 9, 9000),
    ("m03", 800, 8, 8000),
    ("m04", 100, 2, 700),
    ("m05", 500, 5, 5000),
    ("m06", 600, 1, 100),
    ("m07", 700, 7, 7000),
    ("m08", 300, 3, 3000),
    ("m09", 400, 4, 4000),
    ("m10", 950, 10, 20000),
];

fn hour(h: i64) -> String {
    let base: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
    (base + jiff::SignedDuration::from_hours(h)).to_string()
}

async fn rfm_quintiles_and_tiers(backend: Backend) {
    let app = TestApp::start(backend).await;
    for (id, last, n, money) in FIXTURE {
        for k in 0..n {
            ingest(
                &app,
                &format!("{id}-{k}"),
                order(id, &hour(last - k), money / n, "tea"),
            )
            .await;
        }
    }
    put(&app, "/v1/members/m11", json!({})).await; // no orders: 0, tier C
    let (st, run) = app
        .post("/v1/rfm/recompute", json!({"as_of": hour(1000)}))
        .await;
    assert_eq!(
        (st, run["scored"].as_i64(), run["unscored"].as_i64()),
        (200, Some(10), Some(1)),
        "{run}"
    );
    let expected_r = [1, 5, 4, 1, 3, 3, 4, 2, 2, 5];
    let expected_fm = [1, 5, 4, 2, 3, 1, 4, 2, 3, 5];
    let tiers = "CSACBCACBS";
    for (i, (id, ..)) in FIXTURE.iter().enumerate() {
        let (_, m) = app.get(&format!("/v1/members/{id}")).await;
        let rfm = &m["rfm"];
        assert_eq!(
            (
                rfm["r"].as_i64(),
                rfm["f"].as_i64(),
                rfm["m"].as_i64(),
                rfm["tier"].as_str()
            ),
            (
                Some(expected_r[i]),
                Some(expected_fm[i]),
                Some(expected_fm[i]),
                Some(&tiers[i..i + 1])
            ),
            "{id}"
        );
    }
    let (_, m) = app.get("/v1/members/m11").await;
    assert_eq!(
        (m["rfm"]["r"].as_i64(), m["rfm"]["tier"].as_str()),
        (Some(0), Some("C"))
    );
    // Between recomputes, a new order rescores its member against the last run's cuts: m01 now
    // has the latest order (r 5), 2 orders (below m04's cut at (2, "m04"): f 1) and 900 (m 2).
    app.set_now(&hour(1001)).await;
    ingest(&app, "m01-new", order("m01", &hour(1001), 400, "tea")).await;
    let (_, m) = app.get("/v1/members/m01").await;
    assert_eq!(
        (
            m["rfm"]["r"].as_i64(),
            m["rfm"]["f"].as_i64(),
            m["rfm"]["m"].as_i64()
        ),
        (Some(5), Some(1), Some(2)),
        "{m}"
    );
}
both!(rfm_quintiles_and_tiers);

async fn segments_select_by_hand_computed_rules(backend: Backend) {
    let app = TestApp::start(backend).await; // now: 2026-03-02T02:00:00Z
    let members = [
        (
            "a",
            json!({"region": "sh", "tags": ["vip"], "points": 500, "tier": "gold", "joined_at": "2025-01-01T00:00:00Z"}),
        ),
        (
            "b",
            json!({"region": "bj", "tags": [], "points": 50, "joined_at": "2025-06-01T00:00:00Z"}),
        ),
        (
            "c",
            json!({"region": "sh", "tags": ["vip", "staff"], "points": 0, "joined_at": "2026-02-25T00:00:00Z"}),
        ),
        (
            "d",
            json!({"region": "gz", "points": 900, "channel": "wechat", "joined_at": "2024-01-01T00:00:00Z"}),
        ),
    ];
    for (id, body) in members {
        put(&app, &format!("/v1/members/{id}"), body).await;
    }
    // a: milk 10 days ago and 5,000 spent; b: milk 60 days ago; d: three orders of bread, lapsed.
    ingest(&app, "a1", order("a", "2026-02-20T00:00:00Z", 5000, "milk")).await;
    ingest(&app, "b1", order("b", "2026-01-01T00:00:00Z", 800, "milk")).await;
    for k in 0..3 {
        ingest(
            &app,
            &format!("d{k}"),
            order("d", &format!("2025-10-0{}T00:00:00Z", k + 1), 300, "bread"),
        )
        .await;
    }
    let size = |rule: Value| {
        let app = &app;
        async move {
            let (st, b) = app
                .post("/v1/segments/preview", json!({"rule": rule}))
                .await;
            assert_eq!(st, 200, "{b}");
            let mut ids: Vec<String> = b["sample"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect();
            ids.sort();
            ids.join(",")
        }
    };
    assert_eq!(
        size(json!({"kind": "bought", "category": "milk", "within_days": 30})).await,
        "a"
    );
    assert_eq!(
        size(json!({"kind": "bought", "category": "milk", "within_days": 90})).await,
        "a,b"
    );
    assert_eq!(size(json!({"kind": "tag", "tag": "vip"})).await, "a,c");
    assert_eq!(
        size(json!({"kind": "region", "regions": ["sh", "gz"]})).await,
        "a,c,d"
    );
    assert_eq!(size(json!({"kind": "stage", "stages": ["new"]})).await, "c");
    assert_eq!(
        size(json!({"kind": "stage", "stages": ["lapsed"]})).await,
        "d",
        "d's last order is 150 days old"
    );
    assert_eq!(size(json!({"kind": "orders", "min": 3})).await, "d");
    assert_eq!(
        size(json!({"kind": "orders", "min": 3, "within_days": 30})).await,
        ""
    );
    assert_eq!(size(json!({"kind": "spent", "min": 900})).await, "a,d");
    assert_eq!(
        size(json!({"kind": "joined_within", "days": 30})).await,
        "c"
    );
    assert_eq!(
        size(json!({"kind": "points", "min": 100, "max": 600})).await,
        "a"
    );
    assert_eq!(
        size(json!({"kind": "channel", "channels": ["wechat"]})).await,
        "d"
    );
    assert_eq!(size(json!({"kind": "tier", "tiers": ["gold"]})).await, "a");
    assert_eq!(
        size(json!({"kind": "and", "rules": [
            {"kind": "region", "regions": ["sh"]},
            {"kind": "not", "rule": {"kind": "bought", "category": "milk", "within_days": 365}}
        ]}))
        .await,
        "c"
    );
    assert_eq!(
        size(json!({"kind": "or", "rules": [
            {"kind": "and", "rules": [{"kind": "tag", "tag": "vip"}, {"kind": "spent", "min": 1000}]},
            {"kind": "stage", "stages": ["lapsed", "at_risk"]}
        ]}))
        .await,
        "a,b,d",
        "b is at risk (60 days), d lapsed"
    );
    let (st, b) = app
        .post(
            "/v1/segments/preview",
            json!({"rule": {"kind": "or", "rules": []}}),
        )
        .await;
    assert_eq!((st, code(&b), field(&b)), (422, "empty_list", "rule.rules"));

    // A saved rule segment: size, paged members, CSV; and as a template audience.
    let (st, seg) = put(
        &app,
        "/v1/segments/sh",
        json!({"name": "Shanghai", "rule": {"kind": "region", "regions": ["sh"]}}),
    )
    .await;
    assert_eq!(
        (st, seg["size"].as_i64(), seg["kind"].as_str()),
        (201, Some(2), Some("rule")),
        "{seg}"
    );
    let (_, page) = app.get("/v1/segments/sh/members?limit=1").await;
    assert_eq!(
        (page["total"].as_i64(), page["items"][0]["id"].as_str()),
        (Some(2), Some("a"))
    );
    let next = page["next"].as_str().unwrap().to_string();
    let (_, page) = app
        .get(&format!("/v1/segments/sh/members?limit=1&cursor={next}"))
        .await;
    assert_eq!(
        (page["items"][0]["id"].as_str(), page["next"].is_null()),
        (Some("c"), true)
    );
    let (st, csv) = app.get("/v1/segments/sh/members.csv").await;
    let csv = csv.as_str().unwrap().to_string();
    assert_eq!(st, 200);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[0].starts_with("id,joined_at,tier,region,lifecycle_stage"));
    assert!(
        lines[1].starts_with("a,2025-01-01T00:00:00Z,gold,sh,first_order,C,0,0,0,1,5000"),
        "{csv}"
    );
    let t = app
        .active(json!({"audience": {"kind": "segment", "segment_id": "sh"}}))
        .await;
    let (st, _) = app.claim(&t, json!({"user_id": "c"})).await;
    assert_eq!(st, 201);
    let (st, b) = app.claim(&t, json!({"user_id": "b"})).await;
    assert_eq!((st, code(&b)), (409, "not_in_audience"));
    // The rule is read when a claim is decided: b moves to Shanghai and may claim.
    put(&app, "/v1/members/b", json!({"region": "sh"})).await;
    let (st, _) = app.claim(&t, json!({"user_id": "b"})).await;
    assert_eq!(st, 201);
    let (st, b) = put(
        &app,
        "/v1/segments/x",
        json!({"name": "x", "rule": {"kind": "tag", "tag": "v"}, "member_ids": ["a"]}),
    )
    .await;
    assert_eq!((st, field(&b)), (422, "rule"));
    let (_, list) = app.get("/v1/segments").await;
    assert_eq!(list["total"], 1);
}
both!(segments_select_by_hand_computed_rules);

async fn member_360(backend: Backend) {
    let app = TestApp::start(backend).await;
    put(
        &app,
        "/v1/members/m",
        json!({"tier": "gold", "tags": ["vip"]}),
    )
    .await;
    ingest(&app, "o1", order("m", "2026-03-01T00:00:00Z", 2500, "tea")).await;
    let t = app.active(json!({})).await;
    let (st, _) = app.claim(&t, json!({"user_id": "m"})).await;
    assert_eq!(st, 201);
    app.post(
        "/v1/events",
        json!({"event_id": "e1", "user_id": "m", "kind": "visit"}),
    )
    .await;
    let (st, v) = app.get("/v1/members/m/360").await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["member"]["tier"], "gold");
    assert_eq!(v["member"]["lifecycle_stage"], "first_order");
    assert_eq!(v["recent_orders"][0]["order_id"], "o1");
    assert_eq!(v["wallet"]["claimed"], 1);
    assert_eq!(v["coupons"][0]["ledger"][0]["to_status"], "claimed");
    assert_eq!(v["events"][0]["kind"], "visit");
    let (st, _) = app.get("/v1/members/nobody/360").await;
    assert_eq!(st, 404);
    let (_, list) = app.get("/v1/members?limit=10").await;
    assert_eq!(list["total"], 1);
}
both!(member_360);
