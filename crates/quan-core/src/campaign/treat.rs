//! A campaign's lifecycle and its treatment batches, planned in memory: when a running
//! campaign ends by itself, and what each due entry of a batch becomes (treated, capped, over
//! budget, refused, expired), with the grants to claim, the tasks and messages of treated
//! members, the counters after and whether the batch ends the campaign.
//!
//! Grants are claimed in rounds ([`Batch::round`]): a round takes the next entries in order
//! while the cap and the budget (with the round's grants reserved) admit them, at most one
//! entry of a member, and an entry of several grants alone, so its grants are all decided
//! before anything else is, and a refused grant never changes an answer already given. The
//! answers are those of treating the entries one by one.

use std::collections::{HashMap, HashSet};

use jiff::Timestamp;

use super::decide::{self, EntryStatus, Spend, Verdict};
use super::{Action, Campaign, MessageChannel, Trigger};
use crate::ErrorCode;

/// Why a campaign ends by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// Its end time passed.
    EndsAt,
    /// A `once` campaign whose audience entered and was all decided.
    Completed,
    /// Its budget is spent.
    Budget,
}

impl End {
    pub fn as_str(self) -> &'static str {
        match self {
            End::EndsAt => "ends_at",
            End::Completed => "completed",
            End::Budget => "budget",
        }
    }

    /// What the campaign's entries still pending become.
    pub fn marks(self) -> EntryStatus {
        match self {
            End::Budget => EntryStatus::OverBudget,
            End::EndsAt | End::Completed => EntryStatus::Expired,
        }
    }
}

/// Whether a running campaign ends now: past its end time, or a `once` campaign whose trigger
/// fired (`fired`) and whose entries are all decided (`pending`: entries still waiting).
pub fn end_due(campaign: &Campaign, fired: bool, pending: i64, now: Timestamp) -> Option<End> {
    if campaign.past_end(now) {
        return Some(End::EndsAt);
    }
    let once = matches!(campaign.spec().trigger, Trigger::Once);
    (once && fired && pending == 0).then_some(End::Completed)
}

/// The start of the frequency cap's window, when the campaign has a cap: a member's
/// treatments after it count against the cap.
pub fn cap_since(campaign: &Campaign, now: Timestamp) -> Option<Timestamp> {
    campaign
        .spec()
        .frequency_cap
        .as_ref()
        .map(|c| decide::cap_window_start(c, now))
}

/// A due entry of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub user_id: String,
    /// The template an allocation chose for the member, granted instead of the campaign's.
    pub chosen: Option<String>,
}

/// What was read for a batch.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// Granted so far (the campaign's counters).
    pub spent: Spend,
    /// Face values of the templates the campaign may grant (absent: 0).
    pub faces: HashMap<String, i64>,
    /// Each due member's treatments inside the cap's window.
    pub recent: HashMap<String, i64>,
    /// Each due member's store guide, if any.
    pub guides: HashMap<String, String>,
}

/// A task a treatment makes for the member's guide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub user_id: String,
    pub guide_id: Option<String>,
    pub title: String,
    pub template_id: Option<String>,
    pub material: Option<String>,
    pub message: Option<String>,
}

/// A message a treatment puts in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub user_id: String,
    pub channel: MessageChannel,
    pub text: String,
    pub link_template_id: Option<String>,
}

/// What became of one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decided {
    pub status: EntryStatus,
    /// A refused grant's code.
    pub reason: Option<ErrorCode>,
    pub coupons: Vec<String>,
}

impl Decided {
    fn of(status: EntryStatus) -> Decided {
        Decided {
            status,
            reason: None,
            coupons: Vec::new(),
        }
    }
}

/// A batch planned: entries in the order given, and the rows and counters they make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub entries: Vec<Decided>,
    pub tasks: Vec<Task>,
    pub messages: Vec<Message>,
    /// Granted in all, this batch included.
    pub spent: Spend,
    pub treated: u64,
    /// Coupons this batch granted.
    pub granted: u64,
    /// Whether the campaign ends with this batch.
    pub end: Option<End>,
}

/// One campaign's batch of due entries being decided.
pub struct Batch<'c> {
    campaign: &'c Campaign,
    due: Vec<Due>,
    facts: Facts,
    /// Each entry's templates to grant.
    grants: Vec<Vec<String>>,
    /// Set once an entry found the budget spent: the campaign ends with this batch.
    exhausted: bool,
    expired: bool,
    next: usize,
    start_spent: Spend,
    decided: Vec<Option<Decided>>,
}

impl<'c> Batch<'c> {
    /// A batch of `due` entries at `now`; past the campaign's end, every entry expires.
    pub fn new(campaign: &'c Campaign, facts: Facts, due: Vec<Due>, now: Timestamp) -> Self {
        let own: Vec<String> = campaign.grants().into_iter().map(String::from).collect();
        let grants = due
            .iter()
            .map(|d| match &d.chosen {
                Some(t) => vec![t.clone()],
                None => own.clone(),
            })
            .collect();
        let expired = campaign.past_end(now);
        let decided = due
            .iter()
            .map(|_| expired.then(|| Decided::of(EntryStatus::Expired)))
            .collect();
        Batch {
            campaign,
            start_spent: facts.spent,
            due,
            facts,
            grants,
            exhausted: false,
            expired,
            next: 0,
            decided,
        }
    }

    /// The templates entry `i` is granted, in order.
    pub fn grants(&self, i: usize) -> &[String] {
        &self.grants[i]
    }

    /// The member of entry `i`.
    pub fn user(&self, i: usize) -> &str {
        &self.due[i].user_id
    }

    fn cost(&self, i: usize) -> Spend {
        let grants = &self.grants[i];
        Spend {
            count: grants.len() as i64,
            amount: grants
                .iter()
                .map(|t| self.facts.faces.get(t).copied().unwrap_or(0))
                .sum(),
        }
    }

    /// The entries (indices) whose grants to claim next; empty when every entry is decided.
    pub fn round(&mut self) -> Vec<usize> {
        let mut round = Vec::new();
        if self.expired {
            return round;
        }
        let mut members = HashSet::new();
        let spec = self.campaign.spec();
        let mut reserved = self.facts.spent;
        while self.next < self.due.len() {
            let i = self.next;
            if self.exhausted {
                self.decided[i] = Some(Decided::of(EntryStatus::OverBudget));
                self.next += 1;
                continue;
            }
            let user = self.due[i].user_id.as_str();
            let several = self.grants[i].len() > 1;
            if members.contains(user) || (several && !round.is_empty()) {
                break;
            }
            let recent = self.facts.recent.get(user).copied().unwrap_or(0);
            let cost = self.cost(i);
            let verdict = decide::decide(
                spec.frequency_cap.as_ref(),
                recent,
                spec.budget.as_ref(),
                reserved,
                cost,
            );
            match verdict {
                Verdict::Capped => {
                    self.decided[i] = Some(Decided::of(EntryStatus::Capped));
                    self.next += 1;
                }
                // Nothing reserved: the budget itself is spent.
                Verdict::OverBudget if round.is_empty() => self.exhausted = true,
                Verdict::OverBudget => break,
                Verdict::Treat => {
                    members.insert(user.to_string());
                    round.push(i);
                    reserved.count += cost.count;
                    reserved.amount += cost.amount;
                    self.next += 1;
                    if several {
                        break;
                    }
                }
            }
        }
        round
    }

    /// Records what claiming entry `i`'s grants gave: every coupon, or the first refusal
    /// (then none of its grants is kept).
    pub fn granted(&mut self, i: usize, outcome: Result<Vec<String>, ErrorCode>) {
        self.decided[i] = Some(match outcome {
            Ok(coupons) => {
                let cost = self.cost(i);
                self.facts.spent.count += cost.count;
                self.facts.spent.amount += cost.amount;
                *self
                    .facts
                    .recent
                    .entry(self.due[i].user_id.clone())
                    .or_default() += 1;
                Decided {
                    status: EntryStatus::Treated,
                    reason: None,
                    coupons,
                }
            }
            Err(code) => Decided {
                status: EntryStatus::Refused,
                reason: Some(code),
                coupons: Vec::new(),
            },
        });
    }

    /// The plan, once [`Batch::round`] answers empty and every round's grants are recorded.
    pub fn finish(self) -> Plan {
        let entries: Vec<Decided> = self
            .decided
            .into_iter()
            .map(|d| d.expect("every entry decided before the plan"))
            .collect();
        let mut tasks = Vec::new();
        let mut messages = Vec::new();
        let mut treated = 0;
        for (d, e) in self.due.iter().zip(&entries) {
            if e.status != EntryStatus::Treated {
                continue;
            }
            treated += 1;
            side_rows(
                self.campaign,
                d,
                &self.facts.guides,
                &mut tasks,
                &mut messages,
            );
        }
        let end = if self.expired {
            Some(End::EndsAt)
        } else {
            self.exhausted.then_some(End::Budget)
        };
        Plan {
            entries,
            tasks,
            messages,
            spent: self.facts.spent,
            treated,
            granted: (self.facts.spent.count - self.start_spent.count) as u64,
            end,
        }
    }
}

/// The tasks and messages of one treated member.
fn side_rows(
    campaign: &Campaign,
    due: &Due,
    guides: &HashMap<String, String>,
    tasks: &mut Vec<Task>,
    messages: &mut Vec<Message>,
) {
    for a in &campaign.spec().actions {
        match a {
            Action::Task {
                title,
                template_id,
                material,
                message,
            } => tasks.push(Task {
                user_id: due.user_id.clone(),
                guide_id: guides.get(&due.user_id).cloned(),
                title: title.to_string(),
                template_id: template_id.as_ref().map(|t| t.as_str().to_string()),
                material: material.as_ref().map(|m| m.to_string()),
                message: message.as_ref().map(|m| m.to_string()),
            }),
            Action::Message {
                channel,
                text,
                link_template_id,
            } => messages.push(Message {
                user_id: due.user_id.clone(),
                channel: *channel,
                text: text.to_string(),
                link_template_id: link_template_id.as_ref().map(|t| t.as_str().to_string()),
            }),
            Action::Grant { .. } | Action::GrantPack { .. } | Action::Allocate { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn campaign(extra: serde_json::Value) -> Campaign {
        let mut spec = serde_json::json!({"name": "p", "trigger": {"kind": "once"},
            "actions": [{"kind": "grant", "template_id": "t"},
                        {"kind": "message", "channel": "sms", "text": "hi"}]});
        for (k, v) in extra.as_object().unwrap() {
            spec[k] = v.clone();
        }
        Campaign::parse(serde_json::from_value(spec).unwrap()).unwrap()
    }

    fn due(users: &[&str]) -> Vec<Due> {
        users
            .iter()
            .map(|u| Due {
                user_id: u.to_string(),
                chosen: None,
            })
            .collect()
    }

    fn now() -> Timestamp {
        "2026-03-09T00:00:00Z".parse().unwrap()
    }

    /// Runs a batch, every grant claimed as `claim` answers.
    fn run(
        mut b: Batch,
        mut claim: impl FnMut(usize, &[String]) -> Result<Vec<String>, ErrorCode>,
    ) -> Plan {
        loop {
            let round = b.round();
            if round.is_empty() {
                return b.finish();
            }
            for i in round {
                let outcome = claim(i, b.grants(i));
                b.granted(i, outcome);
            }
        }
    }

    fn statuses(p: &Plan) -> Vec<EntryStatus> {
        p.entries.iter().map(|e| e.status).collect()
    }

    #[test]
    fn the_cap_and_the_budget_decide_and_the_budget_ends_the_campaign() {
        let c = campaign(serde_json::json!({"frequency_cap": {"count": 1, "days": 7},
            "budget": {"count": 3}}));
        let facts = Facts {
            recent: HashMap::from([("u0".to_string(), 1)]),
            ..Facts::default()
        };
        let b = Batch::new(&c, facts, due(&["u0", "u1", "u1", "u2", "u3", "u4"]), now());
        let plan = run(b, |i, _| Ok(vec![format!("c{i}")]));
        use EntryStatus::*;
        assert_eq!(
            statuses(&plan),
            [Capped, Treated, Capped, Treated, Treated, OverBudget]
        );
        assert_eq!(plan.end, Some(End::Budget));
        assert_eq!((plan.treated, plan.granted), (3, 3));
        assert_eq!(plan.messages.len(), 3);
        assert_eq!(plan.entries[1].coupons, ["c1"]);
    }

    #[test]
    fn past_its_end_every_entry_expires() {
        let c = campaign(serde_json::json!({"ends_at": "2026-03-01T00:00:00Z"}));
        let b = Batch::new(&c, Facts::default(), due(&["u0", "u1"]), now());
        let plan = run(b, |_, _| unreachable!("nothing is claimed"));
        assert_eq!(statuses(&plan), [EntryStatus::Expired; 2]);
        assert_eq!(plan.end, Some(End::EndsAt));
        assert!(plan.messages.is_empty());
        assert_eq!(end_due(&c, false, 5, now()), Some(End::EndsAt));
    }

    #[test]
    fn a_once_campaign_completes_when_all_is_decided() {
        let c = campaign(serde_json::json!({}));
        assert_eq!(end_due(&c, true, 0, now()), Some(End::Completed));
        assert_eq!(end_due(&c, true, 1, now()), None);
        assert_eq!(end_due(&c, false, 0, now()), None);
    }

    #[test]
    fn a_refusal_grants_nothing_and_spends_nothing() {
        let c = campaign(serde_json::json!({"budget": {"count": 1}}));
        let b = Batch::new(&c, Facts::default(), due(&["u0", "u1"]), now());
        let plan = run(b, |i, _| {
            if i == 0 {
                Err(ErrorCode::OutOfStock)
            } else {
                Ok(vec!["c".into()])
            }
        });
        assert_eq!(
            statuses(&plan),
            [EntryStatus::Refused, EntryStatus::Treated]
        );
        assert_eq!(plan.entries[0].reason, Some(ErrorCode::OutOfStock));
        assert_eq!(plan.end, None);
    }

    /// The campaign of the proptest: a pack of two (face 100 and 50) or a single grant, and
    /// an allocation's choice for some entries.
    fn spec_of(cap: Option<u32>, count: Option<i64>, amount: Option<i64>, pack: bool) -> Campaign {
        let mut extra = serde_json::json!({});
        if let Some(c) = cap {
            extra["frequency_cap"] = serde_json::json!({"count": c, "days": 7});
        }
        if count.is_some() || amount.is_some() {
            extra["budget"] = serde_json::json!({"count": count, "amount": amount});
        }
        if pack {
            extra["actions"] = serde_json::json!([
                {"kind": "grant_pack", "template_ids": ["a", "b"]},
                {"kind": "task", "title": "call"}]);
        }
        campaign(extra)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// Planning a batch in rounds answers every entry as planning them one at a time
        /// does: cap, budget, refusals, counters, rows and the end.
        #[test]
        fn a_batch_plans_as_one_at_a_time(
            users in proptest::collection::vec((0u8..4, proptest::option::of(0u8..2)), 0..30),
            cap in proptest::option::of(1u32..3),
            count in proptest::option::of(1i64..12),
            amount in proptest::option::of(100i64..1200),
            pack in any::<bool>(),
            recent in proptest::collection::vec(0i64..3, 4),
            refused in proptest::collection::vec(any::<bool>(), 30),
        ) {
            let c = spec_of(cap, count, amount, pack);
            let entries: Vec<Due> = users
                .iter()
                .map(|(u, chosen)| Due {
                    user_id: format!("u{u}"),
                    chosen: chosen.map(|k| ["a", "b"][k as usize].to_string()),
                })
                .collect();
            let facts = Facts {
                spent: Spend::default(),
                faces: HashMap::from([("a".into(), 100), ("b".into(), 50), ("t".into(), 70)]),
                recent: (0..4).map(|u| (format!("u{u}"), recent[u])).collect(),
                guides: HashMap::from([("u1".to_string(), "g1".to_string())]),
            };
            let claim = |i: usize, grants: &[String]| {
                if refused[i] {
                    Err(ErrorCode::OutOfStock)
                } else {
                    Ok(grants.iter().map(|t| format!("{t}{i}")).collect())
                }
            };
            let together = run(Batch::new(&c, facts.clone(), entries.clone(), now()), claim);
            // One at a time: a batch of each entry, its facts carried over.
            let mut facts = facts;
            let mut one = Vec::new();
            let (mut tasks, mut messages) = (Vec::new(), Vec::new());
            let mut end = None;
            for (i, e) in entries.iter().enumerate() {
                if end.is_some() {
                    one.push(Decided::of(EntryStatus::OverBudget));
                    continue;
                }
                let plan = run(Batch::new(&c, facts.clone(), vec![e.clone()], now()), |_, g| claim(i, g));
                facts.spent = plan.spent;
                if plan.treated == 1 {
                    *facts.recent.entry(e.user_id.clone()).or_default() += 1;
                }
                end = plan.end;
                tasks.extend(plan.tasks);
                messages.extend(plan.messages);
                one.extend(plan.entries);
            }
            prop_assert_eq!(&together.entries, &one);
            prop_assert_eq!(together.spent, facts.spent);
            prop_assert_eq!(together.end, end);
            prop_assert_eq!(&together.tasks, &tasks);
            prop_assert_eq!(&together.messages, &messages);
        }
    }
}
