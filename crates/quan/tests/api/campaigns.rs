//! Campaigns over HTTP on both backends: validation naming fields, status changes, budgets
//! and frequency caps under concurrency, packs all or none, pauses, end times, roles.

use crate::common;

use common::campaign::*;
use common::{code, field, Backend, TestApp, ADMIN};
use serde_json::{json, Value};

async fn create(t: &TestApp, body: Value) -> (u16, Value) {
    t.post("/v1/campaigns", body).await
}

async fn created(t: &TestApp, body: Value) -> String {
    let (st, b) = create(t, body).await;
    assert_eq!(st, 201, "{b}");
    assert_eq!(b["status"], "draft");
    b["id"].as_str().unwrap().to_string()
}

async fn act(t: &TestApp, id: &str, action: &str) -> (u16, Value) {
    t.post(&format!("/v1/campaigns/{id}/{action}"), json!({}))
        .await
}

fn signup(tid: &str) -> Value {
    json!({"name": "welcome", "trigger": {"kind": "event", "event": "signup"},
        "actions": [{"kind": "grant", "template_id": tid}]})
}

async fn refusals_name_their_field(backend: Backend) {
    let t = TestApp::start(backend).await;
    let granted = t.active(json!({"distribution": ["campaign_only"]})).await;
    let public = t.active(json!({})).await;
    let base = signup(&granted);
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    let cases = [
        (
            with("trigger", json!({"kind": "telepathy"})),
            400,
            "trigger",
        ),
        (
            with("trigger", json!({"kind": "event", "event": "birthday"})),
            400,
            "trigger",
        ),
        (
            with(
                "trigger",
                json!({"kind": "schedule", "weekdays": [0], "at": "10:00"}),
            ),
            422,
            "trigger.weekdays[0]",
        ),
        (
            with(
                "trigger",
                json!({"kind": "schedule", "weekdays": [4], "at": "10h"}),
            ),
            422,
            "trigger.at",
        ),
        (with("actions", json!([])), 422, "actions"),
        (
            with(
                "actions",
                json!([{"kind": "grant", "template_id": "tpl-missing"}]),
            ),
            422,
            "actions[0].template_id",
        ),
        (
            with("actions", json!([{"kind": "grant", "template_id": public}])),
            422,
            "actions[0].template_id",
        ),
        (
            with(
                "actions",
                json!([{"kind": "grant_pack", "template_ids": [granted, public]}]),
            ),
            422,
            "actions[0].template_ids[1]",
        ),
        (
            with(
                "actions",
                json!([{"kind": "message", "channel": "fax", "text": "hi"}]),
            ),
            400,
            "actions[0]",
        ),
        (with("holdout_bp", json!(20000)), 422, "holdout_bp"),
        (with("budget", json!({"count": 0})), 422, "budget.count"),
        (
            with("frequency_cap", json!({"count": 1, "days": 0})),
            422,
            "frequency_cap.days",
        ),
        (
            with("audience", json!({"kind": "tiers", "tiers": []})),
            422,
            "audience.tiers",
        ),
        (with("colour", json!("red")), 400, "colour"),
    ];
    for (body, status, want) in cases {
        let (st, b) = create(&t, body.clone()).await;
        assert_eq!(st, status, "{body} -> {b}");
        assert!(field(&b).starts_with(want), "{body} -> {b}");
    }
    let (_, list) = t.get("/v1/campaigns").await;
    assert_eq!(list["total"], 0, "no refused campaign was stored");
    // Roles: a merchant may not run campaigns; an unknown campaign is 404.
    let merchant = t.key("merchant", &["s1"], None).await;
    let (st, b) = t
        .call(
            "POST",
            "/v1/campaigns",
            Some(&merchant),
            Some(signup(&granted)),
            &[],
        )
        .await;
    assert_eq!((st, code(&b)), (403, "forbidden"));
    let id = created(&t, signup(&granted)).await;
    let (st, _) = t
        .call(
            "GET",
            &format!("/v1/campaigns/{id}"),
            Some(&merchant),
            None,
            &[],
        )
        .await;
    assert_eq!(st, 403);
    let (st, b) = t.get("/v1/campaigns/cmp-nope").await;
    assert_eq!((st, code(&b)), (404, "not_found"));
}
both!(refusals_name_their_field);

async fn status_changes(backend: Backend) {
    let t = TestApp::start(backend).await;
    let tid = t.active(json!({"distribution": ["campaign_only"]})).await;
    let id = created(&t, signup(&tid)).await;
    let (st, b) = act(&t, &id, "resume").await;
    assert_eq!((st, code(&b)), (409, "invalid_state"));
    let (st, b) = act(&t, &id, "pause").await;
    assert_eq!((st, code(&b)), (409, "invalid_state"));
    let (st, b) = act(&t, &id, "activate").await;
    assert_eq!((st, b["status"].as_str()), (200, Some("active")));
    let (st, _) = act(&t, &id, "activate").await;
    assert_eq!(st, 200, "activating again is a safe retry");
    // Paused: events do not enter it.
    let (st, b) = act(&t, &id, "pause").await;
    assert_eq!((st, b["status"].as_str()), (200, Some("paused")));
    event(&t, "e-paused", "p1", "signup", json!({})).await;
    settle(&t).await;
    assert!(wallet(&t, "p1").await.is_empty());
    let (st, b) = act(&t, &id, "activate").await;
    assert_eq!(
        (st, code(&b)),
        (409, "invalid_state"),
        "a paused campaign resumes"
    );
    let (st, _) = act(&t, &id, "resume").await;
    assert_eq!(st, 200);
    event(&t, "e-live", "p2", "signup", json!({})).await;
    settle(&t).await;
    assert_eq!(wallet(&t, "p2").await, vec![tid.clone()]);
    let (st, b) = act(&t, &id, "end").await;
    assert_eq!(
        (st, b["status"].as_str(), b["end_reason"].as_str()),
        (200, Some("ended"), Some("operator"))
    );
    let (st, _) = act(&t, &id, "resume").await;
    assert_eq!(st, 409);
    event(&t, "e-ended", "p3", "signup", json!({})).await;
    settle(&t).await;
    assert!(wallet(&t, "p3").await.is_empty());
    let (_, list) = t.get("/v1/campaigns").await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["stats"]["treated"], 1);
}
both!(status_changes);

/// A delayed entry waits through a pause, and is treated after the campaign resumes; one due
/// after the campaign's end time expires.
async fn delays_pauses_and_end_times(backend: Backend) {
    let t = TestApp::start(backend).await;
    let tid = t.active(json!({"distribution": ["campaign_only"]})).await;
    let mut body = signup(&tid);
    body["trigger"]["delay_hours"] = json!(2);
    body["ends_at"] = json!("2026-03-03T02:00:00Z");
    let id = created(&t, body).await;
    act(&t, &id, "activate").await;
    event(&t, "d1", "u1", "signup", json!({})).await;
    settle(&t).await;
    assert_eq!(campaign(&t, &id).await["stats"]["pending"], 1);
    act(&t, &id, "pause").await;
    t.set_now("2026-03-02T05:00:00Z").await;
    settle(&t).await;
    assert!(wallet(&t, "u1").await.is_empty(), "paused");
    act(&t, &id, "resume").await;
    settle(&t).await;
    assert_eq!(wallet(&t, "u1").await, vec![tid.clone()]);
    // An entry due after the end time never happens.
    t.set_now("2026-03-03T01:00:00Z").await;
    event(&t, "d2", "u2", "signup", json!({})).await;
    settle(&t).await;
    t.set_now("2026-03-03T03:00:00Z").await;
    settle(&t).await;
    assert!(wallet(&t, "u2").await.is_empty());
    let c = campaign(&t, &id).await;
    assert_eq!(
        (c["status"].as_str(), c["end_reason"].as_str()),
        (Some("ended"), Some("ends_at"))
    );
    let (_, b) = t
        .get(&format!("/v1/campaigns/{id}/members?status=expired"))
        .await;
    assert_eq!(b["items"][0]["user_id"], "u2");
}
both!(delays_pauses_and_end_times);

/// Never one grant past the budget, with several workers at once.
async fn budgets_hold_under_concurrency(backend: Backend) {
    let t = TestApp::start(backend).await;
    let tid = t
        .active(json!({"distribution": ["campaign_only"], "benefit": {"kind": "reduction", "threshold": 0, "off": 700}}))
        .await;
    let mut body = signup(&tid);
    body["trigger"] = json!({"kind": "once"});
    body["budget"] = json!({"count": 50, "amount": 24_500});
    for i in 0..120 {
        member(
            &t,
            &format!("b{i:03}"),
            json!({"joined_at": "2026-01-01T00:00:00Z"}),
        )
        .await;
    }
    let id = created(&t, body).await;
    act(&t, &id, "activate").await;
    race_workers(&t, 4).await;
    let c = campaign(&t, &id).await;
    // 24,500 / 700 = 35 grants: the amount binds before the count.
    assert_eq!(c["stats"]["granted"], 35, "{c}");
    assert_eq!(c["stats"]["spent"], 24_500);
    assert_eq!(c["stats"]["treated"], 35);
    assert_eq!(
        (c["status"].as_str(), c["end_reason"].as_str()),
        (Some("ended"), Some("budget"))
    );
    assert_eq!(t.template(&tid).await["claimed"], 35);
    assert_eq!(t.store.coupon_count(&tid).await.unwrap(), 35);
    let all = entries(&t, &id).await;
    assert_eq!(all.len(), 120);
    assert_eq!(all.iter().filter(|(_, s)| s == "over_budget").count(), 85);
}
both!(budgets_hold_under_concurrency);

/// One member, many events at once, a cap of two a week: exactly two treatments.
async fn caps_hold_under_concurrency(backend: Backend) {
    let t = TestApp::start(backend).await;
    let tid = t.active(json!({"distribution": ["campaign_only"]})).await;
    let body = json!({"name": "check-in", "trigger": {"kind": "event", "event": "check_in"},
        "actions": [{"kind": "grant", "template_id": tid}], "frequency_cap": {"count": 2, "days": 7}});
    let id = created(&t, body).await;
    act(&t, &id, "activate").await;
    let posts: Vec<_> = (0..12)
        .map(|i| {
            let http = t.http.clone();
            let url = t.url.clone();
            tokio::spawn(async move {
                http.post(format!("{url}/v1/events"))
                    .bearer_auth(ADMIN)
                    .json(&json!({"event_id": format!("ci-{i}"), "user_id": "regular", "kind": "check_in"}))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
        .collect();
    for p in posts {
        assert_eq!(p.await.unwrap(), 201);
    }
    race_workers(&t, 4).await;
    assert_eq!(wallet(&t, "regular").await.len(), 2);
    let c = campaign(&t, &id).await;
    assert_eq!(
        (
            c["stats"]["entered"].as_i64(),
            c["stats"]["treated"].as_i64()
        ),
        (Some(12), Some(2))
    );
    // A week later the cap has room again.
    t.set_now("2026-03-09T02:00:01Z").await;
    event(&t, "ci-late", "regular", "check_in", json!({})).await;
    settle(&t).await;
    assert_eq!(wallet(&t, "regular").await.len(), 3);
}
both!(caps_hold_under_concurrency);

/// A pack is all or none: when one template runs out, the member gets none of the pack.
async fn packs_are_all_or_none(backend: Backend) {
    let t = TestApp::start(backend).await;
    let plenty = t.active(json!({"distribution": ["campaign_only"]})).await;
    let scarce = t
        .active(json!({"distribution": ["campaign_only"], "stock": 3}))
        .await;
    let body = json!({"name": "pack", "trigger": {"kind": "event", "event": "signup"},
        "actions": [{"kind": "grant_pack", "template_ids": [plenty, scarce],
                     "cac": {"expected_use_bp": 9000, "ltv": 1000}}]});
    let (st, c) = create(&t, body).await;
    assert_eq!(st, 201, "{c}");
    assert_eq!(c["warnings"][0]["code"], "pack_over_cac", "{c}");
    let id = c["id"].as_str().unwrap().to_string();
    act(&t, &id, "activate").await;
    for i in 0..5 {
        event(&t, &format!("s{i}"), &format!("p{i}"), "signup", json!({})).await;
    }
    settle(&t).await;
    let mut full = 0;
    for i in 0..5 {
        match wallet(&t, &format!("p{i}")).await.len() {
            2 => full += 1,
            0 => {}
            n => panic!("p{i} has {n} coupons of a pack of 2"),
        }
    }
    assert_eq!(full, 3);
    assert_eq!(t.template(&plenty).await["claimed"], 3);
    let (_, b) = t
        .get(&format!("/v1/campaigns/{id}/members?status=refused"))
        .await;
    assert_eq!(b["total"], 2);
    assert_eq!(b["items"][0]["reason"], "out_of_stock");
    let c = campaign(&t, &id).await;
    assert_eq!(
        (
            c["stats"]["treated"].as_i64(),
            c["stats"]["granted"].as_i64()
        ),
        (Some(3), Some(6))
    );
}
both!(packs_are_all_or_none);

/// A member list pages and filters like every list.
async fn members_page(backend: Backend) {
    let t = TestApp::start(backend).await;
    let tid = t.active(json!({"distribution": ["campaign_only"]})).await;
    for i in 0..30 {
        member(
            &t,
            &format!("m{i:02}"),
            json!({"joined_at": "2026-01-01T00:00:00Z"}),
        )
        .await;
    }
    let body = json!({"name": "all", "trigger": {"kind": "once"}, "holdout_bp": 3000,
        "actions": [{"kind": "grant", "template_id": tid}]});
    let id = created(&t, body).await;
    act(&t, &id, "activate").await;
    settle(&t).await;
    let all = entries(&t, &id).await; // pages of 500, one page
    assert_eq!(all.len(), 30);
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = match &cursor {
            Some(c) => format!("&cursor={}", c.replace(' ', "%20").replace(':', "%3A")),
            None => String::new(),
        };
        let (st, b) = t
            .get(&format!(
                "/v1/campaigns/{id}/members?status=held_out&limit=4{q}"
            ))
            .await;
        assert_eq!(st, 200, "{b}");
        for e in b["items"].as_array().unwrap() {
            assert_eq!(e["status"], "held_out");
            seen.push(e["user_id"].as_str().unwrap().to_string());
        }
        match b["next"].as_str() {
            Some(n) => cursor = Some(n.to_string()),
            None => break,
        }
    }
    let want: Vec<String> = (0..30)
        .map(|i| format!("m{i:02}"))
        .filter(|u| held(&id, u, 3000))
        .collect();
    assert_eq!(seen, want);
    let c = campaign(&t, &id).await;
    assert_eq!(c["stats"]["held_out"].as_i64(), Some(want.len() as i64));
    assert_eq!(
        (c["status"].as_str(), c["end_reason"].as_str()),
        (Some("ended"), Some("completed")),
        "a once campaign all decided is complete"
    );
    assert_eq!(c["stats"]["treated"].as_i64(), Some(30 - want.len() as i64));
    let (st, b) = t
        .get(&format!("/v1/campaigns/{id}/members?status=zapped"))
        .await;
    assert_eq!(st, 400, "{b}");
}
both!(members_page);

/// `POST /v1/playbooks`: a whole playbook, or nothing of it.
async fn playbooks_over_http(backend: Backend) {
    let t = TestApp::start(backend).await;
    let path = format!(
        "{}/../../examples/campaigns/win-back-7-days.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut body: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    // Broken: the second campaign's schedule time; nothing may be written.
    let mut broken = body.clone();
    let mut second = broken["campaigns"][0].clone();
    second["trigger"] = json!({"kind": "schedule", "weekdays": [4], "at": "25:00"});
    broken["campaigns"].as_array_mut().unwrap().push(second);
    let (st, b) = t.post("/v1/playbooks", broken).await;
    assert_eq!((st, field(&b)), (422, "campaigns[1].trigger.at"), "{b}");
    let (_, templates) = t.get("/v1/templates").await;
    assert_eq!(templates["total"], 0, "a refused playbook writes nothing");
    let (st, b) = t.post("/v1/playbooks?activate=true", body.take()).await;
    assert_eq!(st, 201, "{b}");
    assert_eq!(b["campaigns"][0]["status"], "active");
    assert!(b["templates"]["snacks_back"]
        .as_str()
        .unwrap()
        .starts_with("tpl_"));
    assert_eq!(b["segments"][0], "snacks-buyers-90d");
    let merchant = t.key("merchant", &["s1"], None).await;
    let (st, _) = t
        .call(
            "POST",
            "/v1/playbooks",
            Some(&merchant),
            Some(json!({"campaigns": []})),
            &[],
        )
        .await;
    assert_eq!(st, 403);
}
both!(playbooks_over_http);
