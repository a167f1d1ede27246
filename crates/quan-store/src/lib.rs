//! quan's storage: one interface ([`Store`], made of one small trait per aggregate, see
//! [`prelude`]) with a SQLite and a PostgreSQL implementation.
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
//!
//! What a write does is decided once, in pure code both backends call on the facts they read
//! (`claiming.rs` for claims, `checkout.rs` with `quan_core::checkout::order` for orders,
//! [`scrm::ingest`] for ingested orders, [`scrm::segments`] for segment membership); each
//! backend only reads the facts and writes the rows.

mod aggregate;
mod ids;
mod plan;
mod postgres;
mod records;
pub mod scrm;
mod sql;
mod sqlite;
#[cfg(feature = "testing")]
pub mod testing;
mod traits;

pub use ids::{hash_secret, hex, new_code, new_id, new_secret};
pub use quan_core::checkout::order::OrderStatus;
pub use records::campaigns::{
    Backlog, CampaignRecord, CampaignStats, EntryRecord, InboxEvent, NewCampaign, NewEntry,
    PastCampaign, PastCoupon, TreatReport, TriggerMove,
};
pub use records::learning::{BasketLine, CouponOutcome, EntryOutcome};
pub use records::messages::*;
pub use records::reports::{Claimant, NewShortLink, ShortLink, TemplateActivity};
pub use records::reviews::{
    ArmMember, CategorySales, CounterSale, CountsOf, CouponCount, MemberCoupon, MessageCounts,
    PaidOrder, Rebuilt, SalesCount,
};
pub use records::tasks::*;
pub use records::*;
pub use traits::*;

/// Every storage trait, for callers: `use quan_store::prelude::*;`.
pub mod prelude {
    pub use crate::traits::{
        Campaigns, Catalog, Claims, Coupons, Events, Idempotency, Jobs, Keys, Learning, Members,
        OrderHistory, Orders, Outbox, Reports, Reviews, Rfm, Segments, Settings, ShortLinks, Tasks,
        Templates,
    };
    pub use crate::Store;
}

/// A PostgreSQL error with the server's message and code, when it sent one.
fn pg_message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}

/// Failures of the storage layer itself (the domain's refusals are values, not errors).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("postgres: {}", pg_message(.0))]
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

/// Everything quan keeps: every aggregate's trait. One implementation per backend; both pass
/// the same conformance suite (`tests/conformance`).
pub trait Store:
    Settings
    + Keys
    + Templates
    + Claims
    + Coupons
    + Orders
    + Jobs
    + Idempotency
    + Members
    + OrderHistory
    + Events
    + Catalog
    + Segments
    + Rfm
    + Campaigns
    + Outbox
    + Tasks
    + Learning
    + ShortLinks
    + Reports
    + Reviews
    + Send
    + Sync
    + 'static
{
    /// `"sqlite"` or `"postgres"`.
    fn backend(&self) -> &'static str;
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
