//! How every request is read and answered, on both backends: idempotency keys on every
//! mutating call, order conflicts, one id rule, one body parser and error shape, the per-key
//! rate limit, links and codes a template can never honour, and clean refusals.

use crate::common;

use common::{code, field, Backend, TestApp, ADMIN};
use serde_json::{json, Value};

/// Sends `body` (raw text) with an optional idempotency key as the admin.
async fn send(
    app: &TestApp,
    method: &str,
    path: &str,
    body: &str,
    key: Option<&str>,
) -> (u16, Value) {
    let mut req = app
        .http
        .request(method.parse().unwrap(), format!("{}{path}", app.url))
        .bearer_auth(ADMIN)
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn store_template(store: &str) -> Value {
    json!({"scope": {"kind": "store", "store_id": store},
        "benefit": {"kind": "reduction", "threshold": 0, "off": 100},
        "funding": {"platform_bp": 0, "merchant_bp": 10000}})
}

/// The same key twice answers the same; the same key with another body is refused and does
/// nothing. `a` and `a_reordered` are one request with its keys in another order.
async fn once(
    app: &TestApp,
    method: &str,
    path: &str,
    a: &str,
    a_reordered: &str,
    b: &str,
) -> Value {
    let key = format!("k-{method}-{path}");
    let first = send(app, method, path, a, Some(&key)).await;
    assert!(first.0 < 300, "{method} {path}: {first:?}");
    let again = send(app, method, path, a_reordered, Some(&key)).await;
    assert_eq!(
        again, first,
        "{method} {path}: a retry replays the first answer"
    );
    let other = send(app, method, path, b, Some(&key)).await;
    assert_eq!(
        (other.0, code(&other.1)),
        (422, "idempotency_mismatch"),
        "{method} {path}: {other:?}"
    );
    first.1
}

async fn every_mutating_call_honours_idempotency_keys(backend: Backend) {
    let app = TestApp::start(backend).await;
    // Members, events, segments, ingested orders.
    let m = once(
        &app,
        "PUT",
        "/v1/members/m1",
        r#"{"tier": "gold", "points": 1}"#,
        r#"{"points": 1, "tier": "gold"}"#,
        r#"{"tier": "vip"}"#,
    )
    .await;
    assert_eq!(m["tier"], "gold");
    assert_eq!(
        app.get("/v1/members/m1").await.1["tier"],
        "gold",
        "the mismatch wrote nothing"
    );
    once(
        &app,
        "POST",
        "/v1/events",
        r#"{"event_id": "e1", "user_id": "m1", "kind": "visit"}"#,
        r#"{"kind": "visit", "user_id": "m1", "event_id": "e1"}"#,
        r#"{"event_id": "e2", "user_id": "m1", "kind": "visit"}"#,
    )
    .await;
    assert_eq!(app.get("/v1/members/m1/events").await.1["total"], 1);
    once(
        &app,
        "PUT",
        "/v1/segments/gold",
        r#"{"name": "Gold", "member_ids": ["m1"]}"#,
        r#"{"member_ids": ["m1"], "name": "Gold"}"#,
        r#"{"name": "Other", "member_ids": []}"#,
    )
    .await;
    assert_eq!(app.get("/v1/segments/gold").await.1["name"], "Gold");
    let order = r#"{"user_id": "m1", "paid_at": "2026-02-01T00:00:00Z", "status": "paid", "lines": [{"line_id": "1", "sku": "a", "store_id": "s1", "qty": 1, "amount": 100}]}"#;
    let reordered = r#"{"status": "paid", "paid_at": "2026-02-01T00:00:00Z", "user_id": "m1", "lines": [{"amount": 100, "qty": 1, "store_id": "s1", "sku": "a", "line_id": "1"}]}"#;
    once(
        &app,
        "PUT",
        "/v1/orders/H1",
        order,
        reordered,
        &order.replace("100}", "900}"),
    )
    .await;
    assert_eq!(app.get("/v1/members/m1").await.1["total_spent"], 100);

    // Status changes, links, claim codes: a replay is the first answer, not a second act.
    let t = app.draft(store_template("s1")).await;
    once(
        &app,
        "POST",
        &format!("/v1/templates/{t}/activate"),
        "",
        " ",
        "{\"x\": 1}",
    )
    .await;
    let link = once(
        &app,
        "POST",
        &format!("/v1/templates/{t}/links"),
        r#"{"expires_at": "2026-12-31T16:00:00Z"}"#,
        r#"{ "expires_at" : "2026-12-31T16:00:00Z" }"#,
        r#"{"expires_at": "2026-12-30T16:00:00Z"}"#,
    )
    .await;
    assert!(link["link"].is_string());
    once(
        &app,
        "POST",
        &format!("/v1/templates/{t}/claim-codes"),
        r#"{"count": 3}"#,
        r#"{ "count": 3 }"#,
        r#"{"count": 4}"#,
    )
    .await;
    assert_eq!(
        app.template(&t).await["issued"],
        3,
        "one batch of codes, not two"
    );

    // Checkout: orders, pay, refund; cancel; revoke; redemption at the counter.
    let (_, c) = app.claim(&t, json!({"user_id": "m1"})).await;
    let coupon = c["coupon_id"].as_str().unwrap().to_string();
    let lines =
        r#"[{"line_id": "1", "sku": "tea", "store_id": "s1", "unit_price": 1000, "qty": 2}]"#;
    let a = format!(
        r#"{{"order_id": "O1", "user_id": "m1", "lines": {lines}, "coupon_ids": ["{coupon}"]}}"#
    );
    let a2 = format!(
        r#"{{"coupon_ids": ["{coupon}"], "lines": {lines}, "user_id": "m1", "order_id": "O1"}}"#
    );
    let b = format!(r#"{{"order_id": "O2", "user_id": "m1", "lines": {lines}, "coupon_ids": []}}"#);
    let o = once(&app, "POST", "/v1/orders", &a, &a2, &b).await;
    assert_eq!(o["status"], "locked");
    assert_eq!(
        app.get("/v1/orders/O2").await.0,
        404,
        "the mismatch made no order"
    );
    once(&app, "POST", "/v1/orders/O1/pay", "", "{}", r#"{"y": 2}"#).await;
    let r = once(
        &app,
        "POST",
        "/v1/orders/O1/refund",
        r#"{"lines": [{"line_id": "1", "qty": 1}]}"#,
        r#"{"lines": [{"qty": 1, "line_id": "1"}]}"#,
        r#"{"lines": [{"line_id": "1", "qty": 2}]}"#,
    )
    .await;
    assert_eq!(r["amount"], 950, "{r}");
    let (st, full) = send(
        &app,
        "POST",
        "/v1/orders/O1/refund",
        r#"{"lines": [{"line_id": "1", "qty": 1}]}"#,
        None,
    )
    .await;
    assert_eq!(
        (st, &full["amount"]),
        (200, &json!(950)),
        "the replay refunded nothing: one unit is left"
    );
    let b = format!(r#"{{"order_id": "O3", "user_id": "m1", "lines": {lines}, "coupon_ids": []}}"#);
    assert_eq!(send(&app, "POST", "/v1/orders", &b, None).await.0, 201);
    once(
        &app,
        "POST",
        "/v1/orders/O3/cancel",
        "{}",
        "",
        r#"{"z": 3}"#,
    )
    .await;
    let (_, c2) = app.claim(&t, json!({"user_id": "m2"})).await;
    let revoked = c2["coupon_id"].as_str().unwrap();
    once(
        &app,
        "POST",
        &format!("/v1/coupons/{revoked}/revoke"),
        r#"{"reason": "fraud"}"#,
        r#"{ "reason": "fraud" }"#,
        r#"{"reason": "other"}"#,
    )
    .await;
    let (_, c3) = app.claim(&t, json!({"user_id": "m3"})).await;
    let code3 = c3["code"].as_str().unwrap();
    let redeem = format!(r#"{{"code": "{code3}", "store_id": "s1", "amount": 500}}"#);
    let redeem2 = format!(r#"{{"amount": 500, "store_id": "s1", "code": "{code3}"}}"#);
    let redeem3 = format!(r#"{{"code": "{code3}", "store_id": "s1", "amount": 600}}"#);
    once(
        &app,
        "POST",
        "/v1/coupons/redeem",
        &redeem,
        &redeem2,
        &redeem3,
    )
    .await;
    // The order's coupon came back with its last refunded unit; the counter's is used.
    assert_eq!(app.template(&t).await["used"], 1);
}
both!(every_mutating_call_honours_idempotency_keys);

async fn an_order_id_with_another_body_is_a_conflict(backend: Backend) {
    let app = TestApp::start(backend).await;
    let line = |qty: i64| json!([{"line_id": "1", "sku": "tea", "store_id": "s1", "unit_price": 1000, "qty": qty}]);
    let body = json!({"order_id": "A1", "user_id": "u1", "lines": line(1), "coupon_ids": []});
    let (st, first) = app.post("/v1/orders", body.clone()).await;
    assert_eq!(st, 201, "{first}");
    let (st, again) = app.post("/v1/orders", body).await;
    assert_eq!((st, &again), (201, &first), "a retry answers the order");
    let (st, b) = app
        .post(
            "/v1/orders",
            json!({"order_id": "A1", "user_id": "u1", "lines": line(5), "coupon_ids": []}),
        )
        .await;
    assert_eq!(
        (st, code(&b), field(&b)),
        (409, "conflict", "order_id"),
        "{b}"
    );
    assert_eq!(app.get("/v1/orders/A1").await.1["payable"], 1000);
    // An ingested order belongs to one customer.
    let ingest = |user: &str| {
        json!({"user_id": user, "paid_at": "2026-02-01T00:00:00Z", "status": "paid",
        "lines": [{"line_id": "1", "sku": "a", "store_id": "s1", "qty": 1, "amount": 100}]})
    };
    let (st, b) = app
        .call("PUT", "/v1/orders/P1", Some(ADMIN), Some(ingest("u1")), &[])
        .await;
    assert_eq!(st, 201, "{b}");
    let (st, b) = app
        .call("PUT", "/v1/orders/P1", Some(ADMIN), Some(ingest("u2")), &[])
        .await;
    assert_eq!((st, code(&b)), (409, "conflict"), "{b}");
    assert_eq!(app.get("/v1/orders/P1").await.1["user_id"], "u1");
}
both!(an_order_id_with_another_body_is_a_conflict);

async fn every_id_follows_one_rule(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = app.active(json!({})).await;
    let long = "x".repeat(129);
    let (st, as_member) = app
        .call(
            "PUT",
            "/v1/members/%20%20",
            Some(ADMIN),
            Some(json!({})),
            &[],
        )
        .await;
    let (st2, as_claim) = app.claim(&t, json!({"user_id": "  "})).await;
    assert_eq!(
        (st, code(&as_member), field(&as_member)),
        (422, "invalid_value", "id"),
        "{as_member}"
    );
    assert_eq!(
        (st2, code(&as_claim), field(&as_claim)),
        (422, "invalid_value", "user_id")
    );
    assert_eq!(as_member["error"]["message"], as_claim["error"]["message"]);
    let (st, b) = app
        .call(
            "PUT",
            &format!("/v1/members/{long}"),
            Some(ADMIN),
            Some(json!({})),
            &[],
        )
        .await;
    assert_eq!((st, code(&b), field(&b)), (422, "too_large", "id"), "{b}");
    let (st, b) = app.claim(&t, json!({"user_id": long})).await;
    assert_eq!((st, code(&b)), (422, "too_large"), "{b}");
    for bad in ["a b", "tab\there"] {
        let (st, b) = app
            .post(
                "/v1/events",
                json!({"event_id": bad, "user_id": "u1", "kind": "visit"}),
            )
            .await;
        assert_eq!(
            (st, code(&b), field(&b)),
            (422, "invalid_value", "event_id"),
            "{b}"
        );
    }
    // Surrounding spaces are trimmed, the same everywhere.
    let (st, c) = app.claim(&t, json!({"user_id": " u1 "})).await;
    assert_eq!((st, &c["user_id"]), (201, &json!("u1")), "{c}");
    assert_eq!(app.get("/v1/users/u1/coupons").await.1["total"], 1);
}
both!(every_id_follows_one_rule);

async fn one_body_parser_and_one_error_shape(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = app.active(json!({})).await;
    let claim = format!("/v1/templates/{t}/claim");
    for (body, want) in [
        (r#"{"user_id": "u1"} garbage"#, "malformed_json"),
        (r#"{"user_id": "u1"}{"user_id": "u2"}"#, "malformed_json"),
        ("[]", "invalid_type"),
        (r#"["u1"]"#, "invalid_type"),
        ("\"u1\"", "invalid_type"),
    ] {
        let (st, b) = send(&app, "POST", &claim, body, None).await;
        assert_eq!((st, code(&b)), (400, want), "{body} -> {b}");
    }
    assert_eq!(app.template(&t).await["claimed"], 0, "nothing was claimed");
    // Routing failures answer the error body too.
    let (st, b) = app.get("/v1/templates/%FF%FE").await;
    assert_eq!((st, code(&b)), (400, "bad_request"), "{b}");
    let (st, b) = app
        .get(&format!("/v1/templates/{}", "y".repeat(10_000)))
        .await;
    assert_eq!((st, code(&b)), (414, "uri_too_long"), "{b}");
    let (st, b) = app.get("/v1/nowhere").await;
    assert_eq!((st, code(&b)), (404, "not_found"), "{b}");
    // Numbers too large for their field.
    for count in ["1e30", "99999999999999999999999"] {
        let (st, b) = send(
            &app,
            "POST",
            &format!("/v1/templates/{t}/claim-codes"),
            &format!("{{\"count\": {count}}}"),
            None,
        )
        .await;
        assert_eq!(
            (st, code(&b), field(&b)),
            (422, "too_large", "count"),
            "{b}"
        );
    }
    let (st, b) = send(&app, "GET", "/v1/templates?limit=99999999999", "", None).await;
    assert_eq!(st, 400, "{b}");
    // Every string has a bound.
    let big = "z".repeat(100_000);
    let cases = [
        (
            "/v1/keys",
            json!({"role": "merchant", "store_ids": [big]}),
            "store_ids[0]",
        ),
        (
            claim.as_str(),
            json!({"user_id": "u1", "region": big}),
            "region",
        ),
        (
            "/v1/orders",
            json!({"order_id": "o", "user_id": "u1", "region": big, "coupon_ids": [],
            "lines": [{"line_id": "1", "sku": "a", "store_id": "s1", "unit_price": 1, "qty": 1}]}),
            "region",
        ),
        (
            "/v1/checkout/quote",
            json!({"user_id": "u1",
            "lines": [{"line_id": "1", "sku": "a", "store_id": "s1", "category": big, "unit_price": 1, "qty": 1}]}),
            "lines[0].category",
        ),
        (
            "/v1/coupons/redeem",
            json!({"code": "C", "store_id": "s1", "amount": 1, "order_id": big}),
            "order_id",
        ),
    ];
    for (path, body, at) in cases {
        let (st, b) = app.post(path, body).await;
        assert_eq!(
            (st, code(&b), field(&b)),
            (422, "too_large", at),
            "{path} -> {b}"
        );
    }
    assert_eq!(app.template(&t).await["claimed"], 0);
}
both!(one_body_parser_and_one_error_shape);

async fn codes_and_links_a_template_can_never_honour_are_refused(backend: Backend) {
    let app = TestApp::start(backend).await;
    for distribution in ["service_only", "campaign_only"] {
        let t = app
            .active(json!({"distribution": [distribution], "stock": 10}))
            .await;
        for (path, body) in [("links", json!({})), ("claim-codes", json!({"count": 5}))] {
            let (st, b) = app.post(&format!("/v1/templates/{t}/{path}"), body).await;
            assert_eq!(
                (st, code(&b)),
                (422, "route_not_distributed"),
                "{distribution} {path}: {b}"
            );
        }
        let t = app.template(&t).await;
        assert_eq!(
            (&t["issued"], &t["remaining"]),
            (&json!(0), &json!(10)),
            "no stock taken"
        );
    }
    for distribution in ["link_only", "public", "member_only"] {
        let t = app
            .active(json!({"distribution": [distribution], "stock": 10}))
            .await;
        let (st, b) = app
            .post(
                &format!("/v1/templates/{t}/claim-codes"),
                json!({"count": 2}),
            )
            .await;
        assert_eq!(st, 201, "{distribution}: {b}");
        let (st, b) = app
            .post(&format!("/v1/templates/{t}/links"), json!({}))
            .await;
        assert_eq!(st, 201, "{distribution}: {b}");
    }
}
both!(codes_and_links_a_template_can_never_honour_are_refused);

async fn each_key_has_a_rate_limit(backend: Backend) {
    let app = TestApp::start_with(backend, 3).await;
    let other = app.key("merchant", &["s1"], None).await;
    let mut limited = None;
    for _ in 0..20 {
        let res = app
            .http
            .get(format!("{}/v1/templates", app.url))
            .bearer_auth(ADMIN)
            .send()
            .await
            .unwrap();
        if res.status().as_u16() == 429 {
            let retry: u64 = res.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            limited = Some((retry, res.json::<Value>().await.unwrap()));
            break;
        }
    }
    let (retry, body) = limited.expect("a burst past the limit is refused");
    assert!(retry >= 1, "Retry-After: {retry}");
    assert_eq!(code(&body), "rate_limited");
    let (st, b) = app
        .call("GET", "/v1/templates", Some(&other), None, &[])
        .await;
    assert_eq!(st, 200, "another key has its own bucket: {b}");
}
both!(each_key_has_a_rate_limit);

async fn a_refused_post_leaves_the_connection_usable(backend: Backend) {
    let app = TestApp::start(backend).await;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .build()
        .unwrap();
    let body = format!("{{\"user_id\": \"{}\"}}", "u".repeat(60_000));
    for i in 0..40 {
        let res = client
            .post(format!("{}/v1/templates/tpl_x/claim", app.url))
            .bearer_auth("not-a-key")
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap_or_else(|e| panic!("request {i} broke: {e}"));
        assert_eq!(res.status().as_u16(), 401);
        let b: Value = res
            .json()
            .await
            .unwrap_or_else(|e| panic!("answer {i} broke: {e}"));
        assert_eq!(code(&b), "unauthorized");
    }
}
both!(a_refused_post_leaves_the_connection_usable);
