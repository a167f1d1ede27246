//! Counter redemption and quotes apply one eligibility, on both backends: every rule a quote
//! applies refuses at the counter with a code that names it, other stores' codes read as
//! unknown, and quotes consider the whole wallet.

use crate::common;

use common::{code, field, Backend, TestApp};
use serde_json::{json, Value};

fn merchant(scope: Value, benefit: Value, more: Value) -> Value {
    let mut t = json!({"scope": scope, "benefit": benefit,
        "funding": {"platform_bp": 0, "merchant_bp": 10000}});
    for (k, v) in more.as_object().unwrap() {
        t[k] = v.clone();
    }
    t
}

fn store_scope(store: &str) -> Value {
    json!({"kind": "store", "store_id": store})
}

fn off(threshold: i64, off: i64) -> Value {
    json!({"kind": "reduction", "threshold": threshold, "off": off})
}

/// Claims a coupon of a new active template for u1; its code.
async fn code_of(app: &TestApp, template: Value) -> (String, String) {
    let t = app.active(template).await;
    let (st, c) = app
        .claim(
            &t,
            json!({"user_id": "u1", "channel": "app", "region": "44"}),
        )
        .await;
    assert_eq!(st, 201, "{c}");
    (
        c["coupon_id"].as_str().unwrap().to_string(),
        c["code"].as_str().unwrap().to_string(),
    )
}

async fn redeem(app: &TestApp, key: &str, body: Value) -> (u16, Value) {
    app.call("POST", "/v1/coupons/redeem", Some(key), Some(body), &[])
        .await
}

/// The reason a quote of u1's wallet gives for leaving `coupon` out.
async fn quote_reason(app: &TestApp, coupon: &str, lines: Value, channel: &str) -> String {
    let (st, q) = app
        .post(
            "/v1/checkout/quote",
            json!({"user_id": "u1", "channel": channel, "lines": lines}),
        )
        .await;
    assert_eq!(st, 200, "{q}");
    q["not_applied"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["coupon_id"] == coupon)
        .map_or_else(
            || format!("applied: {q}"),
            |n| n["reason"].as_str().unwrap().to_string(),
        )
}

fn line(id: &str, category: &str, price: i64, activity: Option<i64>) -> Value {
    let mut l = json!({"line_id": id, "sku": format!("sku-{id}"), "store_id": "s1",
        "category": category, "unit_price": price, "qty": 1});
    if let Some(a) = activity {
        l["activity_price"] = json!(a);
    }
    l
}

async fn the_counter_applies_what_a_quote_applies(backend: Backend) {
    let app = TestApp::start(backend).await;
    let guide = app.key("guide", &["s1"], Some("g1")).await;
    // Monday 2026-03-02 10:00 in Shanghai: a Saturday-only coupon misses on its weekday.
    let (weekend, weekend_code) = code_of(
        &app,
        merchant(
            store_scope("s1"),
            off(0, 100),
            json!({"usable_weekdays": [6]}),
        ),
    )
    .await;
    let (st, b) = redeem(
        &app,
        &guide,
        json!({"code": weekend_code, "store_id": "s1", "amount": 5000}),
    )
    .await;
    assert_eq!(
        (st, code(&b), field(&b)),
        (409, "outside_usable_weekdays", "code"),
        "{b}"
    );
    let cart = json!([line("1", "dairy", 5000, None)]);
    assert_eq!(
        quote_reason(&app, &weekend, cart.clone(), "app").await,
        "outside_usable_weekdays"
    );

    // Hours: only the evening.
    let (_, evening) = code_of(
        &app,
        merchant(
            store_scope("s1"),
            off(0, 100),
            json!({"usable_hours": [{"from": "18:00", "until": "22:00"}]}),
        ),
    )
    .await;
    let (st, b) = redeem(
        &app,
        &guide,
        json!({"code": evening, "store_id": "s1", "amount": 5000}),
    )
    .await;
    assert_eq!((st, code(&b)), (409, "outside_usable_hours"), "{b}");

    // Channel: an app-only coupon is not usable at a store counter.
    let (_, app_only) = code_of(
        &app,
        merchant(store_scope("s1"), off(0, 100), json!({"channels": ["app"]})),
    )
    .await;
    let (st, b) = redeem(
        &app,
        &guide,
        json!({"code": app_only, "store_id": "s1", "amount": 5000}),
    )
    .await;
    assert_eq!((st, code(&b)), (409, "wrong_channel"), "{b}");

    // Region: the store's own region is the counter's, unless the body says otherwise.
    let (st, b) = app
        .call(
            "PUT",
            "/v1/stores/s1",
            Some(common::ADMIN),
            Some(json!({"region": "31"})),
            &[],
        )
        .await;
    assert!(st == 201 || st == 200, "{b}");
    let (_, cantonese) = code_of(
        &app,
        merchant(store_scope("s1"), off(0, 100), json!({"regions": ["44"]})),
    )
    .await;
    let (st, b) = redeem(
        &app,
        &guide,
        json!({"code": cantonese, "store_id": "s1", "amount": 5000}),
    )
    .await;
    assert_eq!(
        (st, code(&b), field(&b)),
        (409, "wrong_region", "region"),
        "{b}"
    );

    // Order number: a first-order coupon once the member has paid an order.
    let (st, b) = app
        .call("PUT", "/v1/orders/POS-0", Some(common::ADMIN), Some(json!({"user_id": "u1",
            "paid_at": "2026-02-01T10:00:00Z", "status": "paid",
            "lines": [{"line_id": "1", "sku": "milk", "store_id": "s1", "qty": 1, "amount": 100}]})), &[])
        .await;
    assert_eq!(st, 201, "{b}");
    let (first, first_code) = code_of(
        &app,
        merchant(
            store_scope("s1"),
            off(0, 100),
            json!({"usable_on_orders": [1]}),
        ),
    )
    .await;
    let (st, b) = redeem(
        &app,
        &guide,
        json!({"code": first_code, "store_id": "s1", "amount": 5000}),
    )
    .await;
    assert_eq!((st, code(&b)), (409, "wrong_order"), "{b}");
    assert_eq!(
        quote_reason(&app, &first, cart.clone(), "app").await,
        "wrong_order"
    );

    // Scope: a category coupon needs lines of its category; an amount alone cannot show one.
    let dairy = merchant(
        json!({"kind": "category", "store_id": "s1", "categories": ["dairy"]}),
        off(3000, 500),
        json!({"excludes_activity_price": true}),
    );
    let (dairy_id, dairy_code) = code_of(&app, dairy).await;
    let (st, b) = redeem(
        &app,
        &guide,
        json!({"code": dairy_code, "store_id": "s1", "amount": 5000}),
    )
    .await;
    assert_eq!(
        (st, code(&b), field(&b)),
        (409, "out_of_scope", "lines"),
        "{b}"
    );
    let bread = json!([line("1", "bakery", 5000, None)]);
    assert_eq!(
        quote_reason(&app, &dairy_id, bread.clone(), "app").await,
        "out_of_scope"
    );
    let (st, b) = redeem(&app, &guide, json!({"code": dairy_code, "store_id": "s1",
        "lines": [{"line_id": "1", "sku": "b", "category": "bakery", "unit_price": 5000, "qty": 1}]})).await;
    assert_eq!((st, code(&b)), (409, "out_of_scope"), "{b}");
    // Activity prices, which it excludes.
    let sale = json!([line("1", "dairy", 5000, Some(4000))]);
    assert_eq!(
        quote_reason(&app, &dairy_id, sale, "app").await,
        "activity_price_excluded"
    );
    let (st, b) = redeem(&app, &guide, json!({"code": dairy_code, "store_id": "s1",
        "lines": [{"line_id": "1", "sku": "m", "category": "dairy", "unit_price": 5000, "activity_price": 4000, "qty": 1}]})).await;
    assert_eq!((st, code(&b)), (409, "activity_price_excluded"), "{b}");
    // Another store's lines: the store is wrong, not the scope.
    let elsewhere = json!([{"line_id": "1", "sku": "m", "store_id": "s2", "category": "dairy", "unit_price": 5000, "qty": 1}]);
    assert_eq!(
        quote_reason(&app, &dairy_id, elsewhere, "app").await,
        "wrong_store"
    );
    // Below its threshold on the lines it may take.
    let (st, b) = redeem(&app, &guide, json!({"code": dairy_code, "store_id": "s1",
        "lines": [{"line_id": "1", "sku": "m", "category": "dairy", "unit_price": 2000, "qty": 1},
                  {"line_id": "2", "sku": "b", "category": "bakery", "unit_price": 9000, "qty": 1}]})).await;
    assert_eq!((st, code(&b)), (409, "below_threshold"), "{b}");
    // And redeemed when every rule holds: 500 off the dairy lines of 3,000.
    let (st, r) = redeem(&app, &guide, json!({"code": dairy_code, "store_id": "s1", "order_id": "pos-7",
        "lines": [{"line_id": "1", "sku": "m", "category": "dairy", "unit_price": 3000, "qty": 1},
                  {"line_id": "2", "sku": "b", "category": "bakery", "unit_price": 9000, "qty": 1}]})).await;
    assert_eq!(
        (st, r["discount"].as_i64(), r["payable"].as_i64()),
        (200, Some(500), Some(11500)),
        "{r}"
    );
    // Refusals changed nothing: the refused coupons are still claimed.
    let (_, wallet) = app.get("/v1/users/u1/coupons?status=claimed").await;
    assert_eq!(wallet["total"], 5, "{wallet}");
}
both!(the_counter_applies_what_a_quote_applies);

async fn another_stores_code_reads_as_unknown(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (_, theirs) = code_of(&app, merchant(store_scope("s2"), off(0, 100), json!({}))).await;
    let guide = app.key("guide", &["s1"], Some("g1")).await;
    let merchant_key = app.key("merchant", &["s1"], None).await;
    let unknown = redeem(
        &app,
        &guide,
        json!({"code": "NOSUCHCODE0000000", "store_id": "s1", "amount": 5000}),
    )
    .await;
    let foreign = redeem(
        &app,
        &guide,
        json!({"code": theirs, "store_id": "s1", "amount": 5000}),
    )
    .await;
    assert_eq!(unknown.0, 404);
    assert_eq!(
        foreign, unknown,
        "another store's code must answer as an unknown one"
    );
    // The catalog too: another merchant's store and product read as ids that do not exist.
    for (path, body) in [
        ("/v1/stores/s2", json!({"name": "Theirs", "region": "44"})),
        (
            "/v1/products/their-sku",
            json!({"store_id": "s2", "category": "dairy"}),
        ),
        ("/v1/stores/s1", json!({"name": "Ours"})),
        ("/v1/products/our-sku", json!({"store_id": "s1"})),
        ("/v1/products/every-store", json!({"category": "bags"})),
    ] {
        let (st, b) = app
            .call("PUT", path, Some(common::ADMIN), Some(body), &[])
            .await;
        assert_eq!(st, 201, "{path}: {b}");
    }
    let get = |path: &'static str| {
        let (app, key) = (&app, merchant_key.clone());
        async move { app.call("GET", path, Some(&key), None, &[]).await }
    };
    let (st, b) = get("/v1/stores/s2").await;
    let made_up = get("/v1/stores/made-up").await;
    assert_eq!((st, &b), (made_up.0, &made_up.1), "{b}");
    assert_eq!(st, 404);
    let (st, b) = get("/v1/products/their-sku").await;
    let made_up = get("/v1/products/made-up").await;
    assert_eq!((st, &b), (made_up.0, &made_up.1), "{b}");
    assert_eq!(st, 404);
    assert_eq!(get("/v1/stores/s1").await.0, 200);
    assert_eq!(get("/v1/products/our-sku").await.0, 200);
    assert_eq!(get("/v1/products/every-store").await.0, 200);
}
both!(another_stores_code_reads_as_unknown);

async fn a_quote_considers_the_whole_wallet(backend: Backend) {
    let app = TestApp::start(backend).await;
    let small = app
        .active(merchant(store_scope("s1"), off(0, 100), json!({})))
        .await;
    for _ in 0..205 {
        let (st, b) = app.claim(&small, json!({"user_id": "u1"})).await;
        assert_eq!(st, 201, "{b}");
    }
    // The best coupon expires last: past the first 200 of a soonest-expiring-first read.
    app.set_now("2026-03-02T03:00:00Z").await;
    let big = app
        .active(merchant(store_scope("s1"), off(0, 700), json!({})))
        .await;
    let (st, c) = app.claim(&big, json!({"user_id": "u1"})).await;
    assert_eq!(st, 201, "{c}");
    let (st, q) = app
        .post("/v1/checkout/quote", json!({"user_id": "u1",
            "lines": [{"line_id": "1", "sku": "tea", "store_id": "s1", "unit_price": 5000, "qty": 1}]}))
        .await;
    assert_eq!(st, 200, "{q}");
    assert_eq!(q["discount"], 700, "{q}");
    assert_eq!(q["coupons"][0]["coupon_id"], c["coupon_id"]);
    assert_eq!(q["not_applied"].as_array().unwrap().len(), 205);
}
both!(a_quote_considers_the_whole_wallet);
