//! The console's own reads, on both backends: the caller's key, the dashboard, member search,
//! and the web front end quan serves (pages, assets, their headers).

use crate::common;

use common::{code, field, Backend, TestApp, ADMIN};
use serde_json::{json, Value};

/// `GET /v1/me` answers the key's role and its capabilities, the table the use cases check: a
/// merchant's key reads its dashboard and writes its templates, and is refused members.
async fn me_tells_the_role(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (st, me) = app.get("/v1/me").await;
    assert_eq!((st, me["role"].as_str()), (200, Some("platform")));
    assert_eq!(
        me["capabilities"],
        json!([
            "dashboard",
            "read_templates",
            "write_templates",
            "links_and_codes",
            "quote_for_members",
            "members",
            "segments",
            "campaigns"
        ])
    );
    let merchant = app.key("merchant", &["s1", "s2"], None).await;
    let (_, me) = app.call("GET", "/v1/me", Some(&merchant), None, &[]).await;
    assert_eq!(
        me,
        json!({"role": "merchant", "store_ids": ["s1", "s2"], "user_id": null,
            "capabilities": ["dashboard", "read_templates", "write_templates", "links_and_codes"]})
    );
    let (st, _) = app
        .call("GET", "/v1/members", Some(&merchant), None, &[])
        .await;
    assert_eq!(st, 403, "members is no merchant's capability");
    let guide = app.key("guide", &["s1"], Some("g1")).await;
    let (_, me) = app.call("GET", "/v1/me", Some(&guide), None, &[]).await;
    assert_eq!(me["capabilities"], json!(["read_templates"]));
    let customer = app.key("customer", &[], Some("u1")).await;
    let (_, me) = app.call("GET", "/v1/me", Some(&customer), None, &[]).await;
    assert_eq!(
        (me["role"].as_str(), me["user_id"].as_str()),
        (Some("customer"), Some("u1"))
    );
    assert_eq!(me["capabilities"], json!([]));
    let (st, e) = app.call("GET", "/v1/me", Some("nope"), None, &[]).await;
    assert_eq!((st, code(&e)), (401, "unauthorized"));
}
both!(me_tells_the_role);

/// A template answers what its status allows, so the console shows those buttons only.
async fn templates_say_what_their_status_allows(backend: Backend) {
    let app = TestApp::start(backend).await;
    let id = app.draft(json!({"distribution": ["campaign_only"]})).await;
    let allowed = |v: &Value| v["allowed_actions"].clone();
    let draft = app.template(&id).await;
    assert_eq!(allowed(&draft), json!(["edit", "activate", "end"]));
    assert_eq!(draft["campaign_grantable"], true);
    for (action, then) in [
        ("activate", json!(["pause", "end"])),
        ("pause", json!(["activate", "end"])),
        ("end", json!([])),
    ] {
        let (st, v) = app
            .post(&format!("/v1/templates/{id}/{action}"), json!({}))
            .await;
        assert_eq!(st, 200, "{v}");
        assert_eq!(allowed(&v), then, "after {action}");
    }
    let public = app.template(&app.draft(json!({})).await).await;
    assert_eq!(public["campaign_grantable"], false);
}
both!(templates_say_what_their_status_allows);

async fn dashboard_counts_the_period(backend: Backend) {
    let app = TestApp::start(backend).await;
    let platform = app.active(json!({"name": "platform"})).await;
    let s1 = app
        .active(
            json!({"name": "store", "scope": {"kind": "store", "store_id": "s1"},
            "funding": {"platform_bp": 0, "merchant_bp": 10000}}),
        )
        .await;
    let paused = app.active(json!({"name": "quiet"})).await;
    app.post(&format!("/v1/templates/{paused}/pause"), json!({}))
        .await;
    let claim = |t: String, u: &'static str| {
        let app = &app;
        async move {
            let (st, b) = app
                .post(&format!("/v1/templates/{t}/claim"), json!({"user_id": u}))
                .await;
            assert_eq!(st, 201, "{b}");
        }
    };
    // 2026-03-02 10:00 Shanghai: one claim 40 days ago, two yesterday, two this morning.
    app.set_now("2026-01-21T02:00:00Z").await;
    claim(platform.clone(), "u1").await;
    app.set_now("2026-03-01T01:00:00Z").await;
    claim(platform.clone(), "u2").await;
    claim(s1.clone(), "u2").await;
    app.set_now("2026-03-02T01:00:00Z").await;
    claim(platform.clone(), "u3").await;
    claim(s1.clone(), "u3").await;
    for (id, joined) in [
        ("u1", "2025-01-01T00:00:00Z"),
        ("u2", "2026-03-01T00:00:00Z"),
    ] {
        app.call(
            "PUT",
            &format!("/v1/members/{id}"),
            Some(ADMIN),
            Some(json!({"joined_at": joined})),
            &[],
        )
        .await;
    }
    app.set_now("2026-03-02T02:00:00Z").await;

    let (st, d) = app.get("/v1/dashboard").await;
    assert_eq!(st, 200, "{d}");
    assert_eq!(d["claims_today"], 2);
    let rows: Vec<(String, i64, i64)> = d["templates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap().to_string(),
                t["claimed"].as_i64().unwrap(),
                t["period"]["claimed"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![("platform".into(), 3, 2), ("store".into(), 2, 2)],
        "the paused template had nothing in the period"
    );
    let (_, day) = app.get("/v1/dashboard?days=1").await;
    assert_eq!(day["templates"][0]["period"]["claimed"], 1);
    let stages: i64 = d["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["members"].as_i64().unwrap())
        .sum();
    assert_eq!(stages, 2, "the two members who joined");
    assert_eq!(
        d["rfm_tiers"],
        json!([{"tier": null, "members": 2}]),
        "not scored yet"
    );
    assert_eq!(d["rfm_as_of"], Value::Null);
    // Scored as of a past time, the dashboard says as of when.
    let (st, b) = app
        .post(
            "/v1/rfm/recompute",
            json!({"as_of": "2026-01-15T00:00:00Z"}),
        )
        .await;
    assert_eq!(st, 200, "{b}");
    let (_, scored) = app.get("/v1/dashboard").await;
    assert_eq!(scored["rfm_as_of"], "2026-01-15T00:00:00Z");

    let merchant = app.key("merchant", &["s1"], None).await;
    let (_, m) = app
        .call("GET", "/v1/dashboard", Some(&merchant), None, &[])
        .await;
    assert_eq!(m["claims_today"], 1);
    assert_eq!(m["templates"].as_array().unwrap().len(), 1);
    assert_eq!(
        (m["stages"].clone(), m["rfm_tiers"].clone()),
        (Value::Null, Value::Null)
    );
    for bad in ["0", "367", "x"] {
        let (st, e) = app.get(&format!("/v1/dashboard?days={bad}")).await;
        assert!(
            st == 422 && field(&e) == "days" || st == 400,
            "{bad}: {st} {e}"
        );
    }
    let customer = app.key("customer", &[], Some("u1")).await;
    let (st, _) = app
        .call("GET", "/v1/dashboard", Some(&customer), None, &[])
        .await;
    assert_eq!(st, 403);
}
both!(dashboard_counts_the_period);

async fn members_by_id_prefix(backend: Backend) {
    let app = TestApp::start(backend).await;
    for id in ["hh-101", "hh-102", "hh-201", "x-1"] {
        app.call(
            "PUT",
            &format!("/v1/members/{id}"),
            Some(ADMIN),
            Some(json!({})),
            &[],
        )
        .await;
    }
    let (st, p) = app.get("/v1/members?q=hh-1&limit=1").await;
    assert_eq!((st, p["total"].as_i64()), (200, Some(2)), "{p}");
    assert_eq!(p["items"][0]["id"], "hh-101");
    let (_, rest) = app
        .get(&format!(
            "/v1/members?q=hh-1&cursor={}",
            p["next"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        (rest["items"][0]["id"].as_str(), rest["next"].clone()),
        (Some("hh-102"), Value::Null)
    );
    let (_, all) = app.get("/v1/members?q=").await;
    assert_eq!(all["total"], 4, "an empty q is no filter");
    let (st, e) = app.get(&format!("/v1/members?q={}", "a".repeat(65))).await;
    assert_eq!((st, field(&e)), (422, "q"));
}
both!(members_by_id_prefix);

/// The front end as a browser gets it: pages with their security headers, the console's own
/// routes answered by its page, hashed assets cached and gzipped.
async fn web_front_end_is_served(backend: Backend) {
    let app = TestApp::start(backend).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let get = |path: &str, gzip: bool| {
        let mut req = client.get(format!("{}{path}", app.url));
        if gzip {
            req = req.header("accept-encoding", "gzip, br");
        }
        req.send()
    };
    let res = get("/", false).await.unwrap();
    assert_eq!(
        (
            res.status().as_u16(),
            res.headers()["location"].to_str().unwrap()
        ),
        (303, "/console/")
    );
    for path in [
        "/console/",
        "/console/templates/new",
        "/claim?template=t&link=l",
        "/center",
    ] {
        let res = get(path, false).await.unwrap();
        assert_eq!(res.status().as_u16(), 200, "{path}");
        let h = res.headers();
        assert!(h["content-type"].to_str().unwrap().starts_with("text/html"));
        assert_eq!(h["cache-control"], "no-cache");
        assert!(h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'self'"));
        assert_eq!(h["referrer-policy"], "no-referrer");
        let html = res.text().await.unwrap();
        assert!(html.contains("<div id=\"root\"></div>"), "{path}");
    }
    let html = get("/claim", false).await.unwrap().text().await.unwrap();
    let script = html
        .split("src=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the page loads a script");
    assert!(script.starts_with("/assets/"), "{script}");
    let plain = get(script, false).await.unwrap();
    assert_eq!(plain.status().as_u16(), 200);
    assert!(plain.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("immutable"));
    assert!(plain.headers().get("content-encoding").is_none());
    let plain_len = plain.bytes().await.unwrap().len();
    let zipped = get(script, true).await.unwrap();
    assert_eq!(zipped.headers()["content-encoding"], "gzip");
    assert!(zipped.bytes().await.unwrap().len() < plain_len);
    let (st, e) = app.call("GET", "/assets/nope.js", None, None, &[]).await;
    assert_eq!((st, code(&e)), (404, "not_found"));
    let (st, _) = app.call("GET", "/v1/nope", None, None, &[]).await;
    assert_eq!(st, 404, "the API's own unknown paths stay JSON errors");
}
both!(web_front_end_is_served);
