//! Claim-code jobs on both backends: large counts made in batches, their codes paged and as CSV,
//! stock taken batch by batch, merchant isolation, idempotency, and jobs that outlive their
//! process.

use crate::common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use common::process::Server;
use common::{code, field, Backend, TestApp, ADMIN};
use quan_store::{ClaimCommand, ClaimOutcome, ClaimRoute};
use serde_json::{json, Value};

/// POSTs a claim-code request; answers the status, the `Location` header and the body.
async fn make_codes(
    http: &reqwest::Client,
    base: &str,
    key: &str,
    template: &str,
    count: i64,
    idempotency: Option<&str>,
) -> (u16, Option<String>, Value) {
    let mut req = http
        .post(format!("{base}/v1/templates/{template}/claim-codes"))
        .bearer_auth(key)
        .json(&json!({ "count": count }));
    if let Some(k) = idempotency {
        req = req.header("Idempotency-Key", k);
    }
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    let location = res
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string());
    (status, location, res.json().await.unwrap_or(Value::Null))
}

async fn get(http: &reqwest::Client, base: &str, key: &str, path: &str) -> (u16, Value) {
    let res = http
        .get(format!("{base}{path}"))
        .bearer_auth(key)
        .send()
        .await
        .expect("request");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// Polls a job until it is no longer running.
async fn finished(http: &reqwest::Client, base: &str, job: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (st, j) = get(http, base, ADMIN, &format!("/v1/jobs/{job}")).await;
        assert_eq!(st, 200, "{j}");
        if j["status"] != "running" {
            return j;
        }
        assert!(Instant::now() < deadline, "job still running: {j}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every code of a job through `GET /v1/jobs/{id}/codes`, 500 a page; checks `total` on each.
async fn paged_codes(app: &TestApp, job: &str, total: i64) -> Vec<String> {
    let mut codes = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/jobs/{job}/codes?limit=500&cursor={c}"),
            None => format!("/v1/jobs/{job}/codes?limit=500"),
        };
        let (st, page) = app.get(&path).await;
        assert_eq!(st, 200, "{page}");
        assert_eq!(page["total"].as_i64(), Some(total));
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 500);
        codes.extend(items.iter().map(|c| c.as_str().unwrap().to_string()));
        match page["next"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => return codes,
        }
    }
}

/// Every code of a job through `GET /v1/jobs/{id}/codes.csv`.
async fn csv_codes(http: &reqwest::Client, base: &str, job: &str) -> Vec<String> {
    let res = http
        .get(format!("{base}/v1/jobs/{job}/codes.csv"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let text = res.text().await.unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("code"), "the header");
    lines.map(str::to_string).collect()
}

/// Claims with each code at once, straight through the store.
async fn claim_each(
    app: &TestApp,
    template: &str,
    codes: &[String],
) -> Vec<quan_store::Result<ClaimOutcome>> {
    let now = app.clock_now();
    futures::future::join_all(codes.iter().enumerate().map(|(i, c)| {
        app.store.claim(ClaimCommand {
            template_id: template.to_string(),
            user_id: format!("u{}", i % 1000),
            channel: None,
            region: None,
            route: ClaimRoute::Code(c.clone()),
            idempotency: None,
            actor: "test".into(),
            stores: None,
            now,
        })
    }))
    .await
}

fn distinct(codes: &[String]) -> HashSet<&String> {
    codes.iter().collect()
}

fn counters(t: &Value) -> (Option<i64>, Option<i64>, Option<i64>) {
    (
        t["issued"].as_i64(),
        t["claimed"].as_i64(),
        t["remaining"].as_i64(),
    )
}

async fn a_large_count_is_made_by_a_job(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = app
        .active(json!({"distribution": ["link_only"], "stock": 30_000}))
        .await;
    let (st, location, job) = make_codes(&app.http, &app.url, ADMIN, &t, 25_000, None).await;
    assert_eq!(st, 202, "{job}");
    let id = job["job_id"].as_str().unwrap().to_string();
    assert_eq!(location.as_deref(), Some(format!("/v1/jobs/{id}").as_str()));
    assert_eq!(
        (
            job["kind"].as_str(),
            job["template_id"].as_str(),
            job["status"].as_str(),
            job["total"].as_i64(),
            job["done"].as_i64()
        ),
        (
            Some("claim_codes"),
            Some(t.as_str()),
            Some("running"),
            Some(25_000),
            Some(0)
        )
    );
    assert!(job["created_at"].is_string(), "{job}");

    let job = finished(&app.http, &app.url, &id).await;
    assert_eq!(
        (job["status"].as_str(), job["done"].as_i64(), &job["error"]),
        (Some("succeeded"), Some(25_000), &Value::Null),
        "{job}"
    );
    assert!(job["finished_at"].is_string(), "{job}");
    let paged = paged_codes(&app, &id, 25_000).await;
    assert_eq!(paged.len(), 25_000);
    assert_eq!(distinct(&paged).len(), 25_000, "no code twice");
    let csv = csv_codes(&app.http, &app.url, &id).await;
    assert_eq!(csv.len(), 25_000);
    assert_eq!(
        distinct(&csv),
        distinct(&paged),
        "the CSV holds the same codes"
    );
    assert_eq!(
        counters(&app.template(&t).await),
        (Some(25_000), Some(0), Some(5_000)),
        "the codes took their stock"
    );

    // Every code claims once: a few over HTTP, the rest straight through the store (what the
    // claim handler calls; 25000 HTTP round trips would make a slow test). Then a sample of
    // them, claimed again, is refused.
    for c in paged.iter().step_by(1000) {
        let (st, b) = app
            .claim(
                &t,
                json!({"user_id": "over-http", "claim_code": c.to_lowercase()}),
            )
            .await;
        assert_eq!(st, 201, "{b}");
    }
    let first = claim_each(&app, &t, &paged).await;
    let claimed = first
        .iter()
        .filter(|o| matches!(o, Ok(ClaimOutcome::Claimed(_))))
        .count();
    assert_eq!(claimed, 25_000 - 25, "every code not yet used claims");
    let again: Vec<String> = paged.iter().step_by(25).cloned().collect();
    for outcome in claim_each(&app, &t, &again).await {
        assert_eq!(
            outcome.unwrap(),
            ClaimOutcome::Refused(quan_core::ErrorCode::InvalidLink),
            "a code claimed twice"
        );
    }
    for c in paged.iter().step_by(1000) {
        let (st, b) = app
            .claim(&t, json!({"user_id": "again", "claim_code": c}))
            .await;
        assert_eq!((st, code(&b)), (409, "invalid_link"), "{c} claimed twice");
    }
    assert_eq!(
        counters(&app.template(&t).await),
        (Some(25_000), Some(25_000), Some(5_000))
    );
    assert_eq!(app.store.coupon_count(&t).await.unwrap(), 25_000);
}
both!(a_large_count_is_made_by_a_job);

async fn a_job_beyond_the_stock_fails_after_whole_batches(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = app.active(json!({"stock": 25_000})).await;
    let (st, _, job) = make_codes(&app.http, &app.url, ADMIN, &t, 30_000, None).await;
    assert_eq!(st, 202, "{job}");
    let id = job["job_id"].as_str().unwrap();
    let job = finished(&app.http, &app.url, id).await;
    assert_eq!(
        (
            job["status"].as_str(),
            job["done"].as_i64(),
            job["error"]["code"].as_str()
        ),
        (Some("failed"), Some(20_000), Some("out_of_stock")),
        "two whole batches, then the third is refused: {job}"
    );
    let message = job["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("5000") && message.contains("20000"),
        "{message}"
    );
    assert_eq!(
        counters(&app.template(&t).await),
        (Some(20_000), Some(0), Some(5_000))
    );
    let csv = csv_codes(&app.http, &app.url, id).await;
    assert_eq!((csv.len(), distinct(&csv).len()), (20_000, 20_000));
    let (st, page) = app.get(&format!("/v1/jobs/{id}/codes?limit=10")).await;
    assert_eq!((st, page["total"].as_i64()), (200, Some(20_000)));
    let (st, b) = app
        .claim(&t, json!({"user_id": "u1", "claim_code": csv[0]}))
        .await;
    assert_eq!(st, 201, "a failed job's codes stay valid: {b}");

    // What the job left of the stock can still be made.
    let (st, _, b) = make_codes(&app.http, &app.url, ADMIN, &t, 5_000, None).await;
    assert_eq!(st, 201, "{b}");
    assert_eq!(b["codes"].as_array().unwrap().len(), 5_000);
    assert_eq!(
        counters(&app.template(&t).await),
        (Some(25_000), Some(1), Some(0))
    );
}
both!(a_job_beyond_the_stock_fails_after_whole_batches);

async fn jobs_are_confined_and_counts_bounded(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (m1, m2) = (
        app.key("merchant", &["s1"], None).await,
        app.key("merchant", &["s2"], None).await,
    );
    let (st, b) = app
        .call(
            "POST",
            "/v1/templates",
            Some(&m1),
            Some(common::template(json!({
                "scope": {"kind": "store", "store_id": "s1"},
                "funding": {"platform_bp": 0, "merchant_bp": 10000}
            }))),
            &[],
        )
        .await;
    assert_eq!(st, 201, "{b}");
    let mine = b["id"].as_str().unwrap().to_string();
    let (st, _, job) = make_codes(&app.http, &app.url, &m1, &mine, 10_001, None).await;
    assert_eq!(st, 202, "{job}");
    let id = job["job_id"].as_str().unwrap().to_string();

    for path in [
        format!("/v1/jobs/{id}"),
        format!("/v1/jobs/{id}/codes"),
        format!("/v1/jobs/{id}/codes.csv"),
        "/v1/jobs/job_unknown".to_string(),
        "/v1/jobs/job_unknown/codes.csv".to_string(),
    ] {
        let (st, b) = get(&app.http, &app.url, &m2, &path).await;
        assert_eq!((st, code(&b)), (404, "not_found"), "{path} by m2: {b}");
    }
    let (st, _, b) = make_codes(&app.http, &app.url, &m2, &mine, 20_000, None).await;
    assert_eq!((st, code(&b)), (404, "not_found"), "{b}");
    for key in [&m1, ADMIN] {
        let (st, b) = get(&app.http, &app.url, key, &format!("/v1/jobs/{id}")).await;
        assert_eq!((st, b["job_id"].as_str()), (200, Some(id.as_str())), "{b}");
    }
    for role in ["customer", "guide"] {
        let key = app.key(role, &["s1"], Some("u1")).await;
        let (st, b) = get(&app.http, &app.url, &key, &format!("/v1/jobs/{id}")).await;
        assert_eq!((st, code(&b)), (403, "forbidden"), "{role}: {b}");
    }

    for (count, status, error) in [
        (1_000_001, 422, "too_large"),
        (0, 422, "not_positive"),
        (-3, 422, "not_positive"),
    ] {
        let (st, _, b) = make_codes(&app.http, &app.url, &m1, &mine, count, None).await;
        assert_eq!(
            (st, code(&b), field(&b)),
            (status, error, "count"),
            "{count}: {b}"
        );
    }
    let (st, location, b) = make_codes(&app.http, &app.url, &m1, &mine, 10_000, None).await;
    assert_eq!(
        (st, location),
        (201, None),
        "10000 are made within the call"
    );
    assert_eq!(b["codes"].as_array().unwrap().len(), 10_000);

    let job = finished(&app.http, &app.url, &id).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(app.template(&mine).await["issued"], 20_001);
    let (_, doc) = app.call("GET", "/openapi.json", None, None, &[]).await;
    for p in [
        "/v1/jobs/{id}",
        "/v1/jobs/{id}/codes",
        "/v1/jobs/{id}/codes.csv",
    ] {
        assert!(doc["paths"].get(p).is_some(), "{p} missing from OpenAPI");
    }
    assert!(
        doc["paths"]["/v1/templates/{id}/claim-codes"]["post"]["responses"]
            .get("202")
            .is_some(),
        "the 202 is documented"
    );
}
both!(jobs_are_confined_and_counts_bounded);

async fn a_retried_job_request_is_one_job(backend: Backend) {
    let app = TestApp::start(backend).await;
    let t = app.active(json!({})).await;
    let first = make_codes(&app.http, &app.url, ADMIN, &t, 12_345, Some("k1")).await;
    let again = make_codes(&app.http, &app.url, ADMIN, &t, 12_345, Some("k1")).await;
    assert_eq!((first.0, again.0), (202, 202));
    assert_eq!(first.2["job_id"], again.2["job_id"], "the same job");
    assert_eq!(first.1, again.1, "and the same Location");
    let (st, _, b) = make_codes(&app.http, &app.url, ADMIN, &t, 12_346, Some("k1")).await;
    assert_eq!((st, code(&b)), (422, "idempotency_mismatch"));
    let job = finished(&app.http, &app.url, first.2["job_id"].as_str().unwrap()).await;
    assert_eq!(
        (job["status"].as_str(), job["done"].as_i64()),
        (Some("succeeded"), Some(12_345)),
        "{job}"
    );
    assert_eq!(app.template(&t).await["issued"], 12_345, "made once");
}
both!(a_retried_job_request_is_one_job);

/// Kills `quan serve` (SIGKILL) while a job runs; another process on the same database (on
/// PostgreSQL, two that race for it) takes the job over once its lease lapses and finishes it
/// with every code made exactly once.
async fn a_job_outlives_its_process(backend: Backend) {
    const TOTAL: i64 = 60_000;
    let (db, _guard) = common::fresh_database(backend).await;
    let lease = [("QUAN_JOB_LEASE", "1")];
    let mut first = Server::start_with(&db, &lease).await;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let res = http
        .post(format!("{}/v1/templates", first.url))
        .bearer_auth(ADMIN)
        .json(&common::template(json!({"stock": 100_000})))
        .send()
        .await
        .unwrap();
    let t = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (st, _, job) = make_codes(&http, &first.url, ADMIN, &t, TOTAL, None).await;
    assert_eq!(st, 202, "{job}");
    let id = job["job_id"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    let seen = loop {
        let (_, j) = get(&http, &first.url, ADMIN, &format!("/v1/jobs/{id}")).await;
        if j["done"].as_i64().unwrap() > 0 {
            break j;
        }
        assert!(Instant::now() < deadline, "no batch committed: {j}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    first.kill();
    assert!(
        seen["done"].as_i64().unwrap() < TOTAL,
        "killed mid-job: {seen}"
    );

    let others = match backend {
        Backend::Sqlite => vec![Server::start_with(&db, &lease).await],
        Backend::Postgres => {
            futures::future::join_all((0..2).map(|_| Server::start_with(&db, &lease))).await
        }
    };
    let job = finished(&http, &others[0].url, &id).await;
    assert_eq!(
        (job["status"].as_str(), job["done"].as_i64()),
        (Some("succeeded"), Some(TOTAL)),
        "{job}"
    );
    for s in &others {
        let (_, j) = get(&http, &s.url, ADMIN, &format!("/v1/jobs/{id}")).await;
        assert_eq!(
            j["done"].as_i64(),
            Some(TOTAL),
            "every process sees the job"
        );
    }
    let csv = csv_codes(&http, &others[0].url, &id).await;
    assert_eq!(
        (csv.len(), distinct(&csv).len()),
        (TOTAL as usize, TOTAL as usize),
        "every code made once"
    );
    let (_, tpl) = get(&http, &others[0].url, ADMIN, &format!("/v1/templates/{t}")).await;
    assert_eq!(
        counters(&tpl),
        (Some(TOTAL), Some(0), Some(100_000 - TOTAL)),
        "stock taken once per code"
    );
}
both!(a_job_outlives_its_process);
