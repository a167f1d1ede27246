//! Helpers the store's test files share: the time, templates, claims, SCRM records.
#![allow(dead_code)]

use std::collections::HashSet;

use jiff::{SignedDuration, Timestamp};
use quan_core::scrm::{History, Rule};
use quan_core::template::{StatusAction, Template};
use quan_core::zone::TenantZone;
use quan_store::prelude::*;
use quan_store::scrm::{HistoryLine, HistoryOrder, MemberProfile, ProductRecord};
use quan_store::testing::{fresh_store, Backend, TestStore};
use quan_store::{ClaimCommand, ClaimRoute, NewTemplate, TemplateRecord};
use serde_json::{json, Value};

/// A counter purchase: 5.00 off, 95.00 paid.
pub const SALE: quan_store::CounterSale = quan_store::CounterSale {
    discount: 500,
    payable: 9_500,
};

/// 2026-03-01 00:00 UTC: "now" throughout.
pub fn t0() -> Timestamp {
    "2026-03-01T00:00:00Z".parse().unwrap()
}

/// `n` minutes after [`t0`].
pub fn at(n: i64) -> Timestamp {
    t0().checked_add(SignedDuration::from_mins(n)).unwrap()
}

/// `n` days before [`t0`].
pub fn days_ago(n: i64) -> Timestamp {
    t0().checked_sub(SignedDuration::from_hours(24 * n))
        .unwrap()
}

/// A store on a fresh database of `backend`, in UTC.
pub async fn open(backend: Backend) -> TestStore {
    fresh_store(backend, TenantZone::utc()).await
}

/// A public claim of `template` by `user` at [`t0`].
pub fn claim(template: &str, user: &str) -> ClaimCommand {
    ClaimCommand {
        template_id: template.into(),
        user_id: user.into(),
        channel: None,
        region: None,
        route: ClaimRoute::Public,
        idempotency: None,
        actor: "test".into(),
        stores: None,
        now: t0(),
    }
}

/// A valid template: platform, 10 off, 30 days from the claim, public, unlimited, with the
/// top-level fields of `edits` replacing the defaults.
pub fn spec(edits: Value) -> Template {
    let mut spec = json!({
        "name": "test coupon",
        "scope": {"kind": "platform"},
        "benefit": {"kind": "reduction", "threshold": 0, "off": 1000},
        "validity": {"kind": "relative", "days": 30},
        "distribution": ["public"],
        "funding": {"platform_bp": 10000, "merchant_bp": 0}
    });
    for (k, v) in edits.as_object().expect("edits are an object") {
        spec[k] = v.clone();
    }
    Template::parse(serde_json::from_value(spec).expect("a template spec"))
        .expect("a valid template")
}

/// Stores a draft template made by [`spec`] at [`t0`].
pub async fn draft(s: &dyn Store, id: &str, edits: Value) -> TemplateRecord {
    s.insert_template(NewTemplate {
        id: id.into(),
        template: spec(edits),
        created_by: "test".into(),
        now: t0(),
    })
    .await
    .unwrap()
}

/// Stores and activates a template made by [`spec`].
pub async fn active(s: &dyn Store, id: &str, edits: Value) -> String {
    draft(s, id, edits).await;
    s.set_template_status(id, StatusAction::Activate, t0())
        .await
        .unwrap()
        .expect("activated");
    id.to_string()
}

/// Claims `template` for `user` at `now`; the coupon's id.
pub async fn claimed(s: &dyn Store, template: &str, user: &str, now: Timestamp) -> String {
    let cmd = ClaimCommand {
        now,
        ..claim(template, user)
    };
    match s.claim(cmd).await.unwrap() {
        quan_store::ClaimOutcome::Claimed(c) => c.coupon_id,
        other => panic!("{user} could not claim {template}: {other:?}"),
    }
}

/// An ingested order of `user`, one line of one unit per `(sku, amount)`, in store `s1`.
pub fn order(
    id: &str,
    user: &str,
    status: &str,
    paid_at: Timestamp,
    lines: &[(&str, i64)],
) -> HistoryOrder {
    HistoryOrder {
        id: id.into(),
        user_id: user.into(),
        status: quan_store::scrm::HistoryStatus::parse(status).expect("a history status"),
        channel: Some("store".into()),
        paid_at,
        lines: lines
            .iter()
            .enumerate()
            .map(|(i, (sku, amount))| HistoryLine {
                line_id: (i + 1).to_string(),
                sku: sku.to_string(),
                store_id: Some("s1".into()),
                category: None,
                qty: 1,
                amount: *amount,
            })
            .collect(),
        source: quan_store::scrm::OrderSource::Ingest,
    }
}

pub fn product(id: &str, category: &str) -> ProductRecord {
    ProductRecord {
        id: id.into(),
        name: Some(format!("product {id}")),
        store_id: None,
        department: Some("food".into()),
        category: Some(category.into()),
        brand: None,
        attributes: json!({}),
        updated_at: t0(),
    }
}

/// A member's profile, joined at `joined_at`.
pub fn profile(id: &str, joined_at: Timestamp, tags: &[&str]) -> MemberProfile {
    MemberProfile {
        id: id.into(),
        joined_at: Some(joined_at),
        tier: None,
        region: None,
        channel: None,
        guide_id: None,
        points: 0,
        tags: tags.iter().map(|t| t.to_string()).collect(),
        attributes: json!({}),
    }
}

/// A member's aggregates as stored.
pub async fn history(s: &dyn Store, id: &str) -> History {
    s.member(id)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("member {id}"))
        .history
}

pub fn ids(v: &[&str]) -> HashSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

pub fn rule(v: Value) -> Rule {
    serde_json::from_value(v).expect("a rule")
}
