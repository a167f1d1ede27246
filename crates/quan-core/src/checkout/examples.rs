//! The worked examples of docs/DOMAIN.md section 6 and the stacking rules, as tests.

use std::collections::BTreeMap;

use jiff::Timestamp;

use super::*;
use crate::template::{Template, TemplateSpec};
use crate::zone::TenantZone;

fn template(scope: serde_json::Value, benefit: serde_json::Value) -> Template {
    let funding = if scope["kind"] == "platform" {
        serde_json::json!({"platform_bp": 10000, "merchant_bp": 0})
    } else {
        serde_json::json!({"platform_bp": 0, "merchant_bp": 10000})
    };
    let spec: TemplateSpec = serde_json::from_value(serde_json::json!({
        "name": "t", "scope": scope, "benefit": benefit,
        "validity": {"kind": "relative", "days": 30}, "funding": funding
    }))
    .unwrap();
    Template::parse(spec).unwrap()
}

fn reduction(scope: serde_json::Value, threshold: i64, off: i64) -> Template {
    template(
        scope,
        serde_json::json!({"kind": "reduction", "threshold": threshold, "off": off}),
    )
}

fn store(s: &str) -> serde_json::Value {
    serde_json::json!({"kind": "store", "store_id": s})
}

fn product(s: &str, sku: &str) -> serde_json::Value {
    serde_json::json!({"kind": "product", "store_id": s, "skus": [sku]})
}

fn platform() -> serde_json::Value {
    serde_json::json!({"kind": "platform"})
}

fn line(id: &str, store: &str, price: i64, activity: Option<i64>) -> Line {
    Line {
        line_id: id.into(),
        sku: id.into(),
        store_id: store.into(),
        category: None,
        unit_price: price,
        activity_price: activity,
        qty: 1,
    }
}

fn now() -> Timestamp {
    "2026-06-01T04:00:00Z".parse().unwrap()
}

fn ctx() -> QuoteContext {
    QuoteContext {
        at: now(),
        zone: TenantZone::parse("Asia/Shanghai").unwrap(),
        channel: Some(crate::template::Channel::App),
        region: None,
        order_number: 1,
    }
}

/// Prices `lines` with coupons `c1, c2, ...` made from `templates`, all expiring together.
fn price(lines: Vec<Line>, templates: &[Template], shipping: &[(&str, i64)]) -> Quote {
    price_with(lines, templates, shipping, &[], &[]).unwrap()
}

fn price_with(
    lines: Vec<Line>,
    templates: &[Template],
    shipping: &[(&str, i64)],
    pin: &[&str],
    exclude: &[&str],
) -> Result<Quote, QuoteError> {
    let cart = Cart::parse(
        lines,
        shipping
            .iter()
            .map(|(s, f)| (s.to_string(), *f))
            .collect::<BTreeMap<_, _>>(),
    )
    .unwrap();
    let offers: Vec<Offer> = templates
        .iter()
        .enumerate()
        .map(|(i, t)| Offer {
            coupon_id: format!("c{}", i + 1),
            template_id: format!("t{}", i + 1),
            template: t,
            valid_from: now() - jiff::SignedDuration::from_hours(1),
            valid_until: now() + jiff::SignedDuration::from_hours(24),
        })
        .collect();
    let pin: Vec<String> = pin.iter().map(|s| s.to_string()).collect();
    let exclude: Vec<String> = exclude.iter().map(|s| s.to_string()).collect();
    quote(&cart, &offers, &ctx(), &pin, &exclude)
}

fn used(q: &Quote) -> Vec<&str> {
    q.coupons.iter().map(|c| c.coupon_id.as_str()).collect()
}

#[test]
fn activity_price_99_and_a_platform_10_off_pays_89() {
    let q = price(
        vec![line("a", "s1", 12000, Some(9900))],
        &[reduction(platform(), 0, 1000)],
        &[],
    );
    assert_eq!((q.subtotal, q.discount, q.payable), (9900, 1000, 8900));
}

#[test]
fn store_99_minus_10_beats_product_5_off() {
    let q = price(
        vec![line("a", "s1", 12000, Some(9900))],
        &[
            reduction(store("s1"), 9900, 1000),
            reduction(product("s1", "a"), 0, 500),
        ],
        &[],
    );
    assert_eq!((q.payable, used(&q)), (8900, vec!["c1"]));
    assert_eq!(
        q.not_applied,
        vec![NotApplied {
            coupon_id: "c2".into(),
            reason: "not_best".into()
        }]
    );
}

#[test]
fn product_10_off_beats_store_50_minus_5() {
    let q = price(
        vec![line("a", "s1", 9900, None)],
        &[
            reduction(store("s1"), 5000, 500),
            reduction(product("s1", "a"), 0, 1000),
        ],
        &[],
    );
    assert_eq!((q.payable, used(&q)), (8900, vec!["c2"]));
}

#[test]
fn three_stores_450_with_30_30_10_pays_380() {
    let lines = vec![
        line("a", "A", 20000, None),
        line("b", "B", 15000, None),
        line("c", "C", 10000, None),
    ];
    let coupons = [
        reduction(store("A"), 20000, 3000),
        reduction(product("A", "a"), 0, 2000),
        reduction(product("B", "b"), 0, 3000),
        reduction(store("B"), 10000, 1000),
        reduction(store("C"), 10000, 1000),
        reduction(product("C", "c"), 0, 500),
    ];
    let q = price(lines, &coupons, &[]);
    assert_eq!(q.payable, 38000);
    assert_eq!(used(&q), vec!["c1", "c3", "c5"]);
}

#[test]
fn price_400_store_20_and_platform_30_pays_350() {
    let coupons = [
        reduction(store("s1"), 30000, 2000),
        reduction(product("s1", "a"), 0, 1500),
        reduction(platform(), 30000, 3000),
    ];
    let q = price(vec![line("a", "s1", 40000, None)], &coupons, &[]);
    assert_eq!((q.payable, used(&q)), (35000, vec!["c1", "c3"]));
}

#[test]
fn three_stores_with_a_platform_coupon_pays_360() {
    let lines = vec![
        line("a", "A", 20000, None),
        line("b", "B", 15000, None),
        line("c", "C", 10000, None),
    ];
    let coupons = [
        reduction(store("A"), 20000, 4000),
        reduction(product("B", "b"), 0, 1000),
        reduction(store("C"), 10000, 3000),
        reduction(platform(), 0, 1000),
    ];
    let q = price(lines, &coupons, &[]);
    assert_eq!(q.payable, 36000);
    for c in &q.coupons {
        assert_eq!(c.lines.iter().map(|l| l.amount).sum::<i64>(), c.discount);
    }
}

#[test]
fn the_platform_threshold_is_checked_after_merchant_coupons() {
    // Greedy takes the store coupon (20) and then finds the platform coupon's base (280) below
    // its threshold (300); the best is the smaller product coupon (5) and the platform 50: 55.
    let coupons = [
        reduction(store("s1"), 30000, 2000),
        reduction(product("s1", "a"), 0, 500),
        reduction(platform(), 29500, 5000),
    ];
    let q = price(vec![line("a", "s1", 30000, None)], &coupons, &[]);
    assert_eq!((q.discount, used(&q)), (5500, vec!["c2", "c3"]));
    let platform = q.coupons.iter().find(|c| c.coupon_id == "c3").unwrap();
    assert_eq!(platform.lines[0].amount, 5000);
}

#[test]
fn free_shipping_is_checked_after_discounts_and_picks_its_shipment() {
    let lines = vec![line("a", "A", 10000, None), line("b", "B", 5000, None)];
    let free = template(
        platform(),
        serde_json::json!({"kind": "free_shipping", "threshold": 4000}),
    );
    let coupons = [free, reduction(store("B"), 5000, 1500)];
    let q = price(lines, &coupons, &[("A", 800), ("B", 1200)]);
    // B's shipment is the dearer one, and B's lines after its 15 off (35) still reach 40? No:
    // 5000 - 1500 = 3500 < 4000, so the coupon waives A's 8 and B keeps its store coupon.
    assert_eq!(
        (q.discount, q.shipping, q.shipping_waived),
        (1500, 2000, 800)
    );
    let shipping = q.coupons.iter().find(|c| c.coupon_id == "c1").unwrap();
    assert_eq!(
        (shipping.store_id.as_deref(), shipping.lines.len()),
        (Some("A"), 0)
    );
    assert_eq!(q.payable, 15000 - 1500 + 2000 - 800);
}

#[test]
fn a_store_and_a_product_coupon_share_a_store_on_different_lines() {
    let lines = vec![line("a", "s1", 10000, None), line("b", "s1", 6000, None)];
    // The product coupon takes line a; the store coupon keeps line b only and must reach its
    // threshold on b alone (50): both apply.
    let coupons = [
        reduction(store("s1"), 5000, 800),
        reduction(product("s1", "a"), 0, 1000),
    ];
    let q = price(lines, &coupons, &[]);
    assert_eq!((q.discount, used(&q)), (1800, vec!["c1", "c2"]));
    let store_coupon = q.coupons.iter().find(|c| c.coupon_id == "c1").unwrap();
    assert_eq!(
        store_coupon.lines,
        vec![LineShare {
            line_id: "b".into(),
            amount: 800
        }]
    );
}

#[test]
fn ties_prefer_fewer_coupons() {
    let coupons = [
        reduction(product("s1", "a"), 0, 500),
        reduction(product("s1", "b"), 0, 500),
        reduction(store("s1"), 10000, 1000),
    ];
    let q = price(
        vec![line("a", "s1", 5000, None), line("b", "s1", 5000, None)],
        &coupons,
        &[],
    );
    assert_eq!((q.discount, used(&q)), (1000, vec!["c3"]));
}

#[test]
fn pins_and_excludes() {
    let coupons = [
        reduction(store("s1"), 5000, 500),
        reduction(product("s1", "a"), 0, 1000),
    ];
    let lines = || vec![line("a", "s1", 9900, None)];
    let q = price_with(lines(), &coupons, &[], &["c1"], &[]).unwrap();
    assert_eq!((q.payable, used(&q)), (9400, vec!["c1"]));
    let q = price_with(lines(), &coupons, &[], &[], &["c2"]).unwrap();
    assert_eq!(used(&q), vec!["c1"]);
    let far = [reduction(store("s1"), 50000, 500)];
    assert_eq!(
        price_with(lines(), &far, &[], &["c1"], &[]),
        Err(QuoteError::PinNotApplicable("c1".into()))
    );
}

#[test]
fn gifts_stand_outside_and_take_the_soonest_expiring() {
    let gift = template(
        store("s1"),
        serde_json::json!({"kind": "gift", "threshold": 5000, "gift_sku": "tote"}),
    );
    let q = price(
        vec![line("a", "s1", 9900, None)],
        &[gift, reduction(store("s1"), 0, 100)],
        &[],
    );
    assert_eq!(
        q.gifts,
        vec![GiftLine {
            coupon_id: "c1".into(),
            store_id: Some("s1".into()),
            sku: "tote".into(),
            qty: 1
        }]
    );
    assert_eq!(q.discount, 100);
}

#[test]
fn percent_coupons_apportion_by_largest_remainder() {
    let pct = template(
        store("s1"),
        serde_json::json!({"kind": "percent", "rate_bp": 9000}),
    );
    let q = price(
        vec![
            line("a", "s1", 3333, None),
            line("b", "s1", 3333, None),
            line("c", "s1", 3334, None),
        ],
        &[pct],
        &[],
    );
    assert_eq!(q.discount, 1000);
    let shares: Vec<i64> = q.coupons[0].lines.iter().map(|l| l.amount).collect();
    assert_eq!(shares.iter().sum::<i64>(), 1000);
    assert_eq!(shares, vec![333, 333, 334]);
}
