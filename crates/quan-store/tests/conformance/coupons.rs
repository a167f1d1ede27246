//! Coupons outside checkout: reading, the wallet, redeeming at a counter, revoking, expiring,
//! and the ledger every change appends to.

use jiff::SignedDuration;
use quan_core::coupon::CouponStatus;
use quan_core::ErrorCode;
use quan_store::on_both_backends;
use quan_store::testing::Backend;
use quan_store::{CouponRecord, WalletQuery};
use serde_json::json;

use crate::common::*;

on_both_backends!(coupons_redeem_revoke_and_expire, the_wallet_reads_as_of_now);

fn events(ledger: &[quan_store::LedgerEntry]) -> Vec<(&str, Option<&str>, &str)> {
    ledger
        .iter()
        .map(|e| {
            (
                e.event.as_str(),
                e.from_status.as_deref(),
                e.to_status.as_str(),
            )
        })
        .collect()
}

async fn coupons_redeem_revoke_and_expire(backend: Backend) {
    let db = open(backend).await;
    let s = &*db.store;
    let t = active(
        s,
        "tpl_c",
        json!({"validity": {"kind": "relative", "days": 1}}),
    )
    .await;
    let c1 = claimed(s, &t, "ana", t0()).await;
    let c = s.coupon(&c1).await.unwrap().expect("stored");
    assert_eq!(
        (c.status, c.user_id.as_str(), c.route.as_str(), c.claimed_at),
        (CouponStatus::Claimed, "ana", "public", t0())
    );
    assert_eq!(
        c.valid_until,
        t0().checked_add(SignedDuration::from_hours(24)).unwrap()
    );
    assert_eq!(s.coupon_by_code(&c.code).await.unwrap(), Some(c.clone()));
    assert_eq!(s.coupon_by_code("nope").await.unwrap(), None);
    assert_eq!(s.coupon("nope").await.unwrap(), None);

    // Redeemed at a counter, once.
    let r = s
        .redeem_coupon(&c1, Some("pos-1"), SALE, at(5), "guide")
        .await
        .unwrap()
        .expect("redeemed");
    assert_eq!(
        (r.status, r.order_id.as_deref(), r.updated_at),
        (CouponStatus::Redeemed, Some("pos-1"), at(5))
    );
    let again = s
        .redeem_coupon(&c1, None, SALE, at(6), "guide")
        .await
        .unwrap();
    assert_eq!(again.map(|c| c.id), Err(ErrorCode::InvalidState));
    assert_eq!(s.template(&t).await.unwrap().unwrap().used, 1);
    let ledger = s.ledger(&c1).await.unwrap();
    assert_eq!(
        events(&ledger),
        [
            ("claimed", None, "claimed"),
            ("redeemed", Some("claimed"), "redeemed")
        ]
    );
    assert_eq!(
        (
            ledger[1].actor.as_str(),
            ledger[1].order_id.as_deref(),
            ledger[1].at
        ),
        ("guide", Some("pos-1"), at(5))
    );
    assert!(ledger[0].seq < ledger[1].seq);
    assert_eq!(
        s.revoke_coupon(&c1, "op", "mistake", at(7))
            .await
            .unwrap()
            .map(|c| c.id),
        Err(ErrorCode::InvalidState),
        "only a claimed coupon is revoked"
    );

    // Revoked by an operator.
    let c2 = claimed(s, &t, "bob", t0()).await;
    let v = s
        .revoke_coupon(&c2, "op", "fraud", at(8))
        .await
        .unwrap()
        .expect("revoked");
    assert_eq!(v.status, CouponStatus::Revoked);
    let ledger = s.ledger(&c2).await.unwrap();
    assert_eq!(
        (ledger[1].event.as_str(), ledger[1].reason.as_deref()),
        ("revoked", Some("fraud"))
    );
    assert_eq!(
        s.redeem_coupon(&c2, None, SALE, at(9), "guide")
            .await
            .unwrap()
            .map(|c| c.id),
        Err(ErrorCode::InvalidState)
    );
    assert_eq!(
        s.redeem_coupon("nope", None, SALE, at(9), "guide")
            .await
            .unwrap()
            .map(|c| c.id),
        Err(ErrorCode::NotFound)
    );
    assert_eq!(
        s.revoke_coupon("nope", "op", "x", at(9))
            .await
            .unwrap()
            .map(|c| c.id),
        Err(ErrorCode::NotFound)
    );

    // Not yet valid or no longer valid: not redeemable; the sweeper expires what ended.
    let c3 = claimed(s, &t, "cat", t0()).await;
    let c4 = claimed(s, &t, "dan", at(60)).await;
    let day_later = t0().checked_add(SignedDuration::from_hours(24)).unwrap();
    assert_eq!(
        s.redeem_coupon(&c3, None, SALE, day_later, "guide")
            .await
            .unwrap()
            .map(|c| c.id),
        Err(ErrorCode::InvalidState),
        "validity ends at valid_until"
    );
    assert_eq!(s.expire_due(at(60), 100).await.unwrap(), 0);
    assert_eq!(s.expire_due(day_later, 100).await.unwrap(), 1, "c3 only");
    assert_eq!(
        s.coupon(&c3).await.unwrap().unwrap().status,
        CouponStatus::Expired
    );
    assert_eq!(
        s.coupon(&c4).await.unwrap().unwrap().status,
        CouponStatus::Claimed
    );
    assert_eq!(
        events(&s.ledger(&c3).await.unwrap())[1],
        ("expired", Some("claimed"), "expired")
    );
    let much_later = t0().checked_add(SignedDuration::from_hours(48)).unwrap();
    assert_eq!(s.expire_due(much_later, 100).await.unwrap(), 1, "c4");
    assert_eq!(s.expire_due(much_later, 100).await.unwrap(), 0);

    assert_eq!(s.coupon_count(&t).await.unwrap(), 4);
    // 4 claims, a redeem, a revoke, two expiries.
    assert_eq!(s.ledger_count().await.unwrap(), 8);
}

async fn the_wallet_reads_as_of_now(backend: Backend) {
    let db = open(backend).await;
    let s = &*db.store;
    let short = active(
        s,
        "tpl_short",
        json!({"validity": {"kind": "relative", "days": 1}}),
    )
    .await;
    let long = active(
        s,
        "tpl_long",
        json!({"scope": {"kind": "store", "store_id": "s1"}}),
    )
    .await;
    let a = claimed(s, &short, "ana", t0()).await;
    let b = claimed(s, &long, "ana", t0()).await;
    let c = claimed(s, &long, "ana", at(1)).await;
    claimed(s, &long, "bob", t0()).await;
    s.revoke_coupon(&c, "op", "x", at(2))
        .await
        .unwrap()
        .unwrap();

    let day_later = t0().checked_add(SignedDuration::from_hours(25)).unwrap();
    let wallet = |status, stores: Option<Vec<String>>, now| WalletQuery {
        user_id: "ana".into(),
        status,
        stores,
        now,
        limit: 10,
        cursor: None,
    };
    let ids = |items: Vec<CouponRecord>| -> Vec<String> {
        let mut ids: Vec<String> = items.into_iter().map(|c| c.id).collect();
        ids.sort();
        ids
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    for (query, want) in [
        (
            wallet(None, None, t0()),
            sorted(vec![a.clone(), b.clone(), c.clone()]),
        ),
        (
            wallet(Some(CouponStatus::Claimed), None, t0()),
            sorted(vec![a.clone(), b.clone()]),
        ),
        (
            wallet(Some(CouponStatus::Claimed), None, day_later),
            vec![b.clone()],
        ),
        // A claimed coupon past its end reads as expired before the sweeper gets to it.
        (
            wallet(Some(CouponStatus::Expired), None, day_later),
            vec![a.clone()],
        ),
        (
            wallet(Some(CouponStatus::Revoked), None, t0()),
            vec![c.clone()],
        ),
        (
            wallet(None, Some(vec!["s1".into()]), t0()),
            sorted(vec![b.clone(), c.clone()]),
        ),
        (wallet(None, Some(vec!["s2".into()]), t0()), vec![]),
    ] {
        let label = format!("{:?} {:?} {}", query.status, query.stores, query.now);
        let page = s.wallet(query).await.unwrap();
        assert_eq!(page.total, want.len() as i64, "{label}");
        assert_eq!(ids(page.items), want, "{label}");
    }
    let p1 = s
        .wallet(WalletQuery {
            limit: 2,
            ..wallet(None, None, t0())
        })
        .await
        .unwrap();
    assert_eq!((p1.items.len(), p1.total), (2, 3));
    let p2 = s
        .wallet(WalletQuery {
            limit: 2,
            cursor: p1.next.clone(),
            ..wallet(None, None, t0())
        })
        .await
        .unwrap();
    assert_eq!((p2.items.len(), p2.next), (1, None));

    // Usable at checkout: claimed and valid, soonest-expiring first.
    let usable: Vec<String> = s
        .usable_coupons("ana", t0(), false, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(usable, [a.clone(), b.clone()]);
    let later: Vec<String> = s
        .usable_coupons("ana", day_later, true, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(later, [b]);
    assert_eq!(
        s.usable_coupons("ana", t0(), false, 1).await.unwrap().len(),
        1
    );
}
