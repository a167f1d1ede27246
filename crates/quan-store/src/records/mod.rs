//! The records the store reads and writes, and the commands it takes: templates, coupons,
//! orders, keys, jobs and claims here; campaigns, messages, tasks, learning and reports in
//! their modules.

pub(crate) mod campaigns;
pub(crate) mod learning;
pub(crate) mod messages;
pub(crate) mod parsed;
pub(crate) mod reports;
pub(crate) mod reviews;
pub(crate) mod tasks;

use std::sync::Arc;

use jiff::Timestamp;
use quan_core::access::Role;
use quan_core::checkout::order::OrderStatus;
use quan_core::coupon::{CouponStatus, LedgerEvent};
use quan_core::template::{Channel, Template, TemplateSpec, TemplateStatus};
use quan_core::ErrorCode;
use serde::{Deserialize, Serialize};

/// One page of a list, and the cursor of the next (`None` on the last page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub next: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewKey {
    pub id: String,
    pub key_hash: String,
    pub role: Role,
    pub store_ids: Vec<String>,
    pub user_id: Option<String>,
    pub created_at: Timestamp,
    /// After this the key answers 401.
    pub expires_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    pub id: String,
    pub role: Role,
    pub store_ids: Vec<String>,
    pub user_id: Option<String>,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

impl KeyRecord {
    /// Whether the key may still be used at `now`: not revoked, not expired.
    pub fn usable(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| now < e)
    }
}

#[derive(Debug, Clone)]
pub struct NewTemplate {
    pub id: String,
    pub template: Template,
    pub created_by: String,
    pub now: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateRecord {
    pub id: String,
    /// The template as parsed once for its version, from the store's cache.
    pub template: Arc<Template>,
    /// Raised by every edit (only a draft is edited).
    pub version: i64,
    pub status: TemplateStatus,
    pub store_id: Option<String>,
    pub remaining: Option<i64>,
    pub issued: i64,
    pub claimed: i64,
    pub used: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl TemplateRecord {
    /// The template's checked body.
    pub fn spec(&self) -> &TemplateSpec {
        self.template.spec()
    }
}

#[derive(Debug, Clone, Default)]
pub struct TemplateFilter {
    /// Confine to these stores (a merchant's view); `None`: every template.
    pub stores: Option<Vec<String>>,
    pub status: Option<TemplateStatus>,
    /// `platform`, `store`, `category` or `product`.
    pub scope_kind: Option<String>,
    pub limit: u32,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone)]
pub struct TemplateUpdate {
    pub id: String,
    pub template: Template,
    pub now: Timestamp,
}

/// How a claim reaches the template, as the store needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimRoute {
    Public,
    /// A signed link, already verified (or not) by the caller.
    Link {
        valid: bool,
    },
    /// A pre-made claim code; the store checks it and uses it up.
    Code(String),
    Service,
    /// A campaign's grant (or its guide task's), naming the campaign.
    Campaign(String),
}

impl ClaimRoute {
    pub fn as_str(&self) -> &'static str {
        match self {
            ClaimRoute::Public => "public",
            ClaimRoute::Link { .. } => "link",
            ClaimRoute::Code(_) => "claim_code",
            ClaimRoute::Service => "service",
            ClaimRoute::Campaign(_) => "campaign",
        }
    }
}

/// The identity of an idempotent request: the API key, the client's key, the body's hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    pub key_id: String,
    pub key: String,
    pub request_hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyStart {
    Started,
    /// The stored answer of the first request.
    Replay(String),
    Mismatch,
    InFlight,
}

#[derive(Debug, Clone)]
pub struct ClaimCommand {
    pub template_id: String,
    pub user_id: String,
    pub channel: Option<Channel>,
    pub region: Option<String>,
    pub route: ClaimRoute,
    pub idempotency: Option<IdempotencyKey>,
    /// The API key acting, for the ledger.
    pub actor: String,
    /// The stores the caller is confined to; a template outside them reads as not found.
    pub stores: Option<Vec<String>>,
    pub now: Timestamp,
}

/// What a successful claim answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimedCoupon {
    pub coupon_id: String,
    pub code: String,
    pub template_id: String,
    pub user_id: String,
    pub valid_from: Timestamp,
    pub valid_until: Timestamp,
}

/// The answer to a claim; a retry with the same idempotency key gets the same one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimOutcome {
    Claimed(ClaimedCoupon),
    Refused(ErrorCode),
    NotFound,
    IdempotencyMismatch,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CouponRecord {
    pub id: String,
    pub template_id: String,
    pub store_id: Option<String>,
    pub user_id: String,
    pub code: String,
    /// The stored status; read it through [`CouponStatus::as_of`] for the wallet.
    pub status: CouponStatus,
    pub route: String,
    pub claimed_at: Timestamp,
    pub valid_from: Timestamp,
    pub valid_until: Timestamp,
    pub order_id: Option<String>,
    pub updated_at: Timestamp,
    /// The campaign whose grant (or guide task) made it.
    pub campaign_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct WalletQuery {
    pub user_id: String,
    /// Filter by status as of `now` (a claimed coupon past its end counts as expired).
    pub status: Option<CouponStatus>,
    pub stores: Option<Vec<String>>,
    pub now: Timestamp,
    pub limit: u32,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    pub seq: i64,
    pub coupon_id: String,
    pub template_id: String,
    pub user_id: String,
    pub event: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub at: Timestamp,
    pub actor: String,
    pub reason: Option<String>,
    pub order_id: Option<String>,
    /// What the entry changed of the money the coupon gave (minor units).
    pub given: i64,
}

/// A ledger entry about to be written.
#[derive(Debug, Clone)]
pub(crate) struct LedgerWrite<'a> {
    pub coupon_id: &'a str,
    pub template_id: &'a str,
    pub user_id: &'a str,
    pub event: LedgerEvent,
    pub from: Option<CouponStatus>,
    pub to: CouponStatus,
    pub at: Timestamp,
    pub actor: &'a str,
    pub reason: Option<&'a str>,
    pub order_id: Option<&'a str>,
    /// What the entry changes of the money the coupon gave.
    pub given: i64,
}

/// A coupon moved to another status, decided by pure code and written by
/// `aggregate::coupons::apply_moves` (its row, its ledger entry and its template's used count).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CouponMove<'a> {
    /// The coupon as read before the move.
    pub coupon: &'a CouponRecord,
    pub to: CouponStatus,
    pub event: LedgerEvent,
    /// The order holding the coupon after the move.
    pub holder: Option<&'a str>,
    pub locked_until: Option<Timestamp>,
    /// The order the ledger entry names.
    pub order_id: Option<&'a str>,
    pub reason: Option<&'a str>,
    /// What the move changes of the money the coupon gave (its discount when redeemed, less
    /// what a refund takes back).
    pub given: i64,
}

pub(crate) fn micros(t: Timestamp) -> i64 {
    t.as_microsecond()
}

pub(crate) fn from_micros(us: i64) -> Timestamp {
    Timestamp::from_microsecond(us).unwrap_or(Timestamp::MAX)
}

/// An order about to lock its coupons.
#[derive(Debug, Clone)]
pub struct NewOrder {
    pub id: String,
    pub user_id: String,
    pub request_hash: String,
    /// The priced quote as JSON (the apportionment refunds use).
    pub quote: String,
    pub lines: Vec<quan_core::checkout::refund::PaidLine>,
    pub coupon_ids: Vec<String>,
    pub payable: i64,
    pub lock_until: Timestamp,
    pub now: Timestamp,
    pub actor: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRecord {
    pub id: String,
    pub user_id: String,
    /// Moved only by `quan_core::checkout::order::step`.
    pub status: OrderStatus,
    pub quote: String,
    pub lines: Vec<quan_core::checkout::refund::PaidLine>,
    pub coupon_ids: Vec<String>,
    pub payable: i64,
    pub lock_until: Timestamp,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Why an order could not lock its coupons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockRefusal {
    /// The order id exists with another request.
    Conflict,
    /// This coupon is not the member's, not claimed, or no longer valid.
    CouponNotUsable(String),
}

/// What a background job does. One kind today: making a large batch of claim codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    ClaimCodes,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::ClaimCodes => "claim_codes",
        }
    }

    pub fn parse(s: &str) -> Option<JobKind> {
        match s {
            "claim_codes" => Some(JobKind::ClaimCodes),
            _ => None,
        }
    }
}

/// `running` until its last batch commits (`succeeded`) or a batch is refused (`failed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    Running,
    Succeeded,
    Failed,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Running => "running",
            JobStatus::Succeeded => "succeeded",
            JobStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<JobStatus> {
        Some(match s {
            "running" => JobStatus::Running,
            "succeeded" => JobStatus::Succeeded,
            "failed" => JobStatus::Failed,
            _ => return None,
        })
    }
}

/// Why a job failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobError {
    pub code: ErrorCode,
    pub message: String,
}

/// A job about to be stored, leased to the runner that will start it.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub id: String,
    pub kind: JobKind,
    pub template_id: String,
    pub total: i64,
    pub created_by: String,
    pub now: Timestamp,
    pub lease: Lease,
}

/// Who runs a job, and until when without a sign of life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// A token unique to one run of the job.
    pub owner: String,
    pub until: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRecord {
    pub id: String,
    pub kind: JobKind,
    pub template_id: String,
    /// The template's store (`None`: platform), for merchant scoping.
    pub store_id: Option<String>,
    pub status: JobStatus,
    pub total: i64,
    /// Codes committed so far; always the number of the job's code rows.
    pub done: i64,
    pub error: Option<JobError>,
    pub lease_owner: Option<String>,
    pub created_by: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub finished_at: Option<Timestamp>,
}

/// The next batch of a claim-code job: made only if `lease.owner` still holds the job and the
/// job has exactly `done` codes, so a batch is never made twice, whoever else runs the job.
#[derive(Debug, Clone)]
pub struct JobBatch {
    pub job_id: String,
    pub done: i64,
    /// At most this many codes (fewer for the last batch).
    pub size: i64,
    pub now: Timestamp,
    /// The lease, renewed until `lease.until` by the batch's commit.
    pub lease: Lease,
}

/// An error code by its stored name.
pub(crate) fn error_code(s: &str) -> Option<ErrorCode> {
    ErrorCode::ALL.iter().copied().find(|c| c.as_str() == s)
}

/// The error of a claim-code job whose next batch the stock cannot cover.
pub(crate) fn out_of_stock(batch: i64, remaining: Option<i64>, done: i64) -> JobError {
    JobError {
        code: ErrorCode::OutOfStock,
        message: format!(
            "the next batch of {batch} codes exceeds the template's remaining stock ({}); \
             the job stopped after {done} codes, which stay valid",
            remaining.map_or_else(|| "unlimited".to_string(), |r| r.to_string())
        ),
    }
}
