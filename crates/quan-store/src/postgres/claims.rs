//! Claims on PostgreSQL: a batch of one template under its row lock, decided by
//! `claiming::plan_batch` and written with set-based statements; claim codes.

use std::collections::HashMap;

use deadpool_postgres::Pool;
use quan_core::claim::MemberFacts;
use quan_core::template::TemplateStatus;
use quan_core::zone::TenantZone;
use quan_core::ErrorCode;
use tokio::sync::oneshot;

use crate::claiming::{self, TemplateCache};
use crate::scrm::members;
use crate::scrm::segments::{admits, Membership};
use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use jiff::Timestamp;

use super::PgStore;
use crate::model::*;
use crate::traits::*;
use crate::{Result, StoreError};

#[async_trait]
impl Claims for PgStore {
    async fn claim(&self, cmd: ClaimCommand) -> Result<ClaimOutcome> {
        let (tx, rx) = oneshot::channel();
        self.claimer.submit((cmd, tx));
        rx.await.map_err(|_| StoreError::WriterGone)?
    }

    async fn make_claim_codes(
        &self,
        template_id: &str,
        count: u32,
        now: Timestamp,
    ) -> Result<Result<Vec<String>, ErrorCode>> {
        let mut c = self.pool.get().await?;
        let tx = c.transaction().await?;
        let n = i64::from(count);
        let updated = tx
            .execute(
                "UPDATE templates SET remaining = remaining - $2, issued = issued + $2 WHERE id = $1 AND (remaining IS NULL OR remaining >= $2)",
                &[&template_id, &n],
            )
            .await?;
        if updated == 0 {
            return Ok(Err(ErrorCode::OutOfStock));
        }
        let codes: Vec<String> = (0..count).map(|_| crate::ids::new_code()).collect();
        tx.execute(
            "INSERT INTO claim_codes (code, template_id, created_at) SELECT code, $2, $3 FROM unnest($1::text[]) AS code",
            &[&codes, &template_id, &micros(now)],
        )
        .await?;
        tx.commit().await?;
        Ok(Ok(codes))
    }

    async fn claimant(
        &self,
        template_id: &str,
        template: &quan_core::template::Template,
        user_id: &str,
        now: Timestamp,
    ) -> Result<crate::Claimant> {
        let c = self.pool.get().await?;
        let facts = if claiming::needs_member(template) {
            member_facts(&c, &[(user_id, now)], claiming::audience_segment(template))
                .await?
                .remove(user_id)
                .unwrap_or_default()
        } else {
            MemberFacts::default()
        };
        let days = c
            .query(READ_COUNTS, &[&template_id, &vec![user_id]])
            .await?
            .iter()
            .map(|r| (r.get(1), r.get(2)))
            .collect();
        Ok(crate::Claimant { facts, days })
    }
}

const LOCK_TEMPLATE: &str =
    "SELECT store_id, status, spec, version, remaining FROM templates WHERE id = $1 FOR UPDATE";
const READ_IDEMPOTENCY: &str =
    "SELECT i.key_id, i.idem_key, i.request_hash, i.response FROM idempotency i \
     JOIN unnest($1::text[], $2::text[]) AS k (key_id, idem_key) USING (key_id, idem_key)";
const LOCK_CODES: &str = "SELECT code FROM claim_codes WHERE code = ANY($1) AND template_id = $2 AND used_by IS NULL FOR UPDATE";
const READ_COUNTS: &str = "SELECT user_id, claim_day, COUNT(*) FROM coupons WHERE user_id = ANY($2) AND template_id = $1 GROUP BY user_id, claim_day";
const INSERT_COUPONS: &str = "INSERT INTO coupons (id, template_id, store_id, user_id, code, status, route, claimed_at, claim_day, valid_from, valid_until, updated_at) \
     SELECT id, $1, $2, user_id, code, 'claimed', route, claimed_at, claim_day, valid_from, valid_until, claimed_at \
     FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[]) \
     AS n (id, user_id, code, route, claimed_at, claim_day, valid_from, valid_until)";
const INSERT_LEDGER: &str = "INSERT INTO coupon_ledger (coupon_id, template_id, user_id, event, from_status, to_status, at, actor, reason) \
     SELECT id, $1, user_id, event, NULL, 'claimed', at, actor, route \
     FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[]) AS n (id, user_id, event, at, actor, route)";
const UPDATE_COUNTERS: &str = "UPDATE templates SET remaining = $2, issued = issued + $3, claimed = claimed + $4 WHERE id = $1";
const USE_CODES: &str = "UPDATE claim_codes SET used_by = n.user_id, coupon_id = n.coupon_id, used_at = n.at \
     FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS n (code, user_id, coupon_id, at) WHERE claim_codes.code = n.code";
// A key used at the same moment for another template conflicts here; the batch retries.
const INSERT_IDEMPOTENCY: &str =
    "INSERT INTO idempotency (key_id, idem_key, request_hash, response, created_at) \
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[])";

/// Decides and writes one template's batch of claims in one transaction. After the template's
/// row lock, the reads go out together and so do the writes (tokio-postgres pipelines queries
/// issued concurrently on one connection), so a batch costs a few round trips and one commit.
pub(super) async fn claim_batch(
    pool: &Pool,
    zone: &TenantZone,
    cache: &TemplateCache,
    cmds: &[ClaimCommand],
) -> Result<Vec<ClaimOutcome>> {
    let mut client = pool.get().await?;
    let txn = client.transaction().await?;
    let outcomes = claim_in(&txn, zone, cache, cmds).await?;
    txn.commit().await?;
    Ok(outcomes)
}

/// [`claim_batch`] inside the caller's transaction (a campaign's treatment), which commits.
pub(crate) async fn claim_in(
    tx: &deadpool_postgres::Transaction<'_>,
    zone: &TenantZone,
    cache: &TemplateCache,
    cmds: &[ClaimCommand],
) -> Result<Vec<ClaimOutcome>> {
    let template_id = &cmds[0].template_id;
    let lock = tx.prepare_cached(LOCK_TEMPLATE).await?;
    let Some(row) = tx.query_opt(&lock, &[template_id]).await? else {
        return Ok(cmds.iter().map(|_| ClaimOutcome::NotFound).collect());
    };
    let store_id: Option<String> = row.get(0);
    let status = TemplateStatus::parse(row.get(1))
        .ok_or_else(|| StoreError::Corrupt("template status".into()))?;
    let template = cache.get(template_id, row.get(3), row.get(2))?;
    let remaining: Option<i64> = row.get(4);

    let (key_ids, keys): (Vec<&str>, Vec<&str>) = cmds
        .iter()
        .filter_map(|c| c.idempotency.as_ref())
        .map(|k| (k.key_id.as_str(), k.key.as_str()))
        .unzip();
    let codes: Vec<&str> = cmds
        .iter()
        .filter_map(|c| {
            if let ClaimRoute::Code(code) = &c.route {
                Some(code.as_str())
            } else {
                None
            }
        })
        .collect();
    let users: Vec<&str> = cmds.iter().map(|c| c.user_id.as_str()).collect();
    let (prior_rows, code_rows, members, count_rows) = tokio::try_join!(
        async {
            if keys.is_empty() {
                return Ok(Vec::new());
            }
            let st = tx.prepare_cached(READ_IDEMPOTENCY).await?;
            Ok::<_, StoreError>(tx.query(&st, &[&key_ids, &keys]).await?)
        },
        async {
            if codes.is_empty() {
                return Ok(Vec::new());
            }
            let st = tx.prepare_cached(LOCK_CODES).await?;
            Ok(tx.query(&st, &[&codes, template_id]).await?)
        },
        async {
            if !claiming::needs_member(&template) {
                return Ok(HashMap::new());
            }
            let asks: Vec<(&str, Timestamp)> =
                cmds.iter().map(|c| (c.user_id.as_str(), c.now)).collect();
            member_facts(tx, &asks, claiming::audience_segment(&template)).await
        },
        async {
            let st = tx.prepare_cached(READ_COUNTS).await?;
            Ok(tx.query(&st, &[template_id, &users]).await?)
        },
    )?;
    let mut counts: HashMap<(String, i64), i64> = HashMap::new();
    for r in &count_rows {
        counts.insert((r.get(0), r.get(1)), r.get(2));
    }
    let facts = claiming::BatchFacts {
        store_id: store_id.clone(),
        status,
        remaining,
        prior: prior_rows
            .iter()
            .map(|r| ((r.get(0), r.get(1)), (r.get(2), r.get(3))))
            .collect(),
        usable_codes: code_rows.iter().map(|r| r.get(0)).collect(),
        members,
        counts,
    };
    let claiming::BatchPlan {
        outcomes,
        coupons: new,
        codes: used,
        idem,
        remaining: left,
        claimed,
        issued,
    } = claiming::plan_batch(&template, facts, cmds, zone)?;
    tokio::try_join!(
        async {
            if new.id.is_empty() {
                return Ok(());
            }
            let (coupons, ledger, counters) = tokio::try_join!(
                tx.prepare_cached(INSERT_COUPONS),
                tx.prepare_cached(INSERT_LEDGER),
                tx.prepare_cached(UPDATE_COUNTERS)
            )?;
            let coupon_params: [&(dyn tokio_postgres::types::ToSql + Sync); 10] = [
                template_id,
                &store_id,
                &new.id,
                &new.user,
                &new.code,
                &new.route,
                &new.claimed_at,
                &new.day,
                &new.from,
                &new.until,
            ];
            let ledger_params: [&(dyn tokio_postgres::types::ToSql + Sync); 7] = [
                template_id,
                &new.id,
                &new.user,
                &new.event,
                &new.claimed_at,
                &new.actor,
                &new.route,
            ];
            let counter_params: [&(dyn tokio_postgres::types::ToSql + Sync); 4] =
                [template_id, &left, &issued, &claimed];
            tokio::try_join!(
                tx.execute(&coupons, &coupon_params),
                tx.execute(&ledger, &ledger_params),
                tx.execute(&counters, &counter_params),
            )?;
            Ok::<_, StoreError>(())
        },
        async {
            if used.code.is_empty() {
                return Ok(());
            }
            let st = tx.prepare_cached(USE_CODES).await?;
            tx.execute(&st, &[&used.code, &used.user, &used.coupon, &used.at])
                .await?;
            Ok(())
        },
        async {
            if idem.key.is_empty() {
                return Ok(());
            }
            let st = tx.prepare_cached(INSERT_IDEMPOTENCY).await?;
            tx.execute(
                &st,
                &[
                    &idem.key_id,
                    &idem.key,
                    &idem.hash,
                    &idem.response,
                    &idem.at,
                ],
            )
            .await?;
            Ok(())
        },
    )?;
    Ok(outcomes)
}

/// What deciding claims by `asks` (each a user and the claim's time) needs to know of their
/// users, made by the one rule of both backends ([`members::member_facts`]); a customer is in
/// a rule segment as of its (latest) claim's time.
async fn member_facts(
    tx: &impl GenericClient,
    asks: &[(&str, Timestamp)],
    segment: Option<&str>,
) -> Result<HashMap<String, MemberFacts>> {
    let users: Vec<&str> = asks.iter().map(|(u, _)| *u).collect();
    let mut facts: HashMap<String, MemberFacts> = HashMap::new();
    let sql = format!(
        "SELECT id, {} FROM members WHERE id = ANY($1)",
        members::FACTS_COLS
    );
    for r in tx.query(&sql, &[&users]).await? {
        let row = members::FactsRow {
            joined_at: r.get::<_, Option<i64>>(1).map(from_micros),
            tier: r.get(2),
            paid_orders: r.get(3),
        };
        facts.insert(r.get(0), members::member_facts(Some(row), false));
    }
    let Some(segment) = segment else {
        return Ok(facts);
    };
    let rule: Option<String> = tx
        .query_opt("SELECT rule FROM segments WHERE id = $1", &[&segment])
        .await?
        .and_then(|r| r.get(0));
    match rule {
        None => {
            for r in tx.query("SELECT member_id FROM segment_members WHERE segment_id = $1 AND member_id = ANY($2)", &[&segment, &users]).await? {
                let listed = admits(Membership::Listed(true), Timestamp::MAX);
                facts.entry(r.get(0)).or_default().in_segment = listed;
            }
        }
        Some(raw) => {
            let rule: quan_core::scrm::Rule = serde_json::from_str(&raw)
                .map_err(|_| StoreError::Corrupt("segment rule".into()))?;
            let lifecycle = super::segments::lifecycle_in(tx).await?;
            let mut asked: HashMap<&str, Timestamp> = HashMap::new();
            for &(user, now) in asks {
                let at = asked.entry(user).or_insert(now);
                *at = (*at).max(now);
            }
            for (user, now) in asked {
                // Only a customer with a row can meet a rule.
                let Some(f) = facts.get_mut(user) else {
                    continue;
                };
                f.in_segment =
                    super::segments::rule_admits(tx, &rule, &lifecycle, user, now).await?;
            }
        }
    }
    Ok(facts)
}
