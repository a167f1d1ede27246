//! What an attacker's probe found, each reproduced and now refused: CSV cells a spreadsheet
//! would run, a merchant making the platform pay or reading members through segments and the
//! coupon center, store guides minting coupons outside their tasks, a period's used count
//! contradicting the counter after a refund, and imports without their header.

use crate::common;

use common::{code, field, Backend, TestApp, ADMIN};
use serde_json::{json, Value};

async fn put(app: &TestApp, path: &str, body: Value) -> (u16, Value) {
    app.call("PUT", path, Some(ADMIN), Some(body), &[]).await
}

async fn as_key(app: &TestApp, key: &str, method: &str, path: &str, body: Value) -> (u16, Value) {
    app.call(method, path, Some(key), Some(body), &[]).await
}

/// Member ids, tiers and regions that a spreadsheet would run as formulas come out of every
/// CSV export as text.
async fn csv_exports_neutralise_formula_cells(backend: Backend) {
    let app = TestApp::start(backend).await;
    for (id, tier, region) in [
        ("=HYPERLINK(\"http://evil\",\"x\")", "+cmd", "@SUM(1)"),
        ("-2+3", "gold", "sh"),
        ("plain", "=1+1", "-5"),
    ] {
        let (st, b) = put(
            &app,
            &format!("/v1/members/{}", urlencoding(id)),
            json!({"joined_at": "2025-01-01T00:00:00Z", "tier": tier, "region": region}),
        )
        .await;
        assert!(st == 200 || st == 201, "{b}");
    }
    let (st, seg) = put(
        &app,
        "/v1/segments/all",
        json!({"name": "all", "rule": {"kind": "joined_within", "days": 3650}}),
    )
    .await;
    assert_eq!(st, 201, "{seg}");
    let (st, csv) = app.get("/v1/segments/all/members.csv").await;
    assert_eq!(st, 200);
    let csv = csv.as_str().unwrap().to_string();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header = reader.headers().unwrap().clone();
    let cells: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (id, tier, region) = (col("id"), col("tier"), col("region"));
    let row = |member: &str| {
        cells
            .iter()
            .find(|r| r[id] == member)
            .unwrap_or_else(|| panic!("{member} in {csv}"))
            .clone()
    };
    let evil = row("'=HYPERLINK(\"http://evil\",\"x\")");
    assert_eq!(
        (evil[tier].as_str(), evil[region].as_str()),
        ("'+cmd", "'@SUM(1)")
    );
    assert_eq!(row("'-2+3")[tier], "gold");
    let plain = row("plain");
    assert_eq!(
        (plain[tier].as_str(), plain[region].as_str()),
        ("'=1+1", "-5"),
        "a number is left as it is"
    );
}
both!(csv_exports_neutralise_formula_cells);

/// Percent-encodes a path segment (the member ids above hold quotes and commas).
fn urlencoding(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A merchant key may not set a platform share, target the platform's segments or read the
/// coupon center of any member.
async fn merchants_neither_spend_the_platforms_money_nor_read_its_members(backend: Backend) {
    let app = TestApp::start(backend).await;
    let merchant = app.key("merchant", &["s1"], None).await;
    let store_coupon = |edits: Value| {
        let mut t = common::template(json!({
            "scope": {"kind": "store", "store_id": "s1"},
            "funding": {"platform_bp": 0, "merchant_bp": 10000},
        }));
        for (k, v) in edits.as_object().unwrap() {
            t[k] = v.clone();
        }
        t
    };
    let (st, b) = as_key(
        &app,
        &merchant,
        "POST",
        "/v1/templates",
        store_coupon(json!({"funding": {"platform_bp": 10000, "merchant_bp": 0}})),
    )
    .await;
    assert_eq!(
        (st, code(&b), field(&b)),
        (403, "forbidden", "funding.platform_bp")
    );
    let (st, b) = as_key(
        &app,
        &merchant,
        "POST",
        "/v1/templates",
        store_coupon(json!({"audience": {"kind": "segment", "segment_id": "vip"}})),
    )
    .await;
    assert_eq!(
        (st, code(&b), field(&b)),
        (403, "forbidden", "audience.segment_id")
    );
    let (st, b) = as_key(
        &app,
        &merchant,
        "POST",
        "/v1/templates",
        store_coupon(json!({})),
    )
    .await;
    assert_eq!(
        st, 201,
        "a merchant-funded store coupon is the merchant's to make: {b}"
    );
    // The platform may still fund a store's coupon.
    let (st, _) = app
        .post(
            "/v1/templates",
            store_coupon(json!({"funding": {"platform_bp": 5000, "merchant_bp": 5000}})),
        )
        .await;
    assert_eq!(st, 201);
    let (st, b) = app
        .call("GET", "/v1/center?user_id=u1", Some(&merchant), None, &[])
        .await;
    assert_eq!((st, code(&b)), (403, "forbidden"));
}
both!(merchants_neither_spend_the_platforms_money_nor_read_its_members);

/// A store guide grants only its stores' `service_only` templates, through the store guide
/// channel; other coupons reach members through its tasks.
async fn guides_grant_only_service_coupons_through_their_channel(backend: Backend) {
    let app = TestApp::start(backend).await;
    let store = json!({"scope": {"kind": "store", "store_id": "s1"},
        "funding": {"platform_bp": 0, "merchant_bp": 10000}});
    let mut public = store.clone();
    public["distribution"] = json!(["public"]);
    let public = app.active(public).await;
    let mut service = store.clone();
    service["distribution"] = json!(["service_only"]);
    let service = app.active(service).await;
    let guide = app.key("guide", &["s1"], Some("g1")).await;
    let grant = |t: &str| format!("/v1/templates/{t}/grant");

    let (st, b) = as_key(
        &app,
        &guide,
        "POST",
        &grant(&public),
        json!({"user_id": "u1"}),
    )
    .await;
    assert_eq!((st, code(&b), field(&b)), (403, "forbidden", "template_id"));
    let (st, b) = as_key(
        &app,
        &guide,
        "POST",
        &grant(&service),
        json!({"user_id": "u1", "channel": "app"}),
    )
    .await;
    assert_eq!((st, code(&b), field(&b)), (403, "forbidden", "channel"));
    let (st, b) = as_key(
        &app,
        &guide,
        "POST",
        &grant(&service),
        json!({"user_id": "u1"}),
    )
    .await;
    assert_eq!(st, 201, "{b}");
    let (_, w) = app.get("/v1/users/u1/coupons").await;
    assert_eq!(w["total"], 1, "only the service coupon was granted: {w}");
    // Customer service (an operator) still grants public coupons.
    let (st, _) = app.post(&grant(&public), json!({"user_id": "u1"})).await;
    assert_eq!(st, 201);
}
both!(guides_grant_only_service_coupons_through_their_channel);

/// After a refund gives a redeemed coupon back, the dashboard's period and cumulative used
/// counts agree.
async fn a_refund_takes_a_use_back_from_the_period_too(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = app.active(json!({"name": "refunded"})).await;
    let (st, c) = app.claim(&t, json!({"user_id": "u1"})).await;
    assert_eq!(st, 201, "{c}");
    let line = json!({"line_id": "a", "sku": "a", "store_id": "s1", "unit_price": 5000, "qty": 1});
    let (st, o) = app
        .post(
            "/v1/orders",
            json!({"order_id": "o1", "user_id": "u1", "lines": [line], "coupon_ids": [c["coupon_id"]]}),
        )
        .await;
    assert_eq!(st, 201, "{o}");
    assert_eq!(app.post("/v1/orders/o1/pay", json!({})).await.0, 200);
    let used = |d: &Value| {
        let row = d["templates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "refunded")
            .unwrap()
            .clone();
        (row["used"].as_i64(), row["period"]["used"].as_i64())
    };
    app.set_now("2026-03-02T02:01:00Z").await;
    let (_, d) = app.get("/v1/dashboard").await;
    assert_eq!(used(&d), (Some(1), Some(1)));
    let (st, r) = app
        .post(
            "/v1/orders/o1/refund",
            json!({"lines": [{"line_id": "a", "qty": 1}]}),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    app.set_now("2026-03-02T02:02:00Z").await;
    let (_, d) = app.get("/v1/dashboard").await;
    assert_eq!(used(&d), (Some(0), Some(0)), "{d}");
}
both!(a_refund_takes_a_use_back_from_the_period_too);

/// Another process on the same database: its own use cases (and its own key cache).
async fn second_process(app: &TestApp) -> quan_app::App {
    app.another_process(Default::default()).await
}

/// Keys are listed without secrets, expire when they say, and a revoked key answers 401 in
/// every process on the database within a second.
async fn keys_expire_and_are_revoked_everywhere(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (st, b) = app
        .post(
            "/v1/keys",
            json!({"role": "merchant", "store_ids": ["s1"], "expires_at": "2026-03-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(
        (st, code(&b), field(&b)),
        (422, "invalid_value", "expires_at")
    );
    let (st, short) = app
        .post(
            "/v1/keys",
            json!({"role": "merchant", "store_ids": ["s1"], "expires_at": "2026-03-03T00:00:00Z"}),
        )
        .await;
    assert_eq!(st, 201, "{short}");
    let short_key = short["key"].as_str().unwrap().to_string();
    let merchant = app.key("merchant", &["s1"], None).await;
    let templates = |key: String| {
        let app = &app;
        async move {
            app.call("GET", "/v1/templates", Some(&key), None, &[])
                .await
                .0
        }
    };
    assert_eq!(templates(short_key.clone()).await, 200);
    app.set_now("2026-03-03T00:00:00Z").await;
    assert_eq!(templates(short_key.clone()).await, 401, "expired");

    let (st, list) = app.get("/v1/keys").await;
    assert_eq!(st, 200);
    let items = list["items"].as_array().unwrap();
    assert!(
        items.iter().all(|k| k.get("key").is_none()),
        "no secrets: {list}"
    );
    let listed = items.iter().find(|k| k["id"] == short["id"]).unwrap();
    assert_eq!(listed["active"], false);
    let (st, _) = app
        .call("GET", "/v1/keys", Some(&merchant), None, &[])
        .await;
    assert_eq!(st, 403);

    // Revocation: this process and another one both refuse the key within a second.
    let other = second_process(&app).await;
    assert!(other.principal(&merchant).await.unwrap().is_some());
    assert_eq!(templates(merchant.clone()).await, 200);
    let merchant_id = items
        .iter()
        .find(|k| k["id"] != short["id"] && k["role"] == "merchant")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (st, revoked) = app
        .post(&format!("/v1/keys/{merchant_id}/revoke"), json!({}))
        .await;
    assert_eq!(
        (st, revoked["active"].as_bool()),
        (200, Some(false)),
        "{revoked}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
    assert_eq!(templates(merchant.clone()).await, 401);
    assert!(other.principal(&merchant).await.unwrap().is_none());
    let (st, again) = app
        .post(&format!("/v1/keys/{merchant_id}/revoke"), json!({}))
        .await;
    assert_eq!(
        (st, &again["revoked_at"]),
        (200, &revoked["revoked_at"]),
        "revoked as of the first revocation"
    );
    let (st, _) = app.post("/v1/keys/key_nope/revoke", json!({})).await;
    assert_eq!(st, 404);

    // The last usable platform key is never revoked: no one would be left to operate.
    let admin_id = items.iter().find(|k| k["role"] == "platform").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (st, b) = app
        .post(&format!("/v1/keys/{admin_id}/revoke"), json!({}))
        .await;
    assert_eq!((st, code(&b)), (409, "invalid_state"), "{b}");
    let operator = app.key("platform", &[], None).await;
    let (st, _) = app
        .post(&format!("/v1/keys/{admin_id}/revoke"), json!({}))
        .await;
    assert_eq!(st, 200, "another platform key exists now");
    tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
    assert_eq!(app.get("/v1/keys").await.0, 401);
    let (st, _) = app
        .call("GET", "/v1/keys", Some(&operator), None, &[])
        .await;
    assert_eq!(st, 200);
}
both!(keys_expire_and_are_revoked_everywhere);

/// The bootstrap platform key happens once per database: a key given by `QUAN_ADMIN_KEY`
/// keeps working on every later start, with or without the variable, and no start mints a
/// second key.
async fn the_admin_key_survives_restarts(backend: Backend) {
    let app = TestApp::start(backend).await;
    // A restart without the variable: nothing minted, the given key still works.
    let restart = second_process(&app).await;
    assert_eq!(restart.bootstrap_admin(None).await.unwrap(), None);
    assert!(restart.principal(common::ADMIN).await.unwrap().is_some());
    // A restart with another key: both work.
    let again = second_process(&app).await;
    assert_eq!(
        again
            .bootstrap_admin(Some("another-admin-key-0123"))
            .await
            .unwrap(),
        None
    );
    assert!(again.principal(common::ADMIN).await.unwrap().is_some());
    assert!(again
        .principal("another-admin-key-0123")
        .await
        .unwrap()
        .is_some());

    // A fresh database started without the variable mints one key, once.
    let (url, _dir) = common::fresh_database(backend).await;
    let start = || common::process_on(&url, app.clock.clone(), Default::default());
    let first = start().await;
    let minted = first
        .bootstrap_admin(None)
        .await
        .unwrap()
        .expect("minted once");
    let later = start().await;
    assert_eq!(
        later.bootstrap_admin(None).await.unwrap(),
        None,
        "never a second"
    );
    let admin = later
        .principal(&minted)
        .await
        .unwrap()
        .expect("the minted key works");
    assert_eq!(admin.role, quan_core::access::Role::Platform);
}
both!(the_admin_key_survives_restarts);

/// Every text of a template follows the one free-text rule (no control characters, no
/// bidirectional overrides), and a description is at most 2,000 bytes.
async fn template_texts_follow_the_text_rule(backend: Backend) {
    let app = TestApp::start(backend).await;
    for (edits, want_code, want_field) in [
        (json!({"name": "coupon\u{0}"}), "invalid_value", "name"),
        (
            json!({"name": "gift \u{202E}gnp.exe"}),
            "invalid_value",
            "name",
        ),
        (
            json!({"description": "x".repeat(2001)}),
            "too_large",
            "description",
        ),
        (
            json!({"description": "a\u{7}b"}),
            "invalid_value",
            "description",
        ),
        (
            json!({"regions": ["sh", "b\u{1b}[31m"]}),
            "invalid_value",
            "regions[1]",
        ),
        (
            json!({"scope": {"kind": "platform", "categories": ["milk\u{2066}"]}}),
            "invalid_value",
            "scope.categories[0]",
        ),
    ] {
        let (st, b) = app
            .post("/v1/templates", common::template(edits.clone()))
            .await;
        assert_eq!(
            (st, code(&b), field(&b)),
            (422, want_code, want_field),
            "{edits}: {b}"
        );
    }
    let (st, b) = app
        .post(
            "/v1/templates",
            common::template(json!({"description": "第一行\n第二行：满99减10"})),
        )
        .await;
    assert_eq!(st, 201, "a description may break lines: {b}");
}
both!(template_texts_follow_the_text_rule);

/// Reports have a budget of their own: while eight dashboards run (a merchant's and the
/// platform's, over twenty thousand claim codes), `/healthz` and a customer's wallet each
/// answer within a second; a merchant's dashboard reads only its own templates.
async fn reports_never_hold_the_read_path(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = app.active(json!({"stock": null})).await;
    let (st, job) = app
        .post(
            &format!("/v1/templates/{t}/claim-codes"),
            json!({"count": 20_000}),
        )
        .await;
    assert_eq!(st, 202, "{job}");
    let job_id = job["job_id"].as_str().unwrap().to_string();
    for _ in 0..600 {
        let (_, j) = app.get(&format!("/v1/jobs/{job_id}")).await;
        if j["status"] == "succeeded" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(app.template(&t).await["issued"], 20_000);
    let (st, _) = app.claim(&t, json!({"user_id": "u1"})).await;
    assert_eq!(st, 201);
    let merchant = app.key("merchant", &["s9"], None).await;
    let (_, own) = app
        .call("GET", "/v1/dashboard", Some(&merchant), None, &[])
        .await;
    assert_eq!(own["templates"], json!([]), "none of s9's: {own}");

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut reports = Vec::new();
    for i in 0..8 {
        let (http, url, stop) = (app.http.clone(), app.url.clone(), stop.clone());
        let key = if i % 2 == 0 {
            merchant.clone()
        } else {
            ADMIN.to_string()
        };
        reports.push(tokio::spawn(async move {
            let mut runs = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let res = http
                    .get(format!("{url}/v1/dashboard?days=366"))
                    .bearer_auth(&key)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status().as_u16(), 200);
                runs += 1;
            }
            runs
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    for _ in 0..5 {
        for path in ["/healthz", "/v1/users/u1/coupons"] {
            let started = std::time::Instant::now();
            let (st, b) = app.get(path).await;
            assert_eq!(st, 200, "{path}: {b}");
            assert!(
                started.elapsed() < std::time::Duration::from_secs(1),
                "{path} took {:?} while dashboards ran",
                started.elapsed()
            );
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for r in reports {
        assert!(r.await.unwrap() > 0);
    }
}
both!(reports_never_hold_the_read_path);

/// `quan bench claim` refuses a service with data of its own unless told, and otherwise claims
/// as synthetic `bench-u…` users and ends its template when done.
async fn the_claim_bench_keeps_to_its_own_data(backend: Backend) {
    let app = TestApp::start(backend).await;
    let bench = |extra: &[&str]| {
        let mut args = vec![
            "bench",
            "claim",
            "--url",
            &app.url,
            "--key",
            ADMIN,
            "--connections",
            "2",
            "--claims",
            "20",
            "--users",
            "5",
            "--warmup",
            "1",
        ];
        args.extend_from_slice(extra);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_quan"))
            .args(&args)
            .env("RUST_LOG", "warn")
            .output()
            .expect("run quan bench");
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.success(), text)
    };
    let (ok, out) = bench(&[]);
    assert!(ok, "a fresh service: {out}");
    let (_, templates) = app.get("/v1/templates").await;
    let t = &templates["items"][0];
    assert_eq!(t["status"], "ended", "{templates}");
    let (_, w) = app.get("/v1/users/bench-u1/coupons").await;
    assert!(w["total"].as_i64().unwrap() > 0, "{w}");

    let (ok, out) = bench(&[]);
    assert!(!ok && out.contains("--on-live-data"), "{out}");
    let (ok, out) = bench(&["--on-live-data"]);
    assert!(ok, "{out}");
}
both!(the_claim_bench_keeps_to_its_own_data);

/// Times are accepted from 1970 to before 2100: a year outside is refused with its field (not
/// stored, not carried into date arithmetic), wherever the time sits in the body.
async fn times_outside_the_accepted_years_are_refused(backend: Backend) {
    let app = TestApp::start(backend).await;
    let order = |paid_at: &str| {
        json!({"user_id": "u1", "paid_at": paid_at, "status": "paid",
            "lines": [{"line_id": "1", "sku": "milk", "store_id": "s1", "qty": 1, "amount": 500}]})
    };
    for (method, path, body, want_field) in [
        (
            "PUT",
            "/v1/orders/o1",
            order("2100-01-01T00:00:00Z"),
            "paid_at",
        ),
        (
            "PUT",
            "/v1/orders/o1",
            order("0001-01-01T00:00:00Z"),
            "paid_at",
        ),
        (
            "POST",
            "/v1/events",
            json!({"event_id": "e1", "user_id": "u1", "kind": "signup", "at": "0001-01-01T00:00:00Z"}),
            "at",
        ),
        (
            "POST",
            "/v1/keys",
            json!({"role": "customer", "user_id": "u1", "expires_at": "9999-12-31T23:59:59Z"}),
            "expires_at",
        ),
        (
            "POST",
            "/v1/templates",
            common::template(json!({"validity": {"kind": "fixed",
                "valid_from": "2026-03-01T00:00:00Z", "valid_until": "9999-12-31T00:00:00Z"}})),
            "validity.valid_until",
        ),
    ] {
        let (st, b) = app.call(method, path, Some(ADMIN), Some(body), &[]).await;
        assert_eq!(
            (st, code(&b), field(&b)),
            (422, "invalid_value", want_field),
            "{method} {path}: {b}"
        );
    }
    let (st, b) = put(&app, "/v1/orders/o1", order("2099-12-31T23:59:59Z")).await;
    assert!(st == 200 || st == 201, "the last accepted second: {b}");
    let (st, _) = app.get("/v1/members/u1").await;
    assert_eq!(st, 200);
    // A time in a query string follows the same range.
    let (st, _) = put(
        &app,
        "/v1/segments/all-u",
        json!({"name": "u", "rule": {"kind": "orders", "min": 1}}),
    )
    .await;
    assert!(st == 200 || st == 201);
    for path in [
        "/v1/members/u1?as_of=9999-01-01T00:00:00Z",
        "/v1/segments/all-u?as_of=0001-01-01T00:00:00Z",
        "/v1/segments/all-u/members?as_of=2100-01-01T00:00:00Z",
        "/v1/segments/all-u/members.csv?as_of=1969-12-31T23:59:59Z",
    ] {
        let (st, b) = app.get(path).await;
        assert_eq!(
            (st, code(&b), field(&b)),
            (422, "invalid_value", "as_of"),
            "{path}: {b}"
        );
    }
}
both!(times_outside_the_accepted_years_are_refused);
