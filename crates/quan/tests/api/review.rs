//! A campaign's review over HTTP on both backends, against a count the test makes itself:
//! checkouts with and without the campaign's coupon, a full and a partial refund, a counter
//! redemption, ingested orders inside, at the edges of and outside the attribution window, and
//! orders before entry that only the pre-period sees.

use crate::common;

use common::campaign::*;
use common::{template, Backend, TestApp, ADMIN};
use jiff::{SignedDuration, Timestamp};
use serde_json::{json, Value};

const ENTRY: &str = "2026-03-02T02:00:00Z"; // the test's clock at activation

/// A member's first coupon of the campaign: (id, code).
async fn coupon(t: &TestApp, user: &str) -> (String, String) {
    let (st, b) = t.get(&format!("/v1/users/{user}/coupons")).await;
    assert_eq!(st, 200, "{b}");
    let c = &b["items"][0];
    (
        c["id"].as_str().unwrap().to_string(),
        c["code"].as_str().unwrap().to_string(),
    )
}

async fn ok(t: &TestApp, method: &str, path: &str, body: Value) -> Value {
    let (st, b) = t.call(method, path, Some(ADMIN), Some(body), &[]).await;
    assert!((200..300).contains(&st), "{method} {path}: {st} {b}");
    b
}

/// A checkout order of `qty` × 80.00 at store s1, with `coupons`, paid now.
async fn checkout(t: &TestApp, id: &str, user: &str, qty: i64, coupons: &[&str]) -> Value {
    ok(
        t,
        "POST",
        "/v1/orders",
        json!({"order_id": id, "user_id": user, "coupon_ids": coupons,
            "lines": [{"line_id": "1", "sku": "tea", "store_id": "s1", "unit_price": 8000, "qty": qty}]}),
    )
    .await;
    ok(t, "POST", &format!("/v1/orders/{id}/pay"), json!({})).await
}

async fn review_matches_an_independent_count(backend: Backend) {
    let t = TestApp::start(backend).await;
    let tpl = t
        .active(template(json!({
            "scope": {"kind": "store", "store_id": "s1"},
            "distribution": ["campaign_only"],
            "funding": {"platform_bp": 3000, "merchant_bp": 5000, "supplier_bp": 2000},
        })))
        .await;
    let members: Vec<String> = (0..40).map(|i| format!("m{i:02}")).collect();
    for m in &members {
        member(&t, m, json!({"joined_at": "2026-01-01T00:00:00Z"})).await;
    }
    // Before entry: every fourth member bought, three days before (the pre-period only).
    let entry: Timestamp = ENTRY.parse().unwrap();
    let day = |d: i64| entry + SignedDuration::from_hours(24 * d);
    let mut paid: Vec<(String, Timestamp, i64)> = Vec::new();
    for (i, m) in members.iter().enumerate().filter(|(i, _)| i % 4 == 0) {
        let at = day(-3);
        order(&t, &format!("pre-{i}"), m, &at.to_string(), "tea", 3000).await;
        paid.push((m.clone(), at, 3000));
    }
    let id = run_campaign(
        &t,
        json!({"name": "review", "trigger": {"kind": "once"}, "holdout_bp": 5000,
            "attribution_days": 7, "actions": [{"kind": "grant", "template_id": tpl}]}),
    )
    .await;
    let arms = entries(&t, &id).await;
    let arm = |status: &str| -> Vec<String> {
        arms.iter()
            .filter(|(_, s)| s == status)
            .map(|(u, _)| u.clone())
            .collect()
    };
    let (treated, held) = (arm("treated"), arm("held_out"));
    assert_eq!(treated.len() + held.len(), 40);
    assert!(
        treated.len() >= 6 && held.len() >= 3,
        "{treated:?} {held:?}"
    );

    // A day after entry.
    t.set_now(&day(1).to_string()).await;
    let (c0, _) = coupon(&t, &treated[0]).await;
    let o = checkout(&t, "A0", &treated[0], 2, &[&c0]).await;
    assert_eq!(o["payable"], 15_000, "{o}");
    paid.push((treated[0].clone(), day(1), 15_000));
    // Paid, then refunded whole: the coupon comes back, the order counts for nothing.
    let (c1, _) = coupon(&t, &treated[1]).await;
    checkout(&t, "A1", &treated[1], 2, &[&c1]).await;
    ok(
        &t,
        "POST",
        "/v1/orders/A1/refund",
        json!({"lines": [{"line_id": "1", "qty": 2}]}),
    )
    .await;
    // Paid, then one of two units refunded: 7,500 of 15,000 back, the coupon keeps 500.
    let (c2, _) = coupon(&t, &treated[2]).await;
    checkout(&t, "A2", &treated[2], 2, &[&c2]).await;
    let r = ok(
        &t,
        "POST",
        "/v1/orders/A2/refund",
        json!({"lines": [{"line_id": "1", "qty": 1}]}),
    )
    .await;
    assert_eq!(r["amount"], 7_500, "{r}");
    paid.push((treated[2].clone(), day(1), 7_500));
    // Bought without the coupon.
    checkout(&t, "A3", &treated[3], 1, &[]).await;
    paid.push((treated[3].clone(), day(1), 8_000));
    // Redeemed at a counter: 60.00 less 10.00 (the counter's sale is not a member order).
    let (_, code4) = coupon(&t, &treated[4]).await;
    ok(
        &t,
        "POST",
        "/v1/coupons/redeem",
        json!({"code": code4, "store_id": "s1", "amount": 6000}),
    )
    .await;
    // Ingested: at the very moment of entry (counts), at its end (does not), after it.
    order(&t, "B5", &treated[5], ENTRY, "tea", 4_000).await;
    paid.push((treated[5].clone(), entry, 4_000));
    order(&t, "H0", &held[0], &day(2).to_string(), "tea", 7_000).await;
    paid.push((held[0].clone(), day(2), 7_000));
    order(&t, "H1", &held[1], &day(7).to_string(), "tea", 9_000).await;
    paid.push((held[1].clone(), day(7), 9_000));
    order(&t, "H2", &held[2], &day(9).to_string(), "tea", 5_000).await;
    paid.push((held[2].clone(), day(9), 5_000));

    t.set_now(&day(10).to_string()).await;
    let (st, r) = t.get(&format!("/v1/campaigns/{id}/review")).await;
    assert_eq!(st, 200, "{r}");

    // The count, made here: orders in [entry, entry + 7 days) per arm.
    let window = |u: &str| -> (bool, i64) {
        let mine: Vec<i64> = paid
            .iter()
            .filter(|(who, at, _)| who == u && *at >= entry && *at < day(7))
            .map(|(_, _, amount)| *amount)
            .collect();
        (!mine.is_empty(), mine.iter().sum())
    };
    let count = |arm: &[String]| -> (u64, u64, i64) {
        let outcomes: Vec<(bool, i64)> = arm.iter().map(|u| window(u)).collect();
        (
            arm.len() as u64,
            outcomes.iter().filter(|(c, _)| *c).count() as u64,
            outcomes.iter().map(|(_, r)| r).sum(),
        )
    };
    let (nt, ct, rt) = count(&treated);
    let (nc, cc, rc) = count(&held);
    assert_eq!((ct, rt), (4, 15_000 + 7_500 + 8_000 + 4_000));
    assert_eq!((cc, rc), (1, 7_000));
    let h = &r["holdout"];
    assert_eq!(
        (
            &h["treated"]["members"],
            &h["treated"]["converted"],
            &h["treated"]["revenue"]
        ),
        (&json!(nt), &json!(ct), &json!(rt)),
        "{h}"
    );
    assert_eq!(
        (
            &h["control"]["members"],
            &h["control"]["converted"],
            &h["control"]["revenue"]
        ),
        (&json!(nc), &json!(cc), &json!(rc)),
        "{h}"
    );
    let uplift = ct as f64 / nt as f64 - cc as f64 / nc as f64;
    assert_eq!(
        h["conversion_uplift_bp"],
        json!((uplift * 10_000.0).round() as i64)
    );
    let per_member = rt as f64 / nt as f64 - rc as f64 / nc as f64;
    assert_eq!(
        h["revenue_uplift_per_member"],
        json!(per_member.round() as i64)
    );
    assert_eq!(
        h["incremental_revenue"],
        json!((per_member * nt as f64).round() as i64)
    );
    let ci = h["revenue_uplift_per_member_ci95"].as_array().unwrap();
    assert!(ci[0].as_i64().unwrap() <= per_member.round() as i64);
    assert!(per_member.round() as i64 <= ci[1].as_i64().unwrap());
    assert!(h["srm_p_value"].as_f64().unwrap() > 0.0);

    // Cost: three coupons used (A0, A2, the counter); A1's came back.
    assert_eq!(r["attribution_days"], 7);
    let f = &r["funnel"];
    assert_eq!(
        (
            &f["entered"],
            &f["treated"],
            &f["held_out"],
            &f["granted"],
            &f["used"]
        ),
        (&json!(40), &json!(nt), &json!(nc), &json!(nt), &json!(3)),
        "{f}"
    );
    let given = 1_000 + 500 + 1_000;
    let cost = &r["cost"];
    assert_eq!(
        cost["face_value_granted"],
        json!(nt as i64 * 1_000),
        "{cost}"
    );
    assert_eq!(cost["face_value_used"], 3_000, "{cost}");
    assert_eq!(cost["discount_given"], given, "{cost}");
    // 2,500 by 30% / 50% / 20%.
    assert_eq!(
        cost["by_funder"],
        json!({"platform": 750, "merchant": 1_250, "supplier": 500})
    );
    // Orders that used a coupon: A0 (15,000), A2 (7,500 after its refund), the counter (5,000).
    let gmv = 15_000 + 7_500 + 5_000;
    assert_eq!(r["coupon_orders"], json!({"count": 3, "gmv": gmv}));
    assert_eq!(r["roi_bp"], json!(gmv * 10_000 / given));

    // By tenant-local day: granted at entry; the day after, four redemptions, one of them
    // (A1's) given back by its refund.
    assert_eq!(
        r["daily"],
        json!([{"day": "2026-03-02", "granted": nt, "used": 0, "returned": 0},
            {"day": "2026-03-03", "granted": 0, "used": 4, "returned": 1}])
    );

    // The forecast made at activation: 40 members, half held out, 20 coupons of 10.00; nothing
    // had settled, so the assumed 10%; each use in the audience's average order (ten orders of
    // 30.00, above the threshold of 0).
    let fc = &r["forecast"];
    assert_eq!(fc["audience"], 40, "{fc}");
    let t0 = &fc["templates"][0];
    assert_eq!(
        (&t0["basis"], &t0["expected_use_bp"], &t0["order_value"]),
        (&json!("prior"), &json!(1_000), &json!(3_000)),
        "{t0}"
    );
    assert_eq!(t0["discount_ratio_bp"], 3_333);
    assert_eq!(
        (
            &fc["issued"],
            &fc["issue_cost"],
            &fc["use_cost"],
            &fc["expected_used"],
            &fc["expected_output"],
            &fc["expected_roi_bp"]
        ),
        (
            &json!(20),
            &json!(20_000),
            &json!(2_000),
            &json!(2),
            &json!(6_000),
            &json!(30_000)
        ),
        "{fc}"
    );
    // Beside it, what happened.
    assert_eq!(
        fc["actual"],
        json!({"issued": nt, "used": 3, "use_bp": 30_000 / nt, "use_cost": 3_000,
            "output": gmv, "roi_bp": gmv * 10_000 / 3_000}),
        "{fc}"
    );

    // Slices: one template; every member unranked (never scored); in and out of a segment of
    // the first three treated (A0 used, A1 refunded whole, A2 used half refunded), the counter
    // sale outside it.
    let (st, s) = t
        .get(&format!("/v1/campaigns/{id}/slices?by=template"))
        .await;
    assert_eq!(st, 200, "{s}");
    assert_eq!(
        s["slices"],
        json!([{"key": tpl, "granted": nt, "used": 3, "discount_given": given}])
    );
    let (_, s) = t
        .get(&format!("/v1/campaigns/{id}/slices?by=rfm_tier"))
        .await;
    assert_eq!(
        s["slices"],
        json!([{"key": "unranked", "members": nt, "granted": nt, "used": 3, "discount_given": given}])
    );
    let seg = ok(
        &t,
        "POST",
        "/v1/segments",
        json!({"name": "first three", "member_ids": &treated[..3]}),
    )
    .await;
    let (_, s) = t
        .get(&format!(
            "/v1/campaigns/{id}/slices?by=segment&segment_id={}",
            seg["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        s["slices"],
        json!([
            {"key": "in", "members": 3, "granted": 3, "used": 2, "discount_given": 1_500},
            {"key": "out", "members": nt - 3, "granted": nt - 3, "used": 1, "discount_given": 1_000}
        ])
    );
    let (st, b) = t
        .get(&format!("/v1/campaigns/{id}/slices?by=segment"))
        .await;
    assert_eq!((st, common::field(&b)), (422, "segment_id"), "{b}");

    // The same figures as CSV, one a line.
    let (st, csv) = t.get(&format!("/v1/campaigns/{id}/review.csv")).await;
    assert_eq!(st, 200);
    let csv = csv.as_str().expect("CSV text");
    assert!(csv.starts_with("figure,value\r\n"), "{csv}");
    for line in [
        "funnel.used,3".to_string(),
        format!("cost.discount_given,{given}"),
        "cost.by_funder.merchant,1250".to_string(),
        format!("holdout.treated.revenue,{rt}"),
        "attribution_days,7".to_string(),
    ] {
        assert!(csv.contains(&format!("{line}\r\n")), "{line} in {csv}");
    }
}
both!(review_matches_an_independent_count);

/// A campaign without a holdout has no holdout part; one nobody may read answers 404.
async fn reviews_without_a_holdout_and_of_nothing(backend: Backend) {
    let t = TestApp::start(backend).await;
    let tpl = t
        .active(template(json!({"distribution": ["campaign_only"]})))
        .await;
    member(&t, "u1", json!({"joined_at": "2026-01-01T00:00:00Z"})).await;
    let id = run_campaign(
        &t,
        json!({"name": "all in", "trigger": {"kind": "once"},
            "actions": [{"kind": "grant", "template_id": tpl}]}),
    )
    .await;
    let (st, r) = t.get(&format!("/v1/campaigns/{id}/review")).await;
    assert_eq!(st, 200, "{r}");
    assert!(r.get("holdout").is_none(), "{r}");
    assert!(r.get("roi_bp").is_none(), "nothing was given: {r}");
    assert_eq!(r["forecast"]["issued"], 1, "{r}");
    assert!(
        r["forecast"]["actual"].get("roi_bp").is_none(),
        "nothing used: {r}"
    );
    assert_eq!(r["attribution_days"], 14, "the default window");
    assert_eq!(r["funnel"]["granted"], 1);
    let (st, _) = t.get("/v1/campaigns/cmp_none/review").await;
    assert_eq!(st, 404);
    let merchant = t.key("merchant", &["s1"], None).await;
    let (st, _) = t
        .call(
            "GET",
            &format!("/v1/campaigns/{id}/review"),
            Some(&merchant),
            None,
            &[],
        )
        .await;
    assert_eq!(st, 403, "campaigns are the platform's");
}
both!(reviews_without_a_holdout_and_of_nothing);

/// A template's review from the counters: three claims, one used in a checkout then half
/// refunded, one redeemed at a counter; by route and campaign; a merchant of another store
/// cannot read it.
async fn a_template_review_from_the_counters(backend: Backend) {
    let t = TestApp::start(backend).await;
    let tpl = t
        .active(template(json!({
            "scope": {"kind": "store", "store_id": "s1"},
            "funding": {"platform_bp": 2000, "merchant_bp": 8000},
        })))
        .await;
    for u in ["u1", "u2", "u3"] {
        let (st, b) = t.claim(&tpl, json!({"user_id": u})).await;
        assert_eq!(st, 201, "{b}");
    }
    let (c1, _) = coupon(&t, "u1").await;
    checkout(&t, "T1", "u1", 2, &[&c1]).await;
    ok(
        &t,
        "POST",
        "/v1/orders/T1/refund",
        json!({"lines": [{"line_id": "1", "qty": 1}]}),
    )
    .await;
    let (_, code2) = coupon(&t, "u2").await;
    ok(
        &t,
        "POST",
        "/v1/coupons/redeem",
        json!({"code": code2, "store_id": "s1", "amount": 6000}),
    )
    .await;
    let (st, r) = t.get(&format!("/v1/templates/{tpl}/review")).await;
    assert_eq!(st, 200, "{r}");
    // Given: 500 of the checkout's 1,000 (half its units refunded) and the counter's 1,000.
    assert_eq!(
        (
            &r["claimed"],
            &r["used"],
            &r["use_rate_bp"],
            &r["discount_given"]
        ),
        (&json!(3), &json!(2), &json!(6666), &json!(1_500)),
        "{r}"
    );
    assert_eq!(r["face_value_used"], 2_000);
    assert_eq!(
        r["by_funder"],
        json!({"platform": 300, "merchant": 1_200, "supplier": 0})
    );
    // Orders: the checkout (15,000 less 7,500 refunded) and the counter sale (5,000).
    assert_eq!(r["coupon_orders"], json!({"count": 2, "gmv": 12_500}));
    assert_eq!(
        r["by_route"],
        json!([{"key": "public", "claimed": 3, "used": 2, "discount_given": 1_500}])
    );
    assert_eq!(r["by_campaign"][0]["key"], "");
    assert_eq!(r["daily"][0]["granted"], 3);

    let other = t.key("merchant", &["s2"], None).await;
    let (st, _) = t
        .call(
            "GET",
            &format!("/v1/templates/{tpl}/review"),
            Some(&other),
            None,
            &[],
        )
        .await;
    assert_eq!(st, 404, "another store's template is not found");
    let own = t.key("merchant", &["s1"], None).await;
    let (st, _) = t
        .call(
            "GET",
            &format!("/v1/templates/{tpl}/review"),
            Some(&own),
            None,
            &[],
        )
        .await;
    assert_eq!(st, 200);
}
both!(a_template_review_from_the_counters);
