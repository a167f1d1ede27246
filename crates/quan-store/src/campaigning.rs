//! The backend-neutral parts of campaigns: their records, the parsed-spec cache, and the plan
//! of a treatment batch ([`Treatment`]) that both backends run inside one transaction.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use quan_core::campaign::decide::{self, EntryStatus, Spend, Verdict};
use quan_core::campaign::{Action, Campaign, CampaignSpec, CampaignStatus};

use crate::ids::new_id;
use crate::{Result, StoreError};

/// A campaign to store, checked by the caller.
#[derive(Debug, Clone)]
pub struct NewCampaign {
    pub id: String,
    pub spec: CampaignSpec,
    pub now: Timestamp,
}

/// A campaign's counters (api.md: `stats`).
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

/// A store-guide task a treatment creates.
pub(crate) struct TaskRow {
    pub id: String,
    pub title: String,
    pub template_id: Option<String>,
    pub material: Option<String>,
    pub message: Option<String>,
}

/// A message a treatment puts in the outbox.
pub(crate) struct MessageRow {
    pub id: String,
    pub channel: &'static str,
    pub text: String,
    pub link_template_id: Option<String>,
}

/// One campaign's treatment batch, decided entry by entry under the campaign's row lock: the
/// counters it read, what each treatment costs, and the rows each treatment writes.
pub(crate) struct Treatment {
    pub campaign: Arc<Campaign>,
    /// Granted so far (read under the lock), and then as the batch goes.
    pub spent: Spend,
    /// What one treatment grants: coupons and their face value.
    pub cost: Spend,
    /// Set once an entry found the budget spent: the campaign ends with this batch.
    pub exhausted: bool,
    pub report: TreatReport,
}

impl Treatment {
    /// `face_values`: of the campaign's grants, in order.
    pub fn new(campaign: Arc<Campaign>, spent: Spend, face_values: &[i64]) -> Treatment {
        let cost = Spend {
            count: face_values.len() as i64,
            amount: face_values.iter().sum(),
        };
        Treatment {
            campaign,
            spent,
            cost,
            exhausted: false,
            report: TreatReport::default(),
        }
    }

    /// The start of the frequency cap's window, when the campaign has a cap.
    pub fn cap_since(&self, now: Timestamp) -> Option<Timestamp> {
        self.campaign
            .spec()
            .frequency_cap
            .as_ref()
            .map(|c| decide::cap_window_start(c, now))
    }

    /// The verdict on the next entry (`recent`: the member's treatments in the cap's window).
    /// Once the budget is found spent, every later entry of the batch is over budget.
    pub fn verdict(&mut self, recent: i64) -> Verdict {
        if self.exhausted {
            return Verdict::OverBudget;
        }
        let spec = self.campaign.spec();
        let v = decide::decide(
            spec.frequency_cap.as_ref(),
            recent,
            spec.budget.as_ref(),
            self.spent,
            self.cost,
        );
        if v == Verdict::OverBudget {
            self.exhausted = true;
        }
        v
    }

    /// Prices the next entry of an allocating campaign: one coupon of `face` value.
    pub fn price(&mut self, face: i64) {
        self.cost = Spend {
            count: 1,
            amount: face,
        };
    }

    /// Counts a treatment that granted its coupons.
    pub fn treated(&mut self) {
        self.spent.count += self.cost.count;
        self.spent.amount += self.cost.amount;
        self.report.treated += 1;
        self.report.granted += self.cost.count as u64;
    }

    /// The tasks and messages of one treatment, with fresh ids.
    pub fn side_rows(&self, now: Timestamp) -> (Vec<TaskRow>, Vec<MessageRow>) {
        let mut tasks = Vec::new();
        let mut messages = Vec::new();
        for a in &self.campaign.spec().actions {
            match a {
                Action::Task {
                    title,
                    template_id,
                    material,
                    message,
                } => tasks.push(TaskRow {
                    id: new_id("tsk", now.as_millisecond()),
                    title: title.to_string(),
                    template_id: template_id.as_ref().map(|t| t.as_str().to_string()),
                    material: material.as_ref().map(|m| m.to_string()),
                    message: message.as_ref().map(|m| m.to_string()),
                }),
                Action::Message {
                    channel,
                    text,
                    link_template_id,
                } => messages.push(MessageRow {
                    id: new_id("msg", now.as_millisecond()),
                    channel: channel.as_str(),
                    text: text.to_string(),
                    link_template_id: link_template_id.as_ref().map(|t| t.as_str().to_string()),
                }),
                Action::Grant { .. } | Action::GrantPack { .. } | Action::Allocate { .. } => {}
            }
        }
        (tasks, messages)
    }
}

/// How many due entries one treatment transaction takes.
pub(crate) const TREAT_BATCH: u32 = 200;

/// The SQL that puts a new event in the campaigns' inbox when an active campaign waits for
/// its kind (parameters: id, user, kind, at, now), in the event's own transaction.
pub(crate) fn inbox_sql(ph: fn(usize) -> String) -> String {
    let (id, user, kind, at, now) = (ph(1), ph(2), ph(3), ph(4), ph(5));
    format!(
        "INSERT INTO campaign_inbox (event_id, user_id, kind, at, lease_until, created_at) \
         SELECT CAST({id} AS TEXT), CAST({user} AS TEXT), CAST({kind} AS TEXT), CAST({at} AS BIGINT), 0, \
         CAST({now} AS BIGINT) WHERE EXISTS \
         (SELECT 1 FROM campaigns WHERE status = 'active' AND trigger_event = CAST({kind} AS TEXT))"
    )
}

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
    template_id: &str,
    user_id: &str,
    now: Timestamp,
    actor: &str,
) -> crate::model::ClaimCommand {
    crate::model::ClaimCommand {
        template_id: template_id.to_string(),
        user_id: user_id.to_string(),
        channel: None,
        region: None,
        route: crate::model::ClaimRoute::Campaign,
        idempotency: None,
        actor: actor.to_string(),
        stores: None,
        now,
    }
}

/// A grant's coupon, or why it was refused.
pub(crate) fn claimed(
    outcome: crate::model::ClaimOutcome,
) -> std::result::Result<String, quan_core::ErrorCode> {
    use crate::model::ClaimOutcome;
    match outcome {
        ClaimOutcome::Claimed(c) => Ok(c.coupon_id),
        ClaimOutcome::Refused(code) => Err(code),
        ClaimOutcome::NotFound => Err(quan_core::ErrorCode::NotFound),
        ClaimOutcome::IdempotencyMismatch => Err(quan_core::ErrorCode::IdempotencyMismatch),
    }
}

/// An entry's outcome: its status, a refused grant's code, the coupon granted.
pub(crate) type Outcome = (EntryStatus, Option<&'static str>, Option<String>);

/// A batch of single-grant treatments decided in rounds, each round one claim batch of the
/// template, with the same answers as treating the entries one by one: a round takes the next
/// entries in order while the cap and the budget (with the round's grants reserved) admit
/// them, and at most one entry of a member, so a refused grant never changes an answer
/// already given.
pub(crate) struct Rounds<'u> {
    users: Vec<&'u str>,
    /// Treatments inside the cap's window so far, per member (read, then counted).
    recent: HashMap<&'u str, i64>,
    next: usize,
    /// Each entry's outcome once decided: a status, a refused grant's code, the coupon.
    pub decided: Vec<Option<Outcome>>,
}

impl<'u> Rounds<'u> {
    pub fn new(users: Vec<&'u str>, recent: HashMap<&'u str, i64>) -> Self {
        let n = users.len();
        Rounds {
            users,
            recent,
            next: 0,
            decided: vec![None; n],
        }
    }

    /// The entries (indices) to claim together next; empty when every entry is decided.
    pub fn round(&mut self, plan: &mut Treatment) -> Vec<usize> {
        let mut round = Vec::new();
        let mut members = std::collections::HashSet::new();
        let cap = plan.campaign.spec().frequency_cap;
        let budget = plan.campaign.spec().budget;
        while self.next < self.users.len() {
            let i = self.next;
            let user = self.users[i];
            if plan.exhausted {
                self.decided[i] = Some((EntryStatus::OverBudget, None, None));
                plan.report.count(EntryStatus::OverBudget);
                self.next += 1;
                continue;
            }
            if members.contains(user) {
                break;
            }
            let recent = self.recent.get(user).copied().unwrap_or(0);
            if cap.is_some_and(|c| recent >= i64::from(c.count)) {
                self.decided[i] = Some((EntryStatus::Capped, None, None));
                plan.report.count(EntryStatus::Capped);
                self.next += 1;
                continue;
            }
            let reserved = Spend {
                count: plan.spent.count + plan.cost.count * round.len() as i64,
                amount: plan.spent.amount + plan.cost.amount * round.len() as i64,
            };
            if decide::decide(None, 0, budget.as_ref(), reserved, plan.cost) == Verdict::OverBudget
            {
                if round.is_empty() {
                    // Nothing reserved: the budget itself is spent.
                    plan.exhausted = true;
                    continue;
                }
                break;
            }
            members.insert(user);
            round.push(i);
            self.next += 1;
        }
        round
    }

    /// Records a round's claim: the coupon, or why it was refused.
    pub fn claimed(
        &mut self,
        plan: &mut Treatment,
        i: usize,
        outcome: std::result::Result<String, quan_core::ErrorCode>,
    ) {
        self.decided[i] = Some(match outcome {
            Ok(coupon) => {
                plan.treated();
                *self.recent.entry(self.users[i]).or_default() += 1;
                (EntryStatus::Treated, None, Some(coupon))
            }
            Err(code) => {
                plan.report.count(EntryStatus::Refused);
                (EntryStatus::Refused, Some(code.as_str()), None)
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn plan(cap: Option<u32>, budget: Option<i64>) -> Treatment {
        let mut spec = serde_json::json!({"name": "p", "trigger": {"kind": "once"},
            "actions": [{"kind": "grant", "template_id": "t"}]});
        if let Some(c) = cap {
            spec["frequency_cap"] = serde_json::json!({"count": c, "days": 7});
        }
        if let Some(b) = budget {
            spec["budget"] = serde_json::json!({"count": b});
        }
        let campaign = Campaign::parse(serde_json::from_value(spec).unwrap()).unwrap();
        Treatment::new(Arc::new(campaign), Spend::default(), &[100])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        /// Rounds answer every entry as deciding them one by one does: cap, budget, refusals.
        #[test]
        fn rounds_decide_as_one_by_one(
            users in proptest::collection::vec(0u8..4, 0..30),
            cap in proptest::option::of(1u32..3),
            budget in proptest::option::of(1i64..12),
            refused in proptest::collection::vec(any::<bool>(), 30),
        ) {
            let names: Vec<String> = users.iter().map(|u| format!("u{u}")).collect();
            // One by one.
            let mut one = plan(cap, budget);
            let mut recent: HashMap<&str, i64> = HashMap::new();
            let mut want = Vec::new();
            for (i, u) in names.iter().enumerate() {
                let r = recent.get(u.as_str()).copied().unwrap_or(0);
                want.push(match one.verdict(r) {
                    Verdict::Capped => EntryStatus::Capped,
                    Verdict::OverBudget => EntryStatus::OverBudget,
                    Verdict::Treat if refused[i] => EntryStatus::Refused,
                    Verdict::Treat => {
                        one.treated();
                        *recent.entry(u).or_default() += 1;
                        EntryStatus::Treated
                    }
                });
            }
            // In rounds.
            let mut together = plan(cap, budget);
            let mut rounds = Rounds::new(names.iter().map(String::as_str).collect(), HashMap::new());
            loop {
                let round = rounds.round(&mut together);
                if round.is_empty() {
                    break;
                }
                for i in round {
                    let outcome = if refused[i] {
                        Err(quan_core::ErrorCode::OutOfStock)
                    } else {
                        Ok(format!("c{i}"))
                    };
                    rounds.claimed(&mut together, i, outcome);
                }
            }
            let got: Vec<EntryStatus> = rounds.decided.iter().map(|d| d.as_ref().unwrap().0).collect();
            prop_assert_eq!(got, want);
            prop_assert_eq!(together.spent, one.spent);
            prop_assert_eq!(together.exhausted, one.exhausted);
        }
    }
}
