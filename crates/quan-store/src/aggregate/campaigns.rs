//! Campaigns: definitions, the entries of members, the inbox of events, and treatment
//! batches (read the facts, have [`quan_core::campaign::treat`] plan the batch, write its rows).

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use jiff::Timestamp;
use quan_core::campaign::decide::{EntryStatus, Spend};
use quan_core::campaign::treat::{self, Batch, Due, End, Facts, Plan};
use quan_core::campaign::{Action, CampaignAction, CampaignStatus, Since};
use quan_core::template::TemplateStatus;
use quan_core::ErrorCode;

use super::claims::claim_in;
use super::outbox::insert_messages;
use super::tasks::insert_tasks;
use super::{corrupt, page_of};
use crate::ids::new_id;
use crate::records::campaigns::*;
use crate::records::messages::NewMessage;
use crate::records::tasks::NewTask;
use crate::records::*;
use crate::sql::{Column, Ctx, Db, Engine, Row, Strings};
use crate::traits::Campaigns;
use crate::Result;

const COLS: &str = "id, spec, status, end_reason, trigger_at, entered, held_out, treated, granted, spent, activated_at, created_at, updated_at, \
     (SELECT count(*) FROM campaign_entries e WHERE e.campaign_id = campaigns.id AND e.status = 'pending')";
const ENTRY_COLS: &str =
    "campaign_id, user_id, occurrence, status, reason, coupon_ids, due_at, entered_at, done_at, template_id";

fn campaign_record(r: &Row) -> Result<CampaignRecord> {
    let id: String = r.get(0)?;
    let spec: String = r.get(1)?;
    let status: String = r.get(2)?;
    Ok(CampaignRecord {
        spec: parse_spec(&id, &spec)?.into_spec(),
        status: CampaignStatus::parse(&status).ok_or_else(|| corrupt("campaign status"))?,
        end_reason: r.get(3)?,
        trigger_at: r.get::<Option<i64>>(4)?.map(from_micros),
        stats: CampaignStats {
            entered: r.get(5)?,
            held_out: r.get(6)?,
            treated: r.get(7)?,
            granted: r.get(8)?,
            spent: r.get(9)?,
            pending: r.get(13)?,
        },
        activated_at: r.get::<Option<i64>>(10)?.map(from_micros),
        created_at: r.time(11)?,
        updated_at: r.time(12)?,
        id,
    })
}

fn entry_record(r: &Row) -> Result<EntryRecord> {
    let status: String = r.get(3)?;
    let coupons: Option<String> = r.get(5)?;
    Ok(EntryRecord {
        campaign_id: r.get(0)?,
        user_id: r.get(1)?,
        occurrence: r.get(2)?,
        status: EntryStatus::parse(&status).ok_or_else(|| corrupt("entry status"))?,
        reason: r.get(4)?,
        coupon_ids: match coupons {
            Some(c) => serde_json::from_str(&c).map_err(|_| corrupt("entry coupons"))?,
            None => Vec::new(),
        },
        due_at: r.time(6)?,
        entered_at: r.time(7)?,
        done_at: r.get::<Option<i64>>(8)?.map(from_micros),
        template_id: r.get(9)?,
    })
}

async fn get(db: &mut Db<'_>, id: &str) -> Result<Option<CampaignRecord>> {
    db.query_opt(
        &format!("SELECT {COLS} FROM campaigns WHERE id = $1"),
        &[&id],
        campaign_record,
    )
    .await
}

async fn must_get(db: &mut Db<'_>, id: &str) -> Result<CampaignRecord> {
    get(db, id)
        .await?
        .ok_or_else(|| corrupt("campaign vanished"))
}

/// Ends a campaign, its pending entries marked `marked`; how many were pending.
async fn end(
    db: &mut Db<'_>,
    id: &str,
    reason: &str,
    marked: EntryStatus,
    now: i64,
) -> Result<u64> {
    db.execute(
        "UPDATE campaigns SET status = 'ended', end_reason = $2, updated_at = $3 WHERE id = $1",
        &[&id, &reason, &now],
    )
    .await?;
    db.execute(
        "UPDATE campaign_entries SET status = $2, done_at = $3 WHERE campaign_id = $1 AND status = 'pending'",
        &[&id, &marked.as_str(), &now],
    )
    .await
}

/// Writes entries into an active campaign under its row lock and counts them; `None` when
/// the campaign is not active or its trigger moved.
async fn add(
    db: &mut Db<'_>,
    campaign_id: &str,
    entries: &[NewEntry],
    trigger: Option<TriggerMove>,
    now: i64,
) -> Result<Option<u64>> {
    let row = db
        .query_opt(
            "SELECT status, trigger_at FROM campaigns WHERE id = $1 FOR UPDATE",
            &[&campaign_id],
            |r| Ok((r.get::<String>(0)?, r.get::<Option<i64>>(1)?)),
        )
        .await?;
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
        db.execute(
            "UPDATE campaigns SET trigger_at = $2 WHERE id = $1",
            &[&campaign_id, &m.to.map(micros)],
        )
        .await?;
    }
    let (held, rest): (Vec<&NewEntry>, Vec<&NewEntry>) = entries.iter().partition(|e| e.held_out);
    let held_out = insert_entries(db, campaign_id, &held, now).await? as i64;
    let entered = held_out + insert_entries(db, campaign_id, &rest, now).await? as i64;
    if entered > 0 {
        db.execute(
            "UPDATE campaigns SET entered = entered + $2, held_out = held_out + $3 WHERE id = $1",
            &[&campaign_id, &entered, &held_out],
        )
        .await?;
    }
    Ok(Some(entered as u64))
}

/// Writes the entries not written before (an occurrence enters once); how many were new.
async fn insert_entries(
    db: &mut Db<'_>,
    campaign_id: &str,
    entries: &[&NewEntry],
    now: i64,
) -> Result<u64> {
    let user: Vec<String> = entries.iter().map(|e| e.user_id.clone()).collect();
    let occurrence: Vec<String> = entries.iter().map(|e| e.occurrence.clone()).collect();
    let status: Vec<String> = entries
        .iter()
        .map(|e| e.first_status().as_str().to_string())
        .collect();
    let due: Vec<i64> = entries.iter().map(|e| micros(e.due_at)).collect();
    let done: Vec<Option<i64>> = entries
        .iter()
        .map(|e| (e.first_status() != EntryStatus::Pending).then_some(now))
        .collect();
    let chosen: Vec<Option<String>> = entries
        .iter()
        .map(|e| e.template_id().map(String::from))
        .collect();
    db.execute_rows(
        "INSERT INTO campaign_entries (campaign_id, user_id, occurrence, status, due_at, entered_at, done_at, template_id) \
         SELECT $1, x.u, x.o, x.s, x.d, $2, x.done, x.t FROM {rows} ON CONFLICT DO NOTHING",
        &[&campaign_id, &now],
        &[
            ("u", Column::Text(&user)),
            ("o", Column::Text(&occurrence)),
            ("s", Column::Text(&status)),
            ("d", Column::Int(&due)),
            ("done", Column::MaybeInt(&done)),
            ("t", Column::MaybeText(&chosen)),
        ],
    )
    .await
}

#[async_trait]
impl<E: Engine> Campaigns for E {
    async fn insert_campaign(&self, c: NewCampaign) -> Result<CampaignRecord> {
        self.write(c, |db, c| {
            Box::pin(async move {
                db.execute(
                    "INSERT INTO campaigns (id, name, spec, status, trigger_event, created_at, updated_at) VALUES ($1, $2, $3, 'draft', $4, $5, $5)",
                    &[&c.id, &c.spec.name.as_str(), &spec_json(&c.spec), &trigger_event(&c.spec), &micros(c.now)],
                )
                .await?;
                must_get(db, &c.id).await
            })
        })
        .await
    }

    async fn import_past_campaign(&self, c: PastCampaign, now: Timestamp) -> Result<bool> {
        let ctx = self.ctx().clone();
        self.write(c, move |db, c| {
            let ctx = ctx.clone();
            Box::pin(async move { super::past::import(db, &ctx, c, now).await })
        })
        .await
    }

    async fn campaign(&self, id: &str) -> Result<Option<CampaignRecord>> {
        let id = id.to_string();
        self.read_point(move |db| Box::pin(async move { get(db, &id).await }))
            .await
    }

    async fn list_campaigns(
        &self,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<Page<CampaignRecord>> {
        self.read(move |db| {
            Box::pin(async move {
                let total: i64 = db
                    .query_one("SELECT count(*) FROM campaigns", &[], |r| r.get(0))
                    .await?;
                let items = db
                    .query(
                        &format!("SELECT {COLS} FROM campaigns WHERE id > $1 ORDER BY id LIMIT $2"),
                        &[&cursor.clone().unwrap_or_default(), &(i64::from(limit) + 1)],
                        campaign_record,
                    )
                    .await?;
                Ok(page_of(items, limit, total, |c| c.id.clone()))
            })
        })
        .await
    }

    async fn running_campaigns(&self) -> Result<Vec<CampaignRecord>> {
        self.read(|db| {
            Box::pin(async move {
                db.query(
                    &format!("SELECT {COLS} FROM campaigns WHERE status = 'active' ORDER BY id"),
                    &[],
                    campaign_record,
                )
                .await
            })
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
        let args = (id.to_string(), action, reason.to_string(), micros(now));
        self.write(args, |db, (id, action, reason, now)| {
            Box::pin(async move {
                let Some(status) = db
                    .query_opt(
                        "SELECT status FROM campaigns WHERE id = $1 FOR UPDATE",
                        &[id],
                        |r| r.get::<String>(0),
                    )
                    .await?
                else {
                    return Ok(None);
                };
                let status =
                    CampaignStatus::parse(&status).ok_or_else(|| corrupt("campaign status"))?;
                let Some(next) = status.apply(*action) else {
                    return Ok(Some(Err(ErrorCode::InvalidState)));
                };
                if next == CampaignStatus::Ended {
                    if status != CampaignStatus::Ended {
                        end(db, id, reason, EntryStatus::Expired, *now).await?;
                    }
                } else if next != status {
                    db.execute(
                        "UPDATE campaigns SET status = $2, activated_at = coalesce(activated_at, $3), updated_at = $3 WHERE id = $1",
                        &[id, &next.as_str(), now],
                    )
                    .await?;
                }
                Ok(Some(Ok(must_get(db, id).await?)))
            })
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
        let args = (campaign_id.to_string(), entries, trigger, micros(now));
        self.write(args, |db, (campaign_id, entries, trigger, now)| {
            Box::pin(async move { add(db, campaign_id, entries, *trigger, *now).await })
        })
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
        self.read(move |db| {
            Box::pin(async move {
                let status = status.map(EntryStatus::as_str);
                let total: i64 = db
                    .query_one(
                        "SELECT count(*) FROM campaign_entries WHERE campaign_id = $1 AND ($2::text IS NULL OR status = $2)",
                        &[&campaign_id, &status],
                        |r| r.get(0),
                    )
                    .await?;
                let (user, occurrence) = split_cursor(cursor.as_deref());
                let items = db
                    .query(
                        &format!(
                            "SELECT {ENTRY_COLS} FROM campaign_entries WHERE campaign_id = $1 AND ($2::text IS NULL OR status = $2) \
                             AND (user_id, occurrence) > ($3, $4) ORDER BY user_id, occurrence LIMIT $5"
                        ),
                        &[&campaign_id, &status, &user, &occurrence, &(i64::from(limit) + 1)],
                        entry_record,
                    )
                    .await?;
                Ok(page_of(items, limit, total, entry_cursor))
            })
        })
        .await
    }

    async fn take_inbox(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<InboxEvent>> {
        let args = (micros(now), micros(lease_until), i64::from(limit));
        self.write(args, |db, (now, lease_until, limit)| {
            Box::pin(async move {
                let mut events = db
                    .query(
                        "UPDATE campaign_inbox SET lease_until = $2 WHERE event_id IN \
                         (SELECT event_id FROM campaign_inbox WHERE lease_until < $1 ORDER BY created_at, event_id LIMIT $3 FOR UPDATE SKIP LOCKED) \
                         RETURNING event_id, user_id, kind, at, created_at",
                        &[now, lease_until, limit],
                        |r| {
                            Ok(InboxEvent {
                                event_id: r.get(0)?,
                                user_id: r.get(1)?,
                                kind: r.get(2)?,
                                at: r.time(3)?,
                                created_at: r.time(4)?,
                                data: serde_json::Value::default(),
                            })
                        },
                    )
                    .await?;
                let ids: Vec<String> = events.iter().map(|e| e.event_id.clone()).collect();
                let data: HashMap<String, Option<String>> = db
                    .query(
                        "SELECT id, data FROM events WHERE id = ANY($1)",
                        &[&Strings(&ids)],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .await?
                    .into_iter()
                    .collect();
                for e in &mut events {
                    if let Some(Some(d)) = data.get(&e.event_id) {
                        e.data = serde_json::from_str(d).unwrap_or_default();
                    }
                }
                events.sort_by(|a, b| (a.created_at, &a.event_id).cmp(&(b.created_at, &b.event_id)));
                Ok(events)
            })
        })
        .await
    }

    async fn settle_inbox(
        &self,
        event_ids: Vec<String>,
        entries: Vec<(String, NewEntry)>,
        now: Timestamp,
    ) -> Result<()> {
        let args = (event_ids, group_by_campaign(entries), micros(now));
        self.write(args, |db, (event_ids, groups, now)| {
            Box::pin(async move {
                for (campaign, group) in groups {
                    add(db, campaign, group, None, *now).await?;
                }
                db.execute(
                    "DELETE FROM campaign_inbox WHERE event_id = ANY($1)",
                    &[&Strings(event_ids)],
                )
                .await?;
                Ok(())
            })
        })
        .await
    }

    async fn treat_due(&self, now: Timestamp, actor: &str) -> Result<TreatReport> {
        let args = (now, actor.to_string(), self.ctx().clone());
        self.write(args, |db, (now, actor, ctx)| {
            Box::pin(async move { treat(db, ctx, *now, actor).await })
        })
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
        self.read(move |db| {
            Box::pin(async move {
                let sql = match since {
                    Since::Joined => "SELECT id, joined_at FROM members WHERE joined_at >= $4 AND joined_at <= $1 \
                         AND (last_paid_at IS NULL OR last_paid_at < joined_at) AND id > $2 ORDER BY id LIMIT $3",
                    Since::LastOrder => "SELECT id, last_paid_at FROM members WHERE last_paid_at >= $4 AND last_paid_at <= $1 \
                         AND id > $2 ORDER BY id LIMIT $3",
                };
                db.query(
                    sql,
                    &[&micros(before), &cursor.clone().unwrap_or_default(), &i64::from(limit), &micros(from)],
                    |r| Ok((r.get::<String>(0)?, r.time(1)?)),
                )
                .await
            })
        })
        .await
    }

    async fn campaign_backlog(&self, now: Timestamp) -> Result<Backlog> {
        self.read(move |db| {
            Box::pin(async move {
                db.query_one(
                    "SELECT count(*), min(e.due_at), (SELECT count(*) FROM campaign_inbox) \
                     FROM campaign_entries e JOIN campaigns c ON c.id = e.campaign_id \
                     WHERE e.status = 'pending' AND e.due_at <= $1 AND c.status = 'active'",
                    &[&micros(now)],
                    |r| {
                        Ok(Backlog {
                            due: r.get(0)?,
                            oldest_due: r.get::<Option<i64>>(1)?.map(from_micros),
                            inbox: r.get(2)?,
                        })
                    },
                )
                .await
            })
        })
        .await
    }
}

/// One treatment batch: the active campaign with the earliest due entry, locked (a second
/// process waits here, then takes the next batch), its templates locked in id order, up to
/// [`TREAT_BATCH`] of its due entries planned by [`Batch`] and written.
async fn treat(db: &mut Db<'_>, ctx: &Ctx, now: Timestamp, actor: &str) -> Result<TreatReport> {
    let now_us = micros(now);
    let Some(campaign_id) = db
        .query_opt(
            "SELECT e.campaign_id FROM campaign_entries e JOIN campaigns c ON c.id = e.campaign_id \
             WHERE e.status = 'pending' AND e.due_at <= $1 AND c.status = 'active' ORDER BY e.due_at LIMIT 1",
            &[&now_us],
            |r| r.get::<String>(0),
        )
        .await?
    else {
        return Ok(TreatReport::default());
    };
    let (spec, created_at, spent, status) = db
        .query_one(
            "SELECT spec, created_at, granted, spent, status FROM campaigns WHERE id = $1 FOR UPDATE",
            &[&campaign_id],
            |r| {
                let spent = Spend {
                    count: r.get(2)?,
                    amount: r.get(3)?,
                };
                Ok((r.get::<String>(0)?, r.get::<i64>(1)?, spent, r.get::<String>(4)?))
            },
        )
        .await?;
    if status != CampaignStatus::Active.as_str() {
        return Ok(TreatReport::default());
    }
    let campaign = ctx.campaigns.get(&campaign_id, created_at, &spec)?;
    let due = db
        .query(
            "SELECT user_id, occurrence, template_id FROM campaign_entries WHERE campaign_id = $1 AND status = 'pending' AND due_at <= $2 \
             ORDER BY due_at, user_id, occurrence LIMIT $3",
            &[&campaign_id, &now_us, &i64::from(TREAT_BATCH)],
            |r| Ok((r.get::<String>(0)?, r.get::<String>(1)?, r.get::<Option<String>>(2)?)),
        )
        .await?;
    let users: Vec<String> = due.iter().map(|(u, _, _)| u.clone()).collect();
    let facts = Facts {
        spent,
        faces: faces(db, ctx, &campaign).await?,
        recent: match treat::cap_since(&campaign, now) {
            Some(since) => db
                .query(
                    "SELECT user_id, count(*) FROM campaign_entries WHERE campaign_id = $1 AND user_id = ANY($2) \
                     AND status = 'treated' AND done_at > $3 GROUP BY user_id",
                    &[&campaign_id, &Strings(&users), &micros(since)],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .await?
                .into_iter()
                .collect(),
            None => HashMap::new(),
        },
        guides: if campaign.spec().actions.iter().any(|a| matches!(a, Action::Task { .. })) {
            db.query(
                "SELECT id, guide_id FROM members WHERE id = ANY($1) AND guide_id IS NOT NULL",
                &[&Strings(&users)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .await?
            .into_iter()
            .collect()
        } else {
            HashMap::new()
        },
    };
    let entries = due
        .iter()
        .map(|(user, _, chosen)| Due {
            user_id: user.clone(),
            chosen: chosen.clone(),
        })
        .collect();
    let mut batch = Batch::new(&campaign, facts, entries, now);
    let actor = format!("{actor}:{campaign_id}");
    loop {
        let round = batch.round();
        if round.is_empty() {
            break;
        }
        for (i, outcome) in grant_round(db, ctx, &campaign_id, &batch, &round, now, &actor).await? {
            batch.granted(i, outcome);
        }
    }
    let plan = batch.finish();
    let occurrences: Vec<String> = due.into_iter().map(|(_, o, _)| o).collect();
    write_plan(db, &campaign_id, &users, &occurrences, &plan, now).await
}

/// The face values of the templates a campaign grants, their rows locked in id order.
async fn faces(
    db: &mut Db<'_>,
    ctx: &Ctx,
    campaign: &quan_core::campaign::Campaign,
) -> Result<HashMap<String, i64>> {
    let mut ids: Vec<String> = campaign.grants().into_iter().map(String::from).collect();
    ids.extend(
        campaign
            .allocation()
            .iter()
            .flat_map(|a| a.template_ids)
            .map(|t| t.as_str().to_string()),
    );
    ids.sort();
    ids.dedup();
    let rows = db
        .query(
            "SELECT id, spec, version, status FROM templates WHERE id = ANY($1) ORDER BY id FOR UPDATE",
            &[&Strings(&ids)],
            |r| {
                Ok((
                    r.get::<String>(0)?,
                    r.get::<String>(1)?,
                    r.get::<i64>(2)?,
                    r.get::<String>(3)?,
                ))
            },
        )
        .await?;
    rows.into_iter()
        .map(|(id, spec, version, status)| {
            let status =
                TemplateStatus::parse(&status).ok_or_else(|| corrupt("template status"))?;
            let face = ctx
                .templates
                .parsed(&id, version, status, &spec)?
                .face_value();
            Ok((id, face))
        })
        .collect()
}

/// Claims a round's grants: the single grants a claim batch per template; an entry of
/// several grants (alone in its round) one by one, where a refusal keeps none of them.
async fn grant_round(
    db: &mut Db<'_>,
    ctx: &Ctx,
    campaign_id: &str,
    batch: &Batch<'_>,
    round: &[usize],
    now: Timestamp,
    actor: &str,
) -> Result<Vec<(usize, std::result::Result<Vec<String>, ErrorCode>)>> {
    if let [i] = round {
        if batch.grants(*i).len() > 1 {
            return Ok(vec![(
                *i,
                grant_pack(db, ctx, campaign_id, batch, *i, now, actor).await?,
            )]);
        }
    }
    let mut by_template: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    let mut out = Vec::with_capacity(round.len());
    for &i in round {
        match batch.grants(i) {
            [] => out.push((i, Ok(Vec::new()))),
            [t] => by_template.entry(t.as_str()).or_default().push(i),
            _ => unreachable!("an entry of several grants is alone in its round"),
        }
    }
    for (template, entries) in by_template {
        let cmds: Vec<_> = entries
            .iter()
            .map(|&i| campaign_claim(campaign_id, template, batch.user(i), now, actor))
            .collect();
        let outcomes = claim_in(db, ctx, &cmds).await?;
        for (i, outcome) in entries.into_iter().zip(outcomes) {
            out.push((i, claimed(outcome).map(|c| vec![c])));
        }
    }
    Ok(out)
}

/// Claims an entry's several grants in order; the first refusal undoes the others (a
/// savepoint: the claim path decides and writes each grant in one step).
async fn grant_pack(
    db: &mut Db<'_>,
    ctx: &Ctx,
    campaign_id: &str,
    batch: &Batch<'_>,
    i: usize,
    now: Timestamp,
    actor: &str,
) -> Result<std::result::Result<Vec<String>, ErrorCode>> {
    db.execute("SAVEPOINT pack", &[]).await?;
    let mut coupons = Vec::new();
    for t in batch.grants(i) {
        let cmd = campaign_claim(campaign_id, t, batch.user(i), now, actor);
        let outcome = claim_in(db, ctx, std::slice::from_ref(&cmd)).await?;
        match claimed(outcome.into_iter().next().expect("one outcome")) {
            Ok(c) => coupons.push(c),
            Err(code) => {
                db.execute("ROLLBACK TO SAVEPOINT pack", &[]).await?;
                db.execute("RELEASE SAVEPOINT pack", &[]).await?;
                return Ok(Err(code));
            }
        }
    }
    db.execute("RELEASE SAVEPOINT pack", &[]).await?;
    Ok(Ok(coupons))
}

/// Writes a planned batch: its entries, the tasks and messages of treated members, the
/// campaign's counters, and its end.
async fn write_plan(
    db: &mut Db<'_>,
    campaign_id: &str,
    users: &[String],
    occurrences: &[String],
    plan: &Plan,
    now: Timestamp,
) -> Result<TreatReport> {
    let now_us = micros(now);
    let mut report = TreatReport {
        campaign_id: Some(campaign_id.to_string()),
        granted: plan.granted,
        ..TreatReport::default()
    };
    let statuses: Vec<String> = plan
        .entries
        .iter()
        .map(|e| e.status.as_str().to_string())
        .collect();
    let reasons: Vec<Option<String>> = plan
        .entries
        .iter()
        .map(|e| e.reason.map(|c| c.as_str().to_string()))
        .collect();
    let coupons: Vec<Option<String>> = plan
        .entries
        .iter()
        .map(|e| {
            (!e.coupons.is_empty())
                .then(|| serde_json::to_string(&e.coupons).expect("ids serialize"))
        })
        .collect();
    for e in &plan.entries {
        report.count(e.status);
    }
    db.execute_rows(
        "UPDATE campaign_entries SET status = x.s, reason = x.r, coupon_ids = x.c, done_at = $2 FROM {rows} \
         WHERE campaign_entries.campaign_id = $1 AND campaign_entries.user_id = x.u AND campaign_entries.occurrence = x.o",
        &[&campaign_id, &now_us],
        &[
            ("u", Column::Text(users)),
            ("o", Column::Text(occurrences)),
            ("s", Column::Text(&statuses)),
            ("r", Column::MaybeText(&reasons)),
            ("c", Column::MaybeText(&coupons)),
        ],
    )
    .await?;
    let tasks: Vec<NewTask> = plan
        .tasks
        .iter()
        .map(|t| NewTask {
            id: new_id("tsk", now.as_millisecond()),
            campaign_id: campaign_id.to_string(),
            user_id: t.user_id.clone(),
            guide_id: t.guide_id.clone(),
            title: t.title.clone(),
            template_id: t.template_id.clone(),
            material: t.material.clone(),
            message: t.message.clone(),
            now,
        })
        .collect();
    insert_tasks(db, &tasks).await?;
    let messages: Vec<NewMessage> = plan
        .messages
        .iter()
        .map(|m| NewMessage {
            id: new_id("msg", now.as_millisecond()),
            campaign_id: Some(campaign_id.to_string()),
            user_id: m.user_id.clone(),
            channel: m.channel,
            text: m.text.clone(),
            link_template_id: m.link_template_id.clone(),
            now,
        })
        .collect();
    insert_messages(db, &messages).await?;
    db.execute(
        "UPDATE campaigns SET treated = treated + $2, granted = $3, spent = $4, updated_at = $5 WHERE id = $1",
        &[&campaign_id, &(plan.treated as i64), &plan.spent.count, &plan.spent.amount, &now_us],
    )
    .await?;
    if let Some(reason) = plan.end {
        let marked = end(db, campaign_id, reason.as_str(), reason.marks(), now_us).await?;
        match reason {
            End::Budget => report.over_budget += marked,
            End::EndsAt | End::Completed => report.expired += marked,
        }
    }
    Ok(report)
}
