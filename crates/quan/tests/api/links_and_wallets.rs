//! Links, claim codes and wallets over HTTP on both backends: grants, revokes and the ledger.

use crate::common;

use common::{code, field, Backend, TestApp, ADMIN};
use serde_json::{json, Value};

fn user(u: &str) -> Value {
    json!({"user_id": u, "channel": "app", "region": "44-03"})
}

async fn signed_links_and_claim_codes(backend: Backend) {
    let app = TestApp::start(backend).await;
    let hidden = app
        .active(json!({"distribution": ["link_only", "member_only"], "stock": 5}))
        .await;
    let other = app.active(json!({"distribution": ["link_only"]})).await;
    for m in ["m1", "m2", "m3"] {
        app.call(
            "PUT",
            &format!("/v1/members/{m}"),
            Some(ADMIN),
            Some(json!({})),
            &[],
        )
        .await;
    }
    let (st, l) = app
        .post(
            &format!("/v1/templates/{hidden}/links"),
            json!({"expires_at": "2026-03-09T00:00:00Z"}),
        )
        .await;
    assert_eq!(st, 201, "{l}");
    let link = l["link"].as_str().unwrap().to_string();
    assert!(l["url"].as_str().unwrap().contains(&link));
    let with = |u: &str, link: &str| json!({"user_id": u, "channel": "sms", "link": link});
    assert_eq!(app.claim(&hidden, with("m1", &link)).await.0, 201);
    assert_eq!(
        code(&app.claim(&hidden, with("outsider", &link)).await.1),
        "route_not_allowed",
        "member_only still holds"
    );
    assert_eq!(
        code(&app.claim(&other, with("m2", &link)).await.1),
        "invalid_link",
        "a link opens only its template"
    );
    let (payload, sig) = link.split_once('.').unwrap();
    let mut bytes = payload.as_bytes().to_vec();
    bytes[3] = if bytes[3] == b'A' { b'B' } else { b'A' };
    let tampered = format!("{}.{sig}", String::from_utf8(bytes).unwrap());
    assert_eq!(
        code(&app.claim(&hidden, with("m2", &tampered)).await.1),
        "invalid_link"
    );
    let (_, bound) = app
        .post(
            &format!("/v1/templates/{hidden}/links"),
            json!({"user_id": "m3"}),
        )
        .await;
    let bound = bound["link"].as_str().unwrap();
    assert_eq!(
        code(&app.claim(&hidden, with("m2", bound)).await.1),
        "invalid_link",
        "a link bound to one user"
    );
    assert_eq!(app.claim(&hidden, with("m3", bound)).await.0, 201);
    app.set_now("2026-03-09T00:00:00Z").await;
    assert_eq!(
        code(&app.claim(&hidden, with("m2", &link)).await.1),
        "invalid_link",
        "expired"
    );
    let (st, b) = app
        .post(
            &format!("/v1/templates/{hidden}/links"),
            json!({"expires_at": "2026-03-01T00:00:00Z"}),
        )
        .await;
    assert_eq!((st, field(&b)), (422, "expires_at"));

    // Claim codes take stock when made, and each works once.
    let (st, c) = app
        .post(
            &format!("/v1/templates/{hidden}/claim-codes"),
            json!({"count": 2}),
        )
        .await;
    assert_eq!(st, 201, "{c}");
    let codes: Vec<String> = c["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    let t = app.template(&hidden).await;
    assert_eq!(
        (
            t["issued"].as_i64(),
            t["claimed"].as_i64(),
            t["remaining"].as_i64()
        ),
        (Some(4), Some(2), Some(1))
    );
    let (st, b) = app
        .post(
            &format!("/v1/templates/{hidden}/claim-codes"),
            json!({"count": 2}),
        )
        .await;
    assert_eq!((st, code(&b)), (409, "out_of_stock"));
    let by_code = |u: &str, c: &str| json!({"user_id": u, "channel": "app", "claim_code": c});
    assert_eq!(
        app.claim(&hidden, by_code("m2", &codes[0].to_lowercase()))
            .await
            .0,
        201,
        "codes read case-insensitively"
    );
    assert_eq!(
        code(&app.claim(&hidden, by_code("m1", &codes[0])).await.1),
        "invalid_link",
        "used"
    );
    assert_eq!(
        code(&app.claim(&other, by_code("m1", &codes[1])).await.1),
        "invalid_link",
        "another template's code"
    );
    let t = app.template(&hidden).await;
    assert_eq!(
        (
            t["issued"].as_i64(),
            t["claimed"].as_i64(),
            t["remaining"].as_i64()
        ),
        (Some(4), Some(3), Some(1))
    );
}
both!(signed_links_and_claim_codes);

async fn wallets_codes_and_the_ledger(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = app.active(json!({})).await;
    let s = app.active(json!({"distribution": ["service_only"]})).await;
    let mut codes = std::collections::HashSet::new();
    let mut ids = Vec::new();
    for _ in 0..5 {
        let (st, c) = app.claim(&t, user("u1")).await;
        assert_eq!(st, 201);
        let code = c["code"].as_str().unwrap().to_string();
        assert_eq!(code.len(), 18);
        assert!(!code.contains(c["coupon_id"].as_str().unwrap()));
        codes.insert(code);
        ids.push(c["coupon_id"].as_str().unwrap().to_string());
    }
    assert_eq!(codes.len(), 5, "every coupon has its own code");
    let guide = app.key("guide", &["s1"], Some("g1")).await;
    let (st, b) = app
        .call(
            "POST",
            &format!("/v1/templates/{s}/grant"),
            Some(&guide),
            Some(json!({"user_id": "u1"})),
            &[],
        )
        .await;
    assert_eq!(
        (st, code(&b)),
        (404, "not_found"),
        "a guide grants its own stores' coupons only"
    );
    let (st, g) = app
        .post(
            &format!("/v1/templates/{s}/grant"),
            json!({"user_id": "u1"}),
        )
        .await;
    assert_eq!(st, 201);
    let (st, r) = app
        .post(
            &format!("/v1/coupons/{}/revoke", ids[0]),
            json!({"reason": "fraud check"}),
        )
        .await;
    assert_eq!((st, r["status"].as_str()), (200, Some("revoked")));
    let (st, b) = app
        .post(
            &format!("/v1/coupons/{}/revoke", ids[0]),
            json!({"reason": "again"}),
        )
        .await;
    assert_eq!((st, code(&b)), (409, "invalid_state"));
    let events = |d: &Value| {
        d["ledger"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["event"].as_str().unwrap().to_string(),
                    e["to_status"].as_str().unwrap().to_string(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        events(&r),
        [
            ("claimed".to_string(), "claimed".to_string()),
            ("revoked".into(), "revoked".into())
        ]
    );
    assert_eq!(r["ledger"][1]["reason"], "fraud check");
    assert!(
        r["ledger"][1]["actor"]
            .as_str()
            .is_some_and(|a| a.starts_with("admin-")),
        "the bootstrap key's id: {r}"
    );
    let (_, gd) = app
        .get(&format!("/v1/coupons/{}", g["coupon_id"].as_str().unwrap()))
        .await;
    assert_eq!(
        events(&gd),
        [("granted".to_string(), "claimed".to_string())]
    );
    let (_, w) = app.get("/v1/users/u1/coupons").await;
    assert_eq!(w["total"], 6);
    let (_, w) = app.get("/v1/users/u1/coupons?status=revoked").await;
    assert_eq!(w["total"], 1);
    let (_, w) = app.get("/v1/users/u1/coupons?status=claimed&limit=2").await;
    assert_eq!(
        (w["total"].as_i64(), w["items"].as_array().unwrap().len()),
        (Some(5), 2)
    );
    assert!(w["next"].is_string());
    // Every change is in the ledger: 6 claims or grants and 1 revocation.
    assert_eq!(app.store.ledger_count().await.unwrap(), 7);
    let customer = app.key("customer", &[], Some("u1")).await;
    let (st, own) = app
        .call("GET", "/v1/users/u1/coupons", Some(&customer), None, &[])
        .await;
    assert_eq!((st, own["total"].as_i64()), (200, Some(6)));
    let (st, c) = app
        .call(
            "POST",
            &format!("/v1/templates/{t}/claim"),
            Some(&customer),
            Some(user("u1")),
            &[],
        )
        .await;
    assert_eq!(st, 201, "a customer claims for itself: {c}");
}
both!(wallets_codes_and_the_ledger);
