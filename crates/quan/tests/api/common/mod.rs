//! The test harness: a quan service on a fresh database of either backend, reached over HTTP.
//!
//! Databases come from the store's conformance harness (`quan_store::testing`): SQLite in a
//! temporary directory, PostgreSQL created fresh on the server named by
//! `QUAN_TEST_DATABASE_URL` (scripts/with-postgres.sh starts one; without it the PostgreSQL
//! tests fail, never skip).
#![allow(dead_code)]

pub mod campaign;
pub mod process;

use std::sync::Arc;

use jiff::Timestamp;
use quan_app::{App, ManualClock};
use quan_core::zone::TenantZone;
use quan_http::AppState;
use quan_store::Store;
use serde_json::{json, Value};

pub const ADMIN: &str = "test-admin-key-0123456789";
pub const ZONE: &str = "Asia/Shanghai";
/// How long a webhook may take in tests before a delivery counts as failed.
pub const DELIVERY_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(300);

pub use quan_store::testing::{fresh_database, Backend};

/// Declares a test once and runs it on both backends: `both!(name);` for an `async fn
/// name(backend: Backend)` in the same file.
#[macro_export]
macro_rules! both {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                super::$name(quan_store::testing::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                super::$name(quan_store::testing::Backend::Postgres).await
            }
        }
    };
}

pub struct TestApp {
    pub url: String,
    pub database_url: String,
    pub http: reqwest::Client,
    pub clock: Arc<ManualClock>,
    pub store: Arc<dyn Store>,
    /// The use cases behind the server, for what clients do not reach (the campaign worker,
    /// delivering the outbox now).
    pub app: App,
    _dir: Option<tempfile::TempDir>,
}

/// 2026-03-02 10:00 in Shanghai.
pub fn start_time() -> Timestamp {
    "2026-03-02T02:00:00Z".parse().unwrap()
}

impl TestApp {
    pub async fn start(backend: Backend) -> TestApp {
        Self::start_with(backend, 0).await
    }

    /// A service whose API keys may make `rate_limit` requests a second (0: no limit).
    pub async fn start_with(backend: Backend, rate_limit: u32) -> TestApp {
        let (database_url, dir) = fresh_database(backend).await;
        let zone = TenantZone::parse(ZONE).unwrap();
        let store = quan_store::open(&database_url, zone.clone())
            .await
            .expect("open store");
        let clock = Arc::new(ManualClock::new(start_time()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let app = App::new(
            store.clone(),
            quan_app::Config {
                zone,
                clock: clock.clone(),
                public_url: url.clone(),
                job_lease: quan_app::jobs::DEFAULT_LEASE,
                // The tests' receivers listen on this host (QUAN_WEBHOOK_ALLOW_PRIVATE).
                delivery: quan_app::delivery::DeliveryConfig {
                    timeout: DELIVERY_TIMEOUT,
                    allow_private: true,
                    ..Default::default()
                },
            },
        )
        .await
        .unwrap();
        app.bootstrap_admin(Some(ADMIN)).await.unwrap();
        let state = AppState::new(app.clone(), rate_limit);
        tokio::spawn(async move { axum::serve(listener, quan_http::router(state)).await });
        TestApp {
            url,
            database_url,
            http: reqwest::Client::new(),
            clock,
            store,
            app,
            _dir: dir,
        }
    }

    /// Any call: `key` None sends no Authorization header.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.url));
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        for (h, v) in headers {
            req = req.header(*h, *v);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn raw(&self, method: &str, path: &str, body: Vec<u8>) -> (u16, Value) {
        let res = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.url))
            .bearer_auth(ADMIN)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request");
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call("POST", path, Some(ADMIN), Some(body), &[]).await
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.call("GET", path, Some(ADMIN), None, &[]).await
    }

    /// Makes an API key and returns its secret.
    pub async fn key(&self, role: &str, stores: &[&str], user: Option<&str>) -> String {
        let (st, b) = self
            .post(
                "/v1/keys",
                json!({"role": role, "store_ids": stores, "user_id": user}),
            )
            .await;
        assert_eq!(st, 201, "{b}");
        b["key"].as_str().unwrap().to_string()
    }

    /// Creates a template (platform, 10 off, relative 30 days, unlimited) with `edits` applied.
    pub async fn draft(&self, edits: Value) -> String {
        let (st, b) = self.post("/v1/templates", template(edits)).await;
        assert_eq!(st, 201, "{b}");
        b["id"].as_str().unwrap().to_string()
    }

    pub async fn active(&self, edits: Value) -> String {
        let id = self.draft(edits).await;
        let (st, b) = self
            .post(&format!("/v1/templates/{id}/activate"), json!({}))
            .await;
        assert_eq!(st, 200, "{b}");
        id
    }

    pub async fn claim(&self, template: &str, body: Value) -> (u16, Value) {
        self.post(&format!("/v1/templates/{template}/claim"), body)
            .await
    }

    pub async fn template(&self, id: &str) -> Value {
        let (st, b) = self.get(&format!("/v1/templates/{id}")).await;
        assert_eq!(st, 200, "{b}");
        b
    }

    pub fn clock_now(&self) -> jiff::Timestamp {
        use quan_app::Clock;
        self.clock.now()
    }

    /// Another process on this service's database (see [`process_on`]).
    pub async fn another_process(&self, delivery: quan_app::delivery::DeliveryConfig) -> App {
        process_on(&self.database_url, self.clock.clone(), delivery).await
    }

    pub async fn set_now(&self, at: &str) {
        self.clock.set(at.parse().unwrap());
    }
}

/// The use cases of another process on the database at `database_url`, on `clock`: its own
/// caches (keys, templates), and its own delivery settings.
pub async fn process_on(
    database_url: &str,
    clock: Arc<ManualClock>,
    delivery: quan_app::delivery::DeliveryConfig,
) -> App {
    let zone = TenantZone::parse(ZONE).unwrap();
    let store = quan_store::open(database_url, zone.clone()).await.unwrap();
    App::new(
        store,
        quan_app::Config {
            zone,
            clock,
            public_url: "http://127.0.0.1:9".into(),
            job_lease: quan_app::jobs::DEFAULT_LEASE,
            delivery,
        },
    )
    .await
    .unwrap()
}

/// A valid template body with `edits` merged over it.
pub fn template(edits: Value) -> Value {
    let mut t = json!({
        "name": "test coupon",
        "scope": {"kind": "platform"},
        "benefit": {"kind": "reduction", "threshold": 0, "off": 1000},
        "validity": {"kind": "relative", "days": 30},
        "stock": null, "per_user_limit": null, "per_user_daily_limit": null,
        "audience": {"kind": "all"}, "channels": null, "regions": null,
        "distribution": ["public"], "funding": {"platform_bp": 10000, "merchant_bp": 0}
    });
    if let (Some(base), Some(over)) = (t.as_object_mut(), edits.as_object()) {
        for (k, v) in over {
            base.insert(k.clone(), v.clone());
        }
    }
    t
}

/// The error code of an error body.
pub fn code(b: &Value) -> &str {
    b["error"]["code"].as_str().unwrap_or("<no error code>")
}

pub fn field(b: &Value) -> &str {
    b["error"]["field"].as_str().unwrap_or("<no field>")
}
