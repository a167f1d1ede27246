//! What members reach before claiming, on both backends: a signed link's public terms (no key),
//! whether the calling customer may claim with it, short links that redirect until their link
//! expires, and the coupon center decided per member without claiming anything.

use crate::common;

use common::{code, field, Backend, TestApp, ADMIN};
use serde_json::{json, Value};

/// A client that does not follow redirects (a short link's answer is the redirect itself).
fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn link_terms_and_short_links(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = app
        .active(json!({
            "name": "满99减10",
            "benefit": {"kind": "reduction", "threshold": 9900, "off": 1000},
            "audience": {"kind": "users", "user_ids": ["vip-1", "vip-2"]},
            "distribution": ["link_only"], "stock": 10,
            "funding": {"platform_bp": 4000, "merchant_bp": 6000, "supplier_bp": 0},
        }))
        .await;
    let (st, l) = app
        .post(
            &format!("/v1/templates/{t}/links"),
            json!({"expires_at": "2026-03-03T02:00:00Z"}),
        )
        .await;
    assert_eq!(st, 201, "{l}");
    let link = l["link"].as_str().unwrap();
    let short = l["short_url"].as_str().unwrap();
    let short_code = short.strip_prefix(&format!("{}/s/", app.url)).unwrap();
    assert_eq!(short_code.len(), 7, "{short}");
    assert!(short_code.bytes().all(|b| b.is_ascii_alphanumeric()));

    // The link's terms, with no key: what a member may see and nothing else.
    let (st, v) = app
        .call("GET", &format!("/v1/links/{link}"), None, None, &[])
        .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        (v["template_id"].as_str(), v["expired"].as_bool()),
        (Some(&*t), Some(false))
    );
    assert_eq!(v["template"]["benefit"]["threshold"], 9900);
    assert_eq!(v["template"]["remaining"], 10);
    for private in [
        "audience",
        "funding",
        "issued",
        "claimed",
        "used",
        "face_value",
    ] {
        assert!(
            v["template"].get(private).is_none(),
            "{private} is not public: {v}"
        );
    }
    let forged = format!("{}x", link);
    let (st, e) = app
        .call("GET", &format!("/v1/links/{forged}"), None, None, &[])
        .await;
    assert_eq!((st, code(&e), field(&e)), (404, "not_found", "link"));
    let (st, _) = app
        .call("GET", "/v1/links/not-a-link", None, None, &[])
        .await;
    assert_eq!(st, 404);

    // The short link redirects to the link's claim page.
    let client = no_redirects();
    let res = client.get(short).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(
        res.headers()["location"].to_str().unwrap(),
        l["url"].as_str().unwrap()
    );
    for unknown in ["zzzzzzz", "abc", "toolongcode", "a%2Fb"] {
        let res = client
            .get(format!("{}/s/{unknown}", app.url))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 404, "{unknown}");
        assert!(
            res.text().await.unwrap().contains("<html"),
            "the page that says so"
        );
    }

    // Past its expiry, the link still shows its coupon (marked expired) and the short link is
    // gone.
    app.set_now("2026-03-03T02:00:00Z").await;
    let (_, v) = app
        .call("GET", &format!("/v1/links/{link}"), None, None, &[])
        .await;
    assert_eq!(v["expired"], true);
    let res = client.get(short).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 404);
}
both!(link_terms_and_short_links);

async fn center_decides_for_the_member(backend: Backend) {
    let app = TestApp::start(backend).await;
    let open = app.active(json!({"name": "open"})).await;
    let once = app
        .active(json!({"name": "once", "per_user_limit": 1}))
        .await;
    let rare = app.active(json!({"name": "rare", "stock": 1})).await;
    let newcomers = app
        .active(json!({"name": "new", "audience": {"kind": "new"}}))
        .await;
    let hidden = app.active(json!({"distribution": ["link_only"]})).await;
    let draft = app.draft(json!({"name": "draft"})).await;
    let store = app
        .active(
            json!({"name": "s2 only", "scope": {"kind": "store", "store_id": "s2"},
            "funding": {"platform_bp": 0, "merchant_bp": 10000}}),
        )
        .await;
    let claim = |t: &str, u: &str| {
        let body = json!({"user_id": u});
        let path = format!("/v1/templates/{t}/claim");
        let app = &app;
        async move { app.post(&path, body).await }
    };
    assert_eq!(claim(&once, "m1").await.0, 201);
    assert_eq!(claim(&rare, "other").await.0, 201);
    app.call(
        "PUT",
        "/v1/orders/o1",
        Some(ADMIN),
        Some(
            json!({"user_id": "m1", "paid_at": "2026-03-01T00:00:00Z", "status": "paid",
            "lines": [{"line_id": "1", "sku": "a", "store_id": "s1", "qty": 1, "amount": 500}]}),
        ),
        &[],
    )
    .await;

    let m1 = app.key("customer", &[], Some("m1")).await;
    let (st, page) = app.call("GET", "/v1/center", Some(&m1), None, &[]).await;
    assert_eq!(st, 200, "{page}");
    let got: Vec<(String, String)> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["template"]["id"].as_str().unwrap().to_string(),
                i["reason"].to_string(),
            )
        })
        .collect();
    let want = |t: &str, reason: Value| (t.to_string(), reason.to_string());
    let mut expected = vec![
        want(&open, Value::Null),
        want(&once, json!("user_limit")),
        want(&rare, json!("out_of_stock")),
        want(&newcomers, json!("not_in_audience")),
        want(&store, Value::Null),
    ];
    expected.sort();
    assert_eq!(
        got, expected,
        "link_only and drafts are not listed: {hidden} {draft}"
    );
    assert_eq!(page["total"], 5);
    let claimable: Vec<bool> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["claimable"].as_bool().unwrap())
        .collect();
    assert_eq!(claimable.iter().filter(|c| **c).count(), 2);
    assert_eq!(
        app.template(&open).await["issued"],
        0,
        "nothing was claimed"
    );

    // Pages of two walk the same list.
    let (_, first) = app
        .call("GET", "/v1/center?limit=2", Some(&m1), None, &[])
        .await;
    let next = first["next"].as_str().unwrap();
    let (_, second) = app
        .call(
            "GET",
            &format!("/v1/center?limit=2&cursor={next}"),
            Some(&m1),
            None,
            &[],
        )
        .await;
    assert_eq!(second["items"][0]["template"]["id"], expected[2].0.as_str());

    // A customer sees its own center only; operators name the member; a merchant none: the
    // center decides with the member's tier, segments and claims, which are not a merchant's.
    let (st, e) = app
        .call("GET", "/v1/center?user_id=m2", Some(&m1), None, &[])
        .await;
    assert_eq!((st, field(&e)), (403, "user_id"));
    let (st, e) = app.get("/v1/center").await;
    assert_eq!((st, code(&e), field(&e)), (400, "missing_field", "user_id"));
    let (_, fresh) = app.get("/v1/center?user_id=m9").await;
    assert_eq!(fresh["items"][3]["reason"], Value::Null, "m9 is new");
    let merchant = app.key("merchant", &["s2"], None).await;
    let (st, _) = app
        .call("GET", "/v1/center?user_id=m1", Some(&merchant), None, &[])
        .await;
    assert_eq!(st, 403);
    let (st, _) = app.call("GET", "/v1/center", None, None, &[]).await;
    assert_eq!(st, 401);
}
both!(center_decides_for_the_member);

/// `GET /v1/links/{link}` answers, for a customer's key, whether that customer's claim with the
/// link would be accepted, as the claim decides it; for no key or an operator's, that it cannot
/// know (`claimable: null`). Nothing is claimed by asking.
async fn link_says_whether_the_caller_may_claim(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = app
        .active(json!({
            "audience": {"kind": "users", "user_ids": ["vip-1", "vip-2", "vip-3"]},
            "distribution": ["link_only"], "stock": 2, "per_user_limit": 1,
            "channels": ["app"],
        }))
        .await;
    let (_, l) = app
        .post(
            &format!("/v1/templates/{t}/links"),
            json!({"expires_at": "2026-03-03T02:00:00Z"}),
        )
        .await;
    let link = l["link"].as_str().unwrap().to_string();
    let (_, bound) = app
        .post(
            &format!("/v1/templates/{t}/links"),
            json!({"user_id": "vip-2"}),
        )
        .await;
    let bound = bound["link"].as_str().unwrap().to_string();
    let ask = |key: Option<String>, link: String, query: &'static str| {
        let app = &app;
        async move {
            let (st, v) = app
                .call(
                    "GET",
                    &format!("/v1/links/{link}{query}"),
                    key.as_deref(),
                    None,
                    &[],
                )
                .await;
            assert_eq!(st, 200, "{v}");
            (v["claimable"].clone(), v["reason"].clone())
        }
    };
    let decided = |ok: bool, reason: Value| (json!(ok), reason);
    let unknown = (Value::Null, Value::Null);

    let vip1 = app.key("customer", &[], Some("vip-1")).await;
    let vip2 = app.key("customer", &[], Some("vip-2")).await;
    let outsider = app.key("customer", &[], Some("someone")).await;
    assert_eq!(ask(None, link.clone(), "?channel=app").await, unknown);
    assert_eq!(
        ask(Some(ADMIN.into()), link.clone(), "?channel=app").await,
        unknown,
        "an operator's key is no member"
    );
    assert_eq!(
        ask(Some(vip1.clone()), link.clone(), "?channel=app").await,
        decided(true, Value::Null)
    );
    assert_eq!(
        ask(Some(vip1.clone()), link.clone(), "").await,
        decided(false, json!("channel_not_allowed")),
        "the channel the page says is the claim's"
    );
    assert_eq!(
        ask(Some(outsider), link.clone(), "?channel=app").await,
        decided(false, json!("not_in_audience"))
    );
    assert_eq!(
        ask(Some(vip1.clone()), bound.clone(), "?channel=app").await,
        decided(false, json!("invalid_link")),
        "a link bound to another member"
    );
    assert_eq!(
        ask(Some(vip2.clone()), bound.clone(), "?channel=app").await,
        decided(true, Value::Null)
    );
    assert_eq!(app.template(&t).await["issued"], 0, "asking claims nothing");

    // After a claim the answer follows the same book: the member's limit, then the stock.
    let (st, c) = app
        .call(
            "POST",
            &format!("/v1/templates/{t}/claim"),
            Some(&vip1),
            Some(json!({"user_id": "vip-1", "link": link, "channel": "app"})),
            &[],
        )
        .await;
    assert_eq!(st, 201, "{c}");
    assert_eq!(
        ask(Some(vip1.clone()), link.clone(), "?channel=app").await,
        decided(false, json!("user_limit"))
    );
    let (st, _) = app
        .claim(
            &t,
            json!({"user_id": "vip-3", "link": link, "channel": "app"}),
        )
        .await;
    assert_eq!(st, 201);
    assert_eq!(
        ask(Some(vip2.clone()), link.clone(), "?channel=app").await,
        decided(false, json!("out_of_stock"))
    );

    // An expired link refuses everyone; an unknown key is refused, not taken for no key.
    app.set_now("2026-03-03T02:00:00Z").await;
    let (st, v) = app
        .call(
            "GET",
            &format!("/v1/links/{link}?channel=app"),
            Some(&vip2),
            None,
            &[],
        )
        .await;
    assert_eq!((st, &v["expired"]), (200, &json!(true)));
    assert_eq!(v["reason"], "invalid_link");
    let (st, e) = app
        .call("GET", &format!("/v1/links/{link}"), Some("nope"), None, &[])
        .await;
    assert_eq!((st, code(&e)), (401, "unauthorized"));
}
both!(link_says_whether_the_caller_may_claim);
