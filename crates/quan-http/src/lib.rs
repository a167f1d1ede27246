//! quan's HTTP API: a thin axum layer. Handlers turn requests into domain values (the edge
//! parses, the core decides), call the [`Store`], and turn answers into JSON.
//!
//! - [`error`]: one [`error::ApiError`] and the one error body; statuses come from the code table.
//! - [`json`]: the body extractor that names the field of every malformed input.
//! - [`auth`]: API keys to principals.
//! - [`routes`]: the handlers, one module per resource.
//! - [`jobs`]: the background runner of claim-code jobs.
//! - [`openapi`]: the OpenAPI 3 document, generated from the handlers' annotations.

pub mod auth;
pub mod clock;
pub mod error;
pub mod jobs;
pub mod json;
pub mod openapi;
pub mod routes;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::Router;
use quan_core::zone::TenantZone;
use quan_store::Store;

pub use clock::{Clock, ManualClock, SystemClock};

/// The largest request body accepted (bigger ones get 413 `payload_too_large`).
pub const MAX_BODY: usize = 256 * 1024;
/// Bodies up to this size are read (and refused with a proper answer); larger ones are cut off.
const READ_LIMIT: usize = 8 * 1024 * 1024;

/// What every handler shares: one reference-counted value, so handing it to a request is one
/// atomic increment.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The parts of [`AppState`].
#[derive(Clone)]
pub struct Shared {
    pub store: Arc<dyn Store>,
    pub zone: TenantZone,
    pub clock: Arc<dyn Clock>,
    pub keys: Arc<auth::KeyRing>,
    /// The secret that signs claim links.
    pub link_secret: Arc<Vec<u8>>,
    /// The public base URL claim links point at.
    pub public_url: String,
    /// Parsed templates of coupons, for pricing. A template's content is fixed once it can have
    /// coupons (only drafts are edited, and drafts are never claimed), so entries never go stale.
    pub priced: Arc<
        std::sync::RwLock<std::collections::HashMap<String, Arc<quan_core::template::Template>>>,
    >,
    /// Runs this process's background jobs.
    pub jobs: Arc<jobs::JobRunner>,
}

impl AppState {
    /// Builds the state, loading (or creating, once) the tenant's link-signing secret.
    pub async fn new(
        store: Arc<dyn Store>,
        zone: TenantZone,
        clock: Arc<dyn Clock>,
        admin_key_hash: String,
        public_url: String,
    ) -> Result<Self, quan_store::StoreError> {
        let secret = store
            .setting_or_init("link_secret", quan_store::new_secret())
            .await?;
        Ok(Self(Arc::new(Shared {
            jobs: Arc::new(jobs::JobRunner::new(
                store.clone(),
                clock.clone(),
                jobs::DEFAULT_LEASE,
            )),
            store,
            zone,
            clock,
            keys: Arc::new(auth::KeyRing::new(admin_key_hash)),
            link_secret: Arc::new(secret.into_bytes()),
            public_url,
            priced: Arc::default(),
        })))
    }

    /// The same state, with jobs leased for `lease` at a time (how long a job whose runner died
    /// waits before another runner takes it over).
    pub fn with_job_lease(self, lease: jiff::SignedDuration) -> Self {
        let mut shared = Arc::unwrap_or_clone(self.0);
        shared.jobs = Arc::new(jobs::JobRunner::new(
            shared.store.clone(),
            shared.clock.clone(),
            lease,
        ));
        Self(Arc::new(shared))
    }

    /// The parsed template of a coupon's template id, from the cache or the store.
    pub async fn priced_template(
        &self,
        id: &str,
    ) -> Result<Arc<quan_core::template::Template>, error::ApiError> {
        if let Some(t) = self.priced.read().expect("template cache").get(id) {
            return Ok(t.clone());
        }
        let record = self
            .store
            .template(id)
            .await?
            .ok_or_else(|| error::ApiError::code(quan_core::ErrorCode::Internal))?;
        let template = Arc::new(
            quan_core::template::Template::parse(record.spec)
                .map_err(|_| error::ApiError::code(quan_core::ErrorCode::Internal))?,
        );
        self.priced
            .write()
            .expect("template cache")
            .insert(id.to_string(), template.clone());
        Ok(template)
    }

    pub fn now(&self) -> jiff::Timestamp {
        self.clock.now()
    }
}

/// The whole API as one router.
pub fn router(state: AppState) -> Router {
    routes::routes()
        .with_state(state)
        .layer(DefaultBodyLimit::max(READ_LIMIT))
        .layer(tower_http::trace::TraceLayer::new_for_http())
}
