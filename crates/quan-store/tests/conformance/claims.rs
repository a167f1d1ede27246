//! Claims: the counting rules (per user, per day, stock), the template's status and stores,
//! claim codes, and idempotent claims whose records commit with them.

use std::sync::Arc;

use jiff::SignedDuration;
use quan_core::template::StatusAction;
use quan_core::ErrorCode;
use quan_store::on_both_backends;
use quan_store::prelude::*;
use quan_store::testing::Backend;
use quan_store::{ClaimCommand, ClaimOutcome, ClaimRoute, IdempotencyKey, IdempotencyStart};
use serde_json::json;

use crate::common::*;

on_both_backends!(
    claims_count_limits_and_stock,
    claims_see_status_and_stores,
    claim_codes_are_single_use,
    idempotent_claims_replay_their_first_answer,
);

fn refused(code: ErrorCode) -> ClaimOutcome {
    ClaimOutcome::Refused(code)
}

fn day(n: i64) -> jiff::Timestamp {
    t0().checked_add(SignedDuration::from_hours(24 * n))
        .unwrap()
}

async fn claims_count_limits_and_stock(backend: Backend) {
    let db = open(backend).await;
    let s = &*db.store;
    let t = active(
        s,
        "tpl_lim",
        json!({"stock": 3, "per_user_limit": 2, "per_user_daily_limit": 1}),
    )
    .await;
    let at_day = |user: &str, n| ClaimCommand {
        now: day(n),
        ..claim(&t, user)
    };
    let outcome = |o: ClaimOutcome| match o {
        ClaimOutcome::Claimed(c) => {
            assert_eq!((c.template_id.as_str(), c.code.len()), ("tpl_lim", 18));
            Ok(c.user_id)
        }
        other => Err(Box::new(other)),
    };
    let mut got = Vec::new();
    for (user, n) in [
        ("ana", 0),
        ("ana", 0),
        ("ana", 1),
        ("ana", 2),
        ("bob", 2),
        ("cat", 2),
    ] {
        got.push(outcome(s.claim(at_day(user, n)).await.unwrap()));
    }
    assert_eq!(
        got,
        [
            Ok("ana".to_string()),
            Err(Box::new(refused(ErrorCode::DailyLimit))),
            Ok("ana".to_string()),
            Err(Box::new(refused(ErrorCode::UserLimit))),
            Ok("bob".to_string()),
            Err(Box::new(refused(ErrorCode::OutOfStock))),
        ]
    );
    let tpl = s.template(&t).await.unwrap().unwrap();
    assert_eq!(
        (tpl.remaining, tpl.issued, tpl.claimed, tpl.used),
        (Some(0), 3, 3, 0)
    );
    assert_eq!(s.coupon_count(&t).await.unwrap(), 3);
    assert_eq!(
        s.ledger_count().await.unwrap(),
        3,
        "one ledger entry per claim"
    );

    // Claims decided together count each other: of ten claims of one user at once, one wins.
    let open_t = active(s, "tpl_once", json!({"per_user_limit": 1})).await;
    let store: Arc<dyn Store> = db.store.clone();
    let pending: Vec<_> = (0..10)
        .map(|_| {
            let (s, cmd) = (store.clone(), claim(&open_t, "dan"));
            tokio::spawn(async move { s.claim(cmd).await.unwrap() })
        })
        .collect();
    let mut won = 0;
    for p in pending {
        match p.await.unwrap() {
            ClaimOutcome::Claimed(_) => won += 1,
            other => assert_eq!(other, refused(ErrorCode::UserLimit)),
        }
    }
    assert_eq!(won, 1);
    assert_eq!(s.coupon_count(&open_t).await.unwrap(), 1);
}

async fn claims_see_status_and_stores(backend: Backend) {
    let db = open(backend).await;
    let s = &*db.store;
    assert_eq!(
        s.claim(claim("nope", "ana")).await.unwrap(),
        ClaimOutcome::NotFound
    );
    draft(s, "tpl_draft", json!({})).await;
    assert_eq!(
        s.claim(claim("tpl_draft", "ana")).await.unwrap(),
        refused(ErrorCode::NotClaimableNow)
    );
    let t = active(
        s,
        "tpl_s1",
        json!({"scope": {"kind": "store", "store_id": "s1"}}),
    )
    .await;
    let confined = |stores: &[&str]| ClaimCommand {
        stores: Some(stores.iter().map(|s| s.to_string()).collect()),
        ..claim(&t, "ana")
    };
    assert_eq!(
        s.claim(confined(&["s2"])).await.unwrap(),
        ClaimOutcome::NotFound,
        "another merchant's template reads as not found"
    );
    assert!(matches!(
        s.claim(confined(&["s2", "s1"])).await.unwrap(),
        ClaimOutcome::Claimed(_)
    ));
    s.set_template_status(&t, StatusAction::Pause, at(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        s.claim(claim(&t, "bob")).await.unwrap(),
        refused(ErrorCode::NotClaimableNow)
    );
    // Routes the template does not allow.
    let service = active(s, "tpl_service", json!({"distribution": ["service_only"]})).await;
    assert_eq!(
        s.claim(claim(&service, "ana")).await.unwrap(),
        refused(ErrorCode::RouteNotAllowed)
    );
    let granted = ClaimCommand {
        route: ClaimRoute::Service,
        ..claim(&service, "ana")
    };
    let ClaimOutcome::Claimed(c) = s.claim(granted).await.unwrap() else {
        panic!("a service grant")
    };
    let ledger = s.ledger(&c.coupon_id).await.unwrap();
    assert_eq!(
        (ledger[0].event.as_str(), ledger[0].to_status.as_str()),
        ("granted", "claimed")
    );
}

async fn claim_codes_are_single_use(backend: Backend) {
    let db = open(backend).await;
    let s = &*db.store;
    let t = active(s, "tpl_codes", json!({"stock": 5})).await;
    let codes = s
        .make_claim_codes(&t, 3, t0())
        .await
        .unwrap()
        .expect("codes");
    assert_eq!(codes.len(), 3);
    let tpl = s.template(&t).await.unwrap().unwrap();
    assert_eq!((tpl.remaining, tpl.issued, tpl.claimed), (Some(2), 3, 0));
    assert_eq!(
        s.make_claim_codes(&t, 3, t0()).await.unwrap(),
        Err(ErrorCode::OutOfStock)
    );
    assert_eq!(
        s.make_claim_codes("nope", 1, t0()).await.unwrap(),
        Err(ErrorCode::OutOfStock)
    );

    let by_code = |user: &str, code: &str| ClaimCommand {
        route: ClaimRoute::Code(code.into()),
        ..claim(&t, user)
    };
    assert!(matches!(
        s.claim(by_code("ana", &codes[0])).await.unwrap(),
        ClaimOutcome::Claimed(_)
    ));
    assert_eq!(
        s.claim(by_code("bob", &codes[0])).await.unwrap(),
        refused(ErrorCode::InvalidLink),
        "a code is used once"
    );
    assert_eq!(
        s.claim(by_code("bob", "NOT-A-CODE")).await.unwrap(),
        refused(ErrorCode::InvalidLink)
    );
    // Two claims with one code at once: one wins.
    let store: Arc<dyn Store> = db.store.clone();
    let pending: Vec<_> = ["cat", "dan"]
        .iter()
        .map(|user| {
            let (s, cmd) = (store.clone(), by_code(user, &codes[1]));
            tokio::spawn(async move { s.claim(cmd).await.unwrap() })
        })
        .collect();
    let mut won = 0;
    for p in pending {
        if matches!(p.await.unwrap(), ClaimOutcome::Claimed(_)) {
            won += 1;
        }
    }
    assert_eq!(won, 1);
    // Code claims took their stock when the codes were made.
    let tpl = s.template(&t).await.unwrap().unwrap();
    assert_eq!((tpl.remaining, tpl.issued, tpl.claimed), (Some(2), 3, 2));
}

async fn idempotent_claims_replay_their_first_answer(backend: Backend) {
    let db = open(backend).await;
    let s = &*db.store;
    let t = active(s, "tpl_idem", json!({"per_user_limit": 1})).await;
    let key = |k: &str, hash: &str| IdempotencyKey {
        key_id: "api1".into(),
        key: k.into(),
        request_hash: hash.into(),
    };
    let keyed = |user: &str, k: &str, hash: &str| ClaimCommand {
        idempotency: Some(key(k, hash)),
        ..claim(&t, user)
    };
    let first = s.claim(keyed("ana", "k1", "h1")).await.unwrap();
    assert!(matches!(first, ClaimOutcome::Claimed(_)));
    assert_eq!(s.claim(keyed("ana", "k1", "h1")).await.unwrap(), first);
    assert_eq!(
        s.claim(keyed("ana", "k1", "h2")).await.unwrap(),
        ClaimOutcome::IdempotencyMismatch
    );
    // Refusals are recorded and replayed too.
    let limit = s.claim(keyed("ana", "k2", "h1")).await.unwrap();
    assert_eq!(limit, refused(ErrorCode::UserLimit));
    assert_eq!(s.claim(keyed("ana", "k2", "h1")).await.unwrap(), limit);
    // The record committed with the claim is the one begin_idempotent finds.
    let IdempotencyStart::Replay(raw) = s.begin_idempotent(&key("k1", "h1"), at(1)).await.unwrap()
    else {
        panic!("the claim's record is stored")
    };
    assert_eq!(serde_json::from_str::<ClaimOutcome>(&raw).unwrap(), first);

    // Retries of one key at once: one claim, one answer for all.
    let store: Arc<dyn Store> = db.store.clone();
    let pending: Vec<_> = (0..6)
        .map(|_| {
            let (s, cmd) = (store.clone(), keyed("bob", "k3", "h1"));
            tokio::spawn(async move { s.claim(cmd).await.unwrap() })
        })
        .collect();
    let mut answers = Vec::new();
    for p in pending {
        answers.push(p.await.unwrap());
    }
    assert!(
        matches!(answers[0], ClaimOutcome::Claimed(_)),
        "{answers:?}"
    );
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
    assert_eq!(s.coupon_count(&t).await.unwrap(), 2);
}
