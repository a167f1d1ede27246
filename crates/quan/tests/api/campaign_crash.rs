//! A campaign over 20,000 members survives SIGKILL: `quan serve` is killed while it enters the
//! audience and again while it grants, restarted (on PostgreSQL, as three processes sharing
//! the database, one of them killed again), and every treated member is granted exactly once,
//! every held-out member is recorded and untreated, and treated + held out is the audience.

use crate::common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use common::campaign::held;
use common::process::Server;
use common::{Backend, ADMIN, ZONE};
use jiff::Timestamp;
use quan_core::zone::TenantZone;
use quan_store::scrm::MemberProfile;
use serde_json::{json, Value};

const AUDIENCE: usize = 20_000;
const HOLDOUT_BP: u32 = 1_000;
const FAST: [(&str, &str); 1] = [("QUAN_CAMPAIGN_TICK_MS", "20")];

async fn call(
    http: &reqwest::Client,
    url: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> Value {
    let mut req = http
        .request(method.parse().unwrap(), format!("{url}{path}"))
        .bearer_auth(ADMIN);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    assert!(status < 300, "{method} {path}: {status} {body}");
    body
}

/// Polls the campaign's stats until `done` says so.
async fn wait_for(
    http: &reqwest::Client,
    url: &str,
    id: &str,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let c = call(http, url, "GET", &format!("/v1/campaigns/{id}"), None).await;
        if done(&c["stats"]) {
            return c;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {c}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn exactly_once_under_sigkill(backend: Backend) {
    let (db, _guard) = common::fresh_database(backend).await;
    {
        let store = quan_store::open(&db, TenantZone::parse(ZONE).unwrap())
            .await
            .unwrap();
        let joined: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let members: Vec<MemberProfile> = (0..AUDIENCE)
            .map(|i| MemberProfile {
                id: format!("m{i:05}"),
                joined_at: Some(joined),
                tier: None,
                region: None,
                channel: None,
                guide_id: None,
                points: 0,
                tags: vec![],
                attributes: json!({}),
            })
            .collect();
        for chunk in members.chunks(5_000) {
            store.put_members(chunk.to_vec(), joined).await.unwrap();
        }
    }
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let mut first = Server::start_with(&db, &FAST).await;
    let url = first.url.clone();
    // No per-user limit: a second grant to a member would show as a second coupon.
    let tpl = call(
        &http,
        &url,
        "POST",
        "/v1/templates",
        Some(common::template(json!({"distribution": ["campaign_only"]}))),
    )
    .await;
    let tid = tpl["id"].as_str().unwrap().to_string();
    call(
        &http,
        &url,
        "POST",
        &format!("/v1/templates/{tid}/activate"),
        Some(json!({})),
    )
    .await;
    let c = call(
        &http,
        &url,
        "POST",
        "/v1/campaigns",
        Some(json!({
        "name": "everyone, once", "trigger": {"kind": "once"}, "holdout_bp": HOLDOUT_BP,
        "actions": [{"kind": "grant", "template_id": tid}]})),
    )
    .await;
    let cid = c["id"].as_str().unwrap().to_string();
    call(
        &http,
        &url,
        "POST",
        &format!("/v1/campaigns/{cid}/activate"),
        Some(json!({})),
    )
    .await;

    // Killed while it enters the audience.
    let seen = wait_for(&http, &url, &cid, "the first entries", |s| {
        s["entered"].as_i64() > Some(0)
    })
    .await;
    first.kill();
    let mut kills = vec![seen["stats"].clone()];

    // Restarted, and killed again while it grants.
    let mut second = Server::start_with(&db, &FAST).await;
    let url = second.url.clone();
    let seen = wait_for(&http, &url, &cid, "grants", |s| {
        s["treated"].as_i64() >= Some(500)
    })
    .await;
    second.kill();
    kills.push(seen["stats"].clone());
    assert!(
        seen["stats"]["pending"].as_i64() > Some(0),
        "killed while granting: {kills:?}"
    );

    // Restarted: one process on SQLite (it owns the file); three on PostgreSQL, one of which
    // is killed once more.
    let mut servers = Vec::new();
    match backend {
        Backend::Sqlite => servers.push(Server::start_with(&db, &FAST).await),
        Backend::Postgres => {
            for _ in 0..3 {
                servers.push(Server::start_with(&db, &FAST).await);
            }
            let before = seen["stats"]["treated"].as_i64().unwrap();
            let url = servers[0].url.clone();
            let again = wait_for(&http, &url, &cid, "more grants", |s| {
                s["treated"].as_i64() >= Some(before + 500) || s["pending"].as_i64() == Some(0)
            })
            .await;
            servers[0].kill();
            kills.push(again["stats"].clone());
            servers.remove(0);
        }
    }
    let url = servers[0].url.clone();
    let done = wait_for(&http, &url, &cid, "the whole audience", |s| {
        s["entered"].as_i64() == Some(AUDIENCE as i64) && s["pending"].as_i64() == Some(0)
    })
    .await;
    let stats = &done["stats"];
    let want_held: HashSet<String> = (0..AUDIENCE)
        .map(|i| format!("m{i:05}"))
        .filter(|u| held(&cid, u, HOLDOUT_BP))
        .collect();
    let treated = (AUDIENCE - want_held.len()) as i64;
    assert_eq!(
        stats["held_out"].as_i64(),
        Some(want_held.len() as i64),
        "{kills:?} {stats}"
    );
    assert_eq!(
        stats["treated"].as_i64(),
        Some(treated),
        "{kills:?} {stats}"
    );
    assert_eq!(stats["granted"].as_i64(), Some(treated));
    let tpl = call(&http, &url, "GET", &format!("/v1/templates/{tid}"), None).await;
    assert_eq!(
        tpl["claimed"].as_i64(),
        Some(treated),
        "one coupon per treated member"
    );

    // Every entry: held-out ones as predicted and without coupons; treated ones with exactly
    // one coupon each, all distinct.
    let (mut held_seen, mut coupons, mut cursor) = (HashSet::new(), HashSet::new(), None::<String>);
    let mut entries = 0;
    loop {
        let q = cursor
            .as_ref()
            .map(|c| format!("&cursor={}", c.replace(' ', "%20").replace(':', "%3A")))
            .unwrap_or_default();
        let page = call(
            &http,
            &url,
            "GET",
            &format!("/v1/campaigns/{cid}/members?limit=500{q}"),
            None,
        )
        .await;
        for e in page["items"].as_array().unwrap() {
            entries += 1;
            let user = e["user_id"].as_str().unwrap().to_string();
            let ids = e["coupon_ids"].as_array().unwrap();
            match e["status"].as_str().unwrap() {
                "held_out" => {
                    assert!(ids.is_empty(), "{e}");
                    held_seen.insert(user);
                }
                "treated" => {
                    assert_eq!(ids.len(), 1, "{e}");
                    assert!(coupons.insert(ids[0].as_str().unwrap().to_string()), "{e}");
                }
                other => panic!("{user} ended {other}: {e}"),
            }
        }
        match page["next"].as_str() {
            Some(n) => cursor = Some(n.to_string()),
            None => break,
        }
    }
    assert_eq!(entries, AUDIENCE);
    assert_eq!(held_seen, want_held);
    assert_eq!(coupons.len() as i64, treated);
    eprintln!("stats at each kill: {kills:?}");
    drop(servers);
}
both!(exactly_once_under_sigkill);
