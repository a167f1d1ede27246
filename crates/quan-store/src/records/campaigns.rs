//! The records of campaigns, their entries and treatment batches, the parsed-spec cache, and
//! the claim a campaign grant makes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use quan_core::campaign::decide::EntryStatus;
use quan_core::campaign::{Campaign, CampaignSpec, CampaignStatus};

use crate::{Result, StoreError};

/// A campaign to store, checked by the caller.
#[derive(Debug, Clone)]
pub struct NewCampaign {
    pub id: String,
    pub spec: CampaignSpec,
    pub now: Timestamp,
}

/// A campaign's counters (the `stats` of `GET /v1/campaigns/{id}`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CampaignStats {
    /// Entries of members, whatever became of them.
    pub entered: i64,
    pub treated: i64,
    pub held_out: i64,
    /// Coupons granted.
    pub granted: i64,
    /// Face value granted, minor units.
    pub spent: i64,
    /// Entries waiting for their due time (or for the campaign to resume).
    pub pending: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CampaignRecord {
    pub id: String,
    pub spec: CampaignSpec,
    pub status: CampaignStatus,
    /// Why it ended: `operator`, `ends_at`, `budget` or `completed`.
    pub end_reason: Option<String>,
    /// A schedule's next tick, or when a `once` trigger entered its audience.
    pub trigger_at: Option<Timestamp>,
    pub stats: CampaignStats,
    pub activated_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A member entering a campaign for one occurrence of its trigger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEntry {
    pub user_id: String,
    pub occurrence: String,
    /// When it is to be treated (an event's time plus the delay).
    pub due_at: Timestamp,
    /// In the holdout: recorded as `held_out`, never treated.
    pub held_out: bool,
    /// What an allocating campaign's allocation chose: `Some(template)` to grant it, `None`
    /// to record the member `unallocated` (unless held out). `None` for other campaigns.
    pub allocated: Option<Option<String>>,
}

impl NewEntry {
    /// The status an entry starts in.
    pub(crate) fn first_status(&self) -> EntryStatus {
        match (self.held_out, &self.allocated) {
            (true, _) => EntryStatus::HeldOut,
            (false, Some(None)) => EntryStatus::Unallocated,
            _ => EntryStatus::Pending,
        }
    }

    /// The template the allocation chose, if any.
    pub(crate) fn template_id(&self) -> Option<&str> {
        self.allocated.as_ref().and_then(|t| t.as_deref())
    }
}

/// How a trigger's progress moves with a set of entries: from what the caller read to what
/// it computed, so that of two processes only one moves it (and writes the entries).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TriggerMove {
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryRecord {
    pub campaign_id: String,
    pub user_id: String,
    pub occurrence: String,
    pub status: EntryStatus,
    /// A refused grant's code.
    pub reason: Option<String>,
    pub coupon_ids: Vec<String>,
    /// The template an allocation chose for the member.
    pub template_id: Option<String>,
    pub due_at: Timestamp,
    pub entered_at: Timestamp,
    pub done_at: Option<Timestamp>,
}

/// An event waiting for the event campaigns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxEvent {
    pub event_id: String,
    pub user_id: String,
    pub kind: String,
    pub at: Timestamp,
    /// The event's data (a trigger may filter on it).
    pub data: serde_json::Value,
    /// When quan stored it: a campaign sees the events stored after its activation.
    pub created_at: Timestamp,
}

/// What a treatment batch did, by entry status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TreatReport {
    /// The campaign the batch treated (`None`: nothing was due).
    pub campaign_id: Option<String>,
    pub treated: u64,
    pub capped: u64,
    pub over_budget: u64,
    pub refused: u64,
    pub expired: u64,
    pub granted: u64,
}

impl TreatReport {
    pub fn entries(&self) -> u64 {
        self.treated + self.capped + self.over_budget + self.refused + self.expired
    }

    pub fn count(&mut self, status: EntryStatus) {
        match status {
            EntryStatus::Treated => self.treated += 1,
            EntryStatus::Capped => self.capped += 1,
            EntryStatus::OverBudget => self.over_budget += 1,
            EntryStatus::Refused => self.refused += 1,
            EntryStatus::Expired => self.expired += 1,
            EntryStatus::Pending | EntryStatus::HeldOut | EntryStatus::Unallocated => {}
        }
    }
}

/// The campaign work waiting: due entries and the oldest due time (the lag behind triggers).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backlog {
    pub due: i64,
    pub oldest_due: Option<Timestamp>,
    pub inbox: i64,
}

/// Parsed campaign specs by id and `updated_at`, so a running campaign is parsed once.
#[derive(Default)]
pub(crate) struct CampaignCache(Mutex<HashMap<String, (i64, Arc<Campaign>)>>);

impl CampaignCache {
    pub fn get(&self, id: &str, version: i64, spec_json: &str) -> Result<Arc<Campaign>> {
        if let Some((v, c)) = self.0.lock().expect("cache lock").get(id) {
            if *v == version {
                return Ok(c.clone());
            }
        }
        let c = Arc::new(parse_spec(id, spec_json)?);
        self.0
            .lock()
            .expect("cache lock")
            .insert(id.to_string(), (version, c.clone()));
        Ok(c)
    }
}

/// A stored spec, checked again (it was checked before it was stored).
pub(crate) fn parse_spec(id: &str, spec_json: &str) -> Result<Campaign> {
    let spec: CampaignSpec = serde_json::from_str(spec_json)
        .map_err(|e| StoreError::Corrupt(format!("campaign {id}: {e}")))?;
    Campaign::parse(spec).map_err(|e| StoreError::Corrupt(format!("campaign {id}: {e}")))
}

pub(crate) fn spec_json(spec: &CampaignSpec) -> String {
    serde_json::to_string(spec).expect("a spec serializes")
}

/// How many due entries one treatment transaction takes.
pub(crate) const TREAT_BATCH: u32 = 200;

/// The SQL that puts a new event in the campaigns' inbox when an active campaign waits for
/// its kind (parameters: id, user, kind, at, now), in the event's own transaction.
pub(crate) const INBOX_SQL: &str =
    "INSERT INTO campaign_inbox (event_id, user_id, kind, at, lease_until, created_at) \
     SELECT CAST($1 AS TEXT), CAST($2 AS TEXT), CAST($3 AS TEXT), CAST($4 AS BIGINT), 0, \
     CAST($5 AS BIGINT) WHERE EXISTS \
     (SELECT 1 FROM campaigns WHERE status = 'active' AND trigger_event = CAST($3 AS TEXT))";

/// The event an event campaign waits for.
pub(crate) fn trigger_event(spec: &CampaignSpec) -> Option<&'static str> {
    match &spec.trigger {
        quan_core::campaign::Trigger::Event { event, .. } => Some(event.as_str()),
        _ => None,
    }
}

/// The cursor of an entry in a page of entries: its member and occurrence.
pub(crate) fn entry_cursor(e: &EntryRecord) -> String {
    format!("{} {}", e.user_id, e.occurrence)
}

/// A page cursor's member and occurrence (ids and occurrences hold no spaces).
pub(crate) fn split_cursor(cursor: Option<&str>) -> (String, String) {
    match cursor.and_then(|c| c.split_once(' ')) {
        Some((u, o)) => (u.to_string(), o.to_string()),
        None => (cursor.unwrap_or_default().to_string(), String::new()),
    }
}

/// Entries grouped by campaign, in campaign order (locks are taken in that order).
pub(crate) fn group_by_campaign(entries: Vec<(String, NewEntry)>) -> Vec<(String, Vec<NewEntry>)> {
    let mut groups: std::collections::BTreeMap<String, Vec<NewEntry>> = Default::default();
    for (c, e) in entries {
        groups.entry(c).or_default().push(e);
    }
    groups.into_iter().collect()
}

/// The claim a campaign grant makes: the `campaign_only` route, no idempotency key (the entry
/// is what makes it once).
pub(crate) fn campaign_claim(
    campaign_id: &str,
    template_id: &str,
    user_id: &str,
    now: Timestamp,
    actor: &str,
) -> crate::records::ClaimCommand {
    crate::records::ClaimCommand {
        template_id: template_id.to_string(),
        user_id: user_id.to_string(),
        channel: None,
        region: None,
        route: crate::records::ClaimRoute::Campaign(campaign_id.to_string()),
        idempotency: None,
        actor: actor.to_string(),
        stores: None,
        now,
    }
}

/// A grant's coupon, or why it was refused.
pub(crate) fn claimed(
    outcome: crate::records::ClaimOutcome,
) -> std::result::Result<String, quan_core::ErrorCode> {
    use crate::records::ClaimOutcome;
    match outcome {
        ClaimOutcome::Claimed(c) => Ok(c.coupon_id),
        ClaimOutcome::Refused(code) => Err(code),
        ClaimOutcome::NotFound => Err(quan_core::ErrorCode::NotFound),
        ClaimOutcome::IdempotencyMismatch => Err(quan_core::ErrorCode::IdempotencyMismatch),
    }
}

/// A campaign of the past, with who it reached and what became of each coupon (an import of
/// history, such as the Complete Journey's campaigns): written ended, as it ended.
#[derive(Debug, Clone)]
pub struct PastCampaign {
    pub id: String,
    pub spec: quan_core::campaign::CampaignSpec,
    /// When it started and ended.
    pub started_at: Timestamp,
    pub ended_at: Timestamp,
    /// Each member reached, with the coupons granted to them (at `started_at`).
    pub members: Vec<(String, Vec<PastCoupon>)>,
    /// The face value of every coupon granted.
    pub spent: i64,
}

/// A coupon of a past campaign.
#[derive(Debug, Clone)]
pub struct PastCoupon {
    pub id: String,
    pub template_id: String,
    pub valid_until: Timestamp,
    /// When it was redeemed, and what it took off.
    pub redeemed: Option<(Timestamp, i64)>,
}
