//! The campaign worker: fires triggers from stored state (the event inbox, a schedule's next
//! tick, inactivity, activation) into entries, and treats the entries that are due. Any number
//! of processes may run it on one database: entries are unique per trigger occurrence, trigger
//! progress moves by compare-and-set, the inbox is leased, and treatment runs under the
//! campaign's row lock.

use std::collections::{HashMap, HashSet};

use jiff::{SignedDuration, Timestamp};
use quan_core::campaign::decide::{event_occurrence, inactivity_occurrence, ONCE};
use quan_core::campaign::holdout::held_out;

use crate::programme::{kept_out, ProgrammeSettings};
use quan_core::campaign::schedule::{next_tick, tick_occurrence};
use quan_core::campaign::treat::end_due;
use quan_core::campaign::{Allocation, Audience, Campaign, CampaignAction, EventKind, Trigger};
use quan_core::scrm::Rule;
use quan_store::{scrm, CampaignRecord, NewEntry, TreatReport, TriggerMove};

use crate::{App, Result};

/// Entries written per store call while an audience is entered.
const CHUNK: usize = 1_000;
/// Inbox events leased per take, and how long a lease lasts.
const INBOX_BATCH: u32 = 500;
const INBOX_LEASE: SignedDuration = SignedDuration::from_secs(60);
/// How often an inactivity trigger scans the members.
const INACTIVITY_EVERY: SignedDuration = SignedDuration::from_secs(60);
/// Treatment batches per run, so one run ends and the next sees new triggers.
const MAX_BATCHES: usize = 50;
/// The actor campaign grants are recorded under (with the campaign's id).
const ACTOR: &str = "campaign";

/// What one run of the worker did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RunReport {
    /// Entries written (held-out ones included).
    pub entered: u64,
    /// Inbox events settled.
    pub events: u64,
    /// Campaigns ended by their end time, or complete (a `once` campaign all decided).
    pub ended: u64,
    pub treated: u64,
    pub granted: u64,
    /// Entries decided without treatment (capped, over budget, refused, expired).
    pub untreated: u64,
}

impl RunReport {
    /// Whether the run found anything to do.
    pub fn busy(&self) -> bool {
        self.entered + self.events + self.ended + self.treated + self.untreated > 0
    }
}

/// The rule a rule-shaped audience reads as (tiers, stages, RFM tiers).
fn rule_of(audience: &Audience) -> Option<Rule> {
    match audience {
        Audience::Tiers { tiers } => Some(Rule::Tier {
            tiers: tiers.iter().map(|t| t.to_string()).collect(),
        }),
        Audience::Stages { stages } => Some(Rule::Stage {
            stages: stages.clone(),
        }),
        Audience::RfmTiers { tiers } => Some(Rule::RfmTier {
            tiers: tiers.clone(),
        }),
        Audience::All | Audience::Segment { .. } => None,
    }
}

impl App {
    /// One run: end campaigns past their end time, fire the triggers that are due, settle the
    /// event inbox, then treat due entries batch by batch.
    pub async fn run_campaigns(&self) -> Result<RunReport> {
        let now = self.now();
        let mut report = RunReport::default();
        let running = self.store.running_campaigns().await?;
        let mut live = Vec::with_capacity(running.len());
        for record in running {
            let campaign = Campaign::parse(record.spec.clone())?;
            // Past its end time, or a `once` campaign entered and all decided: it ends.
            let fired = record.trigger_at.is_some();
            if let Some(end) = end_due(&campaign, fired, record.stats.pending, now) {
                self.store
                    .set_campaign_status(&record.id, CampaignAction::End, end.as_str(), now)
                    .await?;
                report.ended += 1;
                continue;
            }
            if !campaign.in_window(now) {
                continue;
            }
            report.entered += self.fire(&record, &campaign, now).await?;
            live.push((record, campaign));
        }
        let (events, entered) = self.settle_events(&live, now).await?;
        report.events += events;
        report.entered += entered;
        for _ in 0..MAX_BATCHES {
            let batch = self.store.treat_due(now, ACTOR).await?;
            if batch.entries() == 0 {
                break;
            }
            record_batch(&batch);
            report.treated += batch.treated;
            report.granted += batch.granted;
            report.untreated += batch.entries() - batch.treated;
        }
        self.record_backlog(now).await?;
        Ok(report)
    }

    /// Fires a campaign's own trigger if it is due (events come through the inbox).
    async fn fire(&self, c: &CampaignRecord, campaign: &Campaign, now: Timestamp) -> Result<u64> {
        match &c.spec.trigger {
            Trigger::Event { .. } => Ok(0),
            Trigger::Once => {
                if c.trigger_at.is_some() {
                    return Ok(0);
                }
                let as_of = c.activated_at.unwrap_or(now);
                let who = self.audience_members(&c.spec.audience, as_of).await?;
                let mut entries = entries_of(c, who, ONCE.to_string(), now);
                if let Some(a) = campaign.allocation() {
                    self.allocate_entries(c, a, &mut entries, as_of).await?;
                }
                let moved = TriggerMove {
                    from: None,
                    to: Some(now),
                };
                self.enter(c, entries, moved, now).await
            }
            Trigger::Schedule { weekdays, .. } => {
                let at = campaign.schedule_at().expect("a schedule has its time");
                let Some(tick) = c.trigger_at else {
                    let first = next_tick(weekdays, at, c.activated_at.unwrap_or(now), &self.zone);
                    let moved = TriggerMove {
                        from: None,
                        to: first,
                    };
                    return self.enter(c, Vec::new(), moved, now).await;
                };
                if now < tick {
                    return Ok(0);
                }
                let who = self.audience_members(&c.spec.audience, tick).await?;
                let entries = entries_of(c, who, tick_occurrence(tick), now);
                let moved = TriggerMove {
                    from: Some(tick),
                    to: next_tick(weekdays, at, now.max(tick), &self.zone),
                };
                self.enter(c, entries, moved, now).await
            }
            Trigger::Inactivity { since, hours } => {
                if c.trigger_at
                    .is_some_and(|last| now < last + INACTIVITY_EVERY)
                {
                    return Ok(0);
                }
                let gap = SignedDuration::from_hours(i64::from(*hours));
                let before = now - gap;
                // Members who become inactive while the campaign runs: their inactivity began
                // at most `hours` before its activation.
                let from = c.activated_at.unwrap_or(now) - gap;
                let mut entries = Vec::new();
                let mut cursor = None;
                let programme = self.programme_settings().await?;
                loop {
                    let page = self
                        .store
                        .inactive_members(*since, from, before, CHUNK as u32, cursor.clone())
                        .await?;
                    let Some((last, _)) = page.last() else {
                        break;
                    };
                    cursor = Some(last.clone());
                    for (user, anchor) in page {
                        if self.admits(programme, &c.spec.audience, &user, now).await? {
                            entries.push(NewEntry {
                                held_out: held_out(&c.id, &user, c.spec.holdout_bp),
                                allocated: None,
                                user_id: user,
                                occurrence: inactivity_occurrence(anchor),
                                due_at: now,
                            });
                        }
                    }
                }
                let moved = TriggerMove {
                    from: c.trigger_at,
                    to: Some(now),
                };
                self.enter(c, entries, moved, now).await
            }
        }
    }

    /// Gives each entry not held out what the allocation chose for it, from history before
    /// `as_of` (the activation): a process that dies while writing the entries allocates
    /// again from the same history, and the entries already written keep theirs.
    async fn allocate_entries(
        &self,
        c: &CampaignRecord,
        a: Allocation<'_>,
        entries: &mut [NewEntry],
        as_of: Timestamp,
    ) -> Result<()> {
        let members: Vec<String> = entries
            .iter()
            .filter(|e| !e.held_out)
            .map(|e| e.user_id.clone())
            .collect();
        let choice = if members.is_empty() {
            HashMap::new()
        } else {
            self.allocate(&c.id, a, &members, as_of).await?.0
        };
        for e in entries.iter_mut().filter(|e| !e.held_out) {
            e.allocated = Some(choice.get(&e.user_id).cloned());
        }
        Ok(())
    }

    /// Writes entries in chunks, then moves the trigger (so a crash in between only repeats
    /// entries that already exist).
    async fn enter(
        &self,
        c: &CampaignRecord,
        entries: Vec<NewEntry>,
        moved: TriggerMove,
        now: Timestamp,
    ) -> Result<u64> {
        let mut n = 0;
        for chunk in entries.chunks(CHUNK) {
            match self
                .store
                .add_entries(&c.id, chunk.to_vec(), None, now)
                .await?
            {
                Some(k) => n += k,
                None => return Ok(n),
            }
        }
        self.store
            .add_entries(&c.id, Vec::new(), Some(moved), now)
            .await?;
        Ok(n)
    }

    /// Takes the inbox batch by batch: each event enters the active campaigns waiting for its
    /// kind that were active when it was stored, if their audience admits its member.
    async fn settle_events(
        &self,
        live: &[(CampaignRecord, Campaign)],
        now: Timestamp,
    ) -> Result<(u64, u64)> {
        let mut by_kind: HashMap<EventKind, Vec<(&CampaignRecord, &Campaign)>> = HashMap::new();
        for (c, campaign) in live {
            if let Trigger::Event { event, .. } = &c.spec.trigger {
                by_kind.entry(*event).or_default().push((c, campaign));
            }
        }
        let (mut events, mut entered) = (0, 0);
        let programme = self.programme_settings().await?;
        loop {
            let batch = self
                .store
                .take_inbox(now, now + INBOX_LEASE, INBOX_BATCH)
                .await?;
            if batch.is_empty() {
                return Ok((events, entered));
            }
            let mut entries = Vec::new();
            for e in &batch {
                let Some(kind) = EventKind::parse(&e.kind) else {
                    continue;
                };
                for (c, campaign) in by_kind.get(&kind).into_iter().flatten() {
                    if c.activated_at.is_some_and(|a| e.created_at < a)
                        || !campaign.matches_event(&e.data)
                    {
                        continue;
                    }
                    if !self
                        .admits(programme, &c.spec.audience, &e.user_id, now)
                        .await?
                    {
                        continue;
                    }
                    let Trigger::Event { delay_hours, .. } = &c.spec.trigger else {
                        continue;
                    };
                    let delay = SignedDuration::from_hours(i64::from(delay_hours.unwrap_or(0)));
                    entries.push((
                        c.id.clone(),
                        NewEntry {
                            user_id: e.user_id.clone(),
                            occurrence: event_occurrence(&e.event_id),
                            due_at: e.at + delay,
                            held_out: held_out(&c.id, &e.user_id, c.spec.holdout_bp),
                            allocated: None,
                        },
                    ));
                }
            }
            events += batch.len() as u64;
            entered += entries.len() as u64;
            let ids = batch.into_iter().map(|e| e.event_id).collect();
            self.store.settle_inbox(ids, entries, now).await?;
        }
    }

    /// The members (customers who joined by `as_of`) an audience selects as of `as_of`, less
    /// the global holdout.
    async fn audience_members(&self, audience: &Audience, as_of: Timestamp) -> Result<Vec<String>> {
        let chosen = self.audience_filter(audience, as_of).await?;
        let programme = self.programme_settings().await?;
        let mut out: Vec<String> = self
            .store
            .all_members()
            .await?
            .into_iter()
            .filter(|m| m.profile.joined_at.is_some_and(|j| j <= as_of))
            .map(|m| m.profile.id)
            .filter(|id| chosen.as_ref().is_none_or(|s| s.contains(id)))
            .filter(|id| !kept_out(programme, id))
            .collect();
        out.sort();
        Ok(out)
    }

    /// The customers an audience selects as of `as_of`, or `None` for everyone; whether each
    /// has joined by then is the caller's to ask.
    pub(crate) async fn audience_filter(
        &self,
        audience: &Audience,
        as_of: Timestamp,
    ) -> Result<Option<HashSet<String>>> {
        Ok(match audience {
            Audience::All => None,
            Audience::Segment { segment_id } => {
                Some(match self.store.segment(segment_id).await? {
                    Some(s) => scrm::segment_members(self.store.as_ref(), &s, as_of)
                        .await?
                        .into_iter()
                        .collect(),
                    None => HashSet::new(),
                })
            }
            other => {
                let rule = rule_of(other).expect("a rule-shaped audience");
                Some(
                    scrm::rule_members(self.store.as_ref(), &rule, as_of)
                        .await?
                        .into_iter()
                        .collect(),
                )
            }
        })
    }

    /// Whether an audience admits one customer at `now` (an event's or an inactive one's); a
    /// member of the global holdout never enters.
    async fn admits(
        &self,
        programme: ProgrammeSettings,
        audience: &Audience,
        user: &str,
        now: Timestamp,
    ) -> Result<bool> {
        if kept_out(programme, user) {
            return Ok(false);
        }
        Ok(match audience {
            Audience::All => true,
            Audience::Segment { segment_id } => {
                scrm::in_segment(self.store.as_ref(), segment_id, user, now).await?
            }
            other => {
                let rule = rule_of(other).expect("a rule-shaped audience");
                scrm::rule_admits(self.store.as_ref(), &rule, user, now).await?
            }
        })
    }

    /// Publishes the backlog and its lag behind the triggers.
    async fn record_backlog(&self, now: Timestamp) -> Result<()> {
        let b = self.store.campaign_backlog(now).await?;
        metrics::gauge!("quan_campaign_backlog", "kind" => "due_entries").set(b.due as f64);
        metrics::gauge!("quan_campaign_backlog", "kind" => "inbox_events").set(b.inbox as f64);
        let lag = b
            .oldest_due
            .map_or(0.0, |t| now.duration_since(t).as_secs_f64().max(0.0));
        metrics::gauge!("quan_campaign_lag_seconds").set(lag);
        Ok(())
    }
}

/// The entries of an audience for one occurrence, due now, with the holdout decided.
fn entries_of(
    c: &CampaignRecord,
    who: Vec<String>,
    occurrence: String,
    now: Timestamp,
) -> Vec<NewEntry> {
    who.into_iter()
        .map(|user| NewEntry {
            held_out: held_out(&c.id, &user, c.spec.holdout_bp),
            allocated: None,
            user_id: user,
            occurrence: occurrence.clone(),
            due_at: now,
        })
        .collect()
}

/// Counts a treatment batch's grants and outcomes per campaign.
fn record_batch(batch: &TreatReport) {
    let campaign = batch.campaign_id.clone().unwrap_or_default();
    metrics::counter!("quan_campaign_grants_total", "campaign" => campaign.clone())
        .increment(batch.granted);
    for (status, n) in [
        ("treated", batch.treated),
        ("capped", batch.capped),
        ("over_budget", batch.over_budget),
        ("refused", batch.refused),
        ("expired", batch.expired),
    ] {
        if n > 0 {
            metrics::counter!("quan_campaign_entries_total", "campaign" => campaign.clone(), "status" => status)
                .increment(n);
        }
    }
}
