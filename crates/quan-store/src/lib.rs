//! quan's storage: one interface ([`Store`]) with a SQLite and a PostgreSQL implementation.
//!
//! The backend is chosen once, from the database URL's scheme ([`open`]); everything above
//! holds an `Arc<dyn Store>`. Each backend has its own SQL and its own versioned migrations
//! (`migrations/sqlite`, `migrations/postgres`), applied on open.
//!
//! Invariants (stock, per-user and per-day limits, single use of claim codes, idempotency) live
//! in the database's transactions, never in read-then-write code outside one:
//! - SQLite: one writer thread owns the write connection and runs every write job inside
//!   `BEGIN IMMEDIATE`; the jobs that arrive together share one transaction and one fsync
//!   (group commit), each inside its own savepoint.
//! - PostgreSQL: claims are batched per template; a batch locks the template row
//!   (`SELECT ... FOR UPDATE`), so claims of one template are serialised across every process
//!   sharing the database, decides each claim with [`quan_core::claim::ClaimBook`], and writes
//!   the batch with a handful of set-based statements and one commit.
//!
//! Answers are sent only after the commit, so a 201 is durable.

mod claiming;
mod ids;
mod model;
mod postgres;
pub mod scrm;
mod sqlite;

use async_trait::async_trait;
use jiff::Timestamp;
use quan_core::checkout::refund::{RefundAsk, RefundPlan};
use quan_core::{access::Principal, template::StatusAction, ErrorCode, FieldError};

pub use ids::{hash_secret, hex, new_code, new_id, new_secret};
pub use model::*;
pub use scrm::Scrm;

/// Failures of the storage layer itself (the domain's refusals are values, not errors).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("postgres: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    #[error("postgres pool: {0}")]
    Pool(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("the database writer has stopped")]
    WriterGone,
    #[error("unsupported database URL {0:?}: use sqlite://path or postgres://...")]
    BadUrl(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Everything quan keeps. One implementation per backend; both pass the same tests.
#[async_trait]
pub trait Store: scrm::Scrm + Send + Sync + 'static {
    /// `"sqlite"` or `"postgres"`.
    fn backend(&self) -> &'static str;

    /// A named setting, created with `init` the first time it is asked for (race-free).
    async fn setting_or_init(&self, name: &str, init: String) -> Result<String>;

    async fn insert_key(&self, key: NewKey) -> Result<KeyRecord>;
    async fn key_by_hash(&self, key_hash: &str) -> Result<Option<KeyRecord>>;

    async fn insert_template(&self, template: NewTemplate) -> Result<TemplateRecord>;
    async fn template(&self, id: &str) -> Result<Option<TemplateRecord>>;
    async fn list_templates(&self, filter: TemplateFilter) -> Result<Page<TemplateRecord>>;
    /// Replaces the spec of a draft template; `InvalidState` when it is no longer a draft.
    async fn update_template(
        &self,
        update: TemplateUpdate,
    ) -> Result<Result<TemplateRecord, ErrorCode>>;
    async fn set_template_status(
        &self,
        id: &str,
        action: StatusAction,
        now: Timestamp,
    ) -> Result<Result<TemplateRecord, ErrorCode>>;

    /// Decides and, if allowed, writes one claim; durable before it returns.
    async fn claim(&self, claim: ClaimCommand) -> Result<ClaimOutcome>;
    /// Makes `count` single-use claim codes, taking them from the stock.
    async fn make_claim_codes(
        &self,
        template_id: &str,
        count: u32,
        now: Timestamp,
    ) -> Result<Result<Vec<String>, ErrorCode>>;

    /// Stores a job that will make `job.total` claim codes of a template, leased to the runner
    /// that starts it; `None` when there is no such template.
    async fn insert_job(&self, job: NewJob) -> Result<Option<JobRecord>>;
    async fn job(&self, id: &str) -> Result<Option<JobRecord>>;
    /// A page of the codes a job made, in code order (`cursor`: the last code of the previous
    /// page); `total` is the job's `done`, read in the same snapshot.
    async fn job_codes(&self, id: &str, limit: u32, cursor: Option<String>)
        -> Result<Page<String>>;
    /// Makes the next batch of a claim-code job in one transaction: takes the batch from the
    /// stock, writes its codes, advances `done` (finishing the job after its last batch) and
    /// renews the lease. A batch the stock cannot cover fails the job (`out_of_stock`) and
    /// leaves the batches before it. `None` when `batch.lease` no longer holds the running job
    /// at `batch.done` (another runner took it over, or it ended): the caller stops.
    async fn run_job_batch(&self, batch: JobBatch) -> Result<Option<JobRecord>>;
    /// Leases one running job whose lease lapsed before `now` (its runner died) to `lease`.
    async fn take_lapsed_job(&self, now: Timestamp, lease: Lease) -> Result<Option<JobRecord>>;
    /// Fails a running job that `owner` holds; whether it did.
    async fn fail_job(
        &self,
        id: &str,
        owner: &str,
        error: JobError,
        now: Timestamp,
    ) -> Result<bool>;

    async fn coupon(&self, id: &str) -> Result<Option<CouponRecord>>;
    async fn coupon_by_code(&self, code: &str) -> Result<Option<CouponRecord>>;
    /// Redeems a claimed coupon outside checkout (at a store counter); `InvalidState` unless it
    /// is claimed and valid at `now`.
    async fn redeem_coupon(
        &self,
        id: &str,
        order_id: Option<&str>,
        now: Timestamp,
        actor: &str,
    ) -> Result<Result<CouponRecord, ErrorCode>>;
    async fn wallet(&self, query: WalletQuery) -> Result<Page<CouponRecord>>;
    /// The member's coupons that checkout may use at `now`: claimed and not yet expired, and,
    /// with `with_locked`, locked ones too (a lapsed lock can be taken over). At most `limit`,
    /// soonest-expiring first.
    async fn usable_coupons(
        &self,
        user_id: &str,
        now: Timestamp,
        with_locked: bool,
        limit: u32,
    ) -> Result<Vec<CouponRecord>>;
    /// Revokes a claimed coupon (an operator's act); `InvalidState` unless it is claimed.
    async fn revoke_coupon(
        &self,
        id: &str,
        actor: &str,
        reason: &str,
        now: Timestamp,
    ) -> Result<Result<CouponRecord, ErrorCode>>;
    /// Marks claimed coupons whose validity has ended as expired; returns how many.
    async fn expire_due(&self, now: Timestamp, limit: u32) -> Result<u64>;
    async fn ledger(&self, coupon_id: &str) -> Result<Vec<LedgerEntry>>;
    async fn ledger_count(&self) -> Result<i64>;
    /// How many coupon rows a template has (for audits and tests: it must equal `claimed`).
    async fn coupon_count(&self, template_id: &str) -> Result<i64>;

    /// Prices are the caller's; this locks exactly `order.coupon_ids` for the order, all or none.
    /// A retry of the same request returns the order as it is.
    async fn lock_order(&self, order: NewOrder) -> Result<Result<OrderRecord, LockRefusal>>;
    async fn order(&self, id: &str) -> Result<Option<OrderRecord>>;
    /// Redeems the order's locked coupons; `InvalidState` if cancelled or its lock lapsed.
    async fn pay_order(
        &self,
        id: &str,
        now: Timestamp,
        actor: &str,
    ) -> Result<Result<OrderRecord, ErrorCode>>;
    /// Releases the order's coupons; `InvalidState` once paid.
    async fn cancel_order(
        &self,
        id: &str,
        now: Timestamp,
        actor: &str,
    ) -> Result<Result<OrderRecord, ErrorCode>>;
    /// Refunds units of a paid order's lines and gives back the coupons whose lines are all
    /// refunded (claimed again while valid, else expired).
    async fn refund_order(
        &self,
        id: &str,
        ask: Vec<RefundAsk>,
        now: Timestamp,
        actor: &str,
    ) -> Result<Result<(OrderRecord, RefundPlan), FieldError>>;
    /// Expires orders whose lock lapsed and releases their coupons; returns how many.
    async fn release_lapsed_locks(&self, now: Timestamp) -> Result<u64>;

    /// Starts an idempotent call: `Started` means go on and then [`Store::finish_idempotent`].
    async fn begin_idempotent(
        &self,
        key: &IdempotencyKey,
        now: Timestamp,
    ) -> Result<IdempotencyStart>;
    async fn finish_idempotent(&self, key: &IdempotencyKey, response: &str) -> Result<()>;
    /// Forgets idempotency records older than `before`.
    async fn sweep_idempotency(&self, before: Timestamp) -> Result<u64>;
}

/// Opens (and migrates) the store a URL names: `sqlite://path` or `postgres://...`.
pub async fn open(
    url: &str,
    zone: quan_core::zone::TenantZone,
) -> Result<std::sync::Arc<dyn Store>> {
    if let Some(path) = url.strip_prefix("sqlite://") {
        Ok(std::sync::Arc::new(
            sqlite::SqliteStore::open(path, zone).await?,
        ))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(std::sync::Arc::new(
            postgres::PgStore::open(url, zone).await?,
        ))
    } else {
        Err(StoreError::BadUrl(url.to_string()))
    }
}

/// Whether `principal` may see a template or coupon of `store` (platform coupons: operators only).
pub fn visible(principal: &Principal, store: Option<&str>) -> bool {
    principal.owns_store(store)
}
