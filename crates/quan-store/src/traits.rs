//! The storage interface, one small trait per aggregate; [`crate::Store`] is all of them.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use async_trait::async_trait;
use jiff::Timestamp;
use quan_core::campaign::decide::EntryStatus;
use quan_core::campaign::MessageChannel;
use quan_core::campaign::{CampaignAction, Since};
use quan_core::checkout::refund::{RefundAsk, RefundPlan};
use quan_core::scrm::rfm::RfmInput;
use quan_core::scrm::{History, Purchase, RfmScore};
use quan_core::template::{StatusAction, Template};
use quan_core::{ErrorCode, FieldError};

use crate::records::campaigns::*;
use crate::records::learning::{BasketLine, CouponOutcome, EntryOutcome};
use crate::records::messages::*;
use crate::records::reports::{Claimant, NewShortLink, ShortLink, TemplateActivity};
use crate::records::reviews::{
    ArmMember, CategorySales, CounterSale, CountsOf, CouponCount, MemberCoupon, MessageCounts,
    PaidOrder, Rebuilt, SalesCount,
};
use crate::records::tasks::*;
use crate::records::*;
use crate::scrm::{
    Aggregates, EventRecord, HistoryLine, HistoryOrder, MemberProfile, MemberRecord, OrderFilter,
    OrderSummary, ProductRecord, RfmCuts, SegmentRecord, StoreRecord, Written,
};
use crate::Result;

/// Named settings (the tenant's secrets, the SCRM configurations).
#[async_trait]
pub trait Settings: Send + Sync {
    /// A named setting, created with `init` the first time it is asked for (race-free).
    async fn setting_or_init(&self, name: &str, init: String) -> Result<String>;
    /// A setting, if set.
    async fn setting(&self, name: &str) -> Result<Option<String>>;
    /// Writes a setting (the SCRM configurations).
    async fn put_setting(&self, name: &str, value: String) -> Result<()>;
}

/// API keys, kept by the hash of their secret.
#[async_trait]
pub trait Keys: Send + Sync {
    async fn insert_key(&self, key: NewKey) -> Result<KeyRecord>;
    /// The bootstrap platform key, once per database: a key given by the operator
    /// (`given`, from `QUAN_ADMIN_KEY`) is stored whenever it is not yet; a minted one only by
    /// the first start of all. Whether `key` was stored.
    async fn bootstrap_key(&self, key: NewKey, given: bool) -> Result<bool>;
    async fn key_by_hash(&self, key_hash: &str) -> Result<Option<KeyRecord>>;
    /// Keys in id (creation) order, without their secrets (only hashes are stored).
    async fn list_keys(&self, limit: u32, cursor: Option<String>) -> Result<Page<KeyRecord>>;
    /// Revokes a key as of `now` (a revoked or expired key stays as it is): `NotFound`, or
    /// `InvalidState` for the last usable platform key ([`quan_core::access::may_revoke`]).
    async fn revoke_key(&self, id: &str, now: Timestamp) -> Result<Result<KeyRecord, ErrorCode>>;
}

/// Coupon templates and their status.
#[async_trait]
pub trait Templates: Send + Sync {
    async fn insert_template(&self, template: NewTemplate) -> Result<TemplateRecord>;
    async fn template(&self, id: &str) -> Result<Option<TemplateRecord>>;
    /// A template parsed, from the store's one cache of parsed templates (by id and version);
    /// a template past draft can no longer change and is answered without a read.
    async fn parsed_template(&self, id: &str) -> Result<Option<Arc<Template>>>;
    async fn list_templates(&self, filter: TemplateFilter) -> Result<Page<TemplateRecord>>;
    /// Replaces the spec of a draft template ([`quan_core::template::stock_after_edit`]):
    /// `InvalidState` when it is no longer a draft, `stock` when the new stock is below what
    /// was issued already, `NotFound`.
    async fn update_template(
        &self,
        update: TemplateUpdate,
    ) -> Result<Result<TemplateRecord, FieldError>>;
    async fn set_template_status(
        &self,
        id: &str,
        action: StatusAction,
        now: Timestamp,
    ) -> Result<Result<TemplateRecord, ErrorCode>>;
}

/// Claiming coupons, and the claim codes that claims may use.
#[async_trait]
pub trait Claims: Send + Sync {
    /// Decides and, if allowed, writes one claim; durable before it returns.
    async fn claim(&self, claim: ClaimCommand) -> Result<ClaimOutcome>;
    /// Makes `count` single-use claim codes, taking them from the stock.
    async fn make_claim_codes(
        &self,
        template_id: &str,
        count: u32,
        now: Timestamp,
    ) -> Result<Result<Vec<String>, ErrorCode>>;
    /// What a claim of `template` (whose id is `template_id`) by `user_id` at `now` would be
    /// decided on (reads only).
    async fn claimant(
        &self,
        template_id: &str,
        template: &Template,
        user_id: &str,
        now: Timestamp,
    ) -> Result<Claimant>;
}

/// Claimed coupons, their life outside checkout, and their ledger.
#[async_trait]
pub trait Coupons: Send + Sync {
    async fn coupon(&self, id: &str) -> Result<Option<CouponRecord>>;
    async fn coupon_by_code(&self, code: &str) -> Result<Option<CouponRecord>>;
    /// Redeems a claimed coupon outside checkout (at a store counter), keeping what it took off
    /// and what the purchase cost; `InvalidState` unless it is claimed and valid at `now`.
    async fn redeem_coupon(
        &self,
        id: &str,
        order_id: Option<&str>,
        sale: CounterSale,
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
}

/// Checkout orders: locking their coupons, paying, cancelling, refunding, lapsing
/// (each transition decided by `quan_core::checkout::order::step`).
#[async_trait]
pub trait Orders: Send + Sync {
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
}

/// Background jobs (claim-code jobs today), leased to the runner that runs them.
#[async_trait]
pub trait Jobs: Send + Sync {
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
}

/// Idempotency records of mutating calls (claims keep theirs inside the claim transaction).
#[async_trait]
pub trait Idempotency: Send + Sync {
    /// Starts an idempotent call: `Started` means go on and then
    /// [`Idempotency::finish_idempotent`].
    async fn begin_idempotent(
        &self,
        key: &IdempotencyKey,
        now: Timestamp,
    ) -> Result<IdempotencyStart>;
    async fn finish_idempotent(&self, key: &IdempotencyKey, response: &str) -> Result<()>;
    /// Forgets idempotency records older than `before`.
    async fn sweep_idempotency(&self, before: Timestamp) -> Result<u64>;
}

/// SCRM customers: profiles as written, aggregates as quan keeps them. A customer with a join
/// time is a member; one known only from orders is not (see [`crate::scrm::members`]).
#[async_trait]
pub trait Members: Send + Sync {
    /// Creates or updates profiles as given (aggregates are quan's own): a profile with a join
    /// time makes the customer a member, keeping its history. What each write did
    /// ([`crate::scrm::members::profile_written`]: joining is `Inserted`).
    async fn put_members(
        &self,
        members: Vec<MemberProfile>,
        now: Timestamp,
    ) -> Result<Vec<Written>>;
    async fn member(&self, id: &str) -> Result<Option<MemberRecord>>;
    /// Customers in id order; with `prefix`, only those whose id starts with it (`total`
    /// counts those).
    async fn list_members(
        &self,
        prefix: Option<String>,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<Page<MemberRecord>>;
    /// Every member (segment evaluation).
    async fn all_members(&self) -> Result<Vec<MemberRecord>>;
    /// Every member's history of counted orders paid up to `as_of`.
    async fn histories(&self, as_of: Timestamp) -> Result<HashMap<String, History>>;
    /// Recomputes the aggregates (and, after a full RFM run, the scores as of `now`) of the
    /// members named, or of every member.
    async fn refresh_members(&self, ids: Option<Vec<String>>, now: Timestamp) -> Result<u64>;
}

/// Members' order history: ingested orders, and checkout orders once paid.
#[async_trait]
pub trait OrderHistory: Send + Sync {
    /// Writes orders of customers' history, idempotent by id (the same content changes
    /// nothing); a customer unknown so far gets a row for its history, aggregates and RFM, but
    /// buying is not joining: it is no member (no join time). Lines without a
    /// category take their product's. What each write did is decided by
    /// [`crate::scrm::ingest::plan`].
    async fn put_orders(
        &self,
        orders: Vec<HistoryOrder>,
        now: Timestamp,
        aggregates: Aggregates,
    ) -> Result<Vec<Written>>;
    async fn history_order(&self, id: &str) -> Result<Option<(OrderSummary, Vec<HistoryLine>)>>;
    async fn list_orders(&self, filter: OrderFilter) -> Result<Page<OrderSummary>>;
    /// A member's latest orders, newest first.
    async fn recent_orders(&self, user_id: &str, limit: u32) -> Result<Vec<OrderSummary>>;
    /// Counted orders in all, and the sum of their amounts (import reports).
    async fn order_totals(&self) -> Result<(i64, i64)>;
}

/// Members' events.
#[async_trait]
pub trait Events: Send + Sync {
    /// Stores events, idempotent by id; `signup` makes the user a member joined at the event's
    /// time (a new customer, or a buyer who never joined; a member keeps its join time),
    /// `tier_changed` sets its tier (from `data.tier`).
    async fn put_events(&self, events: Vec<EventRecord>, now: Timestamp) -> Result<Vec<Written>>;
    async fn event(&self, id: &str) -> Result<Option<EventRecord>>;
    async fn list_events(
        &self,
        user_id: &str,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<Page<EventRecord>>;
}

/// The catalog: stores and products.
#[async_trait]
pub trait Catalog: Send + Sync {
    async fn put_stores(&self, stores: Vec<StoreRecord>) -> Result<Vec<Written>>;
    async fn store_record(&self, id: &str) -> Result<Option<StoreRecord>>;
    async fn list_stores(&self, limit: u32, cursor: Option<String>) -> Result<Page<StoreRecord>>;
    async fn put_products(&self, products: Vec<ProductRecord>) -> Result<Vec<Written>>;
    async fn product(&self, id: &str) -> Result<Option<ProductRecord>>;
    async fn list_products(
        &self,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<Page<ProductRecord>>;
}

/// Segments, and the purchase conditions their rules ask about.
#[async_trait]
pub trait Segments: Send + Sync {
    async fn put_segment(&self, segment: SegmentRecord) -> Result<SegmentRecord>;
    async fn segment(&self, id: &str) -> Result<Option<SegmentRecord>>;
    async fn list_segments(
        &self,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<Page<SegmentRecord>>;
    /// The members who meet a purchase condition as of `as_of`.
    async fn purchase_members(
        &self,
        purchase: &Purchase,
        as_of: Timestamp,
    ) -> Result<HashSet<String>>;
    /// Whether one member meets it.
    async fn member_purchased(
        &self,
        member_id: &str,
        purchase: &Purchase,
        as_of: Timestamp,
    ) -> Result<bool>;
}

/// The primitives of a full RFM recompute ([`crate::scrm::recompute_rfm`]).
#[async_trait]
pub trait Rfm: Send + Sync {
    /// Per member with a counted order paid in `(since, as_of]`: last paid time, count, sum.
    async fn rfm_inputs(&self, since: Timestamp, as_of: Timestamp) -> Result<Vec<RfmInput>>;
    /// Stores the scores of a full recompute (members absent from `rows` score 0, tier C) and
    /// its cuts; returns how many members scored 0.
    async fn write_rfm(&self, rows: Vec<(String, RfmScore)>, cuts: RfmCuts) -> Result<u64>;
}

/// Campaigns, the entries of members into them, and the inbox of events they wait for.
/// An entry is unique per (campaign, member, occurrence): writing it again does nothing, which
/// is what makes a member enter once per trigger occurrence across crashes and processes.
#[async_trait]
pub trait Campaigns: Send + Sync {
    async fn insert_campaign(&self, campaign: NewCampaign) -> Result<CampaignRecord>;
    async fn campaign(&self, id: &str) -> Result<Option<CampaignRecord>>;
    async fn list_campaigns(
        &self,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<Page<CampaignRecord>>;
    /// Every campaign whose status is `active`.
    async fn running_campaigns(&self) -> Result<Vec<CampaignRecord>>;
    /// Writes a campaign of the past with its entries and coupons as they ended (as of `now`);
    /// `false`, writing nothing, when a campaign with its id exists.
    async fn import_past_campaign(&self, c: PastCampaign, now: Timestamp) -> Result<bool>;
    /// Applies a status change (`InvalidState` when it is not allowed; `None`: no such
    /// campaign). Ending marks the pending entries `expired`; `reason` says why it ended.
    async fn set_campaign_status(
        &self,
        id: &str,
        action: CampaignAction,
        reason: &str,
        now: Timestamp,
    ) -> Result<Option<Result<CampaignRecord, ErrorCode>>>;
    /// Writes entries of an active campaign (those that exist already are left as they are)
    /// and counts them. With `trigger`, only if the campaign's trigger progress is still
    /// `trigger.from`, moving it to `trigger.to`; `None` when it was not (another process
    /// moved it) or the campaign is not active: then nothing is written.
    async fn add_entries(
        &self,
        campaign_id: &str,
        entries: Vec<NewEntry>,
        trigger: Option<TriggerMove>,
        now: Timestamp,
    ) -> Result<Option<u64>>;
    /// A campaign's entries in member order, optionally of one status.
    async fn campaign_entries(
        &self,
        campaign_id: &str,
        status: Option<EntryStatus>,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<Page<EntryRecord>>;
    /// Leases up to `limit` inbox events whose lease lapsed, oldest first, until `lease_until`.
    async fn take_inbox(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<InboxEvent>>;
    /// Writes the entries the events made (per campaign, into active campaigns only) and
    /// drops the events from the inbox, in one transaction.
    async fn settle_inbox(
        &self,
        event_ids: Vec<String>,
        entries: Vec<(String, NewEntry)>,
        now: Timestamp,
    ) -> Result<()>;
    /// Treats due entries of one active campaign in one transaction under its row lock: the
    /// frequency cap, then the budget, then its grants all or none (through the
    /// `campaign_only` route), tasks for the member's guide and outbox messages. Ends the
    /// campaign when its budget is spent. The ledger names `{actor}:{campaign id}`. An empty
    /// report: nothing was due.
    async fn treat_due(&self, now: Timestamp, actor: &str) -> Result<TreatReport>;
    /// Members inactive since joining (no order since) or since their last order, that time
    /// being in `[from, before]`, with that time; in id order after `cursor`.
    async fn inactive_members(
        &self,
        since: Since,
        from: Timestamp,
        before: Timestamp,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<Vec<(String, Timestamp)>>;
    /// The work waiting at `now`.
    async fn campaign_backlog(&self, now: Timestamp) -> Result<Backlog>;
}

/// The outbox: messages waiting for, or done with, delivery through their channel's webhook.
/// Senders lease due messages, so several processes sharing one database never send one message
/// at the same time (PostgreSQL: `FOR UPDATE SKIP LOCKED`; SQLite: the single writer).
#[async_trait]
pub trait Outbox: Send + Sync {
    /// Queues a message, pending and due at `message.now`.
    async fn enqueue_message(&self, message: NewMessage) -> Result<MessageRecord>;
    async fn message(&self, id: &str) -> Result<Option<MessageRecord>>;
    /// A page of messages in id order, optionally of one status; `total` counts that status.
    async fn list_messages(&self, filter: MessageFilter) -> Result<Page<MessageRecord>>;
    /// Leases due messages (`pending`, `next_attempt_at <= now`, `lease_until < now`) of the
    /// channels asked for, soonest due first; each is leased to one caller at a time.
    async fn take_due_messages(&self, due: DueMessages) -> Result<Vec<MessageRecord>>;
    /// Records a delivery of a pending message; whether it was still pending.
    async fn mark_sent(&self, id: &str, now: Timestamp) -> Result<bool>;
    /// Records a failed attempt (one more attempt, the error, and pending again at its next
    /// time, or dead); `None` when the message no longer has the attempts it was leased with.
    async fn mark_failed(&self, failure: MessageFailure) -> Result<Option<MessageRecord>>;
    /// Sends a dead letter back to pending, due at `now`, with its attempts reset;
    /// `NotFound`, or `InvalidState` unless it is dead.
    async fn retry_dead(
        &self,
        id: &str,
        now: Timestamp,
    ) -> Result<Result<MessageRecord, ErrorCode>>;
    /// The pending messages of each channel that has any.
    async fn pending_by_channel(&self) -> Result<Vec<(MessageChannel, i64)>>;
}

/// Store-guide tasks (made by campaigns): listed by guide and status, completed once with an
/// outcome, carrying the coupon their guide granted.
#[async_trait]
pub trait Tasks: Send + Sync {
    /// Stores an open task.
    async fn insert_task(&self, task: NewTask) -> Result<TaskRecord>;
    async fn task(&self, id: &str) -> Result<Option<TaskRecord>>;
    /// A page of tasks in id order, of one guide and status when asked; `total` counts them.
    async fn list_tasks(&self, filter: TaskFilter) -> Result<Page<TaskRecord>>;
    /// Completes a task with an outcome by `quan_core::task::complete`: an open task becomes
    /// done; a done one with the same outcome answers as it is; `NotFound`, or `InvalidState`
    /// for another outcome.
    async fn complete_task(
        &self,
        id: &str,
        outcome: &str,
        now: Timestamp,
    ) -> Result<Result<TaskRecord, ErrorCode>>;
    /// Records the coupon granted for a task unless one is recorded already; the task as it
    /// then is (`None`: no such task).
    async fn record_task_coupon(&self, id: &str, coupon_id: &str) -> Result<Option<TaskRecord>>;
    /// Counts a grant refused after `attempts` refusals, so the next grant is a new claim;
    /// whether it counted (not when another grant counted it first or a coupon is recorded).
    async fn count_refused_grant(&self, id: &str, attempts: u32) -> Result<bool>;
}

/// What the redemption model learns from, read whole (a tenant's history fits in memory at
/// today's sizes; a streamed read is for later).
#[async_trait]
pub trait Learning: Send + Sync {
    /// Every counted order line paid before `before`, by member and time.
    async fn basket_lines(&self, before: Timestamp) -> Result<Vec<BasketLine>>;
    /// Every coupon claimed before `before`, by member and claim time.
    async fn coupon_outcomes(&self, before: Timestamp) -> Result<Vec<CouponOutcome>>;
    /// Every campaign entry treated or held out before `before`, by member and time.
    async fn entry_outcomes(&self, before: Timestamp) -> Result<Vec<EntryOutcome>>;
}

/// Short links (for SMS, where characters count): a code standing for a signed claim link.
#[async_trait]
pub trait ShortLinks: Send + Sync {
    /// Records a short link; `false` when its code is taken (the caller draws another).
    async fn insert_short_link(&self, link: NewShortLink) -> Result<bool>;
    /// The short link of a code, expired or not.
    async fn short_link(&self, code: &str) -> Result<Option<ShortLink>>;
}

/// The counts the console's dashboard shows.
#[async_trait]
pub trait Reports: Send + Sync {
    /// Per template with any activity in `[from, until)`, in template id order: coupons issued,
    /// claimed and used in it; of `templates` only, when given (a merchant's: their claim codes,
    /// which a print run makes by the million, are read by template).
    async fn template_activity(
        &self,
        from: Timestamp,
        until: Timestamp,
        templates: Option<Vec<String>>,
    ) -> Result<Vec<TemplateActivity>>;
}

/// What a campaign's review reads (docs/DOMAIN.md section 9).
#[async_trait]
pub trait Reviews: Send + Sync {
    /// The campaign's messages, by what became of them.
    async fn campaign_messages(&self, campaign_id: &str) -> Result<MessageCounts>;
    /// Each member the campaign treated or held out, with their counted orders paid in
    /// `[entered, entered + window)` (entered: their first entry) and their revenue in the
    /// `window` before it.
    async fn campaign_outcomes(
        &self,
        campaign_id: &str,
        window: jiff::SignedDuration,
    ) -> Result<Vec<ArmMember>>;
    /// Every counted order paid in `[since, until)`: its member, time and amount.
    async fn paid_orders(
        &self,
        since: jiff::Timestamp,
        until: jiff::Timestamp,
    ) -> Result<Vec<PaidOrder>>;
    /// Per category, the amount and units of counted lines paid in `[since, until)` (lines
    /// with a category and a positive quantity).
    async fn category_sales(
        &self,
        since: jiff::Timestamp,
        until: jiff::Timestamp,
    ) -> Result<Vec<CategorySales>>;
    /// The coupon counters of a campaign, a template or everything, every day, in key order.
    async fn coupon_counts(&self, of: CountsOf) -> Result<Vec<CouponCount>>;
    /// The sales counters of a campaign, a template or everything, in key order.
    async fn sales_counts(&self, of: CountsOf) -> Result<Vec<SalesCount>>;
    /// Recomputes every counter from the coupon and sales ledgers, in one transaction.
    async fn rebuild_counts(&self) -> Result<Rebuilt>;
    /// Counts an open of a campaign message's claim link on tenant-local `day`.
    async fn record_link_open(&self, campaign_id: &str, day: i64) -> Result<()>;
    /// The opens of a campaign's links, all days.
    async fn link_opens(&self, campaign_id: &str) -> Result<i64>;
    /// Every coupon a campaign granted: its member, whether it is used now, what it gave.
    async fn campaign_member_coupons(&self, campaign_id: &str) -> Result<Vec<MemberCoupon>>;
}
