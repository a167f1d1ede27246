//! Forecasts before launch and the operator's calculators over HTTP on both backends, each
//! figure against one computed here by hand: the expected use rate from similar settled
//! coupons, LTV from orders (the article's 2 × 100 × 10% / 30%), the threshold of a category
//! mix read from the orders, CAC of a campaign, a pack against CAC, the lottery's 20% rule.

use crate::common;

use common::campaign::*;
use common::{code, field, template, Backend, TestApp, ADMIN};
use serde_json::{json, Value};

async fn ok(t: &TestApp, method: &str, path: &str, body: Option<Value>) -> Value {
    let (st, b) = t.call(method, path, Some(ADMIN), body, &[]).await;
    assert!((200..300).contains(&st), "{method} {path}: {st} {b}");
    b
}

async fn refused(t: &TestApp, path: &str, body: Value) -> (String, String) {
    let (st, b) = t.post(path, body).await;
    assert_eq!(st, 422, "{path}: {b}");
    (code(&b).to_string(), field(&b).to_string())
}

/// 30 members claim a coupon of 10.00 off; 10 use it at a counter; the rest end unused when it
/// runs out. Then a forecast for a coupon like it learns from them; one unlike it, from the
/// tenant's rate.
async fn forecasts_learn_from_similar_settled_coupons(backend: Backend) {
    let t = TestApp::start(backend).await;
    let tpl = t
        .active(template(
            json!({"validity": {"kind": "relative", "days": 7}}),
        ))
        .await;
    for i in 0..30 {
        let user = format!("u{i:02}");
        member(&t, &user, json!({"joined_at": "2026-01-01T00:00:00Z"})).await;
        let (st, c) = t.claim(&tpl, json!({"user_id": user})).await;
        assert_eq!(st, 201, "{c}");
        if i < 10 {
            ok(
                &t,
                "POST",
                "/v1/coupons/redeem",
                Some(json!({"code": c["code"], "store_id": "s1", "amount": 5000})),
            )
            .await;
        }
    }
    // Nothing settled yet: the assumed rate, or the one given.
    let f = ok(
        &t,
        "POST",
        "/v1/forecasts",
        Some(json!({"template_id": tpl})),
    )
    .await;
    assert_eq!(
        (&f["basis"], &f["expected_use_bp"], &f["examples"]),
        (&json!("prior"), &json!(1_000), &json!(0)),
        "{f}"
    );
    let f = ok(
        &t,
        "POST",
        "/v1/forecasts",
        Some(json!({"template_id": tpl, "expected_use_bp": 2_500, "issued": 1_000})),
    )
    .await;
    assert_eq!(
        (&f["basis"], &f["expected_use_bp"]),
        (&json!("prior"), &json!(2_500))
    );

    // A week and a day later the other 20 have ended unused.
    t.set_now("2026-03-10T03:00:00Z").await;
    // The tenant: (10 + 20 × 10%) / (30 + 20) = 24%; the similar ones, smoothed toward it:
    // (10 + 20 × 24%) / 50 = 29.6%.
    let f = ok(
        &t,
        "POST",
        "/v1/forecasts",
        Some(json!({"template_id": tpl, "issued": 1_000})),
    )
    .await;
    assert_eq!(
        (
            &f["basis"],
            &f["examples"],
            &f["expected_use_bp"],
            &f["audience"]
        ),
        (&json!("similar"), &json!(30), &json!(2_960), &json!(30)),
        "{f}"
    );
    // 1,000 coupons of 10.00 at 29.6%: used 296, use cost 2,960.00, issue cost 10,000.00;
    // nobody has bought, so each use is in an order of the threshold (0): no output.
    assert_eq!(
        (
            &f["issue_value"],
            &f["issue_cost"],
            &f["use_cost"],
            &f["expected_used"],
            &f["expected_output"]
        ),
        (
            &json!(296),
            &json!(1_000_000),
            &json!(296_000),
            &json!(296),
            &json!(0)
        ),
        "{f}"
    );
    // Issued by default to the audience less a holdout: 30 less 10% is 27.
    let f = ok(
        &t,
        "POST",
        "/v1/forecasts",
        Some(json!({"template_id": tpl, "holdout_bp": 1_000})),
    )
    .await;
    assert_eq!(
        (&f["issued"], &f["expected_used"]),
        (&json!(27), &json!(8)),
        "{f}"
    );
    // A percent coupon is like none of them: the tenant's 24%. Designed, not stored.
    let design = template(json!({"benefit": {"kind": "percent", "rate_bp": 8000}}));
    let f = ok(
        &t,
        "POST",
        "/v1/forecasts",
        Some(json!({"template": design, "audience": {"kind": "tiers", "tiers": ["gold"]}})),
    )
    .await;
    assert_eq!(
        (
            &f["basis"],
            &f["examples"],
            &f["expected_use_bp"],
            &f["audience"],
            &f["issued"]
        ),
        (
            &json!("tenant"),
            &json!(30),
            &json!(2_400),
            &json!(0),
            &json!(0)
        ),
        "{f}"
    );

    // Bad input names its field and changes nothing.
    for (body, want) in [
        (json!({}), "template_id"),
        (
            json!({"template_id": tpl, "template": design}),
            "template_id",
        ),
        (json!({"template_id": "tpl_nope"}), "template_id"),
        (
            json!({"template_id": tpl, "audience": {"kind": "segment", "segment_id": "seg_nope"}}),
            "audience.segment_id",
        ),
        (
            json!({"template_id": tpl, "audience": {"kind": "tiers", "tiers": []}}),
            "audience.tiers",
        ),
        (json!({"template_id": tpl, "issued": 0}), "issued"),
        (
            json!({"template_id": tpl, "expected_use_bp": 10_001}),
            "expected_use_bp",
        ),
    ] {
        let (_, got) = refused(&t, "/v1/forecasts", body.clone()).await;
        assert_eq!(got, want, "{body}");
    }
    let merchant = t.key("merchant", &["s1"], None).await;
    let (st, _) = t
        .call(
            "POST",
            "/v1/forecasts",
            Some(&merchant),
            Some(json!({"template_id": tpl})),
            &[],
        )
        .await;
    assert_eq!(st, 403);
}
both!(forecasts_learn_from_similar_settled_coupons);

/// The article's LTV from orders: ten buyers order twice a month at 100.00; the month after,
/// three of them are gone. 2 × 100.00 × 10% / 30% = 66.67, its CAC ceiling 53.33.
async fn ltv_threshold_and_lottery_calculators(backend: Backend) {
    let t = TestApp::start(backend).await;
    ok(
        &t,
        "PUT",
        "/v1/economics",
        Some(json!({"gross_margin_bp": 1_000})),
    )
    .await;
    let as_of = "2026-03-01T00:00:00Z";
    for b in 0..10 {
        let user = format!("b{b}");
        member(&t, &user, json!({"joined_at": "2025-01-01T00:00:00Z"})).await;
        // Month 1 (30 to 60 days before as_of): everyone, twice.
        for (n, at) in ["2026-01-10T00:00:00Z", "2026-01-20T00:00:00Z"]
            .iter()
            .enumerate()
        {
            order(&t, &format!("{user}-1-{n}"), &user, at, "fresh", 10_000).await;
        }
        // Month 0: seven of them.
        if b >= 3 {
            for (n, at) in ["2026-02-05T00:00:00Z", "2026-02-15T00:00:00Z"]
                .iter()
                .enumerate()
            {
                order(&t, &format!("{user}-0-{n}"), &user, at, "fresh", 10_000).await;
            }
        }
    }
    let v = ok(
        &t,
        "GET",
        &format!("/v1/calculators/ltv?as_of={as_of}&months=2"),
        None,
    )
    .await;
    assert_eq!(v["margin_bp"], 1_000, "{v}");
    let all = &v["groups"][0];
    assert_eq!(
        (
            &all["kind"],
            &all["buyers"],
            &all["orders"],
            &all["monthly_orders"],
            &all["average_order"],
            &all["churn_bp"],
            &all["ltv"],
            &all["cac_ceiling"]
        ),
        (
            &json!("all"),
            &json!(10),
            &json!(34),
            &json!(2.0),
            &json!(10_000),
            &json!(3_000),
            &json!(6_667),
            &json!(5_333)
        ),
        "{all}"
    );
    // Nobody is ranked yet: the unranked group is everyone.
    let unranked = v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "unranked")
        .unwrap();
    assert_eq!(unranked["ltv"], 6_667);
    // A margin given in the query wins; a segment of three of the loyal ones never churned.
    let seg = ok(
        &t,
        "POST",
        "/v1/segments",
        Some(json!({"name": "three", "member_ids": ["b3", "b4", "b5"]})),
    )
    .await;
    let v = ok(
        &t,
        "GET",
        &format!(
            "/v1/calculators/ltv?as_of={as_of}&months=2&margin_bp=2000&segment_id={}",
            seg["id"].as_str().unwrap()
        ),
        None,
    )
    .await;
    let last = v["groups"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (&last["kind"], &last["buyers"]),
        (&json!("segment"), &json!(3))
    );
    assert_eq!(last["churn_bp"], 0, "{last}");
    assert!(last.get("ltv").is_none(), "no churn, no end: {last}");
    assert_eq!(v["groups"][0]["ltv"], 13_333);

    // Threshold from the mix: baby at 120.00 (two units for 240.00), fresh at 25.00 read from
    // the orders, fast-moving at 60.00 given: 20% × 120 + 40% × 25 + 40% × 60 = 58.00.
    let line = |sku: &str, category: &str, qty: i64, amount: i64| json!({"line_id": sku, "sku": sku, "store_id": "s1", "category": category, "qty": qty, "amount": amount});
    ok(
        &t,
        "PUT",
        "/v1/orders/mix-1",
        Some(
            json!({"user_id": "b0", "paid_at": "2026-02-20T00:00:00Z", "status": "paid",
            "lines": [line("milk", "baby", 2, 24_000), line("veg", "greens", 4, 10_000)]}),
        ),
    )
    .await;
    let v = ok(
        &t,
        "POST",
        "/v1/calculators/threshold",
        Some(json!({"as_of": as_of, "mix": [
            {"category": "baby", "share_bp": 2000},
            {"category": "greens", "share_bp": 4000},
            {"category": "fmcg", "share_bp": 4000, "average_price": 6000}]})),
    )
    .await;
    assert_eq!(v["threshold"], 5_800, "{v}");
    assert_eq!(
        v["mix"][0],
        json!({"category": "baby", "share_bp": 2000, "average_price": 12_000, "source": "orders"})
    );
    assert_eq!(v["mix"][2]["source"], "given");
    for (body, want) in [
        (
            json!({"mix": [{"category": "nothing-sold", "share_bp": 10000}]}),
            "mix[0].category",
        ),
        (
            json!({"mix": [{"category": "baby", "share_bp": 5000}]}),
            "mix",
        ),
        (json!({"mix": []}), "mix"),
    ] {
        let (_, got) = refused(&t, "/v1/calculators/threshold", body.clone()).await;
        assert_eq!(got, want, "{body}");
    }

    // The lottery's 20% rule: one big in ten misses it; with two draws still (19%); two in ten
    // meets it, unless 1,000 participants share 100 units.
    let big = |w: u64, stock: Option<u64>| json!({"weight": w, "big": true, "stock": stock});
    let small = json!({"weight": 8});
    let v = ok(
        &t,
        "POST",
        "/v1/calculators/lottery",
        Some(json!({"prizes": [big(1, None), {"weight": 9}], "draws": 2})),
    )
    .await;
    assert_eq!(v["big_prize_reach_bp"], 1_900, "{v}");
    assert_eq!(v["meets_rule"], false);
    assert_eq!(v["warnings"][0]["code"], "big_prize_reach_below_20pct");
    let v = ok(
        &t,
        "POST",
        "/v1/calculators/lottery",
        Some(json!({"prizes": [big(2, None), small]})),
    )
    .await;
    assert_eq!(
        (&v["big_prize_reach_bp"], &v["meets_rule"]),
        (&json!(2_000), &json!(true))
    );
    assert_eq!(v["warnings"], json!([]));
    let v = ok(
        &t,
        "POST",
        "/v1/calculators/lottery",
        Some(json!({"prizes": [big(2, Some(100)), small], "participants": 1000})),
    )
    .await;
    assert_eq!(v["big_prize_reach_bp"], 1_000, "{v}");
    let (_, got) = refused(
        &t,
        "/v1/calculators/lottery",
        json!({"prizes": [{"weight": 0}]}),
    )
    .await;
    assert_eq!(got, "prizes");
    let (st, b) = t
        .call(
            "PUT",
            "/v1/economics",
            Some(ADMIN),
            Some(json!({"gross_margin_bp": 0})),
            &[],
        )
        .await;
    assert_eq!((st, field(&b)), (422, "gross_margin_bp"), "{b}");
    assert_eq!(
        ok(&t, "GET", "/v1/economics", None).await["gross_margin_bp"],
        1_000
    );
}
both!(ltv_threshold_and_lottery_calculators);

/// CAC of a campaign: the money its coupons gave over the treated members who ordered in its
/// window; the article's 29-10 coupon against a CAC of 52.
async fn cac_and_pack_calculators(backend: Backend) {
    let t = TestApp::start(backend).await;
    let tpl = t
        .active(template(json!({
            "benefit": {"kind": "reduction", "threshold": 2900, "off": 1000},
            "distribution": ["campaign_only"],
        })))
        .await;
    for m in ["n1", "n2", "n3"] {
        member(&t, m, json!({"joined_at": "2026-03-01T00:00:00Z"})).await;
    }
    let id = run_campaign(
        &t,
        json!({"name": "welcome", "trigger": {"kind": "once"},
            "actions": [{"kind": "grant", "template_id": tpl}]}),
    )
    .await;
    // n1 buys with the coupon (10.00 given), n2 without it; n3 does nothing.
    let (st, w) = t.get("/v1/users/n1/coupons").await;
    assert_eq!(st, 200);
    let coupon = w["items"][0]["id"].as_str().unwrap().to_string();
    for (order_id, user, coupons) in [("c1", "n1", vec![coupon.as_str()]), ("c2", "n2", vec![])] {
        ok(
            &t,
            "POST",
            "/v1/orders",
            Some(json!({"order_id": order_id, "user_id": user, "coupon_ids": coupons,
                "lines": [{"line_id": "1", "sku": "tea", "store_id": "s1", "unit_price": 4000, "qty": 1}]})),
        )
        .await;
        ok(
            &t,
            "POST",
            &format!("/v1/orders/{order_id}/pay"),
            Some(json!({})),
        )
        .await;
    }
    let v = ok(
        &t,
        "GET",
        &format!("/v1/calculators/cac?campaign_ids={id}&ltv=6500"),
        None,
    )
    .await;
    assert_eq!(
        (
            &v["spend"],
            &v["acquired"],
            &v["cac"],
            &v["cac_ceiling"],
            &v["within_ceiling"]
        ),
        (
            &json!(1_000),
            &json!(2),
            &json!(500),
            &json!(5_200),
            &json!(true)
        ),
        "{v}"
    );
    assert_eq!(v["campaigns"][0]["name"], "welcome");
    // Only `signup` campaigns count by default: none here.
    let v = ok(&t, "GET", "/v1/calculators/cac?ltv=6500", None).await;
    assert_eq!(
        (&v["campaigns"], &v["acquired"]),
        (&json!([]), &json!(0)),
        "{v}"
    );
    assert!(v.get("cac").is_none());
    let (st, b) = t.get("/v1/calculators/cac?campaign_ids=cmp_nope").await;
    assert_eq!((st, field(&b)), (422, "campaign_ids"), "{b}");

    // The 29-10 coupon used by 30% costs 3.00 a new customer, well within 52.00.
    let v = ok(
        &t,
        "POST",
        "/v1/calculators/pack",
        Some(json!({"template_ids": [tpl], "expected_use_bp": 3000, "ltv": 6500})),
    )
    .await;
    assert_eq!(
        v,
        json!({"face_value": 1000, "expected_cost": 300, "ltv": 6500, "cac_ceiling": 5200, "within_ceiling": true})
    );
    // Nine of them, all used, do not fit.
    let v = ok(
        &t,
        "POST",
        "/v1/calculators/pack",
        Some(json!({"template_ids": vec![tpl.clone(); 9], "expected_use_bp": 10000, "ltv": 6500})),
    )
    .await;
    assert_eq!(
        (&v["expected_cost"], &v["within_ceiling"]),
        (&json!(9_000), &json!(false))
    );
    let (_, got) = refused(
        &t,
        "/v1/calculators/pack",
        json!({"template_ids": ["tpl_nope"], "expected_use_bp": 3000}),
    )
    .await;
    assert_eq!(got, "template_ids[0]");
}
both!(cac_and_pack_calculators);
