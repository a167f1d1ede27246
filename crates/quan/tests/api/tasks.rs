//! Store-guide tasks on both backends: a guide sees, completes and grants only their own
//! members' tasks; completion happens once; a task's coupon is granted at most once, even by
//! concurrent calls, and a refused grant may be tried again; another guide, a merchant or a
//! customer learns nothing.

use crate::common;

use common::{code, field, Backend, TestApp};
use quan_store::NewTask;
use serde_json::{json, Value};

/// Stores a task as a campaign makes it: for `user`, whose guide is `guide`.
async fn task(app: &TestApp, id: &str, user: &str, guide: Option<&str>, template: Option<&str>) {
    app.store
        .insert_task(NewTask {
            id: id.into(),
            campaign_id: "cmp_retention".into(),
            user_id: user.into(),
            guide_id: guide.map(str::to_string),
            title: "Gold tier runs out this month".into(),
            template_id: template.map(str::to_string),
            material: Some("Gold members save 5% on every order".into()),
            message: Some("One more order keeps your gold tier!".into()),
            now: app.clock_now(),
        })
        .await
        .unwrap();
}

async fn as_key(
    app: &TestApp,
    key: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    app.call(method, path, Some(key), body, &[]).await
}

fn ids(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect()
}

/// A campaign-only coupon of store s1, active.
async fn campaign_coupon(app: &TestApp) -> String {
    app.active(
        json!({"distribution": ["campaign_only"], "scope": {"kind": "store", "store_id": "s1"},
                      "funding": {"platform_bp": 0, "merchant_bp": 10000}}),
    )
    .await
}

async fn wallet_size(app: &TestApp, user: &str) -> usize {
    let (st, w) = app.get(&format!("/v1/users/{user}/coupons")).await;
    assert_eq!(st, 200, "{w}");
    w["items"].as_array().unwrap().len()
}

async fn a_guide_sees_completes_and_grants_their_own_tasks(backend: Backend) {
    let app = TestApp::start(backend).await;
    let guide_a = app.key("guide", &["s1"], Some("gA")).await;
    let guide_b = app.key("guide", &["s1"], Some("gB")).await;
    let coupon = campaign_coupon(&app).await;
    task(&app, "tsk_1", "u1", Some("gA"), Some(&coupon)).await;
    task(&app, "tsk_2", "u2", Some("gA"), None).await;
    task(&app, "tsk_3", "u3", Some("gB"), Some(&coupon)).await;
    task(&app, "tsk_4", "u4", None, Some(&coupon)).await;

    let (st, mine) = as_key(&app, &guide_a, "GET", "/v1/tasks", None).await;
    assert_eq!(st, 200, "{mine}");
    assert_eq!(
        (ids(&mine), mine["total"].as_i64()),
        (vec!["tsk_1", "tsk_2"], Some(2))
    );
    let (_, theirs) = as_key(&app, &guide_b, "GET", "/v1/tasks?status=open", None).await;
    assert_eq!(ids(&theirs), ["tsk_3"]);
    let (_, all) = app.get("/v1/tasks").await;
    assert_eq!(all["total"], 4, "operators see every task");
    let (_, of_a) = app.get("/v1/tasks?guide_id=gA&limit=1").await;
    assert_eq!(
        (ids(&of_a), of_a["total"].as_i64()),
        (vec!["tsk_1"], Some(2))
    );
    let (_, next) = app
        .get(&format!(
            "/v1/tasks?guide_id=gA&limit=1&cursor={}",
            of_a["next"].as_str().unwrap()
        ))
        .await;
    assert_eq!((ids(&next), &next["next"]), (vec!["tsk_2"], &Value::Null));

    let (st, t) = as_key(&app, &guide_a, "GET", "/v1/tasks/tsk_1", None).await;
    assert_eq!(st, 200, "{t}");
    assert_eq!(t["user_id"], "u1");
    assert_eq!(t["template_id"], coupon.as_str());
    assert_eq!(t["material"], "Gold members save 5% on every order");
    assert_eq!(t["message"], "One more order keeps your gold tier!");
    assert_eq!(
        (t["status"].as_str(), &t["outcome"]),
        (Some("open"), &Value::Null)
    );

    // Completed once; the same outcome again is the same completion.
    let done = json!({"outcome": "Called: she will come on Friday"});
    let (st, t) = as_key(
        &app,
        &guide_a,
        "POST",
        "/v1/tasks/tsk_1/complete",
        Some(done.clone()),
    )
    .await;
    assert_eq!(st, 200, "{t}");
    assert_eq!(
        (t["status"].as_str(), t["outcome"].as_str()),
        (Some("done"), Some("Called: she will come on Friday"))
    );
    assert_eq!(t["done_at"].as_str().unwrap(), app.clock_now().to_string());
    app.clock
        .set(app.clock_now() + jiff::SignedDuration::from_mins(5));
    let (st, again) = as_key(
        &app,
        &guide_a,
        "POST",
        "/v1/tasks/tsk_1/complete",
        Some(done),
    )
    .await;
    assert_eq!((st, &again), (200, &t));
    let (st, b) = as_key(
        &app,
        &guide_a,
        "POST",
        "/v1/tasks/tsk_1/complete",
        Some(json!({"outcome": "No answer"})),
    )
    .await;
    assert_eq!(
        (st, code(&b), field(&b)),
        (409, "invalid_state", "outcome"),
        "{b}"
    );
    let (_, done_list) = as_key(&app, &guide_a, "GET", "/v1/tasks?status=done", None).await;
    assert_eq!(ids(&done_list), ["tsk_1"]);

    // The task's coupon, granted once to its member.
    let (st, first) = as_key(&app, &guide_a, "POST", "/v1/tasks/tsk_1/grant", None).await;
    assert_eq!(st, 201, "{first}");
    assert_eq!(
        (first["user_id"].as_str(), first["template_id"].as_str()),
        (Some("u1"), Some(coupon.as_str()))
    );
    let (st, second) = as_key(&app, &guide_a, "POST", "/v1/tasks/tsk_1/grant", None).await;
    assert_eq!((st, &second["coupon_id"]), (201, &first["coupon_id"]));
    assert_eq!(wallet_size(&app, "u1").await, 1);
    let (_, t) = as_key(&app, &guide_a, "GET", "/v1/tasks/tsk_1", None).await;
    assert_eq!(t["coupon_id"], first["coupon_id"]);
    let (_, c) = app
        .get(&format!(
            "/v1/coupons/{}",
            first["coupon_id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(c["route"], "campaign", "{c}");
    assert_eq!(app.template(&coupon).await["issued"], 1);

    // A task without a coupon has nothing to grant.
    let (st, b) = as_key(&app, &guide_a, "POST", "/v1/tasks/tsk_2/grant", None).await;
    assert_eq!((st, code(&b)), (409, "invalid_state"), "{b}");

    // Concurrent grants of one task make one coupon.
    task(&app, "tsk_5", "u5", Some("gA"), Some(&coupon)).await;
    let grants = (0..6).map(|_| as_key(&app, &guide_a, "POST", "/v1/tasks/tsk_5/grant", None));
    let answers = futures::future::join_all(grants).await;
    let first = &answers[0].1["coupon_id"];
    for (st, b) in &answers {
        assert_eq!((*st, &b["coupon_id"]), (201, first), "{b}");
    }
    assert_eq!(wallet_size(&app, "u5").await, 1);
    // An operator may grant any task's coupon.
    let (st, b) = app.post("/v1/tasks/tsk_4/grant", json!({})).await;
    assert_eq!((st, b["user_id"].as_str()), (201, Some("u4")), "{b}");
}

async fn a_refused_grant_may_be_tried_again(backend: Backend) {
    let app = TestApp::start(backend).await;
    let guide = app.key("guide", &["s1"], Some("gA")).await;
    let draft = app
        .draft(json!({"distribution": ["campaign_only"], "stock": 1}))
        .await;
    task(&app, "tsk_1", "u1", Some("gA"), Some(&draft)).await;
    task(&app, "tsk_2", "u2", Some("gA"), Some(&draft)).await;
    let (st, b) = as_key(&app, &guide, "POST", "/v1/tasks/tsk_1/grant", None).await;
    assert_eq!((st, code(&b)), (409, "not_claimable_now"), "{b}");
    let (st, b) = as_key(&app, &guide, "POST", "/v1/tasks/tsk_1/grant", None).await;
    assert_eq!((st, code(&b)), (409, "not_claimable_now"), "{b}");
    let (st, b) = app
        .post(&format!("/v1/templates/{draft}/activate"), json!({}))
        .await;
    assert_eq!(st, 200, "{b}");
    let (st, granted) = as_key(&app, &guide, "POST", "/v1/tasks/tsk_1/grant", None).await;
    assert_eq!(st, 201, "{granted}");
    let (st, again) = as_key(&app, &guide, "POST", "/v1/tasks/tsk_1/grant", None).await;
    assert_eq!((st, &again["coupon_id"]), (201, &granted["coupon_id"]));
    // The stock of one is spent: the next task's grant is refused, and stays refused.
    let (st, b) = as_key(&app, &guide, "POST", "/v1/tasks/tsk_2/grant", None).await;
    assert_eq!((st, code(&b)), (409, "out_of_stock"), "{b}");
    assert_eq!(
        wallet_size(&app, "u1").await + wallet_size(&app, "u2").await,
        1
    );
    // A service-only coupon never goes by the campaign route.
    let service = app.active(json!({"distribution": ["service_only"]})).await;
    task(&app, "tsk_3", "u3", Some("gA"), Some(&service)).await;
    let (st, b) = as_key(&app, &guide, "POST", "/v1/tasks/tsk_3/grant", None).await;
    assert_eq!((st, code(&b)), (409, "route_not_allowed"), "{b}");
}

async fn another_guide_learns_nothing_of_a_task(backend: Backend) {
    let app = TestApp::start(backend).await;
    let guide_a = app.key("guide", &["s1"], Some("gA")).await;
    let guide_b = app.key("guide", &["s1"], Some("gB")).await;
    let coupon = campaign_coupon(&app).await;
    task(&app, "tsk_1", "u1", Some("gA"), Some(&coupon)).await;
    task(&app, "tsk_9", "u9", None, Some(&coupon)).await;

    // Guide B: A's task reads, completes and grants exactly as a task that does not exist.
    for id in ["tsk_1", "tsk_9", "tsk_nope"] {
        let (st, b) = as_key(&app, &guide_b, "GET", &format!("/v1/tasks/{id}"), None).await;
        assert_eq!(
            (st, &b),
            (
                404,
                &json!({"error": {"code": "not_found", "message": "no such task"}})
            )
        );
        let (st, b) = as_key(
            &app,
            &guide_b,
            "POST",
            &format!("/v1/tasks/{id}/complete"),
            Some(json!({"outcome": "done it"})),
        )
        .await;
        assert_eq!((st, code(&b)), (404, "not_found"), "{b}");
        let (st, b) = as_key(
            &app,
            &guide_b,
            "POST",
            &format!("/v1/tasks/{id}/grant"),
            None,
        )
        .await;
        assert_eq!((st, code(&b)), (404, "not_found"), "{b}");
    }
    let (st, b) = as_key(&app, &guide_b, "GET", "/v1/tasks?guide_id=gA", None).await;
    assert_eq!(
        (st, b["total"].as_i64(), ids(&b).len()),
        (200, Some(0), 0),
        "{b}"
    );
    let (_, b) = as_key(&app, &guide_b, "GET", "/v1/tasks", None).await;
    assert_eq!(b["total"], 0);
    // Nothing changed.
    let (_, t) = as_key(&app, &guide_a, "GET", "/v1/tasks/tsk_1", None).await;
    assert_eq!(
        (t["status"].as_str(), &t["coupon_id"]),
        (Some("open"), &Value::Null)
    );
    assert_eq!(wallet_size(&app, "u1").await, 0);

    // Other roles may not see tasks at all; a guide key that names no guide is not made.
    let merchant = app.key("merchant", &["s1"], None).await;
    let customer = app.key("customer", &[], Some("u1")).await;
    let (st, b) = app
        .post("/v1/keys", json!({"role": "guide", "store_ids": ["s1"]}))
        .await;
    assert_eq!((st, code(&b), field(&b)), (400, "missing_field", "user_id"));
    for key in [&merchant, &customer] {
        for (method, path, body) in [
            ("GET", "/v1/tasks", None),
            ("GET", "/v1/tasks/tsk_1", None),
            (
                "POST",
                "/v1/tasks/tsk_1/complete",
                Some(json!({"outcome": "x"})),
            ),
            ("POST", "/v1/tasks/tsk_1/grant", None),
        ] {
            let (st, b) = as_key(&app, key, method, path, body).await;
            assert_eq!((st, code(&b)), (403, "forbidden"), "{method} {path}: {b}");
        }
    }
    let (st, _) = app.call("GET", "/v1/tasks", None, None, &[]).await;
    assert_eq!(st, 401);

    // Bad input names its field and changes nothing.
    for (body, status, want_code, want_field) in [
        (json!({}), 400, "missing_field", "outcome"),
        (json!({"outcome": ""}), 422, "invalid_value", "outcome"),
        (
            json!({"outcome": "x".repeat(501)}),
            422,
            "too_large",
            "outcome",
        ),
        (json!({"outcome": 3}), 400, "invalid_type", "outcome"),
        (
            json!({"outcome": "ok", "coupon": "c"}),
            400,
            "unknown_field",
            "coupon",
        ),
    ] {
        let (st, b) = as_key(
            &app,
            &guide_a,
            "POST",
            "/v1/tasks/tsk_1/complete",
            Some(body.clone()),
        )
        .await;
        assert_eq!(
            (st, code(&b), field(&b)),
            (status, want_code, want_field),
            "{body}: {b}"
        );
    }
    let (st, b) = app.get("/v1/tasks?status=lost").await;
    assert_eq!((st, code(&b)), (400, "bad_request"), "{b}");
    let (st, b) = app.get("/v1/tasks?limit=501").await;
    assert_eq!(
        (st, code(&b), field(&b)),
        (422, "invalid_value", "limit"),
        "{b}"
    );
    let (_, t) = app.get("/v1/tasks/tsk_1").await;
    assert_eq!(t["status"], "open");
}

both!(a_guide_sees_completes_and_grants_their_own_tasks);
both!(a_refused_grant_may_be_tried_again);
both!(another_guide_learns_nothing_of_a_task);
