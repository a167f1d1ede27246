//! Claims under concurrency, across processes, and through a crash: never more than the stock,
//! never more than the limits, nothing answered lost.

use crate::common;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::process::Server;
use common::{Backend, TestApp, ADMIN};
use futures::future::join_all;
use serde_json::{json, Value};

async fn post(
    http: &reqwest::Client,
    url: &str,
    body: &Value,
) -> Result<(u16, Value), reqwest::Error> {
    let r = http.post(url).bearer_auth(ADMIN).json(body).send().await?;
    let status = r.status().as_u16();
    Ok((status, r.json().await.unwrap_or(Value::Null)))
}

/// Fires 500 claims from 300 users (some twice) at once, spread over `urls`; returns the
/// users that got a coupon.
async fn stampede(urls: &[String], template: &str) -> Vec<String> {
    let http = reqwest::Client::new();
    let calls = (0..500).map(|i| {
        let (http, url) = (
            http.clone(),
            format!("{}/v1/templates/{template}/claim", urls[i % urls.len()]),
        );
        let user = format!("r{}", i % 300);
        async move {
            let (st, b) = post(&http, &url, &json!({"user_id": user, "channel": "app"}))
                .await
                .expect("request");
            assert!(st == 201 || st == 409, "{st} {b}");
            if st == 409 {
                let code = b["error"]["code"].as_str().unwrap();
                assert!(code == "out_of_stock" || code == "user_limit", "{code}");
            }
            (st == 201).then_some(user)
        }
    });
    join_all(calls).await.into_iter().flatten().collect()
}

fn assert_exactly_100(winners: &[String]) {
    assert_eq!(winners.len(), 100, "exactly the stock is claimed");
    let distinct: HashSet<&String> = winners.iter().collect();
    assert_eq!(distinct.len(), 100, "no user holds two");
}

async fn stock_and_limits_hold_under_a_stampede(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = app.active(json!({"stock": 100, "per_user_limit": 1})).await;
    let winners = stampede(std::slice::from_ref(&app.url), &t).await;
    assert_exactly_100(&winners);
    let tpl = app.template(&t).await;
    assert_eq!(
        (
            tpl["claimed"].as_i64(),
            tpl["issued"].as_i64(),
            tpl["remaining"].as_i64()
        ),
        (Some(100), Some(100), Some(0))
    );
    assert_eq!(app.store.coupon_count(&t).await.unwrap(), 100);
    assert_eq!(app.store.ledger_count().await.unwrap(), 100);
}
both!(stock_and_limits_hold_under_a_stampede);

async fn daily_limits_hold_under_concurrency(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = app
        .active(json!({"per_user_limit": 10, "per_user_daily_limit": 2}))
        .await;
    let calls = (0..60).map(|i| {
        app.claim(
            &t,
            json!({"user_id": format!("d{}", i % 5), "channel": "app"}),
        )
    });
    let ok = join_all(calls)
        .await
        .into_iter()
        .filter(|(st, _)| *st == 201)
        .count();
    assert_eq!(ok, 10, "two a day for each of five users");
}
both!(daily_limits_hold_under_concurrency);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_processes_share_one_postgres() {
    let (db, _guard) = common::fresh_database(Backend::Postgres).await;
    let servers = join_all((0..3).map(|_| Server::start(&db))).await;
    let urls: Vec<String> = servers.iter().map(|s| s.url.clone()).collect();
    let http = reqwest::Client::new();
    let (st, t) = post(
        &http,
        &format!("{}/v1/templates", urls[0]),
        &common::template(json!({"stock": 100, "per_user_limit": 1})),
    )
    .await
    .unwrap();
    assert_eq!(st, 201);
    let id = t["id"].as_str().unwrap();
    let (st, _) = post(
        &http,
        &format!("{}/v1/templates/{id}/activate", urls[1]),
        &json!({}),
    )
    .await
    .unwrap();
    assert_eq!(st, 200);
    let winners = stampede(&urls, id).await;
    assert_exactly_100(&winners);
    for url in &urls {
        let t: Value = http
            .get(format!("{url}/v1/templates/{id}"))
            .bearer_auth(ADMIN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            (t["claimed"].as_i64(), t["remaining"].as_i64()),
            (Some(100), Some(0)),
            "every process sees the same counters"
        );
    }
    let store = quan_store::open(
        &db,
        quan_core::zone::TenantZone::parse(common::ZONE).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(store.coupon_count(id).await.unwrap(), 100);
    for user in (0..300).map(|i| format!("r{i}")) {
        let w = store
            .wallet(quan_store::WalletQuery {
                user_id: user.clone(),
                status: None,
                stores: None,
                now: jiff::Timestamp::now(),
                limit: 10,
                cursor: None,
            })
            .await
            .unwrap();
        assert!(w.total <= 1, "{user} holds {}", w.total);
    }
}

/// Kills `quan serve` with SIGKILL in the middle of a claim load, restarts it on the same
/// database, and checks that every answered 201 is there and the counters match the rows.
async fn nothing_answered_is_lost_in_a_crash(backend: Backend) {
    let (db, _guard) = common::fresh_database(backend).await;
    let mut server = Server::start(&db).await;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let (_, t) = post(
        &http,
        &format!("{}/v1/templates", server.url),
        &common::template(json!({"stock": 1_000_000})),
    )
    .await
    .unwrap();
    let id = t["id"].as_str().unwrap().to_string();
    post(
        &http,
        &format!("{}/v1/templates/{id}/activate", server.url),
        &json!({}),
    )
    .await
    .unwrap();

    let answered: Arc<Mutex<Vec<String>>> = Arc::default();
    let claim_url = format!("{}/v1/templates/{id}/claim", server.url);
    let workers: Vec<_> = (0..32)
        .map(|w| {
            let (http, url, answered) = (http.clone(), claim_url.clone(), answered.clone());
            tokio::spawn(async move {
                for i in 0.. {
                    match post(
                        &http,
                        &url,
                        &json!({"user_id": format!("k{w}-{i}"), "channel": "app"}),
                    )
                    .await
                    {
                        Ok((201, b)) => answered
                            .lock()
                            .unwrap()
                            .push(b["coupon_id"].as_str().unwrap().to_string()),
                        Ok((st, b)) => panic!("unexpected {st} {b}"),
                        Err(_) => break, // the server is gone
                    }
                }
            })
        })
        .collect();
    // Let the load run until some hundreds of claims were answered, then pull the plug.
    for _ in 0..200 {
        if answered.lock().unwrap().len() >= 300 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    server.kill();
    for w in workers {
        w.await.unwrap();
    }
    let answered = answered.lock().unwrap().clone();
    assert!(
        answered.len() >= 300,
        "the load ran ({} answered)",
        answered.len()
    );

    let server = Server::start(&db).await;
    let t: Value = http
        .get(format!("{}/v1/templates/{id}", server.url))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let store = quan_store::open(
        &db,
        quan_core::zone::TenantZone::parse(common::ZONE).unwrap(),
    )
    .await
    .unwrap();
    let rows = store.coupon_count(&id).await.unwrap();
    assert_eq!(
        t["claimed"].as_i64(),
        Some(rows),
        "claimed equals the coupon rows"
    );
    assert_eq!(t["remaining"].as_i64(), Some(1_000_000 - rows));
    assert!(rows >= answered.len() as i64);
    let mut missing = HashMap::new();
    for coupon in &answered {
        if store.coupon(coupon).await.unwrap().is_none() {
            missing.insert(coupon.clone(), ());
        }
    }
    assert!(
        missing.is_empty(),
        "{} answered coupons lost",
        missing.len()
    );
}
both!(nothing_answered_is_lost_in_a_crash);
