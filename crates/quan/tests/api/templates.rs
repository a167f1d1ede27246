//! Templates over HTTP on both backends: lifecycle and editing, lists and pages, isolation.

use crate::common;

use common::{code, field, template, Backend, TestApp, ADMIN};
use serde_json::json;

async fn lifecycle_and_editing(backend: Backend) {
    let app = TestApp::start(backend).await;
    let id = app.draft(json!({"stock": 5})).await;
    let t = app.template(&id).await;
    assert_eq!(
        (
            t["status"].as_str(),
            t["issued"].as_i64(),
            t["claimed"].as_i64(),
            t["used"].as_i64()
        ),
        (Some("draft"), Some(0), Some(0), Some(0))
    );
    assert_eq!(t["remaining"], 5);
    let (st, b) = app
        .call(
            "PUT",
            &format!("/v1/templates/{id}"),
            Some(ADMIN),
            Some(template(json!({"name": "renamed", "stock": 7}))),
            &[],
        )
        .await;
    assert_eq!(
        (st, b["name"].as_str(), b["remaining"].as_i64()),
        (200, Some("renamed"), Some(7))
    );
    let (st, b) = app
        .post(&format!("/v1/templates/{id}/pause"), json!({}))
        .await;
    assert_eq!(
        (st, code(&b)),
        (409, "invalid_state"),
        "a draft cannot pause"
    );
    for (action, status) in [
        ("activate", "active"),
        ("pause", "paused"),
        ("activate", "active"),
        ("end", "ended"),
    ] {
        let (st, b) = app
            .post(&format!("/v1/templates/{id}/{action}"), json!({}))
            .await;
        assert_eq!((st, b["status"].as_str()), (200, Some(status)));
    }
    let (st, b) = app
        .post(&format!("/v1/templates/{id}/activate"), json!({}))
        .await;
    assert_eq!((st, code(&b)), (409, "invalid_state"), "ended is final");
    let (st, b) = app
        .call(
            "PUT",
            &format!("/v1/templates/{id}"),
            Some(ADMIN),
            Some(template(json!({}))),
            &[],
        )
        .await;
    assert_eq!(
        (st, code(&b)),
        (409, "invalid_state"),
        "only drafts are edited"
    );
    let (st, b) = app.post("/v1/templates/tpl_nope/activate", json!({})).await;
    assert_eq!((st, code(&b)), (404, "not_found"));
}
both!(lifecycle_and_editing);

async fn lists_filter_and_page(backend: Backend) {
    let app = TestApp::start(backend).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(app.draft(json!({"name": format!("p{i}")})).await);
    }
    let store = app.active(json!({"scope": {"kind": "store", "store_id": "s1"}, "funding": {"platform_bp": 0, "merchant_bp": 10000}})).await;
    let (_, page) = app.get("/v1/templates?limit=2").await;
    assert_eq!(
        (
            page["items"].as_array().unwrap().len(),
            page["total"].as_i64()
        ),
        (2, Some(6))
    );
    let mut seen: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect();
    let mut next = page["next"].as_str().map(str::to_string);
    while let Some(cursor) = next {
        let (_, p) = app
            .get(&format!("/v1/templates?limit=2&cursor={cursor}"))
            .await;
        seen.extend(
            p["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["id"].as_str().unwrap().to_string()),
        );
        next = p["next"].as_str().map(str::to_string);
    }
    let mut all = ids.clone();
    all.push(store.clone());
    assert_eq!(
        seen, all,
        "pages walk every template once, in creation order"
    );
    let (_, active) = app.get("/v1/templates?status=active").await;
    assert_eq!(active["total"], 1);
    let (_, by_scope) = app.get("/v1/templates?scope=store").await;
    assert_eq!(by_scope["items"][0]["id"].as_str(), Some(store.as_str()));
    let (st, b) = app.get("/v1/templates?limit=0").await;
    assert_eq!((st, code(&b), field(&b)), (422, "invalid_value", "limit"));
    let (st, b) = app.get("/v1/templates?status=lost").await;
    assert_eq!((st, code(&b)), (400, "bad_request"));
}
both!(lists_filter_and_page);

async fn merchants_are_isolated(backend: Backend) {
    let app = TestApp::start(backend).await;
    let m1 = app.key("merchant", &["s1"], None).await;
    let m2 = app.key("merchant", &["s2"], None).await;
    let store_coupon = |s: &str| {
        template(
            json!({"scope": {"kind": "store", "store_id": s}, "funding": {"platform_bp": 0, "merchant_bp": 10000}}),
        )
    };
    let (st, b) = app
        .call(
            "POST",
            "/v1/templates",
            Some(&m1),
            Some(template(json!({}))),
            &[],
        )
        .await;
    assert_eq!(
        (st, code(&b), field(&b)),
        (403, "forbidden", "scope.kind"),
        "a merchant cannot create platform coupons"
    );
    let (st, b) = app
        .call(
            "POST",
            "/v1/templates",
            Some(&m1),
            Some(store_coupon("s2")),
            &[],
        )
        .await;
    assert_eq!(
        (st, code(&b)),
        (403, "forbidden"),
        "nor coupons of another merchant's store"
    );
    let (st, b) = app
        .call(
            "POST",
            "/v1/templates",
            Some(&m1),
            Some(store_coupon("s1")),
            &[],
        )
        .await;
    assert_eq!(st, 201, "{b}");
    let mine = b["id"].as_str().unwrap().to_string();
    let platform = app.active(json!({})).await;
    for id in [&mine, &platform] {
        if id == &platform {
            continue;
        }
        for (method, path) in [
            ("GET", format!("/v1/templates/{id}")),
            ("POST", format!("/v1/templates/{id}/activate")),
            ("POST", format!("/v1/templates/{id}/end")),
            ("PUT", format!("/v1/templates/{id}")),
            ("POST", format!("/v1/templates/{id}/links")),
            ("POST", format!("/v1/templates/{id}/claim-codes")),
            ("POST", format!("/v1/templates/{id}/claim")),
            ("POST", format!("/v1/templates/{id}/grant")),
        ] {
            let body = match path.rsplit('/').next().unwrap() {
                "claim-codes" => Some(json!({"count": 1})),
                "claim" | "grant" => Some(json!({"user_id": "u1"})),
                _ if method == "PUT" => Some(store_coupon("s1")),
                _ => Some(json!({})),
            };
            let (st, b) = app.call(method, &path, Some(&m2), body, &[]).await;
            assert_eq!(
                (st, code(&b)),
                (404, "not_found"),
                "{method} {path} by another merchant: {b}"
            );
        }
    }
    app.post(&format!("/v1/templates/{mine}/activate"), json!({}))
        .await;
    let (st, _) = app
        .call(
            "POST",
            &format!("/v1/templates/{platform}/claim"),
            Some(&m2),
            Some(json!({"user_id": "u1"})),
            &[],
        )
        .await;
    assert_eq!(st, 404, "a merchant cannot issue platform coupons");
    let (st, c) = app
        .call(
            "POST",
            &format!("/v1/templates/{mine}/claim"),
            Some(&m1),
            Some(json!({"user_id": "u1"})),
            &[],
        )
        .await;
    assert_eq!(st, 201, "{c}");
    let coupon = c["coupon_id"].as_str().unwrap();
    let (st, _) = app
        .call(
            "GET",
            &format!("/v1/coupons/{coupon}"),
            Some(&m2),
            None,
            &[],
        )
        .await;
    assert_eq!(st, 404);
    let (st, _) = app
        .call(
            "POST",
            &format!("/v1/coupons/{coupon}/revoke"),
            Some(&m2),
            Some(json!({"reason": "x"})),
            &[],
        )
        .await;
    assert_eq!(st, 404);
    let (_, wallet) = app
        .call("GET", "/v1/users/u1/coupons", Some(&m2), None, &[])
        .await;
    assert_eq!(
        wallet["total"], 0,
        "another merchant's coupons are not listed: {wallet}"
    );
    let (_, wallet) = app
        .call("GET", "/v1/users/u1/coupons", Some(&m1), None, &[])
        .await;
    assert_eq!(wallet["total"], 1);
    let (_, list) = app.call("GET", "/v1/templates", Some(&m2), None, &[]).await;
    assert_eq!(list["total"], 0, "{list}");
    let (_, list) = app.call("GET", "/v1/templates", Some(&m1), None, &[]).await;
    assert_eq!(list["total"], 1);
    let t = app.template(&mine).await;
    assert_eq!(t["claimed"], 1, "the refused calls changed nothing");
    let customer = app.key("customer", &[], Some("u1")).await;
    let (st, b) = app
        .call(
            "POST",
            "/v1/keys",
            Some(&m1),
            Some(json!({"role": "platform"})),
            &[],
        )
        .await;
    assert_eq!((st, code(&b)), (403, "forbidden"));
    let (st, _) = app
        .call("GET", "/v1/users/u2/coupons", Some(&customer), None, &[])
        .await;
    assert_eq!(st, 403, "a customer reads only its own wallet");
    let (st, _) = app
        .call(
            "POST",
            &format!("/v1/templates/{platform}/claim"),
            Some(&customer),
            Some(json!({"user_id": "u2"})),
            &[],
        )
        .await;
    assert_eq!(st, 403, "a customer claims only for itself");
}
both!(merchants_are_isolated);
