//! The SQLite writer's group commit: a claim batch that fails while writing rolls its group
//! back (nothing half-written, every answer honest, the writer going on), and work that arrives while a commit is being fsynced joins the next one without
//! being starved.

use std::sync::Arc;

use quan_core::template::{StatusAction, Template};
use quan_core::zone::TenantZone;
use quan_store::prelude::*;
use quan_store::{ClaimOutcome, NewTemplate};
use serde_json::json;

mod common;
use common::{claim, t0};

async fn open() -> (Arc<dyn Store>, tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = format!("{}/quan.db", dir.path().display());
    let store = quan_store::open(&format!("sqlite://{path}"), TenantZone::utc())
        .await
        .expect("open store");
    (store, dir, path)
}

async fn template(s: &dyn Store, id: &str) {
    let spec = serde_json::from_value(json!({
        "name": "hot coupon",
        "scope": {"kind": "platform"},
        "benefit": {"kind": "reduction", "threshold": 0, "off": 500},
        "validity": {"kind": "relative", "days": 7},
        "stock": 100000,
        "distribution": ["public"],
        "funding": {"platform_bp": 10000, "merchant_bp": 0}
    }))
    .expect("a template spec");
    let template = Template::parse(spec).expect("a valid template");
    s.insert_template(NewTemplate {
        id: id.into(),
        template,
        created_by: "test".into(),
        now: t0(),
    })
    .await
    .unwrap();
    s.set_template_status(id, StatusAction::Activate, t0())
        .await
        .unwrap()
        .expect("activated");
}

/// Every answered coupon is stored, and the counter, the rows and the ledger agree.
async fn consistent(s: &dyn Store, template: &str, answered: &[String]) {
    for id in answered {
        assert!(s.coupon(id).await.unwrap().is_some(), "{id} was answered");
    }
    let claimed = s.template(template).await.unwrap().unwrap().claimed;
    let rows = s.coupon_count(template).await.unwrap();
    assert_eq!(claimed, rows, "the counter matches the coupon rows");
    assert_eq!(rows, answered.len() as i64, "no coupon without an answer");
    assert_eq!(
        s.ledger_count().await.unwrap(),
        rows,
        "one ledger entry per claim"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_failing_while_writing_rolls_its_group_back() {
    let (store, _dir, path) = open().await;
    template(store.as_ref(), "tpl_hot").await;
    // A trigger makes one user's coupon insert fail after its batch has been decided.
    let side = rusqlite::Connection::open(&path).unwrap();
    side.busy_timeout(std::time::Duration::from_secs(10))
        .unwrap();
    side.execute_batch(
        "CREATE TRIGGER boom BEFORE INSERT ON coupons WHEN NEW.user_id = 'boom' \
         BEGIN SELECT RAISE(ABORT, 'boom'); END;",
    )
    .unwrap();

    let users: Vec<String> = (0..300)
        .map(|i| {
            if i == 150 {
                "boom".into()
            } else {
                format!("u{i}")
            }
        })
        .collect();
    let pending: Vec<_> = users
        .iter()
        .map(|user| {
            let (s, cmd) = (store.clone(), claim("tpl_hot", user));
            tokio::spawn(async move { s.claim(cmd).await })
        })
        .collect();
    let mut answered = Vec::new();
    let mut failed = Vec::new();
    for (user, p) in users.iter().zip(pending) {
        match p.await.unwrap() {
            Ok(ClaimOutcome::Claimed(c)) => answered.push(c.coupon_id),
            Ok(other) => panic!("{user}: unexpected {other:?}"),
            Err(_) => failed.push(user.clone()),
        }
    }
    assert!(
        failed.contains(&"boom".to_string()),
        "the failing claim fails"
    );
    consistent(store.as_ref(), "tpl_hot", &answered).await;

    // The writer goes on: without the trigger, the failed users can claim.
    side.execute_batch("DROP TRIGGER boom").unwrap();
    for user in &failed {
        match store.claim(claim("tpl_hot", user)).await.unwrap() {
            ClaimOutcome::Claimed(c) => answered.push(c.coupon_id),
            other => panic!("{user}: unexpected {other:?}"),
        }
    }
    assert_eq!(answered.len(), users.len());
    consistent(store.as_ref(), "tpl_hot", &answered).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_arriving_during_an_fsync_join_the_next_commit() {
    let (store, _dir, _path) = open().await;
    template(store.as_ref(), "tpl_a").await;
    // Claims of two templates and template creations, all at once and repeatedly: every one
    // is answered, whichever commit it lands in.
    let mut pending = Vec::new();
    for round in 0..5 {
        for i in 0..100 {
            let (s, cmd) = (store.clone(), claim("tpl_a", &format!("r{round}-u{i}")));
            pending.push(tokio::spawn(async move {
                match s.claim(cmd).await.unwrap() {
                    ClaimOutcome::Claimed(c) => Some(c.coupon_id),
                    other => panic!("unexpected {other:?}"),
                }
            }));
        }
        let s = store.clone();
        pending.push(tokio::spawn(async move {
            template(s.as_ref(), &format!("tpl_r{round}")).await;
            None
        }));
    }
    let mut answered = Vec::new();
    for p in pending {
        answered.extend(p.await.unwrap());
    }
    assert_eq!(answered.len(), 500);
    consistent(store.as_ref(), "tpl_a", &answered).await;
    for round in 0..5 {
        let t = store.template(&format!("tpl_r{round}")).await.unwrap();
        assert!(t.is_some(), "template of round {round} stored");
    }
}
