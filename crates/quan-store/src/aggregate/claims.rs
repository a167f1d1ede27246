//! Claims: a batch of one template's claims read under its row lock, decided by
//! `plan::plan_batch` and written with set-based statements; claim codes; what a claim
//! would be decided on.

use std::collections::{BTreeSet, HashMap};

use async_trait::async_trait;
use jiff::Timestamp;
use quan_core::claim::MemberFacts;
use quan_core::template::{Template, TemplateStatus};
use quan_core::ErrorCode;

use super::counts::{CountRows, ADD_COUPON_COUNTS};
use super::segments::in_segment;
use crate::plan::claims::{self as plan, BatchFacts, BatchPlan};
use crate::plan::counts::{CouponCounts, CouponDelta, CouponKey};
use crate::records::*;
use crate::scrm::members;
use crate::sql::{Column, Ctx, Db, Engine, Statement, Strings};
use crate::traits::Claims;
use crate::{Claimant, Result, StoreError};
use quan_core::coupon::CouponStatus;

/// The tenant-local claim day of each claim of a template by the users asked (counted in Rust:
/// a `GROUP BY` would sort them in a temporary table at every batch).
const READ_CLAIM_DAYS: &str =
    "SELECT user_id, claim_day FROM coupons WHERE template_id = $1 AND user_id = ANY($2)";

/// Claims per (user, local day) of rows of [`READ_CLAIM_DAYS`].
fn per_day(rows: Vec<(String, i64)>) -> HashMap<(String, i64), i64> {
    let mut counts = HashMap::new();
    for key in rows {
        *counts.entry(key).or_insert(0) += 1;
    }
    counts
}

/// Decides and writes one template's batch of claims inside the caller's transaction (a claim
/// lane's, SQLite's writer group, or a campaign's treatment): the template's row is locked
/// first, so claims of a template are serialised across every process sharing the database.
pub(crate) async fn claim_in(
    db: &mut Db<'_>,
    ctx: &Ctx,
    cmds: &[ClaimCommand],
) -> Result<Vec<ClaimOutcome>> {
    match decide_claims(db, ctx, cmds).await? {
        Some(decided) => {
            write_claims(db, &decided).await?;
            Ok(decided.plan.outcomes)
        }
        None => Ok(cmds.iter().map(|_| ClaimOutcome::NotFound).collect()),
    }
}

/// A batch of one template's claims decided, not yet written.
pub(crate) struct DecidedClaims {
    template_id: String,
    store_id: Option<String>,
    pub plan: BatchPlan,
}

/// Reads what a batch of one template's claims needs, under the template's row lock, and
/// decides it; `None` when the template does not exist. Writes nothing, so a failure here
/// leaves the caller's transaction as it was.
pub(crate) async fn decide_claims(
    db: &mut Db<'_>,
    ctx: &Ctx,
    cmds: &[ClaimCommand],
) -> Result<Option<DecidedClaims>> {
    let template_id = &cmds[0].template_id;
    let locked = db
        .query_opt(
            "SELECT store_id, status, version, remaining FROM templates WHERE id = $1 FOR UPDATE",
            &[template_id],
            |r| {
                Ok((
                    r.get::<Option<String>>(0)?,
                    r.get::<String>(1)?,
                    r.get::<i64>(2)?,
                    r.get::<Option<i64>>(3)?,
                ))
            },
        )
        .await?;
    let Some((store_id, status, version, remaining)) = locked else {
        return Ok(None);
    };
    let status = TemplateStatus::parse(&status)
        .ok_or_else(|| StoreError::Corrupt("template status".into()))?;
    // The spec is read (and parsed) only for a version the cache does not hold yet.
    let template = match ctx.templates.at_version(template_id, version, status) {
        Some(t) => t,
        None => {
            let spec: String = db
                .query_one(
                    "SELECT spec FROM templates WHERE id = $1",
                    &[template_id],
                    |r| r.get(0),
                )
                .await?;
            ctx.templates.parsed(template_id, version, status, &spec)?
        }
    };
    let facts = BatchFacts {
        store_id: store_id.clone(),
        status,
        remaining,
        prior: prior_answers(db, cmds).await?,
        usable_codes: usable_codes(db, template_id, cmds).await?,
        members: if plan::needs_member(&template) {
            let asks: Vec<(&str, Timestamp)> =
                cmds.iter().map(|c| (c.user_id.as_str(), c.now)).collect();
            member_facts(db, &asks, plan::audience_segment(&template)).await?
        } else {
            HashMap::new()
        },
        counts: claim_counts(db, template_id, cmds).await?,
    };
    Ok(Some(DecidedClaims {
        template_id: template_id.clone(),
        store_id,
        plan: plan::plan_batch(&template, facts, cmds, &ctx.zone)?,
    }))
}

/// Committed idempotency records of the batch's keys, per API key.
async fn prior_answers(
    db: &mut Db<'_>,
    cmds: &[ClaimCommand],
) -> Result<HashMap<(String, String), (String, Option<String>)>> {
    let mut by_key_id: HashMap<&str, Vec<String>> = HashMap::new();
    for key in cmds.iter().filter_map(|c| c.idempotency.as_ref()) {
        by_key_id
            .entry(&key.key_id)
            .or_default()
            .push(key.key.clone());
    }
    let mut prior = HashMap::new();
    for (key_id, keys) in by_key_id {
        let rows: Vec<(String, String, Option<String>)> = db
            .query(
                "SELECT idem_key, request_hash, response FROM idempotency WHERE key_id = $1 AND idem_key = ANY($2)",
                &[&key_id, &Strings(&keys)],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .await?;
        for (key, hash, response) in rows {
            prior.insert((key_id.to_string(), key), (hash, response));
        }
    }
    Ok(prior)
}

/// The batch's claim codes that exist for this template and are unused, locked.
async fn usable_codes(
    db: &mut Db<'_>,
    template_id: &str,
    cmds: &[ClaimCommand],
) -> Result<std::collections::HashSet<String>> {
    let codes: Vec<String> = cmds
        .iter()
        .filter_map(|c| match &c.route {
            ClaimRoute::Code(code) => Some(code.clone()),
            _ => None,
        })
        .collect();
    if codes.is_empty() {
        return Ok(Default::default());
    }
    let usable = db
        .query(
            "SELECT code FROM claim_codes WHERE code = ANY($1) AND template_id = $2 AND used_by IS NULL FOR UPDATE",
            &[&Strings(&codes), &template_id],
            |r| r.get(0),
        )
        .await?;
    Ok(usable.into_iter().collect())
}

/// Committed claims of the template per (user, local day), of the batch's users.
async fn claim_counts(
    db: &mut Db<'_>,
    template_id: &str,
    cmds: &[ClaimCommand],
) -> Result<HashMap<(String, i64), i64>> {
    let users: Vec<String> = cmds
        .iter()
        .map(|c| c.user_id.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let rows = db
        .query(READ_CLAIM_DAYS, &[&template_id, &Strings(&users)], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .await?;
    Ok(per_day(rows))
}

/// What deciding claims by `asks` (each a user and the claim's time) needs to know of their
/// users, made by [`members::member_facts`]; a customer is in a segment as of its (latest)
/// claim's time.
async fn member_facts(
    db: &mut Db<'_>,
    asks: &[(&str, Timestamp)],
    segment: Option<&str>,
) -> Result<HashMap<String, MemberFacts>> {
    let mut latest: HashMap<&str, Timestamp> = HashMap::new();
    for &(user, now) in asks {
        let at = latest.entry(user).or_insert(now);
        *at = (*at).max(now);
    }
    let users: Vec<String> = latest.keys().map(|u| u.to_string()).collect();
    static READ_FACTS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "SELECT id, {} FROM members WHERE id = ANY($1)",
            members::FACTS_COLS
        )
    });
    let rows: Vec<(String, members::FactsRow)> = db
        .query(&READ_FACTS, &[&Strings(&users)], |r| {
            Ok((
                r.get(0)?,
                members::FactsRow {
                    joined_at: r.get::<Option<i64>>(1)?.map(from_micros),
                    tier: r.get(2)?,
                    paid_orders: r.get(3)?,
                },
            ))
        })
        .await?;
    let segment = match segment {
        Some(s) => Some(in_segment(db, s, &latest).await?),
        None => None,
    };
    let member_of = |user: &str| segment.as_ref().is_some_and(|m| m[user]);
    let mut facts: HashMap<String, MemberFacts> = rows
        .into_iter()
        .map(|(user, row)| {
            let member = member_of(&user);
            (user, members::member_facts(Some(row), member))
        })
        .collect();
    // A listed segment may name a customer quan has no row for.
    for user in latest.keys() {
        if !facts.contains_key(*user) && member_of(user) {
            facts.insert(user.to_string(), members::member_facts(None, true));
        }
    }
    Ok(facts)
}

/// Writes a decided batch: its coupons with their ledger entries, the template's counters, the
/// claim codes it used and its idempotency records.
pub(crate) async fn write_claims(db: &mut Db<'_>, decided: &DecidedClaims) -> Result<()> {
    let (template_id, store_id, plan) = (
        decided.template_id.as_str(),
        decided.store_id.as_deref(),
        &decided.plan,
    );
    let (coupons, codes, keys) = (&plan.coupons, &plan.codes, &plan.idem);
    let coupon_rows = [
        ("id", Column::Text(&coupons.id)),
        ("user_id", Column::Text(&coupons.user)),
        ("code", Column::Text(&coupons.code)),
        ("route", Column::Text(&coupons.route)),
        ("campaign_id", Column::MaybeText(&coupons.campaign)),
        ("claimed_at", Column::Int(&coupons.claimed_at)),
        ("claim_day", Column::Int(&coupons.day)),
        ("valid_from", Column::Int(&coupons.from)),
        ("valid_until", Column::Int(&coupons.until)),
    ];
    let ledger_rows = [
        ("id", Column::Text(&coupons.id)),
        ("user_id", Column::Text(&coupons.user)),
        ("event", Column::Text(&coupons.event)),
        ("at", Column::Int(&coupons.claimed_at)),
        ("actor", Column::Text(&coupons.actor)),
        ("route", Column::Text(&coupons.route)),
    ];
    let code_rows = [
        ("code", Column::Text(&codes.code)),
        ("user_id", Column::Text(&codes.user)),
        ("coupon_id", Column::Text(&codes.coupon)),
        ("at", Column::Int(&codes.at)),
    ];
    let key_rows = [
        ("key_id", Column::Text(&keys.key_id)),
        ("idem_key", Column::Text(&keys.key)),
        ("hash", Column::Text(&keys.hash)),
        ("response", Column::Text(&keys.response)),
        ("at", Column::Int(&keys.at)),
    ];
    let coupon_params: [&dyn crate::sql::Param; 2] = [&template_id, &store_id];
    let ledger_params: [&dyn crate::sql::Param; 1] = [&template_id];
    let mut statements = vec![
        Statement {
            sql: "INSERT INTO coupons (id, template_id, store_id, user_id, code, status, route, campaign_id, claimed_at, claim_day, valid_from, valid_until, updated_at) \
                  SELECT x.id, $1, $2, x.user_id, x.code, 'claimed', x.route, x.campaign_id, x.claimed_at, x.claim_day, x.valid_from, x.valid_until, x.claimed_at FROM {rows}",
            params: &coupon_params,
            rows: Some(&coupon_rows),
        },
        Statement {
            sql: "INSERT INTO coupon_ledger (coupon_id, template_id, user_id, event, from_status, to_status, at, actor, reason) \
                  SELECT x.id, $1, x.user_id, x.event, NULL, 'claimed', x.at, x.actor, x.route FROM {rows}",
            params: &ledger_params,
            rows: Some(&ledger_rows),
        },
        Statement {
            sql: "UPDATE claim_codes SET used_by = x.user_id, coupon_id = x.coupon_id, used_at = x.at FROM {rows} WHERE claim_codes.code = x.code",
            params: &[],
            rows: Some(&code_rows),
        },
        // A key used at the same moment for another template conflicts here; the batch retries.
        Statement {
            sql: "INSERT INTO idempotency (key_id, idem_key, request_hash, response, created_at) \
                  SELECT x.key_id, x.idem_key, x.hash, x.response, x.at FROM {rows}",
            params: &[],
            rows: Some(&key_rows),
        },
    ];
    let mut counts = CouponCounts::default();
    for i in 0..coupons.id.len() {
        let key = CouponKey {
            template_id: template_id.to_string(),
            campaign_id: coupons.campaign[i].clone().unwrap_or_default(),
            store_id: store_id.unwrap_or_default().to_string(),
            route: coupons.route[i].clone(),
            day: coupons.day[i],
        };
        counts.add(key, CouponDelta::of(None, CouponStatus::Claimed, 0));
    }
    let count_rows = CountRows::of(&counts);
    let count_columns = count_rows.columns();
    if !count_rows.is_empty() {
        statements.push(Statement {
            sql: ADD_COUPON_COUNTS,
            params: &[],
            rows: Some(&count_columns),
        });
    }
    let counters: [&dyn crate::sql::Param; 4] =
        [&template_id, &plan.remaining, &plan.issued, &plan.claimed];
    if !coupons.id.is_empty() {
        statements.push(Statement {
            sql: "UPDATE templates SET remaining = $2, issued = issued + $3, claimed = claimed + $4 WHERE id = $1",
            params: &counters,
            rows: None,
        });
    }
    db.execute_all(&statements).await?;
    Ok(())
}

/// Takes `count` from a template's stock for claim codes and writes them; `OutOfStock` when
/// the stock cannot cover them (or there is no such template).
pub(crate) async fn make_codes(
    db: &mut Db<'_>,
    template_id: &str,
    codes: &[String],
    job_id: Option<&str>,
    now: Timestamp,
) -> Result<Result<(), ErrorCode>> {
    let n = codes.len() as i64;
    let taken = db
        .execute(
            "UPDATE templates SET remaining = remaining - $2, issued = issued + $2 WHERE id = $1 AND (remaining IS NULL OR remaining >= $2)",
            &[&template_id, &n],
        )
        .await?;
    if taken == 0 {
        return Ok(Err(ErrorCode::OutOfStock));
    }
    db.execute_rows(
        "INSERT INTO claim_codes (code, template_id, created_at, job_id) SELECT x.code, $1, $2, $3 FROM {rows}",
        &[&template_id, &micros(now), &job_id],
        &[("code", Column::Text(codes))],
    )
    .await?;
    Ok(Ok(()))
}

#[async_trait]
impl<E: Engine> Claims for E {
    async fn claim(&self, cmd: ClaimCommand) -> Result<ClaimOutcome> {
        self.claim_batched(cmd).await
    }

    async fn make_claim_codes(
        &self,
        template_id: &str,
        count: u32,
        now: Timestamp,
    ) -> Result<Result<Vec<String>, ErrorCode>> {
        let codes: Vec<String> = (0..count).map(|_| crate::ids::new_code()).collect();
        self.write(
            (template_id.to_string(), codes, now),
            |db, (template_id, codes, now)| {
                Box::pin(async move {
                    Ok(make_codes(db, template_id, codes, None, *now)
                        .await?
                        .map(|()| codes.clone()))
                })
            },
        )
        .await
    }

    async fn claimant(
        &self,
        template_id: &str,
        template: &Template,
        user_id: &str,
        now: Timestamp,
    ) -> Result<Claimant> {
        let needs = plan::needs_member(template);
        let segment = plan::audience_segment(template).map(str::to_string);
        let (template_id, user_id) = (template_id.to_string(), user_id.to_string());
        self.read_point(move |db| {
            Box::pin(async move {
                let facts = if needs {
                    member_facts(db, &[(&user_id, now)], segment.as_deref())
                        .await?
                        .remove(&user_id)
                        .unwrap_or_default()
                } else {
                    MemberFacts::default()
                };
                let rows = db
                    .query(
                        READ_CLAIM_DAYS,
                        &[&template_id, &Strings(std::slice::from_ref(&user_id))],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .await?;
                let mut days: Vec<(i64, i64)> = per_day(rows)
                    .into_iter()
                    .map(|((_, day), n)| (day, n))
                    .collect();
                days.sort_unstable();
                Ok(Claimant { facts, days })
            })
        })
        .await
    }
}
