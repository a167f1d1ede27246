//! What the console reads: short links, a period's activity per template, the facts a claim
//! would be decided on (without claiming), and members by id prefix.

use quan_core::claim::{ClaimAsk, ClaimBook, Route};
use quan_core::template::TemplateStatus;
use quan_core::ErrorCode;
use quan_store::on_both_backends;
use quan_store::testing::Backend;
use quan_store::{NewShortLink, TemplateActivity};
use serde_json::json;

use crate::common::*;

on_both_backends!(
    short_links_keep_their_code,
    activity_counts_the_period,
    claimant_reads_what_a_claim_decides_on,
    members_by_id_prefix
);

async fn short_links_keep_their_code(backend: Backend) {
    let db = open(backend).await;
    let s = &*db.store;
    let link = |code: &str, link: &str| NewShortLink {
        code: code.into(),
        template_id: "t1".into(),
        link: link.into(),
        expires_at: at(60),
        now: t0(),
    };
    assert!(s
        .insert_short_link(link("Ab3dE9x", "signed.one"))
        .await
        .unwrap());
    assert!(
        !s.insert_short_link(link("Ab3dE9x", "signed.two"))
            .await
            .unwrap(),
        "a taken code is refused, and keeps its link"
    );
    let got = s.short_link("Ab3dE9x").await.unwrap().unwrap();
    assert_eq!(
        (
            got.link.as_str(),
            got.template_id.as_str(),
            got.expires_at,
            got.created_at
        ),
        ("signed.one", "t1", at(60), t0())
    );
    assert!(
        s.short_link("ab3dE9x").await.unwrap().is_none(),
        "codes are case-sensitive"
    );
}

async fn activity_counts_the_period(backend: Backend) {
    let db = open(backend).await;
    let s = &*db.store;
    let a = active(s, "ta", json!({})).await;
    let b = active(s, "tb", json!({})).await;
    active(s, "tc", json!({})).await;
    claimed(s, &a, "u1", days_ago(40)).await;
    let used = claimed(s, &a, "u2", days_ago(3)).await;
    claimed(s, &a, "u3", days_ago(1)).await;
    s.redeem_coupon(&used, None, SALE, days_ago(2), "test")
        .await
        .unwrap()
        .unwrap();
    let codes = s
        .make_claim_codes(&b, 2, days_ago(5))
        .await
        .unwrap()
        .unwrap();
    let by_code = quan_store::ClaimCommand {
        route: quan_store::ClaimRoute::Code(codes[0].clone()),
        now: days_ago(1),
        ..claim(&b, "u4")
    };
    assert!(matches!(
        s.claim(by_code).await.unwrap(),
        quan_store::ClaimOutcome::Claimed(_)
    ));
    let row = |t: &str, issued, claimed, used| TemplateActivity {
        template_id: t.into(),
        issued,
        claimed,
        used,
    };
    assert_eq!(
        s.template_activity(days_ago(30), t0(), None).await.unwrap(),
        vec![row("ta", 2, 2, 1), row("tb", 2, 1, 0)],
        "codes issue when made and claim when used; the old claim and tc are outside"
    );
    assert_eq!(
        s.template_activity(days_ago(2), t0(), None).await.unwrap(),
        vec![row("ta", 1, 1, 1), row("tb", 0, 1, 0)],
        "from is inclusive"
    );
    assert!(s
        .template_activity(t0(), at(1), None)
        .await
        .unwrap()
        .is_empty());
    // Some templates only: the same figures, read template by template.
    let some = |ids: &[&str]| Some(ids.iter().map(|t| t.to_string()).collect());
    assert_eq!(
        s.template_activity(days_ago(30), t0(), some(&["tb", "tc", "nope"]))
            .await
            .unwrap(),
        vec![row("tb", 2, 1, 0)]
    );
    assert_eq!(
        s.template_activity(days_ago(30), t0(), some(&["ta", "tb"]))
            .await
            .unwrap(),
        s.template_activity(days_ago(30), t0(), None).await.unwrap()
    );
    assert!(s
        .template_activity(days_ago(30), t0(), some(&[]))
        .await
        .unwrap()
        .is_empty());
}

async fn claimant_reads_what_a_claim_decides_on(backend: Backend) {
    let db = open(backend).await;
    let s = &*db.store;
    let limited = active(
        s,
        "tl",
        json!({"per_user_limit": 2, "per_user_daily_limit": 1, "audience": {"kind": "returning"}}),
    )
    .await;
    s.put_orders(
        vec![order("o1", "u1", "paid", days_ago(9), &[("a", 500)])],
        days_ago(9),
        quan_store::scrm::Aggregates::Current,
    )
    .await
    .unwrap();
    claimed(s, &limited, "u1", days_ago(1)).await;
    let record = s.template(&limited).await.unwrap().unwrap();
    let template = record.template.clone();
    let day = |t| quan_core::claim::claim_day(&quan_core::zone::TenantZone::utc(), t);
    let decide = |who: &str, c: &quan_store::Claimant, now| {
        let ask = ClaimAsk {
            user_id: who,
            channel: None,
            region: None,
            route: Route::Public,
            member: &c.facts,
        };
        ClaimBook::new(&template, TemplateStatus::Active, record.remaining).decide(
            &ask,
            c.counts(day(now)),
            now,
        )
    };
    let u1 = s.claimant(&limited, &template, "u1", t0()).await.unwrap();
    assert_eq!(u1.facts.paid_orders, 1);
    assert_eq!(u1.counts(day(t0())).total, 1);
    assert_eq!(
        decide("u1", &u1, t0()),
        Ok(()),
        "a new day, one claim of two"
    );
    let same_day = days_ago(1);
    assert_eq!(
        decide("u1", &u1, same_day),
        Err(ErrorCode::DailyLimit),
        "the claim's own day is full"
    );
    let u2 = s.claimant(&limited, &template, "u2", t0()).await.unwrap();
    assert_eq!(decide("u2", &u2, t0()), Err(ErrorCode::NotInAudience));
    assert_eq!(
        s.coupon_count(&limited).await.unwrap(),
        1,
        "reading a claimant claims nothing"
    );
}

async fn members_by_id_prefix(backend: Backend) {
    let db = open(backend).await;
    let s = &*db.store;
    s.put_members(
        ["ab1", "ab2", "ab3", "b1", "a"]
            .iter()
            .map(|id| profile(id, days_ago(1), &[]))
            .collect(),
        t0(),
    )
    .await
    .unwrap();
    let page = s.list_members(Some("ab".into()), 2, None).await.unwrap();
    let ids: Vec<&str> = page.items.iter().map(|m| m.profile.id.as_str()).collect();
    assert_eq!((ids, page.total), (vec!["ab1", "ab2"], 3));
    let rest = s
        .list_members(Some("ab".into()), 2, page.next)
        .await
        .unwrap();
    let ids: Vec<&str> = rest.items.iter().map(|m| m.profile.id.as_str()).collect();
    assert_eq!((ids, rest.next), (vec!["ab3"], None));
    assert_eq!(
        s.list_members(Some("a%".into()), 10, None)
            .await
            .unwrap()
            .total,
        0
    );
    assert_eq!(s.list_members(None, 10, None).await.unwrap().total, 5);
}
