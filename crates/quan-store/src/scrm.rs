//! The SCRM records (members, stores, products, members' orders, events, segments) and the
//! work both backends share: evaluating segments and recomputing RFM over their primitives.

use std::collections::{HashMap, HashSet};

use jiff::Timestamp;
use quan_core::scrm::rfm::{self, Cuts, RfmInput};
use quan_core::scrm::{
    lifecycle, History, LifecycleConfig, Member, Purchase, RfmConfig, RfmScore, Rule,
};
use serde::{Deserialize, Serialize};

use crate::Result;

/// A member's profile (what the API writes) and the aggregates quan keeps of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRecord {
    pub profile: MemberProfile,
    /// The member's counted orders, all time.
    pub history: History,
    /// The scores of the last RFM computation (full or incremental).
    pub rfm: RfmScore,
    pub rfm_at: Option<Timestamp>,
    pub updated_at: Timestamp,
}

/// The fields of a member that the API and imports write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberProfile {
    pub id: String,
    pub joined_at: Timestamp,
    pub tier: Option<String>,
    pub region: Option<String>,
    pub channel: Option<String>,
    pub guide_id: Option<String>,
    pub points: i64,
    pub tags: Vec<String>,
    /// Anything else the integrator keeps (demographics, ...): a JSON object.
    pub attributes: serde_json::Value,
}

impl MemberRecord {
    /// The member as segment rules see it, with its stage as of `as_of` from `history`.
    pub fn view<'a>(
        &'a self,
        history: &History,
        as_of: Timestamp,
        lifecycle: &LifecycleConfig,
    ) -> Member<'a> {
        let p = &self.profile;
        Member {
            id: &p.id,
            joined_at: p.joined_at,
            tier: p.tier.as_deref(),
            region: p.region.as_deref(),
            channel: p.channel.as_deref(),
            guide_id: p.guide_id.as_deref(),
            points: p.points,
            tags: &p.tags,
            stage: lifecycle::stage(history, as_of, lifecycle),
            rfm: self.rfm,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreRecord {
    pub id: String,
    pub name: Option<String>,
    pub region: Option<String>,
    pub attributes: serde_json::Value,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductRecord {
    pub id: String,
    pub name: Option<String>,
    pub store_id: Option<String>,
    pub department: Option<String>,
    pub category: Option<String>,
    pub brand: Option<String>,
    pub attributes: serde_json::Value,
    pub updated_at: Timestamp,
}

/// An order of a member's history, as ingested (or as a paid checkout order became).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryOrder {
    pub id: String,
    pub user_id: String,
    pub status: String,
    pub channel: Option<String>,
    pub paid_at: Timestamp,
    pub lines: Vec<HistoryLine>,
    /// `ingest` or `checkout`.
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryLine {
    pub line_id: String,
    pub sku: String,
    pub store_id: Option<String>,
    pub category: Option<String>,
    pub qty: i64,
    pub amount: i64,
}

impl HistoryOrder {
    pub fn amount(&self) -> i64 {
        self.lines.iter().map(|l| l.amount).sum()
    }

    /// The store when every line is of one store.
    pub fn store_id(&self) -> Option<&str> {
        let first = self.lines.first()?.store_id.as_deref()?;
        self.lines
            .iter()
            .all(|l| l.store_id.as_deref() == Some(first))
            .then_some(first)
    }

    /// A digest of the content, so that writing the same order again changes nothing.
    pub fn content_hash(&self) -> String {
        use sha2::{Digest, Sha256};
        let json = serde_json::to_vec(self).expect("an order serializes");
        crate::hex(&Sha256::digest(json)[..16])
    }
}

/// What writing one order did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Written {
    Inserted,
    Updated,
    Unchanged,
    /// The id belongs to an order of the other source (a checkout order, or an ingested one),
    /// or an event id to another event: refused. (An ingested order may move to another member.)
    Conflict,
}

/// A stored order with its totals (lines fetched separately).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderSummary {
    pub id: String,
    pub user_id: String,
    pub status: String,
    pub channel: Option<String>,
    pub store_id: Option<String>,
    pub paid_at: Timestamp,
    pub amount: i64,
    pub line_count: i64,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRecord {
    pub id: String,
    pub user_id: String,
    pub kind: String,
    pub at: Timestamp,
    pub store_id: Option<String>,
    pub order_id: Option<String>,
    pub data: serde_json::Value,
}

/// A segment: a list of members, or a rule evaluated when asked.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentRecord {
    pub id: String,
    pub name: String,
    pub definition: SegmentDefinition,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SegmentDefinition {
    Listed(Vec<String>),
    Rule(Rule),
}

/// What an order list filters on.
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    pub user_id: Option<String>,
    pub limit: u32,
    pub cursor: Option<String>,
}

/// The SCRM settings kept in `settings` as JSON.
pub const LIFECYCLE_SETTING: &str = "lifecycle_config";
pub const RFM_SETTING: &str = "rfm_config";
/// The cuts of the last full RFM recompute, for incremental scoring.
pub const RFM_CUTS_SETTING: &str = "rfm_cuts";

/// The lifecycle gaps in force.
pub async fn lifecycle_config(store: &(impl Scrm + ?Sized)) -> Result<LifecycleConfig> {
    Ok(store
        .setting(LIFECYCLE_SETTING)
        .await?
        .and_then(|raw| serde_json::from_str(&raw).ok())
        .unwrap_or_default())
}

/// The RFM window and tier mapping in force.
pub async fn rfm_config(store: &(impl Scrm + ?Sized)) -> Result<RfmConfig> {
    Ok(store
        .setting(RFM_SETTING)
        .await?
        .and_then(|raw| serde_json::from_str(&raw).ok())
        .unwrap_or_default())
}

/// The outcome of a full RFM recompute.
#[derive(Debug, Clone, Serialize)]
pub struct RfmRun {
    pub as_of: Timestamp,
    pub window_days: u32,
    /// Members with at least one counted order in the window.
    pub scored: usize,
    /// Members scored 0 (no order in the window), tier C.
    pub unscored: u64,
    pub tiers: HashMap<String, usize>,
}

/// Recomputes every member's RFM scores as of `as_of` and keeps the cuts for incremental
/// scoring until the next full recompute.
pub async fn recompute_rfm(store: &(impl Scrm + ?Sized), as_of: Timestamp) -> Result<RfmRun> {
    let config = rfm_config(store).await?;
    let inputs = store.rfm_inputs(config.window_start(as_of), as_of).await?;
    let (scores, cuts) = rfm::score_all(&inputs, &config);
    let mut tiers = HashMap::new();
    for s in &scores {
        *tiers.entry(s.tier.as_str().to_string()).or_insert(0) += 1;
    }
    let scored = inputs.len();
    let rows = inputs
        .into_iter()
        .map(|i| i.member_id)
        .zip(scores)
        .collect();
    let unscored = store
        .write_rfm(
            rows,
            RfmCuts {
                as_of,
                config,
                cuts,
            },
        )
        .await?;
    Ok(RfmRun {
        as_of,
        window_days: config.window_days,
        scored,
        unscored,
        tiers,
    })
}

/// What a full recompute leaves for incremental scoring.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RfmCuts {
    pub as_of: Timestamp,
    pub config: RfmConfig,
    pub cuts: Cuts,
}

impl RfmCuts {
    /// A member's scores from its counted orders `(paid_at µs, amount)`, as of `now`.
    pub fn rescore(&self, member_id: &str, orders: &[(i64, i64)], now: Timestamp) -> RfmScore {
        let since = self.config.window_start(now).as_microsecond();
        let now = now.as_microsecond();
        let window = orders.iter().filter(|(at, _)| *at > since && *at <= now);
        let (mut last, mut frequency, mut monetary) = (i64::MIN, 0, 0);
        for (at, amount) in window {
            last = last.max(*at);
            frequency += 1;
            monetary += amount;
        }
        if frequency == 0 {
            return RfmScore::NONE;
        }
        let input = RfmInput {
            member_id: member_id.to_string(),
            last,
            frequency,
            monetary,
        };
        self.cuts.score(&input, &self.config)
    }
}

/// A segment's members as of `as_of`, in id order.
pub async fn segment_members(
    store: &(impl Scrm + ?Sized),
    segment: &SegmentRecord,
    as_of: Timestamp,
) -> Result<Vec<String>> {
    match &segment.definition {
        SegmentDefinition::Listed(ids) => {
            let mut ids = ids.clone();
            ids.sort();
            ids.dedup();
            Ok(ids)
        }
        SegmentDefinition::Rule(rule) => rule_members(store, rule, as_of).await,
    }
}

/// The members a rule selects as of `as_of`, in id order: every member's facts are read once,
/// each distinct purchase condition is one query for all members.
pub async fn rule_members(
    store: &(impl Scrm + ?Sized),
    rule: &Rule,
    as_of: Timestamp,
) -> Result<Vec<String>> {
    let lifecycle = lifecycle_config(store).await?;
    let mut purchases: HashMap<Purchase, HashSet<String>> = HashMap::new();
    for p in rule.purchases() {
        let who = store.purchase_members(&p, as_of).await?;
        purchases.insert(p, who);
    }
    let histories = if uses_stage(rule) {
        Some(store.histories(as_of).await?)
    } else {
        None
    };
    let none = History::default();
    let members = store.all_members().await?;
    let mut out = Vec::new();
    for m in &members {
        let history = match &histories {
            Some(h) => h.get(&m.profile.id).unwrap_or(&none),
            None => &m.history,
        };
        let view = m.view(history, as_of, &lifecycle);
        if rule.matches(&view, as_of, &mut |p| {
            purchases.get(p).is_some_and(|s| s.contains(&m.profile.id))
        }) {
            out.push(m.profile.id.clone());
        }
    }
    out.sort();
    Ok(out)
}

fn uses_stage(rule: &Rule) -> bool {
    match rule {
        Rule::Stage { .. } => true,
        Rule::And { rules } | Rule::Or { rules } => rules.iter().any(uses_stage),
        Rule::Not { rule } => uses_stage(rule),
        _ => false,
    }
}

/// How `put_orders` keeps members' aggregates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregates {
    /// Recompute each touched member's aggregates and RFM scores (against the last cuts) at once.
    Current,
    /// Leave them to one [`Scrm::refresh_members`] after a bulk import.
    Deferred,
}

/// The SCRM half of the storage interface ([`crate::Store`] includes it).
#[async_trait::async_trait]
pub trait Scrm: Send + Sync {
    /// A setting, if set.
    async fn setting(&self, name: &str) -> Result<Option<String>>;
    /// Writes a setting (the SCRM configurations).
    async fn put_setting(&self, name: &str, value: String) -> Result<()>;

    /// Creates or updates members' profiles (aggregates are quan's own); what each write did.
    async fn put_members(
        &self,
        members: Vec<MemberProfile>,
        now: Timestamp,
    ) -> Result<Vec<Written>>;
    async fn member(&self, id: &str) -> Result<Option<MemberRecord>>;
    async fn list_members(
        &self,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<crate::Page<MemberRecord>>;
    /// Every member (segment evaluation).
    async fn all_members(&self) -> Result<Vec<MemberRecord>>;
    /// Every member's history of counted orders paid up to `as_of`.
    async fn histories(&self, as_of: Timestamp) -> Result<HashMap<String, History>>;
    /// Recomputes the aggregates (and, after a full RFM run, the scores as of `now`) of the
    /// members named, or of every member.
    async fn refresh_members(&self, ids: Option<Vec<String>>, now: Timestamp) -> Result<u64>;

    async fn put_stores(&self, stores: Vec<StoreRecord>) -> Result<Vec<Written>>;
    async fn store_record(&self, id: &str) -> Result<Option<StoreRecord>>;
    async fn list_stores(
        &self,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<crate::Page<StoreRecord>>;
    async fn put_products(&self, products: Vec<ProductRecord>) -> Result<Vec<Written>>;
    async fn product(&self, id: &str) -> Result<Option<ProductRecord>>;
    async fn list_products(
        &self,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<crate::Page<ProductRecord>>;

    /// Writes orders of members' history, idempotent by id (the same content changes nothing);
    /// members unknown so far are created, joined at the order's paid time. Lines without a
    /// category take their product's.
    async fn put_orders(
        &self,
        orders: Vec<HistoryOrder>,
        now: Timestamp,
        aggregates: Aggregates,
    ) -> Result<Vec<Written>>;
    async fn history_order(&self, id: &str) -> Result<Option<(OrderSummary, Vec<HistoryLine>)>>;
    async fn list_orders(&self, filter: OrderFilter) -> Result<crate::Page<OrderSummary>>;
    /// A member's latest orders, newest first.
    async fn recent_orders(&self, user_id: &str, limit: u32) -> Result<Vec<OrderSummary>>;
    /// Counted orders in all, and the sum of their amounts (import reports).
    async fn order_totals(&self) -> Result<(i64, i64)>;

    /// Stores events, idempotent by id; `signup` creates the member, `tier_changed` sets its
    /// tier (from `data.tier`).
    async fn put_events(&self, events: Vec<EventRecord>, now: Timestamp) -> Result<Vec<Written>>;
    async fn list_events(
        &self,
        user_id: &str,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<crate::Page<EventRecord>>;

    /// Per member with a counted order paid in `(since, as_of]`: last paid time, count, sum.
    async fn rfm_inputs(&self, since: Timestamp, as_of: Timestamp) -> Result<Vec<RfmInput>>;
    /// Stores the scores of a full recompute (members absent from `rows` score 0, tier C) and
    /// its cuts; returns how many members scored 0.
    async fn write_rfm(&self, rows: Vec<(String, RfmScore)>, cuts: RfmCuts) -> Result<u64>;

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

    async fn put_segment(&self, segment: SegmentRecord) -> Result<SegmentRecord>;
    async fn segment(&self, id: &str) -> Result<Option<SegmentRecord>>;
    async fn list_segments(
        &self,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<crate::Page<SegmentRecord>>;
}

/// Whether one member is in a segment at `as_of`, outside any transaction. (Claims ask the same
/// question inside their transaction: `sqlite/scrm.rs` `in_segment`, `postgres/scrm.rs`
/// `rule_matches`.)
pub async fn in_segment(
    store: &(impl Scrm + ?Sized),
    segment_id: &str,
    member_id: &str,
    as_of: Timestamp,
) -> Result<bool> {
    let Some(segment) = store.segment(segment_id).await? else {
        return Ok(false);
    };
    match &segment.definition {
        SegmentDefinition::Listed(ids) => Ok(ids.iter().any(|m| m == member_id)),
        SegmentDefinition::Rule(rule) => {
            let Some(member) = store.member(member_id).await? else {
                return Ok(false);
            };
            let lifecycle = lifecycle_config(store).await?;
            let mut answers = HashMap::new();
            for p in rule.purchases() {
                let yes = store.member_purchased(member_id, &p, as_of).await?;
                answers.insert(p, yes);
            }
            let view = member.view(&member.history, as_of, &lifecycle);
            Ok(rule.matches(&view, as_of, &mut |p| {
                answers.get(p).copied().unwrap_or(false)
            }))
        }
    }
}

/// A value bound to a shared SCRM query.
#[derive(Debug, Clone)]
pub(crate) enum Bind {
    Int(i64),
    Text(String),
}

/// The SQL of a purchase condition, selecting the ids of the members who meet it (with
/// `member`, only that member); `ph(n)` writes the n-th placeholder of the backend.
pub(crate) fn purchase_query(
    p: &Purchase,
    as_of: Timestamp,
    member: Option<&str>,
    ph: fn(usize) -> String,
) -> (String, Vec<Bind>) {
    let since = p.since(as_of).unwrap_or(Timestamp::MIN).as_microsecond();
    let window = format!(
        "counted = 1 AND paid_at > {} AND paid_at <= {}",
        ph(1),
        ph(2)
    );
    let mut binds = vec![Bind::Int(since), Bind::Int(as_of.as_microsecond())];
    let one = |binds: &mut Vec<Bind>| match member {
        Some(m) => {
            binds.push(Bind::Text(m.to_string()));
            format!(" AND user_id = {}", ph(binds.len()))
        }
        None => String::new(),
    };
    let sql = match p {
        Purchase::Bought { category, .. } => {
            binds.push(Bind::Text(category.clone()));
            let cat = ph(binds.len());
            let one = one(&mut binds);
            format!("SELECT DISTINCT user_id FROM member_order_lines WHERE category = {cat} AND {window}{one}")
        }
        Purchase::Spent { min, .. } | Purchase::Orders { min, .. } => {
            let measure = if matches!(p, Purchase::Spent { .. }) {
                "sum(amount)"
            } else {
                "count(*)"
            };
            binds.push(Bind::Int(*min));
            let min = ph(binds.len());
            let one = one(&mut binds);
            format!("SELECT user_id FROM member_orders WHERE {window}{one} GROUP BY user_id HAVING {measure} >= {min}")
        }
    };
    (sql, binds)
}

/// A paid checkout order as an order of the member's history: what each line paid less what
/// was refunded; `refunded` once every unit of every line came back.
pub fn checkout_history(order: &crate::OrderRecord, paid_at: Timestamp) -> HistoryOrder {
    let all_back = order.lines.iter().all(|l| l.refunded_qty >= l.qty);
    HistoryOrder {
        id: order.id.clone(),
        user_id: order.user_id.clone(),
        status: if all_back { "refunded" } else { "paid" }.into(),
        channel: None,
        paid_at,
        lines: order
            .lines
            .iter()
            .map(|l| HistoryLine {
                line_id: l.line_id.clone(),
                sku: l.sku.clone(),
                store_id: Some(l.store_id.clone()),
                category: l.category.clone(),
                qty: l.qty - l.refunded_qty,
                amount: l.paid - l.refunded,
            })
            .collect(),
        source: "checkout".into(),
    }
}
