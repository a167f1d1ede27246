//! Claims on SQLite: a batch of one template read, decided by `claiming::plan_batch` and
//! written inside the writer's transaction; claim codes.

use std::collections::{HashMap, HashSet};

use quan_core::claim::MemberFacts;
use quan_core::template::TemplateStatus;
use quan_core::ErrorCode;
use tokio::sync::oneshot;

use super::writer::Work;
use crate::claiming;
use crate::scrm::members;
use crate::sql::Ctx;
use async_trait::async_trait;
use jiff::Timestamp;
use rusqlite::{params, Connection, OptionalExtension};

use super::rows::*;
use super::SqliteStore;
use crate::model::*;
use crate::traits::*;
use crate::{Result, StoreError};

#[async_trait]
impl Claims for SqliteStore {
    async fn claim(&self, cmd: ClaimCommand) -> Result<ClaimOutcome> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Work::Claim(Box::new(cmd), tx))
            .map_err(|_| StoreError::WriterGone)?;
        rx.await.map_err(|_| StoreError::WriterGone)?
    }

    async fn make_claim_codes(
        &self,
        template_id: &str,
        count: u32,
        now: Timestamp,
    ) -> Result<Result<Vec<String>, ErrorCode>> {
        let template_id = template_id.to_string();
        self.write_conn(move |tx, _| {
            let n = i64::from(count);
            let updated = tx.execute(
                "UPDATE templates SET remaining = remaining - ?2, issued = issued + ?2 WHERE id = ?1 AND (remaining IS NULL OR remaining >= ?2)",
                params![template_id, n],
            )?;
            if updated == 0 {
                return Ok(Err(ErrorCode::OutOfStock));
            }
            let mut insert = tx.prepare_cached("INSERT INTO claim_codes (code, template_id, created_at) VALUES (?1, ?2, ?3)")?;
            let codes: Vec<String> = (0..count).map(|_| crate::ids::new_code()).collect();
            for code in &codes {
                insert.execute(params![code, template_id, micros(now)])?;
            }
            Ok(Ok(codes))
        })
        .await
    }

    async fn claimant(
        &self,
        template_id: &str,
        template: &quan_core::template::Template,
        user_id: &str,
        now: Timestamp,
    ) -> Result<crate::Claimant> {
        let needs = claiming::needs_member(template);
        let segment = claiming::audience_segment(template).map(str::to_string);
        let template_id = template_id.to_string();
        let user_id = user_id.to_string();
        self.read_point_conn(move |conn| {
            let facts = if needs {
                member_facts(conn, &user_id, segment.as_deref(), now)?
            } else {
                MemberFacts::default()
            };
            let days = claim_days(conn, &user_id, &template_id)?;
            Ok(crate::Claimant { facts, days })
        })
        .await
    }
}

/// A user's claims of a template per tenant-local claim day: `(day, count)`.
fn claim_days(conn: &Connection, user_id: &str, template_id: &str) -> Result<Vec<(i64, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT claim_day, COUNT(*) FROM coupons WHERE user_id = ?1 AND template_id = ?2 GROUP BY claim_day",
    )?;
    let days = stmt
        .query_map([user_id, template_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(days)
}

/// What deciding a claim needs to know of its user, made by the one rule of both backends
/// ([`members::member_facts`]).
fn member_facts(
    conn: &Connection,
    user_id: &str,
    segment: Option<&str>,
    now: Timestamp,
) -> Result<MemberFacts> {
    let row = conn
        .prepare_cached(&format!(
            "SELECT {} FROM members WHERE id = ?1",
            members::FACTS_COLS
        ))?
        .query_row([user_id], |r| {
            Ok(members::FactsRow {
                joined_at: r.get::<_, Option<i64>>(0)?.map(ts),
                tier: r.get(1)?,
                paid_orders: r.get(2)?,
            })
        })
        .optional()?;
    let in_segment = match segment {
        Some(s) => super::segments::in_segment(conn, s, user_id, now)?,
        None => false,
    };
    Ok(members::member_facts(row, in_segment))
}

/// Decides and writes a batch of claims of one template inside the writer's transaction.
/// The single writer makes these reads and writes race-free; [`claiming::plan_batch`] decides.
/// The inner result is the decision (an error there has written nothing); the outer error is a
/// failure while writing, after which the transaction must be rolled back.
pub(crate) fn claim_batch(
    conn: &Connection,
    ctx: &Ctx,
    cmds: &[ClaimCommand],
) -> Result<Result<Vec<ClaimOutcome>>> {
    let (store_id, plan) = match decide_batch(conn, ctx, cmds) {
        Ok(Some(decided)) => decided,
        Ok(None) => return Ok(Ok(cmds.iter().map(|_| ClaimOutcome::NotFound).collect())),
        Err(e) => return Ok(Err(e)),
    };
    write_batch(conn, &cmds[0].template_id, store_id.as_deref(), &plan)?;
    Ok(Ok(plan.outcomes))
}

/// Reads what a batch needs and decides it: the template's store and the plan, or `None`
/// when the template does not exist.
fn decide_batch(
    conn: &Connection,
    ctx: &Ctx,
    cmds: &[ClaimCommand],
) -> Result<Option<(Option<String>, claiming::BatchPlan)>> {
    let template_id = &cmds[0].template_id;
    let row = conn
        .prepare_cached(
            "SELECT store_id, status, spec, version, remaining FROM templates WHERE id = ?1",
        )?
        .query_row([template_id], |r| {
            Ok((
                r.get::<_, Option<String>>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, Option<i64>>(4)?,
            ))
        })
        .optional()?;
    let Some((store_id, status, spec, version, remaining)) = row else {
        return Ok(None);
    };
    let template = ctx.templates.get(template_id, version, &spec)?;
    let mut facts = claiming::BatchFacts {
        store_id,
        status: TemplateStatus::parse(&status).ok_or_else(|| corrupt("template status"))?,
        remaining,
        prior: HashMap::new(),
        usable_codes: HashSet::new(),
        members: HashMap::new(),
        counts: HashMap::new(),
    };
    let mut seen = HashSet::new();
    let needs_member = claiming::needs_member(&template);
    for cmd in cmds {
        if let Some(key) = &cmd.idempotency {
            let prior: Option<(String, Option<String>)> = conn
                .prepare_cached("SELECT request_hash, response FROM idempotency WHERE key_id = ?1 AND idem_key = ?2")?
                .query_row([&key.key_id, &key.key], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            if let Some(p) = prior {
                facts.prior.insert((key.key_id.clone(), key.key.clone()), p);
            }
        }
        if let ClaimRoute::Code(code) = &cmd.route {
            let usable: bool = conn
                .prepare_cached("SELECT EXISTS (SELECT 1 FROM claim_codes WHERE code = ?1 AND template_id = ?2 AND used_by IS NULL)")?
                .query_row([code, template_id], |r| r.get(0))?;
            if usable {
                facts.usable_codes.insert(code.clone());
            }
        }
        if !seen.insert(cmd.user_id.as_str()) {
            continue;
        }
        if needs_member {
            let facts_of = member_facts(
                conn,
                &cmd.user_id,
                claiming::audience_segment(&template),
                cmd.now,
            )?;
            facts.members.insert(cmd.user_id.clone(), facts_of);
        }
        for (day, n) in claim_days(conn, &cmd.user_id, template_id)? {
            facts.counts.insert((cmd.user_id.clone(), day), n);
        }
    }
    let store_id = facts.store_id.clone();
    let plan = claiming::plan_batch(&template, facts, cmds, &ctx.zone)?;
    Ok(Some((store_id, plan)))
}

/// Writes a decided batch: its coupons with their ledger entries, the template's counters, the
/// claim codes it used and its idempotency records.
fn write_batch(
    conn: &Connection,
    template_id: &str,
    store_id: Option<&str>,
    plan: &claiming::BatchPlan,
) -> Result<()> {
    let c = &plan.coupons;
    let mut insert = conn.prepare_cached(
        "INSERT INTO coupons (id, template_id, store_id, user_id, code, status, route, claimed_at, claim_day, valid_from, valid_until, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, 'claimed', ?6, ?7, ?8, ?9, ?10, ?7)",
    )?;
    let mut ledger = conn.prepare_cached(
        "INSERT INTO coupon_ledger (coupon_id, template_id, user_id, event, from_status, to_status, at, actor, reason) \
         VALUES (?1, ?2, ?3, ?4, NULL, 'claimed', ?5, ?6, ?7)",
    )?;
    for i in 0..c.id.len() {
        insert.execute(params![
            c.id[i],
            template_id,
            store_id,
            c.user[i],
            c.code[i],
            c.route[i],
            c.claimed_at[i],
            c.day[i],
            c.from[i],
            c.until[i]
        ])?;
        ledger.execute(params![
            c.id[i],
            template_id,
            c.user[i],
            c.event[i],
            c.claimed_at[i],
            c.actor[i],
            c.route[i]
        ])?;
    }
    if plan.claimed > 0 {
        conn.prepare_cached("UPDATE templates SET remaining = ?2, issued = issued + ?3, claimed = claimed + ?4 WHERE id = ?1")?
            .execute(params![template_id, plan.remaining, plan.issued, plan.claimed])?;
    }
    let u = &plan.codes;
    for i in 0..u.code.len() {
        conn.prepare_cached(
            "UPDATE claim_codes SET used_by = ?2, coupon_id = ?3, used_at = ?4 WHERE code = ?1",
        )?
        .execute(params![u.code[i], u.user[i], u.coupon[i], u.at[i]])?;
    }
    let k = &plan.idem;
    for i in 0..k.key.len() {
        conn.prepare_cached("INSERT INTO idempotency (key_id, idem_key, request_hash, response, created_at) VALUES (?1, ?2, ?3, ?4, ?5)")?
            .execute(params![k.key_id[i], k.key[i], k.hash[i], k.response[i], k.at[i]])?;
    }
    Ok(())
}
