//! Idempotency records of mutating calls: start, replay, mismatch, in flight, sweep.

use quan_store::on_both_backends;
use quan_store::testing::Backend;
use quan_store::{IdempotencyKey, IdempotencyStart};

use crate::common::*;

on_both_backends!(idempotency_records_start_replay_and_sweep);

async fn idempotency_records_start_replay_and_sweep(backend: Backend) {
    let db = open(backend).await;
    let s = &*db.store;
    let key = |key_id: &str, key: &str, hash: &str| IdempotencyKey {
        key_id: key_id.into(),
        key: key.into(),
        request_hash: hash.into(),
    };
    use IdempotencyStart::*;
    let k1 = key("api1", "k1", "h1");
    assert_eq!(s.begin_idempotent(&k1, t0()).await.unwrap(), Started);
    assert_eq!(s.begin_idempotent(&k1, at(1)).await.unwrap(), InFlight);
    assert_eq!(
        s.begin_idempotent(&key("api1", "k1", "h2"), at(1))
            .await
            .unwrap(),
        Mismatch
    );
    s.finish_idempotent(&k1, r#"{"ok":true}"#).await.unwrap();
    assert_eq!(
        s.begin_idempotent(&k1, at(2)).await.unwrap(),
        Replay(r#"{"ok":true}"#.into())
    );
    assert_eq!(
        s.begin_idempotent(&key("api1", "k1", "h2"), at(2))
            .await
            .unwrap(),
        Mismatch,
        "a finished key still refuses another body"
    );
    // Keys belong to the API key that sent them.
    assert_eq!(
        s.begin_idempotent(&key("api2", "k1", "h2"), at(3))
            .await
            .unwrap(),
        Started
    );
    let k2 = key("api1", "k2", "h1");
    assert_eq!(s.begin_idempotent(&k2, at(10)).await.unwrap(), Started);

    // Records older than the cut are forgotten; a forgotten key starts afresh.
    assert_eq!(s.sweep_idempotency(at(5)).await.unwrap(), 2);
    assert_eq!(s.sweep_idempotency(at(5)).await.unwrap(), 0);
    assert_eq!(s.begin_idempotent(&k1, at(11)).await.unwrap(), Started);
    assert_eq!(s.begin_idempotent(&k2, at(11)).await.unwrap(), InFlight);
}
