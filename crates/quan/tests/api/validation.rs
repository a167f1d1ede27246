//! What the API refuses and describes, on both backends: template rules, bad input, OpenAPI.

use crate::common;

use common::{code, field, template, Backend, TestApp};
use serde_json::{json, Value};

async fn validation_errors_name_their_field(backend: Backend) {
    let app = TestApp::start(backend).await;
    let cases: Vec<(Value, u16, &str, &str)> = vec![
        (
            json!({"benefit": {"kind": "reduction", "threshold": 500, "off": 1000}}),
            422,
            "reduction_exceeds_threshold",
            "benefit.off",
        ),
        (
            json!({"benefit": {"kind": "reduction", "threshold": 500, "off": 0}}),
            422,
            "not_positive",
            "benefit.off",
        ),
        (
            json!({"benefit": {"kind": "reduction", "threshold": -1, "off": 10}}),
            422,
            "negative",
            "benefit.threshold",
        ),
        (
            json!({"benefit": {"kind": "percent", "rate_bp": 0}}),
            422,
            "rate_out_of_range",
            "benefit.rate_bp",
        ),
        (
            json!({"benefit": {"kind": "percent", "rate_bp": 10000}}),
            422,
            "rate_out_of_range",
            "benefit.rate_bp",
        ),
        (
            json!({"benefit": {"kind": "percent", "rate_bp": 8000, "cap": 0}}),
            422,
            "not_positive",
            "benefit.cap",
        ),
        (
            json!({"benefit": {"kind": "percent", "rate_bp": 8000, "min_amount": 1, "min_items": 2}}),
            422,
            "invalid_value",
            "benefit.min_items",
        ),
        (
            json!({"benefit": {"kind": "tiered", "tiers": []}}),
            422,
            "empty_list",
            "benefit.tiers",
        ),
        (
            json!({"benefit": {"kind": "tiered", "tiers": [{"min_items": 3, "rate_bp": 8000}, {"min_items": 2, "rate_bp": 7000}]}}),
            422,
            "invalid_value",
            "benefit.tiers[1].min_items",
        ),
        (
            json!({"benefit": {"kind": "tiered", "tiers": [{"min_items": 2, "rate_bp": 0}]}}),
            422,
            "rate_out_of_range",
            "benefit.tiers[0].rate_bp",
        ),
        (
            json!({"benefit": {"kind": "free_shipping", "threshold": 0, "cap": -5}}),
            422,
            "not_positive",
            "benefit.cap",
        ),
        (
            json!({"scope": {"kind": "product", "store_id": "s1", "skus": ["a"]}, "benefit": {"kind": "gift", "threshold": 100, "gift_sku": "g"}}),
            422,
            "scope_not_allowed",
            "scope.kind",
        ),
        (
            json!({"scope": {"kind": "category", "store_id": "s1", "categories": ["c"]}, "benefit": {"kind": "free_shipping", "threshold": 0}}),
            422,
            "scope_not_allowed",
            "scope.kind",
        ),
        (
            json!({"scope": {"kind": "product", "store_id": "s1", "skus": []}}),
            422,
            "empty_list",
            "scope.skus",
        ),
        (
            json!({"scope": {"kind": "store", "store_id": " "}}),
            422,
            "invalid_value",
            "scope.store_id",
        ),
        (
            json!({"validity": {"kind": "fixed", "valid_from": "2026-05-01T00:00:00Z", "valid_until": "2026-05-01T00:00:00Z"}}),
            422,
            "window_inverted",
            "validity.valid_until",
        ),
        (
            json!({"validity": {"kind": "relative", "days": 0}}),
            422,
            "not_positive",
            "validity.days",
        ),
        (
            json!({"usable_hours": [{"from": "25:00", "until": "26:00"}]}),
            422,
            "invalid_value",
            "usable_hours[0].from",
        ),
        (
            json!({"usable_hours": [{"from": "12:00", "until": "11:00"}]}),
            422,
            "window_inverted",
            "usable_hours[0].until",
        ),
        (
            json!({"usable_weekdays": [0]}),
            422,
            "invalid_value",
            "usable_weekdays[0]",
        ),
        (
            json!({"usable_on_orders": [0]}),
            422,
            "not_positive",
            "usable_on_orders[0]",
        ),
        (
            json!({"audience": {"kind": "new_members", "within_days": 0}}),
            422,
            "not_positive",
            "audience.within_days",
        ),
        (
            json!({"audience": {"kind": "users", "user_ids": []}}),
            422,
            "empty_list",
            "audience.user_ids",
        ),
        (json!({"channels": []}), 422, "empty_list", "channels"),
        (json!({"regions": [""]}), 422, "invalid_value", "regions[0]"),
        (json!({"stock": 0}), 422, "not_positive", "stock"),
        (json!({"stock": -5}), 422, "not_positive", "stock"),
        (
            json!({"stock": 1_000_000_000_000_001i64}),
            422,
            "too_large",
            "stock",
        ),
        (
            json!({"per_user_limit": 0}),
            422,
            "not_positive",
            "per_user_limit",
        ),
        (
            json!({"per_user_daily_limit": 0}),
            422,
            "not_positive",
            "per_user_daily_limit",
        ),
        (
            json!({"claim_window": {"from": "2026-05-02T00:00:00Z", "until": "2026-05-01T00:00:00Z"}}),
            422,
            "window_inverted",
            "claim_window.until",
        ),
        (
            json!({"distribution": []}),
            422,
            "empty_list",
            "distribution",
        ),
        (
            json!({"distribution": ["public", "link_only"]}),
            422,
            "distribution_conflict",
            "distribution",
        ),
        (
            json!({"funding": {"platform_bp": 5000, "merchant_bp": 4000}}),
            422,
            "funding_not_whole",
            "funding",
        ),
        (
            json!({"funding": {"platform_bp": 12000, "merchant_bp": -2000}}),
            422,
            "funding_not_whole",
            "funding.platform_bp",
        ),
        (json!({"face_value": -1}), 422, "negative", "face_value"),
        (json!({"name": ""}), 422, "invalid_value", "name"),
        (json!({"colour": "red"}), 400, "unknown_field", "colour"),
        (
            json!({"benefit": {"kind": "reduction", "threshold": 0, "off": 10, "extra": 1}}),
            400,
            "unknown_field",
            "benefit.extra",
        ),
        (
            json!({"benefit": {"kind": "bogus"}}),
            400,
            "invalid_type",
            "benefit.kind",
        ),
        (json!({"stock": "many"}), 400, "invalid_type", "stock"),
        (json!({"stock": 1.5}), 400, "invalid_type", "stock"),
        (json!({"stock": 1e30}), 422, "too_large", "stock"),
        (
            json!({"channels": ["carrier_pigeon"]}),
            400,
            "invalid_type",
            "channels[0]",
        ),
        (
            json!({"validity": {"kind": "fixed", "valid_from": "yesterday", "valid_until": "2026-05-01T00:00:00Z"}}),
            400,
            "invalid_type",
            "validity",
        ),
    ];
    for (edits, status, want_code, want_field) in cases {
        let (st, b) = app.post("/v1/templates", template(edits.clone())).await;
        assert_eq!(
            (st, code(&b), field(&b)),
            (status, want_code, want_field),
            "{edits} -> {b}"
        );
    }
    let mut missing = template(json!({}));
    missing.as_object_mut().unwrap().remove("benefit");
    let (st, b) = app.post("/v1/templates", missing).await;
    assert_eq!((st, code(&b), field(&b)), (400, "missing_field", "benefit"));
    let (_, list) = app.get("/v1/templates").await;
    assert_eq!(list["total"], 0, "a refused template left something behind");
}
both!(validation_errors_name_their_field);

async fn bad_input_is_refused_and_changes_nothing(backend: Backend) {
    let app = TestApp::start(backend).await;
    let id = app.active(json!({"stock": 10})).await;
    let before = app.store.ledger_count().await.unwrap();
    let claim = format!("/v1/templates/{id}/claim");
    let codes = format!("/v1/templates/{id}/claim-codes");
    let cases: Vec<(&str, &str, Vec<u8>)> = vec![
        ("POST", "/v1/templates", b"{not json".to_vec()),
        ("POST", "/v1/templates", b"[1, 2]".to_vec()),
        ("POST", "/v1/templates", b"\"text\"".to_vec()),
        ("POST", &claim, b"{\"user_id\": 5}".to_vec()),
        (
            "POST",
            &claim,
            b"{\"user_id\": \"u\", \"channel\": 3}".to_vec(),
        ),
        (
            "POST",
            &claim,
            b"{\"user_id\": \"u\", \"size\": 3}".to_vec(),
        ),
        ("POST", &claim, b"{\"user_id\": \"\"}".to_vec()),
        ("POST", &claim, b"{}".to_vec()),
        (
            "POST",
            &claim,
            format!("{{\"user_id\": \"{}\"}}", "x".repeat(1024 * 1024)).into_bytes(),
        ),
        ("POST", "/v1/templates", vec![b' '; 1024 * 1024]),
        (
            "POST",
            "/v1/templates/tpl_unknown/claim",
            b"{\"user_id\": \"u\"}".to_vec(),
        ),
        ("GET", "/v1/templates/tpl_unknown", vec![]),
        (
            "POST",
            "/v1/templates/tpl_unknown/claim-codes",
            b"{\"count\": 5}".to_vec(),
        ),
        ("POST", &codes, b"{\"count\": -1}".to_vec()),
        ("POST", &codes, b"{\"count\": 100000000000}".to_vec()),
        (
            "POST",
            &codes,
            b"{\"count\": 99999999999999999999999999}".to_vec(),
        ),
        ("POST", "/v1/keys", b"{\"role\": \"emperor\"}".to_vec()),
        ("POST", "/v1/keys", b"{\"role\": \"merchant\"}".to_vec()),
        ("DELETE", "/v1/templates", vec![]),
        ("GET", "/v1/nowhere", vec![]),
    ];
    for (method, path, body) in cases {
        let (st, b) = app.raw(method, path, body.clone()).await;
        assert!(
            (400..500).contains(&st),
            "{method} {path} {}: {st} {b}",
            String::from_utf8_lossy(&body[..body.len().min(60)])
        );
        assert!(
            b["error"]["code"].is_string() && b["error"]["message"].is_string(),
            "{method} {path}: no error body: {b}"
        );
    }
    let (st, b) = app.call("GET", "/v1/templates", None, None, &[]).await;
    assert_eq!((st, code(&b)), (401, "unauthorized"));
    let (st, b) = app
        .call("GET", "/v1/templates", Some("qk_wrong"), None, &[])
        .await;
    assert_eq!((st, code(&b)), (401, "unauthorized"));
    let t = app.template(&id).await;
    assert_eq!(
        (
            t["issued"].as_i64(),
            t["claimed"].as_i64(),
            t["remaining"].as_i64()
        ),
        (Some(0), Some(0), Some(10))
    );
    assert_eq!(app.store.ledger_count().await.unwrap(), before);
    let (_, list) = app.get("/v1/templates").await;
    assert_eq!(list["total"], 1);
}
both!(bad_input_is_refused_and_changes_nothing);

async fn openapi_lists_every_path_and_code(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (st, doc) = app.call("GET", "/openapi.json", None, None, &[]).await;
    assert_eq!(st, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with('3'));
    for p in [
        "/v1/templates",
        "/v1/templates/{id}",
        "/v1/templates/{id}/claim",
        "/v1/templates/{id}/links",
        "/v1/templates/{id}/claim-codes",
        "/v1/users/{user_id}/coupons",
        "/v1/keys",
    ] {
        assert!(doc["paths"].get(p).is_some(), "{p} missing");
    }
    let description = doc["info"]["description"].as_str().unwrap();
    for c in quan_core::ErrorCode::ALL {
        assert!(
            description.contains(&format!("`{}`", c.as_str())),
            "{} missing from the code table",
            c.as_str()
        );
    }
    let (st, h) = app.call("GET", "/healthz", None, None, &[]).await;
    assert_eq!((st, h["status"].as_str()), (200, Some("ok")));
}
both!(openapi_lists_every_path_and_code);
