//! The SCRM records (members, stores, products, members' orders, events, segments) and the
//! settings they are configured by; the backend-neutral SCRM work is in the submodules.
//!
//! - [`batch`]: a batch of writes keyed by id planned as writing them one at a time would.
//! - [`ingest`]: what writing an order of a member's history does; a paid checkout order as one.
//! - [`members`]: who is a member (buying is not joining): claims' member facts, profile
//!   writes, and how a signup and an order reach a customer's row.
//! - [`segments`]: who is in a segment (the one place membership is decided) and the SQL of
//!   purchase conditions.
//! - [`rfm`]: the full RFM recompute and incremental scoring against its cuts.

pub mod batch;
pub mod ingest;
pub mod members;
pub mod rfm;
pub mod segments;

use jiff::Timestamp;
use quan_core::scrm::{lifecycle, History, LifecycleConfig, Member, RfmConfig, RfmScore, Rule};
use serde::{Deserialize, Serialize};

use crate::traits::Settings;
use crate::Result;

pub use ingest::checkout_history;
pub use quan_core::scrm::history::{HistoryStatus, OrderSource};
pub use rfm::{recompute_rfm, RfmCuts, RfmRun};
pub use segments::{in_segment, rule_admits, rule_members, segment_members};

/// A customer's row: the profile (what the API writes) and the aggregates quan keeps of it. A
/// member when the profile has a join time; a buyer known only from orders has none.
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
    /// When the customer joined the membership; `None`: never joined (a buyer known only from
    /// orders, who is no member). Members' writes (the API, imports) always give one.
    pub joined_at: Option<Timestamp>,
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
    /// Whether the customer joined (buying is not joining).
    pub fn is_member(&self) -> bool {
        self.profile.joined_at.is_some()
    }

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
    pub status: HistoryStatus,
    pub channel: Option<String>,
    pub paid_at: Timestamp,
    pub lines: Vec<HistoryLine>,
    pub source: OrderSource,
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
    /// Refused: the id belongs to an order of the other source (a checkout order, or an
    /// ingested one), an ingested order's id comes again for another member (an order belongs
    /// to one customer), or an event id to another event.
    Conflict,
}

/// A stored order with its totals (lines fetched separately).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderSummary {
    pub id: String,
    pub user_id: String,
    pub status: HistoryStatus,
    pub channel: Option<String>,
    pub store_id: Option<String>,
    pub paid_at: Timestamp,
    pub amount: i64,
    pub line_count: i64,
    pub source: OrderSource,
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
pub async fn lifecycle_config(store: &(impl Settings + ?Sized)) -> Result<LifecycleConfig> {
    Ok(lifecycle_of(store.setting(LIFECYCLE_SETTING).await?))
}

/// The lifecycle gaps of a stored setting (the defaults when unset or unreadable).
pub(crate) fn lifecycle_of(raw: Option<String>) -> LifecycleConfig {
    raw.and_then(|raw| serde_json::from_str(&raw).ok())
        .unwrap_or_default()
}

/// The RFM window and tier mapping in force.
pub async fn rfm_config(store: &(impl Settings + ?Sized)) -> Result<RfmConfig> {
    Ok(store
        .setting(RFM_SETTING)
        .await?
        .and_then(|raw| serde_json::from_str(&raw).ok())
        .unwrap_or_default())
}

/// How `put_orders` keeps members' aggregates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregates {
    /// Recompute each touched member's aggregates and RFM scores (against the last cuts) at once.
    Current,
    /// Leave them to one [`crate::Members::refresh_members`] after a bulk import.
    Deferred,
}
