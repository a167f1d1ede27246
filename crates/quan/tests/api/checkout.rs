//! Quotes and orders over HTTP on both backends: pricing, locks, payment, cancel, refunds,
//! races for one coupon, and bad carts.

use crate::common;

use common::process::Server;
use common::{code, field, Backend, TestApp, ADMIN};
use futures::future::join_all;
use serde_json::{json, Value};

fn store_coupon(store: &str, threshold: i64, off: i64) -> Value {
    json!({"scope": {"kind": "store", "store_id": store}, "benefit": {"kind": "reduction", "threshold": threshold, "off": off},
           "funding": {"platform_bp": 0, "merchant_bp": 10000}})
}

fn line(id: &str, store: &str, price: i64, qty: i64) -> Value {
    json!({"line_id": id, "sku": id, "store_id": store, "unit_price": price, "qty": qty})
}

async fn claimed(app: &TestApp, user: &str, edits: Value) -> String {
    let t = app.active(edits).await;
    let (st, c) = app
        .claim(&t, json!({"user_id": user, "channel": "app"}))
        .await;
    assert_eq!(st, 201, "{c}");
    c["coupon_id"].as_str().unwrap().to_string()
}

async fn quotes_price_the_best_combination(backend: Backend) {
    let app = TestApp::start(backend).await;
    let store = claimed(&app, "u1", store_coupon("s1", 30000, 2000)).await;
    let platform = claimed(
        &app,
        "u1",
        json!({"benefit": {"kind": "reduction", "threshold": 30000, "off": 3000}}),
    )
    .await;
    let far = claimed(&app, "u1", store_coupon("s9", 0, 100)).await;
    let (st, q) = app
        .post(
            "/v1/checkout/quote",
            json!({"user_id": "u1", "channel": "app", "lines": [line("a", "s1", 40000, 1)]}),
        )
        .await;
    assert_eq!(st, 200, "{q}");
    assert_eq!(
        (
            q["subtotal"].as_i64(),
            q["discount"].as_i64(),
            q["payable"].as_i64()
        ),
        (Some(40000), Some(5000), Some(35000))
    );
    let used: Vec<&str> = q["coupons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["coupon_id"].as_str().unwrap())
        .collect();
    assert!(used.contains(&store.as_str()) && used.contains(&platform.as_str()));
    assert_eq!(
        q["not_applied"],
        json!([{"coupon_id": far, "reason": "wrong_store"}])
    );
    // Excluding the platform coupon leaves the store coupon alone.
    let (_, q) = app.post("/v1/checkout/quote", json!({"user_id": "u1", "channel": "app", "exclude": [platform], "lines": [line("a", "s1", 40000, 1)]})).await;
    assert_eq!(q["payable"], 38000);
    // Pinning a coupon that cannot apply is refused with its id.
    let (st, b) = app
        .post(
            "/v1/checkout/quote",
            json!({"user_id": "u1", "pin": [far], "lines": [line("a", "s1", 40000, 1)]}),
        )
        .await;
    assert_eq!(
        (st, code(&b), field(&b)),
        (409, "pin_not_applicable", far.as_str())
    );
    // A coupon of another user is not this member's to pin.
    let other = claimed(&app, "u2", store_coupon("s1", 0, 100)).await;
    let (st, b) = app
        .post(
            "/v1/checkout/quote",
            json!({"user_id": "u1", "pin": [other], "lines": [line("a", "s1", 40000, 1)]}),
        )
        .await;
    assert_eq!((st, code(&b)), (409, "pin_not_applicable"));
}
both!(quotes_price_the_best_combination);

async fn bad_carts_are_refused_and_lock_nothing(backend: Backend) {
    let app = TestApp::start(backend).await;
    let c = claimed(&app, "u1", store_coupon("s1", 0, 100)).await;
    let many: Vec<Value> = (0..10_000)
        .map(|i| line(&format!("l{i}"), "s1", 100, 1))
        .collect();
    let cases: Vec<(Value, &str)> = vec![
        (json!([line("a", "s1", 0, 1)]), "lines[0].unit_price"),
        (json!([line("a", "s1", -5, 1)]), "lines[0].unit_price"),
        (json!([line("a", "s1", 100, 0)]), "lines[0].qty"),
        (json!([line("a", "s1", 100, -1)]), "lines[0].qty"),
        (
            json!([{"line_id": "a", "sku": "a", "store_id": "s1", "unit_price": 100, "activity_price": 200, "qty": 1}]),
            "lines[0].activity_price",
        ),
        (
            json!([line("a", "s1", 100, 1), line("a", "s1", 100, 1)]),
            "lines[1].line_id",
        ),
        (json!([]), "lines"),
        (json!(many), "lines"),
    ];
    for (lines, want) in cases {
        for path in ["/v1/checkout/quote", "/v1/orders"] {
            let body =
                json!({"order_id": "o1", "user_id": "u1", "coupon_ids": [c], "lines": lines});
            let body = if path == "/v1/orders" {
                body
            } else {
                json!({"user_id": "u1", "lines": lines})
            };
            let (st, b) = app.post(path, body).await;
            assert!((400..500).contains(&st), "{path} {want}: {st} {b}");
            if lines.as_array().unwrap().len() == 10_000 {
                assert_eq!((st, code(&b)), (413, "payload_too_large"), "{path}");
            } else {
                assert_eq!(field(&b), want, "{path}: {b}");
            }
        }
    }
    let (st, b) = app.post("/v1/orders", json!({"order_id": "o1", "user_id": "u1", "coupon_ids": ["cpn_nope"], "lines": [line("a", "s1", 100, 1)]})).await;
    assert_eq!(
        (st, code(&b), field(&b)),
        (409, "coupon_not_usable", "coupon_ids[0]")
    );
    let (_, detail) = app.get(&format!("/v1/coupons/{c}")).await;
    assert_eq!(detail["status"], "claimed", "nothing was locked");
    let (st, _) = app.get("/v1/orders/o1").await;
    assert_eq!(st, 404);
}
both!(bad_carts_are_refused_and_lock_nothing);

async fn an_order_locks_pays_and_refunds(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.call("PUT", "/v1/members/u1", Some(ADMIN), Some(json!({})), &[])
        .await;
    let t = app.active(store_coupon("s1", 10000, 1000)).await;
    let (_, c) = app.claim(&t, json!({"user_id": "u1"})).await;
    let coupon = c["coupon_id"].as_str().unwrap().to_string();
    let lines = json!([line("a", "s1", 3333, 3), line("b", "s1", 5000, 1)]);
    let body = json!({"order_id": "o1", "user_id": "u1", "lines": lines, "shipping": {"s1": 800}, "coupon_ids": [coupon]});
    let (st, o) = app.post("/v1/orders", body.clone()).await;
    assert_eq!(st, 201, "{o}");
    assert_eq!(
        (
            o["status"].as_str(),
            o["discount"].as_i64(),
            o["payable"].as_i64()
        ),
        (Some("locked"), Some(1000), Some(14999 - 1000 + 800))
    );
    let shares: Vec<i64> = o["coupons"][0]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["amount"].as_i64().unwrap())
        .collect();
    assert_eq!(shares.iter().sum::<i64>(), 1000);
    let (st, again) = app.post("/v1/orders", body).await;
    assert_eq!(
        (st, &again["order_id"]),
        (201, &o["order_id"]),
        "a retry answers the same order"
    );
    let (_, w) = app.get("/v1/users/u1/coupons?status=locked").await;
    assert_eq!(w["total"], 1);
    let (st, b) = app.post("/v1/orders", json!({"order_id": "o2", "user_id": "u1", "lines": [line("x", "s1", 20000, 1)], "coupon_ids": [coupon]})).await;
    assert_eq!(
        (st, code(&b)),
        (409, "coupon_not_usable"),
        "a locked coupon cannot be locked again"
    );

    let (st, paid) = app.post("/v1/orders/o1/pay", json!({})).await;
    assert_eq!((st, paid["status"].as_str()), (200, Some("paid")));
    assert_eq!(
        app.post("/v1/orders/o1/pay", json!({})).await.0,
        200,
        "paying twice is harmless"
    );
    assert_eq!(app.template(&t).await["used"], 1);
    let (st, b) = app.post("/v1/orders/o1/cancel", json!({})).await;
    assert_eq!(
        (st, code(&b)),
        (409, "invalid_state"),
        "cancel after pay is refused"
    );
    // The paid order is now in the member's history: what its lines paid (shipping aside).
    let (_, m) = app.get("/v1/members/u1").await;
    assert_eq!(
        (m["orders_count"].as_i64(), m["total_spent"].as_i64()),
        (Some(1), Some(14999 - 1000))
    );
    let (_, h) = app.get("/v1/orders?user_id=u1").await;
    assert_eq!(h["items"][0]["source"], "checkout");

    // Refund line a one unit at a time: the last unit takes the remainder.
    let paid_a = 9999 - shares[0];
    let mut back = 0;
    let key = [("Idempotency-Key", "refund-1")];
    let (st, r1) = app
        .call(
            "POST",
            "/v1/orders/o1/refund",
            Some(ADMIN),
            Some(json!({"lines": [{"line_id": "a", "qty": 1}]})),
            &key,
        )
        .await;
    assert_eq!(st, 200, "{r1}");
    let (_, r1again) = app
        .call(
            "POST",
            "/v1/orders/o1/refund",
            Some(ADMIN),
            Some(json!({"lines": [{"line_id": "a", "qty": 1}]})),
            &key,
        )
        .await;
    assert_eq!(r1, r1again, "a retried refund refunds once");
    back += r1["amount"].as_i64().unwrap();
    assert_eq!(back, paid_a / 3);
    let (_, r2) = app
        .post(
            "/v1/orders/o1/refund",
            json!({"lines": [{"line_id": "a", "qty": 2}]}),
        )
        .await;
    back += r2["amount"].as_i64().unwrap();
    assert_eq!(
        back, paid_a,
        "a fully refunded line returns exactly what it paid"
    );
    assert_eq!(
        r2["coupons_back"],
        json!([]),
        "line b still holds the coupon"
    );
    let (_, m) = app.get("/v1/members/u1").await;
    assert_eq!(
        (m["orders_count"].as_i64(), m["total_spent"].as_i64()),
        (Some(1), Some(14999 - 1000 - paid_a)),
        "the member's history follows the refund"
    );
    let (st, b) = app
        .post(
            "/v1/orders/o1/refund",
            json!({"lines": [{"line_id": "a", "qty": 1}]}),
        )
        .await;
    assert_eq!(
        (st, code(&b), field(&b)),
        (422, "too_large", "lines[0].qty")
    );
    let (_, r3) = app
        .post(
            "/v1/orders/o1/refund",
            json!({"lines": [{"line_id": "b", "qty": 1}]}),
        )
        .await;
    assert_eq!(r3["coupons_back"], json!([coupon]));
    assert_eq!(
        r3["shipping"],
        json!([{"store_id": "s1", "amount": 800}]),
        "shipping comes back with the store's last line"
    );
    assert_eq!(
        back + r3["amount"].as_i64().unwrap(),
        14799,
        "everything paid came back"
    );
    let (_, m) = app.get("/v1/members/u1").await;
    assert_eq!(
        (m["orders_count"].as_i64(), m["total_spent"].as_i64()),
        (Some(0), Some(0)),
        "a wholly refunded order no longer counts"
    );
    let (_, detail) = app.get(&format!("/v1/coupons/{coupon}")).await;
    assert_eq!(
        detail["status"], "claimed",
        "the coupon is back in the wallet"
    );
    let events: Vec<&str> = detail["ledger"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    // Two partial refunds shrank what the coupon gave before the last one gave it back.
    assert_eq!(
        events,
        ["claimed", "locked", "redeemed", "refunded", "refunded", "restored"]
    );
    let given: i64 = detail["ledger"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["given"].as_i64().unwrap())
        .sum();
    assert_eq!(given, 0, "nothing given once the order is refunded whole");
    assert_eq!(app.template(&t).await["used"], 0);
}
both!(an_order_locks_pays_and_refunds);

async fn cancel_and_lapsed_locks_release(backend: Backend) {
    let app = TestApp::start(backend).await;
    let coupon = claimed(&app, "u1", store_coupon("s1", 0, 500)).await;
    let order = |id: &str, secs: i64| json!({"order_id": id, "user_id": "u1", "lines": [line("a", "s1", 1000, 1)], "coupon_ids": [coupon], "lock_seconds": secs});
    assert_eq!(app.post("/v1/orders", order("o1", 600)).await.0, 201);
    let (st, c) = app.post("/v1/orders/o1/cancel", json!({})).await;
    assert_eq!((st, c["status"].as_str()), (200, Some("cancelled")));
    assert_eq!(
        code(&app.post("/v1/orders/o1/pay", json!({})).await.1),
        "invalid_state"
    );
    // The lock of o2 lapses after a minute; o3 may then take the coupon, and o2 cannot pay.
    assert_eq!(app.post("/v1/orders", order("o2", 60)).await.0, 201);
    app.set_now("2026-03-02T02:01:01Z").await;
    assert_eq!(app.post("/v1/orders", order("o3", 600)).await.0, 201);
    assert_eq!(
        code(&app.post("/v1/orders/o2/pay", json!({})).await.1),
        "invalid_state"
    );
    assert_eq!(app.post("/v1/orders/o3/pay", json!({})).await.0, 200);
    // The sweeper releases a lapsed lock on its own.
    let other = claimed(&app, "u1", store_coupon("s1", 0, 500)).await;
    let body = json!({"order_id": "o4", "user_id": "u1", "lines": [line("a", "s1", 1000, 1)], "coupon_ids": [other], "lock_seconds": 60});
    assert_eq!(app.post("/v1/orders", body).await.0, 201);
    app.set_now("2026-03-02T02:03:00Z").await;
    assert_eq!(
        app.store
            .release_lapsed_locks(app.clock_now())
            .await
            .unwrap(),
        1
    );
    let (_, o4) = app.get("/v1/orders/o4").await;
    assert_eq!(o4["status"], "expired");
    let (_, d) = app.get(&format!("/v1/coupons/{other}")).await;
    assert_eq!(d["status"], "claimed");
}
both!(cancel_and_lapsed_locks_release);

async fn racing_orders_lock_a_coupon_once(backend: Backend) {
    let app = TestApp::start(backend).await;
    let coupon = claimed(&app, "u1", store_coupon("s1", 0, 500)).await;
    let calls = (0..20).map(|i| {
        app.post("/v1/orders", json!({"order_id": format!("race-{i}"), "user_id": "u1", "lines": [line("a", "s1", 1000, 1)], "coupon_ids": [coupon]}))
    });
    let answers = join_all(calls).await;
    let won: Vec<&Value> = answers
        .iter()
        .filter(|(st, _)| *st == 201)
        .map(|(_, b)| b)
        .collect();
    assert_eq!(won.len(), 1, "{answers:?}");
    assert!(answers
        .iter()
        .all(|(st, b)| *st == 201 || code(b) == "coupon_not_usable"));
    let winner = won[0]["order_id"].as_str().unwrap();
    let pay = format!("/v1/orders/{winner}/pay");
    let pays = join_all((0..5).map(|_| app.post(&pay, json!({})))).await;
    assert!(pays.iter().all(|(st, _)| *st == 200));
    let (_, d) = app.get(&format!("/v1/coupons/{coupon}")).await;
    let redeemed = d["ledger"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "redeemed")
        .count();
    assert_eq!(redeemed, 1, "redeemed once");
}
both!(racing_orders_lock_a_coupon_once);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_race_for_one_coupon_on_postgres() {
    let (db, _guard) = common::fresh_database(Backend::Postgres).await;
    let servers = join_all((0..2).map(|_| Server::start(&db))).await;
    let http = reqwest::Client::new();
    let post = |url: String, body: Value| {
        let http = http.clone();
        async move {
            let r = http
                .post(url)
                .bearer_auth(ADMIN)
                .json(&body)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (_, t) = post(
        format!("{}/v1/templates", servers[0].url),
        common::template(store_coupon("s1", 0, 500)),
    )
    .await;
    let id = t["id"].as_str().unwrap();
    post(
        format!("{}/v1/templates/{id}/activate", servers[0].url),
        json!({}),
    )
    .await;
    let (_, c) = post(
        format!("{}/v1/templates/{id}/claim", servers[1].url),
        json!({"user_id": "u1"}),
    )
    .await;
    let coupon = c["coupon_id"].as_str().unwrap();
    let answers = join_all((0..20).map(|i| {
        let url = format!("{}/v1/orders", servers[i % 2].url);
        post(url, json!({"order_id": format!("race-{i}"), "user_id": "u1", "lines": [line("a", "s1", 1000, 1)], "coupon_ids": [coupon]}))
    }))
    .await;
    assert_eq!(
        answers.iter().filter(|(st, _)| *st == 201).count(),
        1,
        "{answers:?}"
    );
}

async fn a_guide_redeems_by_code_at_the_counter(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = app.active(store_coupon("s1", 5000, 800)).await;
    let (_, c) = app.claim(&t, json!({"user_id": "u1"})).await;
    let code_of = c["code"].as_str().unwrap().to_lowercase();
    let guide = app.key("guide", &["s1"], Some("g1")).await;
    let other = app.key("guide", &["s2"], Some("g2")).await;
    let redeem = |key: String, body: Value| {
        let app = &app;
        async move {
            app.call("POST", "/v1/coupons/redeem", Some(&key), Some(body), &[])
                .await
        }
    };
    let (st, b) = redeem(
        other.clone(),
        json!({"code": code_of, "store_id": "s1", "amount": 6000}),
    )
    .await;
    assert_eq!((st, code(&b), field(&b)), (403, "forbidden", "store_id"));
    let (st, b) = redeem(
        guide.clone(),
        json!({"code": code_of, "store_id": "s1", "amount": 4000}),
    )
    .await;
    assert_eq!(
        (st, code(&b), field(&b)),
        (409, "below_threshold", "amount")
    );
    let (st, b) = redeem(
        guide.clone(),
        json!({"code": "NOPE", "store_id": "s1", "amount": 6000}),
    )
    .await;
    assert_eq!((st, field(&b)), (404, "code"));
    let (st, r) = redeem(
        guide.clone(),
        json!({"code": code_of, "store_id": "s1", "amount": 6000, "order_id": "pos-1"}),
    )
    .await;
    assert_eq!(
        (st, r["discount"].as_i64(), r["payable"].as_i64()),
        (200, Some(800), Some(5200)),
        "{r}"
    );
    let (st, b) = redeem(
        guide,
        json!({"code": code_of, "store_id": "s1", "amount": 6000}),
    )
    .await;
    assert_eq!(
        (st, code(&b)),
        (409, "coupon_not_usable"),
        "a coupon is redeemed once"
    );
    assert_eq!(app.template(&t).await["used"], 1);
}
both!(a_guide_redeems_by_code_at_the_counter);
