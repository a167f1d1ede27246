//! quan's use cases: the one layer every client calls (the HTTP API, the CLI, the console, the
//! campaign worker). A use case takes the caller's [`Principal`] and typed input, checks who may
//! do it, asks the pure core to decide and the store to keep the result, and answers a view.
//!
//! - [`error`]: the one error (code, message, field) every client reports.
//! - [`keys`]: API keys to principals, and new keys.
//! - [`templates`], [`claims`]: coupon templates and the ways a coupon reaches a wallet.
//! - [`links`], [`center`]: what members see before claiming: a signed link's coupon, short
//!   links for SMS, the coupon center.
//! - [`dashboard`]: the console's period counts and member spread.
//! - [`checkout`], [`orders`], [`counter`]: quotes, the order lifecycle, counter redemption.
//! - [`wallet`]: wallets, coupons with their ledgers, revocation.
//! - [`members`], [`history`], [`events`], [`catalog`], [`segments`], [`rfm`]: the SCRM.
//! - [`campaigns`], [`campaign_worker`]: campaigns, and the worker that fires their triggers
//!   and treats their entries.
//! - [`playbooks`]: files of templates, segments and campaigns applied whole.
//! - [`jobs`]: background jobs (claim codes) and their runner.
//! - [`channels`], [`outbox`], [`delivery`]: channel webhooks, the outbox of messages, and
//!   their delivery (signed POSTs, retries with backoff, dead letters).
//! - [`tasks`]: store-guide tasks: a guide's own list, completion, the task's grant.
//! - [`input`]: request bodies into typed values, every failure naming its field.
//! - [`idempotency`]: idempotency keys, one mechanism for every mutating call.
//! - [`upkeep`]: what time makes due (expiry, lapsed locks, old idempotency keys).
//! - [`clock`]: where "now" comes from.
//!
//! What this layer deliberately does not know: HTTP (statuses beyond the code table, headers,
//! routing) and SQL. Rules live in `quan-core`; the layer only applies them.

pub mod allocation;
pub mod calculators;
pub mod campaign_worker;
pub mod campaigns;
pub mod catalog;
pub mod center;
pub mod channels;
pub mod checkout;
pub mod claims;
pub mod clock;
pub mod counter;
pub mod dashboard;
pub mod delivery;
pub mod error;
pub mod events;
pub mod forecast;
pub mod history;
pub mod idempotency;
pub mod import;
pub mod input;
pub mod jobs;
pub mod keys;
pub mod links;
pub mod members;
pub mod orders;
pub mod outbox;
pub mod page;
pub mod playbooks;
pub mod programme;
pub mod review;
pub mod rfm;
pub mod scoring;
pub mod segments;
pub mod slices;
pub mod tasks;
pub mod template_review;
pub mod templates;
pub mod upkeep;
pub mod wallet;

use std::sync::Arc;

use jiff::Timestamp;
use quan_core::access::Principal;
use quan_core::template::Template;
use quan_core::zone::TenantZone;
use quan_store::Store;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{Error, ErrorBody, Result};
pub use quan_core::access::Role;
pub use quan_core::text::Id;

/// The use cases over one store: cheap to clone (one reference count).
#[derive(Clone)]
pub struct App(Arc<Inner>);

/// What every use case shares.
pub struct Inner {
    pub store: Arc<dyn Store>,
    pub zone: TenantZone,
    pub clock: Arc<dyn Clock>,
    /// API keys to principals, cached (keys never change once made).
    pub keys: keys::KeyRing,
    /// The secret that signs claim links.
    link_secret: Vec<u8>,
    /// The public base URL claim links point at.
    public_url: String,
    /// Permits for reports (dashboards, exports): they queue here, never in front of the
    /// reads that claims, wallets and `/healthz` need.
    pub(crate) reports: tokio::sync::Semaphore,
    /// When the database last answered a probe (Unix milliseconds): `/healthz` answers from it.
    db_seen: std::sync::atomic::AtomicI64,
    /// Runs this process's background jobs.
    pub jobs: Arc<jobs::JobRunner>,
    /// Sends the outbox's messages.
    delivery: delivery::Sender,
}

/// Reports that may read at once in one process.
const REPORTS_AT_ONCE: usize = 2;
/// How long a database probe vouches for `/healthz`.
const HEALTH_FRESH_MS: i64 = 5_000;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl std::ops::Deref for App {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// How an [`App`] is set up.
pub struct Config {
    pub zone: TenantZone,
    pub clock: Arc<dyn Clock>,
    /// The public base URL claim links point at.
    pub public_url: String,
    /// How long a job is leased to its runner (a job whose runner died is resumed after it).
    pub job_lease: jiff::SignedDuration,
    /// How messages are delivered (timeouts, retries).
    pub delivery: delivery::DeliveryConfig,
}

impl App {
    /// Builds the use cases over `store`, loading (or creating, once) the link-signing secret.
    pub async fn new(store: Arc<dyn Store>, config: Config) -> Result<Self> {
        let secret = store
            .setting_or_init("link_secret", quan_store::new_secret())
            .await?;
        Ok(Self(Arc::new(Inner {
            jobs: Arc::new(jobs::JobRunner::new(
                store.clone(),
                config.clock.clone(),
                config.job_lease,
            )),
            store,
            zone: config.zone,
            clock: config.clock,
            keys: keys::KeyRing::new(),
            link_secret: secret.into_bytes(),
            public_url: config.public_url,
            delivery: delivery::Sender::new(config.delivery),
            reports: tokio::sync::Semaphore::new(REPORTS_AT_ONCE),
            // The store has just answered (the link secret was read).
            db_seen: std::sync::atomic::AtomicI64::new(now_ms()),
        })))
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The time a read is evaluated at: the one a client gave (in the accepted range), or now.
    fn as_of(&self, given: Option<Timestamp>) -> Result<Timestamp> {
        Ok(input::accepted_opt("as_of", given)?.unwrap_or_else(|| self.now()))
    }

    /// The principal behind an API key secret, or `None` for an unknown key.
    pub async fn principal(&self, secret: &str) -> Result<Option<Principal>> {
        self.keys
            .resolve(self.store.as_ref(), secret, self.now())
            .await
    }

    /// The parsed template of a coupon's (or a listed record's) template id, from the store's
    /// one cache of parsed templates.
    pub async fn parsed_template(&self, id: &str) -> Result<Arc<Template>> {
        self.store
            .parsed_template(id)
            .await?
            .ok_or_else(Error::internal)
    }

    /// 200 when the store answers: the backend's name. Answered from the last probe while it
    /// is fresh ([`App::probe_database`], which `quan serve` runs every second), so a busy read
    /// path never holds it; otherwise it probes now.
    pub async fn health(&self) -> Result<&'static str> {
        let seen = self.db_seen.load(std::sync::atomic::Ordering::Relaxed);
        if now_ms() - seen > HEALTH_FRESH_MS {
            self.probe_database().await?;
        }
        Ok(self.store.backend())
    }

    /// Reads one row of the database, and remembers when it answered.
    pub async fn probe_database(&self) -> Result<()> {
        self.store.template("healthz-probe").await?;
        self.db_seen
            .store(now_ms(), std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }
}

/// Refuses unless the principal has one of `roles`.
pub fn require<'p>(principal: &'p Principal, roles: &[Role]) -> Result<&'p Principal> {
    if roles.contains(&principal.role) {
        Ok(principal)
    } else {
        Err(Error::forbidden(format!(
            "a {} key may not do this",
            principal.role.as_str()
        )))
    }
}
