//! Campaigns on SQLite: definitions, entries, the inbox, and treatment batches run inside the
//! writer (one writer: each batch is one atomic step; every entry has its own savepoint).

use std::collections::HashMap;

use async_trait::async_trait;
use jiff::Timestamp;
use quan_core::campaign::decide::{EntryStatus, Spend, Verdict};
use quan_core::campaign::{CampaignAction, CampaignStatus, Since};
use quan_core::ErrorCode;
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::rows::*;
use super::SqliteStore;
use crate::campaigning::*;
use crate::model::*;
use crate::sql::Ctx;
use crate::traits::*;
use crate::Result;

const COLS: &str = "id, spec, status, end_reason, trigger_at, entered, held_out, treated, granted, spent, activated_at, created_at, updated_at, \
     (SELECT count(*) FROM campaign_entries e WHERE e.campaign_id = campaigns.id AND e.status = 'pending')";
const ENTRY_COLS: &str =
    "campaign_id, user_id, occurrence, status, reason, coupon_ids, due_at, entered_at, done_at, template_id";

fn campaign_row(r: &Row) -> rusqlite::Result<Result<CampaignRecord>> {
    let id: String = r.get(0)?;
    let spec: String = r.get(1)?;
    let status: String = r.get(2)?;
    let record = (|| {
        Ok(CampaignRecord {
            spec: parse_spec(&id, &spec)?.into_spec(),
            status: CampaignStatus::parse(&status).ok_or_else(|| corrupt("campaign status"))?,
            end_reason: r.get(3)?,
            trigger_at: r.get::<_, Option<i64>>(4)?.map(ts),
            stats: CampaignStats {
                entered: r.get(5)?,
                held_out: r.get(6)?,
                treated: r.get(7)?,
                granted: r.get(8)?,
                spent: r.get(9)?,
                pending: r.get(13)?,
            },
            activated_at: r.get::<_, Option<i64>>(10)?.map(ts),
            created_at: ts(r.get(11)?),
            updated_at: ts(r.get(12)?),
            id: id.clone(),
        })
    })();
    Ok(record)
}

fn entry_row(r: &Row) -> rusqlite::Result<Result<EntryRecord>> {
    let status: String = r.get(3)?;
    let coupons: Option<String> = r.get(5)?;
    let record = (|| {
        Ok(EntryRecord {
            campaign_id: r.get(0)?,
            user_id: r.get(1)?,
            occurrence: r.get(2)?,
            status: EntryStatus::parse(&status).ok_or_else(|| corrupt("entry status"))?,
            reason: r.get(4)?,
            coupon_ids: match coupons {
                Some(c) => json(&c, "entry coupons")?,
                None => Vec::new(),
            },
            due_at: ts(r.get(6)?),
            entered_at: ts(r.get(7)?),
            done_at: r.get::<_, Option<i64>>(8)?.map(ts),
            template_id: r.get(9)?,
        })
    })();
    Ok(record)
}

fn get(conn: &Connection, id: &str) -> Result<Option<CampaignRecord>> {
    conn.prepare_cached(&format!("SELECT {COLS} FROM campaigns WHERE id = ?1"))?
        .query_row([id], campaign_row)
        .optional()?
        .transpose()
}

fn must_get(conn: &Connection, id: &str) -> Result<CampaignRecord> {
    get(conn, id)?.ok_or_else(|| corrupt("campaign vanished"))
}

/// Ends a campaign in the writer's transaction, its pending entries marked `marked`.
fn end(conn: &Connection, id: &str, reason: &str, marked: EntryStatus, now: i64) -> Result<()> {
    conn.prepare_cached(
        "UPDATE campaigns SET status = 'ended', end_reason = ?2, updated_at = ?3 WHERE id = ?1",
    )?
    .execute(params![id, reason, now])?;
    conn.prepare_cached(
        "UPDATE campaign_entries SET status = ?2, done_at = ?3 WHERE campaign_id = ?1 AND status = 'pending'",
    )?
    .execute(params![id, marked.as_str(), now])?;
    Ok(())
}

/// Writes entries into an active campaign and counts them; `None` when the campaign is not
/// active or its trigger moved.
fn add(
    conn: &Connection,
    campaign_id: &str,
    entries: &[NewEntry],
    trigger: Option<TriggerMove>,
    now: i64,
) -> Result<Option<u64>> {
    let row: Option<(String, Option<i64>)> = conn
        .prepare_cached("SELECT status, trigger_at FROM campaigns WHERE id = ?1")?
        .query_row([campaign_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((status, trigger_at)) = row else {
        return Ok(None);
    };
    if status != CampaignStatus::Active.as_str() {
        return Ok(None);
    }
    if let Some(m) = trigger {
        if trigger_at != m.from.map(micros) {
            return Ok(None);
        }
        conn.prepare_cached("UPDATE campaigns SET trigger_at = ?2 WHERE id = ?1")?
            .execute(params![campaign_id, m.to.map(micros)])?;
    }
    let mut insert = conn.prepare_cached(
        "INSERT INTO campaign_entries (campaign_id, user_id, occurrence, status, due_at, entered_at, done_at, template_id) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING",
    )?;
    let (mut entered, mut held) = (0i64, 0i64);
    for e in entries {
        let status = e.first_status();
        let done = (status != EntryStatus::Pending).then_some(now);
        let n = insert.execute(params![
            campaign_id,
            e.user_id,
            e.occurrence,
            status.as_str(),
            micros(e.due_at),
            now,
            done,
            e.template_id()
        ])? as i64;
        entered += n;
        if e.held_out {
            held += n;
        }
    }
    if entered > 0 {
        conn.prepare_cached(
            "UPDATE campaigns SET entered = entered + ?2, held_out = held_out + ?3 WHERE id = ?1",
        )?
        .execute(params![campaign_id, entered, held])?;
    }
    Ok(Some(entered as u64))
}

#[async_trait]
impl Campaigns for SqliteStore {
    async fn insert_campaign(&self, c: NewCampaign) -> Result<CampaignRecord> {
        self.write_conn(move |tx, _| {
            tx.execute(
                "INSERT INTO campaigns (id, name, spec, status, trigger_event, created_at, updated_at) VALUES (?1, ?2, ?3, 'draft', ?4, ?5, ?5)",
                params![c.id, c.spec.name.as_str(), spec_json(&c.spec), trigger_event(&c.spec), micros(c.now)],
            )?;
            must_get(tx, &c.id)
        })
        .await
    }

    async fn campaign(&self, id: &str) -> Result<Option<CampaignRecord>> {
        let id = id.to_string();
        self.read_point_conn(move |conn| get(conn, &id)).await
    }

    async fn list_campaigns(
        &self,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<Page<CampaignRecord>> {
        self.read_conn(move |conn| {
            id_page(conn, "campaigns", COLS, limit, cursor, campaign_row, |c| {
                c.id.clone()
            })
        })
        .await
    }

    async fn running_campaigns(&self) -> Result<Vec<CampaignRecord>> {
        self.read_conn(|conn| {
            conn.prepare_cached(&format!(
                "SELECT {COLS} FROM campaigns WHERE status = 'active' ORDER BY id"
            ))?
            .query_map([], campaign_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?
            .into_iter()
            .collect()
        })
        .await
    }

    async fn set_campaign_status(
        &self,
        id: &str,
        action: CampaignAction,
        reason: &str,
        now: Timestamp,
    ) -> Result<Option<Result<CampaignRecord, ErrorCode>>> {
        let (id, reason) = (id.to_string(), reason.to_string());
        self.write_conn(move |tx, _| {
            let Some(c) = get(tx, &id)? else {
                return Ok(None);
            };
            let Some(next) = c.status.apply(action) else {
                return Ok(Some(Err(ErrorCode::InvalidState)));
            };
            let now = micros(now);
            if next == CampaignStatus::Ended {
                if c.status != CampaignStatus::Ended {
                    end(tx, &id, &reason, EntryStatus::Expired, now)?;
                }
            } else if next != c.status {
                tx.prepare_cached(
                    "UPDATE campaigns SET status = ?2, activated_at = coalesce(activated_at, ?3), updated_at = ?3 WHERE id = ?1",
                )?
                .execute(params![id, next.as_str(), now])?;
            }
            Ok(Some(Ok(must_get(tx, &id)?)))
        })
        .await
    }

    async fn add_entries(
        &self,
        campaign_id: &str,
        entries: Vec<NewEntry>,
        trigger: Option<TriggerMove>,
        now: Timestamp,
    ) -> Result<Option<u64>> {
        let campaign_id = campaign_id.to_string();
        self.write_conn(move |tx, _| add(tx, &campaign_id, &entries, trigger, micros(now)))
            .await
    }

    async fn campaign_entries(
        &self,
        campaign_id: &str,
        status: Option<EntryStatus>,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<Page<EntryRecord>> {
        let campaign_id = campaign_id.to_string();
        self.read_conn(move |conn| {
            let tx = conn.unchecked_transaction()?;
            let status = status.map(EntryStatus::as_str);
            let total: i64 = tx
                .prepare_cached("SELECT count(*) FROM campaign_entries WHERE campaign_id = ?1 AND (?2 IS NULL OR status = ?2)")?
                .query_row(params![campaign_id, status], |r| r.get(0))?;
            let (user, occurrence) = split_cursor(cursor.as_deref());
            let items = tx
                .prepare_cached(&format!(
                    "SELECT {ENTRY_COLS} FROM campaign_entries WHERE campaign_id = ?1 AND (?2 IS NULL OR status = ?2) \
                     AND (user_id, occurrence) > (?3, ?4) ORDER BY user_id, occurrence LIMIT 0 + ?5"
                ))?
                .query_map(params![campaign_id, status, user, occurrence, i64::from(limit) + 1], entry_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?
                .into_iter()
                .collect::<Result<Vec<_>>>()?;
            Ok(page_of(items, limit, total, entry_cursor))
        })
        .await
    }

    async fn take_inbox(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<InboxEvent>> {
        self.write_conn(move |tx, _| {
            let events = tx
                .prepare_cached(
                    "SELECT i.event_id, i.user_id, i.kind, i.at, i.created_at, e.data FROM campaign_inbox i \
                     LEFT JOIN events e ON e.id = i.event_id WHERE i.lease_until < ?1 \
                     ORDER BY i.created_at, i.event_id LIMIT 0 + ?2",
                )?
                .query_map(params![micros(now), i64::from(limit)], |r| {
                    Ok(InboxEvent {
                        event_id: r.get(0)?,
                        user_id: r.get(1)?,
                        kind: r.get(2)?,
                        at: ts(r.get(3)?),
                        created_at: ts(r.get(4)?),
                        data: r
                            .get::<_, Option<String>>(5)?
                            .and_then(|d| serde_json::from_str(&d).ok())
                            .unwrap_or_default(),
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut lease =
                tx.prepare_cached("UPDATE campaign_inbox SET lease_until = ?2 WHERE event_id = ?1")?;
            for e in &events {
                lease.execute(params![e.event_id, micros(lease_until)])?;
            }
            Ok(events)
        })
        .await
    }

    async fn settle_inbox(
        &self,
        event_ids: Vec<String>,
        entries: Vec<(String, NewEntry)>,
        now: Timestamp,
    ) -> Result<()> {
        self.write_conn(move |tx, _| {
            for (campaign, group) in group_by_campaign(entries) {
                add(tx, &campaign, &group, None, micros(now))?;
            }
            let mut drop = tx.prepare_cached("DELETE FROM campaign_inbox WHERE event_id = ?1")?;
            for id in &event_ids {
                drop.execute([id])?;
            }
            Ok(())
        })
        .await
    }

    async fn treat_due(&self, now: Timestamp, actor: &str) -> Result<TreatReport> {
        let actor = actor.to_string();
        self.write_conn(move |tx, ctx| treat(tx, ctx, now, &actor))
            .await
    }

    async fn inactive_members(
        &self,
        since: Since,
        from: Timestamp,
        before: Timestamp,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<Vec<(String, Timestamp)>> {
        self.read_conn(move |conn| {
            let sql = match since {
                Since::Joined => "SELECT id, joined_at FROM members WHERE joined_at >= ?4 AND joined_at <= ?1 \
                     AND (last_paid_at IS NULL OR last_paid_at < joined_at) AND id > ?2 ORDER BY id LIMIT 0 + ?3",
                Since::LastOrder => "SELECT id, last_paid_at FROM members WHERE last_paid_at >= ?4 AND last_paid_at <= ?1 \
                     AND id > ?2 ORDER BY id LIMIT 0 + ?3",
            };
            Ok(conn
                .prepare_cached(sql)?
                .query_map(
                    params![micros(before), cursor.unwrap_or_default(), i64::from(limit), micros(from)],
                    |r| Ok((r.get::<_, String>(0)?, ts(r.get(1)?))),
                )?
                .collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn campaign_backlog(&self, now: Timestamp) -> Result<Backlog> {
        self.read_conn(move |conn| {
            let (due, oldest): (i64, Option<i64>) = conn
                .prepare_cached(
                    "SELECT count(*), min(e.due_at) FROM campaign_entries e JOIN campaigns c ON c.id = e.campaign_id \
                     WHERE e.status = 'pending' AND e.due_at <= ?1 AND c.status = 'active'",
                )?
                .query_row([micros(now)], |r| Ok((r.get(0)?, r.get(1)?)))?;
            let inbox: i64 = conn
                .prepare_cached("SELECT count(*) FROM campaign_inbox")?
                .query_row([], |r| r.get(0))?;
            Ok(Backlog {
                due,
                oldest_due: oldest.map(ts),
                inbox,
            })
        })
        .await
    }
}

/// One treatment batch: the active campaign with the earliest due entry, up to
/// [`TREAT_BATCH`] of its due entries, each decided by [`Treatment`] and written in its own
/// savepoint (a refused grant undoes the entry's other grants).
fn treat(tx: &mut Connection, ctx: &Ctx, now: Timestamp, actor: &str) -> Result<TreatReport> {
    let now_us = micros(now);
    let campaign_id: Option<String> = tx
        .prepare_cached(
            "SELECT e.campaign_id FROM campaign_entries e JOIN campaigns c ON c.id = e.campaign_id \
             WHERE e.status = 'pending' AND e.due_at <= ?1 AND c.status = 'active' ORDER BY e.due_at LIMIT 1",
        )?
        .query_row([now_us], |r| r.get(0))
        .optional()?;
    let Some(campaign_id) = campaign_id else {
        return Ok(TreatReport::default());
    };
    let (spec, created_at, granted, spent): (String, i64, i64, i64) = tx
        .prepare_cached("SELECT spec, created_at, granted, spent FROM campaigns WHERE id = ?1")?
        .query_row([&campaign_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?;
    let campaign = ctx.campaigns.get(&campaign_id, created_at, &spec)?;
    let actor = format!("{actor}:{campaign_id}");
    let mut report = TreatReport {
        campaign_id: Some(campaign_id.clone()),
        ..TreatReport::default()
    };
    if campaign.spec().ends_at.is_some_and(|e| now >= e) {
        let n = tx
            .prepare_cached("SELECT count(*) FROM campaign_entries WHERE campaign_id = ?1 AND status = 'pending'")?
            .query_row([&campaign_id], |r| r.get::<_, i64>(0))?;
        end(tx, &campaign_id, "ends_at", EntryStatus::Expired, now_us)?;
        report.expired = n as u64;
        return Ok(report);
    }
    let grants: Vec<String> = campaign.grants().into_iter().map(String::from).collect();
    let mut faces = Vec::with_capacity(grants.len());
    for t in &grants {
        faces.push(face_value(tx, ctx, t)?.unwrap_or(0));
    }
    let mut chosen_faces = HashMap::new();
    for t in campaign.allocation().iter().flat_map(|a| a.template_ids) {
        chosen_faces.insert(t.as_str().to_string(), face_value(tx, ctx, t)?.unwrap_or(0));
    }
    let spent = Spend {
        count: granted,
        amount: spent,
    };
    let mut plan = Treatment::new(campaign, spent, &faces);
    plan.report.campaign_id = Some(campaign_id.clone());
    let due: Vec<(String, String, Option<String>)> = tx
        .prepare_cached(
            "SELECT user_id, occurrence, template_id FROM campaign_entries WHERE campaign_id = ?1 AND status = 'pending' AND due_at <= ?2 \
             ORDER BY due_at, user_id, occurrence LIMIT 0 + ?3",
        )?
        .query_map(params![campaign_id, now_us, TREAT_BATCH], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let cap_since = plan.cap_since(now).map(micros);
    for (user, occurrence, chosen) in &due {
        let (user, occurrence) = (user.as_str(), occurrence.as_str());
        let chosen: Vec<String> = chosen.iter().cloned().collect();
        if let Some(t) = chosen.first() {
            plan.price(chosen_faces.get(t).copied().unwrap_or(0));
        }
        let grants = if chosen.is_empty() { &grants } else { &chosen };
        let recent = match cap_since {
            Some(since) => tx
                .prepare_cached(
                    "SELECT count(*) FROM campaign_entries WHERE campaign_id = ?1 AND user_id = ?2 AND status = 'treated' AND done_at > ?3",
                )?
                .query_row(params![campaign_id, user, since], |r| r.get(0))?,
            None => 0,
        };
        let (status, reason, coupons) = match plan.verdict(recent) {
            Verdict::Capped => (EntryStatus::Capped, None, Vec::new()),
            Verdict::OverBudget => (EntryStatus::OverBudget, None, Vec::new()),
            Verdict::Treat => {
                match grant_all(tx, ctx, &plan, grants, &campaign_id, user, now, &actor)? {
                    Ok(coupons) => {
                        plan.treated();
                        (EntryStatus::Treated, None, coupons)
                    }
                    Err(code) => (EntryStatus::Refused, Some(code.as_str()), Vec::new()),
                }
            }
        };
        if status != EntryStatus::Treated {
            plan.report.count(status);
        }
        tx.prepare_cached(
            "UPDATE campaign_entries SET status = ?4, reason = ?5, coupon_ids = ?6, done_at = ?7 \
             WHERE campaign_id = ?1 AND user_id = ?2 AND occurrence = ?3",
        )?
        .execute(params![
            campaign_id,
            user,
            occurrence,
            status.as_str(),
            reason,
            (!coupons.is_empty()).then(|| json_list(&coupons)),
            now_us
        ])?;
    }
    tx.prepare_cached(
        "UPDATE campaigns SET treated = treated + ?2, granted = ?3, spent = ?4, updated_at = ?5 WHERE id = ?1",
    )?
    .execute(params![
        campaign_id,
        plan.report.treated as i64,
        plan.spent.count,
        plan.spent.amount,
        now_us
    ])?;
    if plan.exhausted {
        let n = tx
            .prepare_cached("SELECT count(*) FROM campaign_entries WHERE campaign_id = ?1 AND status = 'pending'")?
            .query_row([&campaign_id], |r| r.get::<_, i64>(0))?;
        end(tx, &campaign_id, "budget", EntryStatus::OverBudget, now_us)?;
        plan.report.over_budget += n as u64;
    }
    Ok(plan.report)
}

/// A template's face value, `None` when it does not exist.
fn face_value(conn: &Connection, ctx: &Ctx, id: &str) -> Result<Option<i64>> {
    let row: Option<(String, i64)> = conn
        .prepare_cached("SELECT spec, version FROM templates WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    row.map(|(spec, version)| Ok(ctx.templates.get(id, version, &spec)?.face_value()))
        .transpose()
}

/// Grants every template of a treatment and writes its tasks and messages, all in one
/// savepoint; the first refusal undoes it and is the answer.
#[allow(clippy::too_many_arguments)]
fn grant_all(
    tx: &mut Connection,
    ctx: &Ctx,
    plan: &Treatment,
    grants: &[String],
    campaign_id: &str,
    user: &str,
    now: Timestamp,
    actor: &str,
) -> Result<Result<Vec<String>, ErrorCode>> {
    tx.execute_batch("SAVEPOINT entry")?;
    let mut coupons = Vec::with_capacity(grants.len());
    let mut refusal = None;
    for t in grants {
        let cmd = campaign_claim(t, user, now, actor);
        let outcome = match super::writer::claim_batch(tx, ctx, std::slice::from_ref(&cmd))? {
            Ok(mut outcomes) => outcomes.pop().expect("one outcome"),
            Err(e) => {
                tx.execute_batch("ROLLBACK TO entry; RELEASE entry")?;
                return Err(e);
            }
        };
        match claimed(outcome) {
            Ok(id) => coupons.push(id),
            Err(code) => {
                refusal = Some(code);
                break;
            }
        }
    }
    if let Some(code) = refusal {
        tx.execute_batch("ROLLBACK TO entry; RELEASE entry")?;
        return Ok(Err(code));
    }
    let (tasks, messages) = plan.side_rows(now);
    if !tasks.is_empty() {
        let guide: Option<String> = tx
            .prepare_cached("SELECT guide_id FROM members WHERE id = ?1")?
            .query_row([user], |r| r.get(0))
            .optional()?
            .flatten();
        for t in tasks {
            tx.prepare_cached(
                "INSERT INTO tasks (id, campaign_id, user_id, guide_id, title, template_id, material, message, status, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'open', ?9)",
            )?
            .execute(params![t.id, campaign_id, user, guide, t.title, t.template_id, t.material, t.message, micros(now)])?;
        }
    }
    for m in messages {
        tx.prepare_cached(
            "INSERT INTO outbox (id, campaign_id, user_id, channel, text, link_template_id, status, attempts, next_attempt_at, lease_until, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', 0, ?7, 0, ?7)",
        )?
        .execute(params![m.id, campaign_id, user, m.channel, m.text, m.link_template_id, micros(now)])?;
    }
    tx.execute_batch("RELEASE entry")?;
    Ok(Ok(coupons))
}
