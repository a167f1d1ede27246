//! Campaigns on PostgreSQL: definitions, entries, the inbox (leased with `SKIP LOCKED`), and
//! treatment batches under the campaign's row lock, shared by every process on the database.

use async_trait::async_trait;
use deadpool_postgres::{GenericClient, Transaction};
use jiff::Timestamp;
use quan_core::campaign::decide::{EntryStatus, Spend, Verdict};
use quan_core::campaign::{CampaignAction, CampaignStatus, Since};
use quan_core::ErrorCode;
use tokio_postgres::Row;

use super::rows::*;
use super::{retrying, PgStore};
use crate::aggregate::claims::claim_in;
use crate::campaigning::*;
use crate::model::*;
use crate::sql::Db;
use crate::traits::*;
use crate::Result;

const COLS: &str = "id, spec, status, end_reason, trigger_at, entered, held_out, treated, granted, spent, activated_at, created_at, updated_at, \
     (SELECT count(*) FROM campaign_entries e WHERE e.campaign_id = campaigns.id AND e.status = 'pending')";
const ENTRY_COLS: &str =
    "campaign_id, user_id, occurrence, status, reason, coupon_ids, due_at, entered_at, done_at, template_id";

fn campaign_record(r: &Row) -> Result<CampaignRecord> {
    let id: String = r.get(0);
    Ok(CampaignRecord {
        spec: parse_spec(&id, r.get(1))?.into_spec(),
        status: CampaignStatus::parse(r.get(2)).ok_or_else(|| corrupt("campaign status"))?,
        end_reason: r.get(3),
        trigger_at: r.get::<_, Option<i64>>(4).map(from_micros),
        stats: CampaignStats {
            entered: r.get(5),
            held_out: r.get(6),
            treated: r.get(7),
            granted: r.get(8),
            spent: r.get(9),
            pending: r.get(13),
        },
        activated_at: r.get::<_, Option<i64>>(10).map(from_micros),
        created_at: from_micros(r.get(11)),
        updated_at: from_micros(r.get(12)),
        id,
    })
}

fn entry_record(r: &Row) -> Result<EntryRecord> {
    let coupons: Option<String> = r.get(5);
    Ok(EntryRecord {
        campaign_id: r.get(0),
        user_id: r.get(1),
        occurrence: r.get(2),
        status: EntryStatus::parse(r.get(3)).ok_or_else(|| corrupt("entry status"))?,
        reason: r.get(4),
        coupon_ids: match coupons {
            Some(c) => json(&c, "entry coupons")?,
            None => Vec::new(),
        },
        due_at: from_micros(r.get(6)),
        entered_at: from_micros(r.get(7)),
        done_at: r.get::<_, Option<i64>>(8).map(from_micros),
        template_id: r.get(9),
    })
}

async fn get(c: &impl GenericClient, id: &str) -> Result<Option<CampaignRecord>> {
    c.query_opt(
        &format!("SELECT {COLS} FROM campaigns WHERE id = $1"),
        &[&id],
    )
    .await?
    .as_ref()
    .map(campaign_record)
    .transpose()
}

async fn must_get(c: &impl GenericClient, id: &str) -> Result<CampaignRecord> {
    get(c, id)
        .await?
        .ok_or_else(|| corrupt("campaign vanished"))
}

/// Ends a campaign inside the caller's transaction, its pending entries marked `marked`;
/// returns how many were pending.
async fn end(
    c: &impl GenericClient,
    id: &str,
    reason: &str,
    marked: EntryStatus,
    now: i64,
) -> Result<u64> {
    c.execute(
        "UPDATE campaigns SET status = 'ended', end_reason = $2, updated_at = $3 WHERE id = $1",
        &[&id, &reason, &now],
    )
    .await?;
    Ok(c.execute(
        "UPDATE campaign_entries SET status = $2, done_at = $3 WHERE campaign_id = $1 AND status = 'pending'",
        &[&id, &marked.as_str(), &now],
    )
    .await?)
}

/// Writes entries into an active campaign under its row lock and counts them; `None` when
/// the campaign is not active or its trigger moved.
async fn add(
    c: &impl GenericClient,
    campaign_id: &str,
    entries: &[NewEntry],
    trigger: Option<TriggerMove>,
    now: i64,
) -> Result<Option<u64>> {
    let Some(row) = c
        .query_opt(
            "SELECT status, trigger_at FROM campaigns WHERE id = $1 FOR UPDATE",
            &[&campaign_id],
        )
        .await?
    else {
        return Ok(None);
    };
    if row.get::<_, &str>(0) != CampaignStatus::Active.as_str() {
        return Ok(None);
    }
    if let Some(m) = trigger {
        if row.get::<_, Option<i64>>(1) != m.from.map(micros) {
            return Ok(None);
        }
        c.execute(
            "UPDATE campaigns SET trigger_at = $2 WHERE id = $1",
            &[&campaign_id, &m.to.map(micros)],
        )
        .await?;
    }
    if entries.is_empty() {
        return Ok(Some(0));
    }
    let users: Vec<&str> = entries.iter().map(|e| e.user_id.as_str()).collect();
    let occurrences: Vec<&str> = entries.iter().map(|e| e.occurrence.as_str()).collect();
    let due: Vec<i64> = entries.iter().map(|e| micros(e.due_at)).collect();
    let status: Vec<&str> = entries.iter().map(|e| e.first_status().as_str()).collect();
    let chosen: Vec<Option<&str>> = entries.iter().map(|e| e.template_id()).collect();
    let row = c
        .query_one(
            "WITH n AS (INSERT INTO campaign_entries (campaign_id, user_id, occurrence, status, due_at, entered_at, done_at, template_id) \
             SELECT $1, u, o, s, d, $6::bigint, CASE WHEN s <> 'pending' THEN $6::bigint END, t \
             FROM unnest($2::text[], $3::text[], $4::bigint[], $5::text[], $7::text[]) AS x (u, o, d, s, t) \
             ON CONFLICT DO NOTHING RETURNING status) \
             SELECT count(*), count(*) FILTER (WHERE status = 'held_out') FROM n",
            &[&campaign_id, &users, &occurrences, &due, &status, &now, &chosen],
        )
        .await?;
    let (entered, held_out): (i64, i64) = (row.get(0), row.get(1));
    if entered > 0 {
        c.execute(
            "UPDATE campaigns SET entered = entered + $2, held_out = held_out + $3 WHERE id = $1",
            &[&campaign_id, &entered, &held_out],
        )
        .await?;
    }
    Ok(Some(entered as u64))
}

#[async_trait]
impl Campaigns for PgStore {
    async fn insert_campaign(&self, c: NewCampaign) -> Result<CampaignRecord> {
        let client = self.pool.get().await?;
        client
            .execute(
                "INSERT INTO campaigns (id, name, spec, status, trigger_event, created_at, updated_at) VALUES ($1, $2, $3, 'draft', $4, $5, $5)",
                &[&c.id, &c.spec.name.as_str(), &spec_json(&c.spec), &trigger_event(&c.spec), &micros(c.now)],
            )
            .await?;
        must_get(&client, &c.id).await
    }

    async fn campaign(&self, id: &str) -> Result<Option<CampaignRecord>> {
        let c = self.pool.get().await?;
        get(&c, id).await
    }

    async fn list_campaigns(
        &self,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<Page<CampaignRecord>> {
        let c = self.pool.get().await?;
        let total: i64 = c
            .query_one("SELECT count(*) FROM campaigns", &[])
            .await?
            .get(0);
        let rows = c
            .query(
                &format!("SELECT {COLS} FROM campaigns WHERE id > $1 ORDER BY id LIMIT $2"),
                &[&cursor.unwrap_or_default(), &(i64::from(limit) + 1)],
            )
            .await?;
        let items = rows
            .iter()
            .map(campaign_record)
            .collect::<Result<Vec<_>>>()?;
        Ok(page_of(items, limit, total, |c| c.id.clone()))
    }

    async fn running_campaigns(&self) -> Result<Vec<CampaignRecord>> {
        let c = self.pool.get().await?;
        c.query(
            &format!("SELECT {COLS} FROM campaigns WHERE status = 'active' ORDER BY id"),
            &[],
        )
        .await?
        .iter()
        .map(campaign_record)
        .collect()
    }

    async fn set_campaign_status(
        &self,
        id: &str,
        action: CampaignAction,
        reason: &str,
        now: Timestamp,
    ) -> Result<Option<Result<CampaignRecord, ErrorCode>>> {
        retrying(|| async {
            let mut c = self.pool.get().await?;
            let tx = c.transaction().await?;
            let Some(row) = tx
                .query_opt("SELECT status FROM campaigns WHERE id = $1 FOR UPDATE", &[&id])
                .await?
            else {
                return Ok(None);
            };
            let status =
                CampaignStatus::parse(row.get(0)).ok_or_else(|| corrupt("campaign status"))?;
            let Some(next) = status.apply(action) else {
                return Ok(Some(Err(ErrorCode::InvalidState)));
            };
            let now = micros(now);
            if next == CampaignStatus::Ended {
                if status != CampaignStatus::Ended {
                    end(&tx, id, reason, EntryStatus::Expired, now).await?;
                }
            } else if next != status {
                tx.execute(
                    "UPDATE campaigns SET status = $2, activated_at = coalesce(activated_at, $3), updated_at = $3 WHERE id = $1",
                    &[&id, &next.as_str(), &now],
                )
                .await?;
            }
            let record = must_get(&tx, id).await?;
            tx.commit().await?;
            Ok(Some(Ok(record)))
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
        retrying(|| async {
            let mut c = self.pool.get().await?;
            let tx = c.transaction().await?;
            let n = add(&tx, campaign_id, &entries, trigger, micros(now)).await?;
            tx.commit().await?;
            Ok(n)
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
        let mut c = self.pool.get().await?;
        let tx = c
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?;
        let status = status.map(EntryStatus::as_str);
        let total: i64 = tx
            .query_one(
                "SELECT count(*) FROM campaign_entries WHERE campaign_id = $1 AND ($2::text IS NULL OR status = $2)",
                &[&campaign_id, &status],
            )
            .await?
            .get(0);
        let (user, occurrence) = split_cursor(cursor.as_deref());
        let rows = tx
            .query(
                &format!(
                    "SELECT {ENTRY_COLS} FROM campaign_entries WHERE campaign_id = $1 AND ($2::text IS NULL OR status = $2) \
                     AND (user_id, occurrence) > ($3, $4) ORDER BY user_id, occurrence LIMIT $5"
                ),
                &[&campaign_id, &status, &user, &occurrence, &(i64::from(limit) + 1)],
            )
            .await?;
        tx.commit().await?;
        let items = rows.iter().map(entry_record).collect::<Result<Vec<_>>>()?;
        Ok(page_of(items, limit, total, entry_cursor))
    }

    async fn take_inbox(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<InboxEvent>> {
        let c = self.pool.get().await?;
        let rows = c
            .query(
                "UPDATE campaign_inbox SET lease_until = $2 WHERE event_id IN \
                 (SELECT event_id FROM campaign_inbox WHERE lease_until < $1 ORDER BY created_at, event_id LIMIT $3 FOR UPDATE SKIP LOCKED) \
                 RETURNING event_id, user_id, kind, at, created_at, \
                 (SELECT data FROM events e WHERE e.id = campaign_inbox.event_id)",
                &[&micros(now), &micros(lease_until), &i64::from(limit)],
            )
            .await?;
        let mut events: Vec<InboxEvent> = rows
            .iter()
            .map(|r| InboxEvent {
                event_id: r.get(0),
                user_id: r.get(1),
                kind: r.get(2),
                at: from_micros(r.get(3)),
                created_at: from_micros(r.get(4)),
                data: r
                    .get::<_, Option<String>>(5)
                    .and_then(|d| serde_json::from_str(&d).ok())
                    .unwrap_or_default(),
            })
            .collect();
        events.sort_by(|a, b| (a.created_at, &a.event_id).cmp(&(b.created_at, &b.event_id)));
        Ok(events)
    }

    async fn settle_inbox(
        &self,
        event_ids: Vec<String>,
        entries: Vec<(String, NewEntry)>,
        now: Timestamp,
    ) -> Result<()> {
        let groups = group_by_campaign(entries);
        retrying(|| async {
            let mut c = self.pool.get().await?;
            let tx = c.transaction().await?;
            for (campaign, group) in &groups {
                add(&tx, campaign, group, None, micros(now)).await?;
            }
            tx.execute(
                "DELETE FROM campaign_inbox WHERE event_id = ANY($1)",
                &[&event_ids],
            )
            .await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    async fn treat_due(&self, now: Timestamp, actor: &str) -> Result<TreatReport> {
        retrying(|| self.treat_once(now, actor)).await
    }

    async fn inactive_members(
        &self,
        since: Since,
        from: Timestamp,
        before: Timestamp,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<Vec<(String, Timestamp)>> {
        let sql = match since {
            Since::Joined => "SELECT id, joined_at FROM members WHERE joined_at >= $4 AND joined_at <= $1 \
                 AND (last_paid_at IS NULL OR last_paid_at < joined_at) AND id > $2 ORDER BY id LIMIT $3",
            Since::LastOrder => "SELECT id, last_paid_at FROM members WHERE last_paid_at >= $4 AND last_paid_at <= $1 \
                 AND id > $2 ORDER BY id LIMIT $3",
        };
        let c = self.pool.get().await?;
        Ok(c.query(
            sql,
            &[
                &micros(before),
                &cursor.unwrap_or_default(),
                &i64::from(limit),
                &micros(from),
            ],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), from_micros(r.get(1))))
        .collect())
    }

    async fn campaign_backlog(&self, now: Timestamp) -> Result<Backlog> {
        let c = self.pool.get().await?;
        let row = c
            .query_one(
                "SELECT count(*), min(e.due_at), (SELECT count(*) FROM campaign_inbox) \
                 FROM campaign_entries e JOIN campaigns c ON c.id = e.campaign_id \
                 WHERE e.status = 'pending' AND e.due_at <= $1 AND c.status = 'active'",
                &[&micros(now)],
            )
            .await?;
        Ok(Backlog {
            due: row.get(0),
            oldest_due: row.get::<_, Option<i64>>(1).map(from_micros),
            inbox: row.get(2),
        })
    }
}

impl PgStore {
    /// One treatment batch: the active campaign with the earliest due entry, locked (a
    /// second process waits here and then takes the next batch), its templates locked in id
    /// order, then up to [`TREAT_BATCH`] due entries, each in its own savepoint.
    async fn treat_once(&self, now: Timestamp, actor: &str) -> Result<TreatReport> {
        let now_us = micros(now);
        let mut client = self.pool.get().await?;
        let mut tx = client.transaction().await?;
        let Some(first) = tx
            .query_opt(
                "SELECT e.campaign_id FROM campaign_entries e JOIN campaigns c ON c.id = e.campaign_id \
                 WHERE e.status = 'pending' AND e.due_at <= $1 AND c.status = 'active' ORDER BY e.due_at LIMIT 1",
                &[&now_us],
            )
            .await?
        else {
            return Ok(TreatReport::default());
        };
        let campaign_id: String = first.get(0);
        let row = tx
            .query_one(
                "SELECT spec, created_at, granted, spent, status FROM campaigns WHERE id = $1 FOR UPDATE",
                &[&campaign_id],
            )
            .await?;
        if row.get::<_, &str>(4) != CampaignStatus::Active.as_str() {
            return Ok(TreatReport::default());
        }
        let campaign = self
            .ctx
            .campaigns
            .get(&campaign_id, row.get(1), row.get(0))?;
        let actor = &format!("{actor}:{campaign_id}");
        let mut report = TreatReport {
            campaign_id: Some(campaign_id.clone()),
            ..TreatReport::default()
        };
        if campaign.spec().ends_at.is_some_and(|e| now >= e) {
            report.expired =
                end(&tx, &campaign_id, "ends_at", EntryStatus::Expired, now_us).await?;
            tx.commit().await?;
            return Ok(report);
        }
        let grants: Vec<String> = campaign.grants().into_iter().map(String::from).collect();
        let mut sorted = grants.clone();
        sorted.extend(
            campaign
                .allocation()
                .iter()
                .flat_map(|a| a.template_ids)
                .map(|t| t.as_str().to_string()),
        );
        sorted.sort();
        sorted.dedup();
        let mut faces = std::collections::HashMap::new();
        for r in tx
            .query(
                "SELECT id, spec, version FROM templates WHERE id = ANY($1) ORDER BY id FOR UPDATE",
                &[&sorted],
            )
            .await?
        {
            let id: String = r.get(0);
            let face = self
                .ctx
                .templates
                .get(&id, r.get(2), r.get(1))?
                .face_value();
            faces.insert(id, face);
        }
        let face_values: Vec<i64> = grants
            .iter()
            .map(|t| faces.get(t).copied().unwrap_or(0))
            .collect();
        let spent = Spend {
            count: row.get(2),
            amount: row.get(3),
        };
        let mut plan = Treatment::new(campaign, spent, &face_values);
        plan.report.campaign_id = Some(campaign_id.clone());
        let due = tx
            .query(
                "SELECT user_id, occurrence, template_id FROM campaign_entries WHERE campaign_id = $1 AND status = 'pending' AND due_at <= $2 \
                 ORDER BY due_at, user_id, occurrence LIMIT $3",
                &[&campaign_id, &now_us, &i64::from(TREAT_BATCH)],
            )
            .await?;
        let cap_since = plan.cap_since(now).map(micros);
        if grants.len() == 1 {
            self.treat_together(
                &tx,
                &mut plan,
                &campaign_id,
                &grants[0],
                &due,
                cap_since,
                now,
                actor,
            )
            .await?;
        }
        for r in due.iter().filter(|_| grants.len() != 1) {
            let (user, occurrence): (&str, &str) = (r.get(0), r.get(1));
            let chosen: Vec<String> = r.get::<_, Option<String>>(2).into_iter().collect();
            if let Some(t) = chosen.first() {
                plan.price(faces.get(t).copied().unwrap_or(0));
            }
            let grants = if chosen.is_empty() { &grants } else { &chosen };
            let recent: i64 = match cap_since {
                Some(since) => tx
                    .query_one(
                        "SELECT count(*) FROM campaign_entries WHERE campaign_id = $1 AND user_id = $2 AND status = 'treated' AND done_at > $3",
                        &[&campaign_id, &user, &since],
                    )
                    .await?
                    .get(0),
                None => 0,
            };
            let (status, reason, coupons) = match plan.verdict(recent) {
                Verdict::Capped => (EntryStatus::Capped, None, Vec::new()),
                Verdict::OverBudget => (EntryStatus::OverBudget, None, Vec::new()),
                Verdict::Treat => {
                    match self
                        .grant_all(&mut tx, &plan, grants, &campaign_id, user, now, actor)
                        .await?
                    {
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
            let coupons = (!coupons.is_empty())
                .then(|| serde_json::to_string(&coupons).expect("ids serialize"));
            tx.execute(
                "UPDATE campaign_entries SET status = $4, reason = $5, coupon_ids = $6, done_at = $7 \
                 WHERE campaign_id = $1 AND user_id = $2 AND occurrence = $3",
                &[&campaign_id, &user, &occurrence, &status.as_str(), &reason, &coupons, &now_us],
            )
            .await?;
        }
        tx.execute(
            "UPDATE campaigns SET treated = treated + $2, granted = $3, spent = $4, updated_at = $5 WHERE id = $1",
            &[
                &campaign_id,
                &(plan.report.treated as i64),
                &plan.spent.count,
                &plan.spent.amount,
                &now_us,
            ],
        )
        .await?;
        if plan.exhausted {
            plan.report.over_budget +=
                end(&tx, &campaign_id, "budget", EntryStatus::OverBudget, now_us).await?;
        }
        tx.commit().await?;
        Ok(plan.report)
    }

    /// Treats a batch whose campaign grants one template in rounds ([`Rounds`]), each round one
    /// claim batch of the template (the claim path's set-based batch), then writes the
    /// entries, tasks and messages with a statement each.
    #[allow(clippy::too_many_arguments)]
    async fn treat_together(
        &self,
        tx: &Transaction<'_>,
        plan: &mut Treatment,
        campaign_id: &str,
        template_id: &str,
        due: &[Row],
        cap_since: Option<i64>,
        now: Timestamp,
        actor: &str,
    ) -> Result<()> {
        let now_us = micros(now);
        let users: Vec<&str> = due.iter().map(|r| r.get(0)).collect();
        let occurrences: Vec<&str> = due.iter().map(|r| r.get(1)).collect();
        let mut recent = std::collections::HashMap::new();
        if let Some(since) = cap_since {
            for r in tx
                .query(
                    "SELECT user_id, count(*) FROM campaign_entries WHERE campaign_id = $1 AND user_id = ANY($2) \
                     AND status = 'treated' AND done_at > $3 GROUP BY user_id",
                    &[&campaign_id, &users, &since],
                )
                .await?
            {
                let user: &str = r.get(0);
                let at = users.iter().position(|u| *u == user).expect("asked for");
                recent.insert(users[at], r.get::<_, i64>(1));
            }
        }
        let mut rounds = Rounds::new(users.clone(), recent);
        loop {
            let round = rounds.round(plan);
            if round.is_empty() {
                break;
            }
            let cmds: Vec<_> = round
                .iter()
                .map(|&i| campaign_claim(template_id, users[i], now, actor))
                .collect();
            let outcomes = claim_in(&mut Db::PgTx(tx), &self.ctx, &cmds).await?;
            for (i, outcome) in round.into_iter().zip(outcomes) {
                rounds.claimed(plan, i, claimed(outcome));
            }
        }
        let mut statuses = Vec::with_capacity(due.len());
        let mut reasons = Vec::with_capacity(due.len());
        let mut coupons = Vec::with_capacity(due.len());
        let mut treated = Vec::new();
        for (i, d) in rounds.decided.iter().enumerate() {
            let (status, reason, coupon) = d.clone().expect("every entry decided");
            statuses.push(status.as_str());
            reasons.push(reason);
            coupons.push(
                coupon
                    .as_ref()
                    .map(|c| serde_json::to_string(&[c]).expect("ids")),
            );
            if status == EntryStatus::Treated {
                treated.push(users[i]);
            }
        }
        tx.execute(
            "UPDATE campaign_entries e SET status = x.s, reason = x.r, coupon_ids = x.c, done_at = $2 \
             FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) AS x (u, o, s, r, c) \
             WHERE e.campaign_id = $1 AND e.user_id = x.u AND e.occurrence = x.o",
            &[&campaign_id, &now_us, &users, &occurrences, &statuses, &reasons, &coupons],
        )
        .await?;
        self.side_rows(tx, plan, campaign_id, &treated, now).await
    }

    /// The tasks and messages of treated members, a statement each.
    async fn side_rows(
        &self,
        tx: &Transaction<'_>,
        plan: &Treatment,
        campaign_id: &str,
        treated: &[&str],
        now: Timestamp,
    ) -> Result<()> {
        // Each treated member's rows, with ids of their own.
        let rows: Vec<_> = treated.iter().map(|u| (*u, plan.side_rows(now))).collect();
        let task_kinds = rows.iter().any(|(_, (t, _))| !t.is_empty());
        let message_kinds = rows.iter().any(|(_, (_, m))| !m.is_empty());
        if !task_kinds && !message_kinds {
            return Ok(());
        }
        let now_us = micros(now);
        if task_kinds {
            let mut guides = std::collections::HashMap::new();
            for r in tx
                .query(
                    "SELECT id, guide_id FROM members WHERE id = ANY($1)",
                    &[&treated],
                )
                .await?
            {
                guides.insert(r.get::<_, String>(0), r.get::<_, Option<String>>(1));
            }
            let (mut id, mut user, mut guide, mut title, mut template, mut material, mut message) =
                (vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
            for (u, (tasks, _)) in &rows {
                for t in tasks {
                    id.push(t.id.clone());
                    user.push(u.to_string());
                    guide.push(guides.get(*u).cloned().flatten());
                    title.push(t.title.clone());
                    template.push(t.template_id.clone());
                    material.push(t.material.clone());
                    message.push(t.message.clone());
                }
            }
            tx.execute(
                "INSERT INTO tasks (id, campaign_id, user_id, guide_id, title, template_id, material, message, status, created_at) \
                 SELECT i, $1, u, g, t, tp, m, s, 'open', $2 FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[]) \
                 AS x (i, u, g, t, tp, m, s)",
                &[&campaign_id, &now_us, &id, &user, &guide, &title, &template, &material, &message],
            )
            .await?;
        }
        if message_kinds {
            let (mut id, mut user, mut channel, mut text, mut link) =
                (vec![], vec![], vec![], vec![], vec![]);
            for (u, (_, messages)) in &rows {
                for m in messages {
                    id.push(m.id.clone());
                    user.push(u.to_string());
                    channel.push(m.channel);
                    text.push(m.text.clone());
                    link.push(m.link_template_id.clone());
                }
            }
            tx.execute(
                "INSERT INTO outbox (id, campaign_id, user_id, channel, text, link_template_id, status, attempts, next_attempt_at, lease_until, created_at) \
                 SELECT i, $1, u, c, t, l, 'pending', 0, $2, 0, $2 FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) \
                 AS x (i, u, c, t, l)",
                &[&campaign_id, &now_us, &id, &user, &channel, &text, &link],
            )
            .await?;
        }
        Ok(())
    }

    /// Grants every template of a treatment and writes its tasks and messages in one
    /// savepoint; the first refusal rolls it back and is the answer.
    #[allow(clippy::too_many_arguments)]
    async fn grant_all(
        &self,
        tx: &mut Transaction<'_>,
        plan: &Treatment,
        grants: &[String],
        campaign_id: &str,
        user: &str,
        now: Timestamp,
        actor: &str,
    ) -> Result<std::result::Result<Vec<String>, ErrorCode>> {
        let sp = tx.transaction().await?;
        let mut coupons = Vec::with_capacity(grants.len());
        for t in grants {
            let cmd = campaign_claim(t, user, now, actor);
            let mut outcomes =
                claim_in(&mut Db::PgTx(&sp), &self.ctx, std::slice::from_ref(&cmd)).await?;
            match claimed(outcomes.pop().expect("one outcome")) {
                Ok(id) => coupons.push(id),
                Err(code) => {
                    sp.rollback().await?;
                    return Ok(Err(code));
                }
            }
        }
        let (tasks, messages) = plan.side_rows(now);
        if !tasks.is_empty() {
            let guide: Option<String> = sp
                .query_opt("SELECT guide_id FROM members WHERE id = $1", &[&user])
                .await?
                .and_then(|r| r.get(0));
            for t in tasks {
                sp.execute(
                    "INSERT INTO tasks (id, campaign_id, user_id, guide_id, title, template_id, material, message, status, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open', $9)",
                    &[&t.id, &campaign_id, &user, &guide, &t.title, &t.template_id, &t.material, &t.message, &micros(now)],
                )
                .await?;
            }
        }
        for m in messages {
            sp.execute(
                "INSERT INTO outbox (id, campaign_id, user_id, channel, text, link_template_id, status, attempts, next_attempt_at, lease_until, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, 0, $7)",
                &[&m.id, &campaign_id, &user, &m.channel, &m.text, &m.link_template_id, &micros(now)],
            )
            .await?;
        }
        sp.commit().await?;
        Ok(Ok(coupons))
    }
}
