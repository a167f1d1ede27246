//! Claim rules over HTTP on both backends: each reason in order, local midnight, validity, retries.

use crate::common;

use common::{code, field, Backend, TestApp, ADMIN};
use futures::future::join_all;
use serde_json::{json, Value};

fn user(u: &str) -> Value {
    json!({"user_id": u, "channel": "app", "region": "44-03"})
}

async fn every_refusal_reason_in_order(backend: Backend) {
    let app = TestApp::start(backend).await;
    let reason = |r: (u16, Value)| -> String {
        assert!(r.0 == 409 || r.0 == 201, "{r:?}");
        if r.0 == 201 {
            "ok".into()
        } else {
            code(&r.1).to_string()
        }
    };

    // not_claimable_now: a draft, a paused template, outside the claim window; it comes first.
    let draft = app.draft(json!({"channels": ["web"]})).await;
    assert_eq!(
        reason(app.claim(&draft, user("u1")).await),
        "not_claimable_now"
    );
    let paused = app.active(json!({})).await;
    app.post(&format!("/v1/templates/{paused}/pause"), json!({}))
        .await;
    assert_eq!(
        reason(app.claim(&paused, user("u1")).await),
        "not_claimable_now"
    );
    let later = app
        .active(json!({"claim_window": {"from": "2026-03-03T00:00:00Z"}}))
        .await;
    assert_eq!(
        reason(app.claim(&later, user("u1")).await),
        "not_claimable_now"
    );
    let over = app
        .active(json!({"claim_window": {"until": "2026-03-02T02:00:00Z"}}))
        .await;
    assert_eq!(
        reason(app.claim(&over, user("u1")).await),
        "not_claimable_now"
    );

    // route_not_allowed: public claims of service-only and campaign-only templates, non-members.
    let service = app
        .active(json!({"distribution": "service_only", "channels": ["web"]}))
        .await;
    assert_eq!(
        reason(app.claim(&service, user("u1")).await),
        "route_not_allowed"
    );
    let (st, _) = app
        .post(
            &format!("/v1/templates/{service}/grant"),
            json!({"user_id": "u1", "channel": "web"}),
        )
        .await;
    assert_eq!(st, 201, "a guide's grant is the service route");
    let campaign = app.active(json!({"distribution": ["campaign_only"]})).await;
    assert_eq!(
        reason(app.claim(&campaign, user("u1")).await),
        "route_not_allowed"
    );
    let members = app.active(json!({"distribution": ["member_only"]})).await;
    assert_eq!(
        reason(app.claim(&members, user("stranger")).await),
        "route_not_allowed"
    );
    app.call(
        "PUT",
        "/v1/members/m1",
        Some(ADMIN),
        Some(json!({"joined_at": "2026-01-01T00:00:00Z"})),
        &[],
    )
    .await;
    assert_eq!(reason(app.claim(&members, user("m1")).await), "ok");

    // needs_link and invalid_link.
    let hidden = app.active(json!({"distribution": ["link_only"]})).await;
    assert_eq!(reason(app.claim(&hidden, user("u1")).await), "needs_link");
    let forged = json!({"user_id": "u1", "channel": "app", "link": "eyJ0IjoieCJ9.AAAA"});
    let (st, b) = app.claim(&hidden, forged).await;
    assert_eq!((st, code(&b), field(&b)), (409, "invalid_link", "link"));
    let (st, b) = app
        .claim(
            &hidden,
            json!({"user_id": "u1", "channel": "app", "claim_code": "NOPE"}),
        )
        .await;
    assert_eq!(
        (st, code(&b), field(&b)),
        (409, "invalid_link", "claim_code")
    );

    // channel_not_allowed (a request without a channel fails a template that restricts it).
    let web = app
        .active(json!({"channels": ["web"], "regions": ["11"]}))
        .await;
    assert_eq!(
        reason(app.claim(&web, user("u1")).await),
        "channel_not_allowed"
    );
    assert_eq!(
        reason(app.claim(&web, json!({"user_id": "u1"})).await),
        "channel_not_allowed"
    );
    // region_not_allowed, after the channel passes.
    assert_eq!(
        reason(
            app.claim(
                &web,
                json!({"user_id": "u1", "channel": "web", "region": "44"})
            )
            .await
        ),
        "region_not_allowed"
    );
    assert_eq!(
        reason(
            app.claim(&web, json!({"user_id": "u1", "channel": "web"}))
                .await
        ),
        "region_not_allowed"
    );
    assert_eq!(
        reason(
            app.claim(
                &web,
                json!({"user_id": "u1", "channel": "web", "region": "11-01"})
            )
            .await
        ),
        "ok"
    );

    // not_in_audience, for every audience kind that can refuse.
    app.call(
        "PUT",
        "/v1/members/buyer",
        Some(ADMIN),
        Some(json!({"joined_at": "2025-01-01T00:00:00Z", "tier": "gold"})),
        &[],
    )
    .await;
    // A returning member: three orders in its history.
    for n in 0..3 {
        let (st, b) = app
            .call(
                "PUT",
                &format!("/v1/orders/hist-{n}"),
                Some(ADMIN),
                Some(json!({"user_id": "buyer", "paid_at": "2026-01-05T00:00:00Z", "status": "completed",
                    "lines": [{"line_id": "1", "sku": "tea", "store_id": "s1", "qty": 1, "amount": 1500}]})),
                &[],
            )
            .await;
        assert_eq!(st, 201, "{b}");
    }
    app.call(
        "PUT",
        "/v1/members/newbie",
        Some(ADMIN),
        Some(json!({"joined_at": "2026-03-01T00:00:00Z"})),
        &[],
    )
    .await;
    app.call(
        "PUT",
        "/v1/segments/vips",
        Some(ADMIN),
        Some(json!({"name": "VIPs", "member_ids": ["buyer"]})),
        &[],
    )
    .await;
    for (audience, yes, no) in [
        (json!({"kind": "new"}), "newbie", "buyer"),
        (json!({"kind": "returning"}), "buyer", "newbie"),
        (
            json!({"kind": "tiers", "tiers": ["gold", "vip"]}),
            "buyer",
            "newbie",
        ),
        (
            json!({"kind": "segment", "segment_id": "vips"}),
            "buyer",
            "newbie",
        ),
        (
            json!({"kind": "users", "user_ids": ["newbie"]}),
            "newbie",
            "buyer",
        ),
        (
            json!({"kind": "new_members", "within_days": 7}),
            "newbie",
            "buyer",
        ),
    ] {
        let t = app.active(json!({"audience": audience})).await;
        assert_eq!(
            reason(app.claim(&t, user(no)).await),
            "not_in_audience",
            "{audience}"
        );
        assert_eq!(reason(app.claim(&t, user(yes)).await), "ok", "{audience}");
    }
    let t = app.active(json!({"audience": {"kind": "returning"}})).await;
    assert_eq!(
        reason(app.claim(&t, user("nobody")).await),
        "not_in_audience",
        "no member row: no paid order"
    );

    // user_limit, daily_limit, out_of_stock.
    let limited = app.active(json!({"per_user_limit": 1})).await;
    assert_eq!(reason(app.claim(&limited, user("u1")).await), "ok");
    assert_eq!(reason(app.claim(&limited, user("u1")).await), "user_limit");
    let daily = app
        .active(json!({"per_user_limit": 5, "per_user_daily_limit": 1}))
        .await;
    assert_eq!(reason(app.claim(&daily, user("u1")).await), "ok");
    assert_eq!(reason(app.claim(&daily, user("u1")).await), "daily_limit");
    let scarce = app.active(json!({"stock": 1, "per_user_limit": 1})).await;
    assert_eq!(reason(app.claim(&scarce, user("u1")).await), "ok");
    assert_eq!(
        reason(app.claim(&scarce, user("u1")).await),
        "user_limit",
        "the limit is checked before the stock"
    );
    assert_eq!(reason(app.claim(&scarce, user("u2")).await), "out_of_stock");
    let t = app.template(&scarce).await;
    assert_eq!(
        (
            t["issued"].as_i64(),
            t["claimed"].as_i64(),
            t["remaining"].as_i64()
        ),
        (Some(1), Some(1), Some(0))
    );
}
both!(every_refusal_reason_in_order);

async fn daily_limit_turns_at_local_midnight(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = app
        .active(json!({"per_user_limit": 3, "per_user_daily_limit": 1}))
        .await;
    // 23:59:59 on March 2 in Shanghai is 15:59:59 UTC.
    app.set_now("2026-03-02T15:59:59Z").await;
    assert_eq!(app.claim(&t, user("u1")).await.0, 201);
    assert_eq!(code(&app.claim(&t, user("u1")).await.1), "daily_limit");
    // 00:00:00 on March 3 in Shanghai: a new local day, though still March 2 in UTC.
    app.set_now("2026-03-02T16:00:00Z").await;
    assert_eq!(app.claim(&t, user("u1")).await.0, 201);
    assert_eq!(code(&app.claim(&t, user("u1")).await.1), "daily_limit");
    // UTC midnight is not a boundary: 08:00 local on March 3 is the same local day.
    app.set_now("2026-03-03T00:00:00Z").await;
    assert_eq!(code(&app.claim(&t, user("u1")).await.1), "daily_limit");
    app.set_now("2026-03-03T16:00:00Z").await;
    assert_eq!(app.claim(&t, user("u1")).await.0, 201);
    assert_eq!(
        code(&app.claim(&t, user("u1")).await.1),
        "user_limit",
        "three in all"
    );
}
both!(daily_limit_turns_at_local_midnight);

async fn validity_windows_and_expiry(backend: Backend) {
    let app = TestApp::start(backend).await;
    // Claimed at 10:00 local on March 2 (02:00 UTC).
    let relative = app
        .active(json!({"validity": {"kind": "relative", "days": 3}}))
        .await;
    let (_, c) = app.claim(&relative, user("u1")).await;
    assert_eq!(
        (c["valid_from"].as_str(), c["valid_until"].as_str()),
        (Some("2026-03-02T02:00:00Z"), Some("2026-03-05T02:00:00Z"))
    );
    let next_day = app
        .active(json!({"validity": {"kind": "relative", "days": 2, "from_next_day": true}}))
        .await;
    let (_, n) = app.claim(&next_day, user("u1")).await;
    assert_eq!(
        (n["valid_from"].as_str(), n["valid_until"].as_str()),
        (Some("2026-03-02T16:00:00Z"), Some("2026-03-04T16:00:00Z"))
    );
    let fixed = app.active(json!({"validity": {"kind": "fixed", "valid_from": "2026-04-01T00:00:00Z", "valid_until": "2026-05-01T00:00:00Z"}})).await;
    let (_, f) = app.claim(&fixed, user("u1")).await;
    assert_eq!(
        (f["valid_from"].as_str(), f["valid_until"].as_str()),
        (Some("2026-04-01T00:00:00Z"), Some("2026-05-01T00:00:00Z"))
    );

    let (_, w) = app.get("/v1/users/u1/coupons?status=claimed").await;
    assert_eq!(w["total"], 3);
    // Past the next-day coupon's end it reads as expired at once, before any sweep.
    app.set_now("2026-03-04T16:00:00Z").await;
    let (_, w) = app.get("/v1/users/u1/coupons?status=expired").await;
    assert_eq!(w["total"], 1);
    assert_eq!(w["items"][0]["id"], n["coupon_id"]);
    let (_, w) = app.get("/v1/users/u1/coupons?status=claimed").await;
    assert_eq!(w["total"], 2);
    // The sweeper writes the expiry with its ledger entry.
    let swept = app.store.expire_due(app.clock_now(), 100).await.unwrap();
    assert_eq!(swept, 1);
    let (_, detail) = app
        .get(&format!("/v1/coupons/{}", n["coupon_id"].as_str().unwrap()))
        .await;
    assert_eq!(detail["status"], "expired");
    let events: Vec<&str> = detail["ledger"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["claimed", "expired"]);
    assert_eq!(
        app.store.expire_due(app.clock_now(), 100).await.unwrap(),
        0,
        "expiry happens once"
    );
}
both!(validity_windows_and_expiry);

async fn idempotent_retries_replay_the_first_answer(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = app.active(json!({"stock": 10})).await;
    let path = format!("/v1/templates/{t}/claim");
    let key = [("Idempotency-Key", "retry-1")];
    let a = app
        .call("POST", &path, Some(ADMIN), Some(user("u1")), &key)
        .await;
    let b = app
        .call("POST", &path, Some(ADMIN), Some(user("u1")), &key)
        .await;
    assert_eq!((a.0, b.0), (201, 201));
    assert_eq!(a.1, b.1, "the retry answers exactly the first answer");
    assert_eq!(app.template(&t).await["claimed"], 1);
    let (st, m) = app
        .call("POST", &path, Some(ADMIN), Some(user("u2")), &key)
        .await;
    assert_eq!((st, code(&m)), (422, "idempotency_mismatch"));
    // The same key from another API key is another request.
    let other = app.key("platform", &[], None).await;
    let (st, c) = app
        .call("POST", &path, Some(&other), Some(user("u1")), &key)
        .await;
    assert_eq!(st, 201);
    assert_ne!(c["coupon_id"], a.1["coupon_id"]);

    // A refusal is replayed too, even after the reason went away.
    let paused = app.draft(json!({})).await;
    let ppath = format!("/v1/templates/{paused}/claim");
    let first = app
        .call(
            "POST",
            &ppath,
            Some(ADMIN),
            Some(user("u3")),
            &[("Idempotency-Key", "retry-2")],
        )
        .await;
    assert_eq!(code(&first.1), "not_claimable_now");
    app.post(&format!("/v1/templates/{paused}/activate"), json!({}))
        .await;
    let again = app
        .call(
            "POST",
            &ppath,
            Some(ADMIN),
            Some(user("u3")),
            &[("Idempotency-Key", "retry-2")],
        )
        .await;
    assert_eq!(again, first);
    assert_eq!(app.template(&paused).await["claimed"], 0);

    // Concurrent retries of one key claim once.
    let conc = app.active(json!({})).await;
    let cpath = format!("/v1/templates/{conc}/claim");
    let answers = join_all((0..20).map(|_| {
        app.call(
            "POST",
            &cpath,
            Some(ADMIN),
            Some(user("u4")),
            &[("Idempotency-Key", "retry-3")],
        )
    }))
    .await;
    let ids: std::collections::HashSet<String> = answers
        .iter()
        .filter(|a| a.0 == 201)
        .map(|a| a.1["coupon_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 1, "{answers:?}");
    assert_eq!(app.template(&conc).await["claimed"], 1);

    // Other mutating calls take the header as well.
    let body = common::template(json!({"name": "once"}));
    let k = [("Idempotency-Key", "create-1")];
    let x = app
        .call("POST", "/v1/templates", Some(ADMIN), Some(body.clone()), &k)
        .await;
    let y = app
        .call("POST", "/v1/templates", Some(ADMIN), Some(body), &k)
        .await;
    assert_eq!((x.0, y.0, &x.1["id"]), (201, 201, &y.1["id"]));
}
both!(idempotent_retries_replay_the_first_answer);
