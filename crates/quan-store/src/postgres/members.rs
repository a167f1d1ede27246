//! SCRM members on PostgreSQL: profiles, and the aggregates and scores quan keeps of them,
//! recomputed under the members' row locks.

use std::collections::{BTreeSet, HashMap};

use quan_core::scrm::History;

use crate::scrm::*;
use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use jiff::Timestamp;

use super::rows::*;
use super::{exec, query_opt, retrying, PgStore};
use crate::model::*;
use crate::traits::*;
use crate::Result;

/// Members whose aggregates one statement recomputes.
const REFRESH_CHUNK: usize = 1000;

pub(super) async fn get_member(c: &impl GenericClient, id: &str) -> Result<Option<MemberRecord>> {
    let st = c
        .prepare_cached(&format!("SELECT {MEMBER_COLS} FROM members WHERE id = $1"))
        .await?;
    c.query_opt(&st, &[&id])
        .await?
        .as_ref()
        .map(member_record)
        .transpose()
}

/// Recomputes members' aggregates, and their RFM scores against the last full run's cuts.
pub(super) async fn refresh(
    c: &impl GenericClient,
    ids: &BTreeSet<String>,
    now: Timestamp,
) -> Result<u64> {
    let cuts: Option<RfmCuts> = super::keys::get_setting(c, RFM_CUTS_SETTING)
        .await?
        .map(|raw| json(&raw, "rfm cuts"))
        .transpose()?;
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    for chunk in ids.chunks(REFRESH_CHUNK) {
        // The rows' locks first, in id order: a writer of the same members' orders waits here
        // and then (read committed) reads their orders with ours committed.
        c.query(
            "SELECT id FROM members WHERE id = ANY($1) ORDER BY id FOR UPDATE",
            &[&chunk],
        )
        .await?;
        let mut orders: HashMap<String, Vec<(i64, i64)>> = HashMap::new();
        for r in c
            .query(
                "SELECT user_id, paid_at, amount FROM member_orders WHERE user_id = ANY($1) AND counted = 1",
                &[&chunk],
            )
            .await?
        {
            orders.entry(r.get(0)).or_default().push((r.get(1), r.get(2)));
        }
        let n = chunk.len();
        let (mut count, mut spent, mut first, mut last, mut prev) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::<Option<i64>>::with_capacity(n),
            Vec::<Option<i64>>::with_capacity(n),
            Vec::<Option<i64>>::with_capacity(n),
        );
        let (mut r, mut f, mut m, mut tier) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let none = Vec::new();
        for id in chunk {
            let mine = orders.get(*id).unwrap_or(&none);
            let h = History::of(
                mine.iter().map(|&(at, amount)| (from_micros(at), amount)),
                Timestamp::MAX,
            );
            count.push(h.orders);
            spent.push(h.spent);
            first.push(h.first.map(micros));
            last.push(h.last.map(micros));
            prev.push(h.prev.map(micros));
            if let Some(cuts) = &cuts {
                let s = cuts.rescore(id, mine, now);
                r.push(i64::from(s.r));
                f.push(i64::from(s.f));
                m.push(i64::from(s.m));
                tier.push(s.tier.as_str());
            }
        }
        c.execute(
            "UPDATE members SET paid_orders = n.orders, total_spent = n.spent, first_paid_at = n.first, \
             last_paid_at = n.last, prev_paid_at = n.prev \
             FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[]) \
             AS n (id, orders, spent, first, last, prev) WHERE members.id = n.id",
            &[&chunk, &count, &spent, &first, &last, &prev],
        )
        .await?;
        if cuts.is_some() {
            c.execute(
                "UPDATE members SET rfm_r = n.r, rfm_f = n.f, rfm_m = n.m, rfm_tier = n.tier, rfm_at = $6 \
                 FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[]) \
                 AS n (id, r, f, m, tier) WHERE members.id = n.id",
                &[&chunk, &r, &f, &m, &tier, &micros(now)],
            )
            .await?;
        }
    }
    Ok(ids.len() as u64)
}

#[async_trait]
impl Members for PgStore {
    async fn put_members(
        &self,
        members: Vec<MemberProfile>,
        now: Timestamp,
    ) -> Result<Vec<Written>> {
        let members = &members;
        retrying(|| async move {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let mut out = Vec::with_capacity(members.len());
        for m in members {
            let before = query_opt(
                &tx,
                &format!("SELECT {MEMBER_COLS} FROM members WHERE id = $1 FOR UPDATE"),
                &[&m.id],
            )
            .await?
            .as_ref()
            .map(member_record)
            .transpose()?
            .map(|b| b.profile);
            let written = crate::scrm::members::profile_written(before.as_ref(), m);
            if written == Written::Unchanged {
                out.push(written);
                continue;
            }
            let (tags, attributes) = (
                serde_json::to_string(&m.tags).expect("json"),
                m.attributes.to_string(),
            );
            exec(&tx,
                "INSERT INTO members (id, joined_at, tier, region, channel, guide_id, points, tags, attributes, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO UPDATE SET \
                 joined_at = EXCLUDED.joined_at, tier = EXCLUDED.tier, region = EXCLUDED.region, channel = EXCLUDED.channel, \
                 guide_id = EXCLUDED.guide_id, points = EXCLUDED.points, tags = EXCLUDED.tags, attributes = EXCLUDED.attributes, \
                 updated_at = EXCLUDED.updated_at",
                &[
                    &m.id,
                    &m.joined_at.map(micros),
                    &m.tier,
                    &m.region,
                    &m.channel,
                    &m.guide_id,
                    &m.points,
                    &tags,
                    &attributes,
                    &micros(now),
                ],
            )
            .await?;
            out.push(written);
        }
        tx.commit().await?;
        Ok(out)
        })
        .await
    }

    async fn member(&self, id: &str) -> Result<Option<MemberRecord>> {
        let c = self.pool.get().await?;
        get_member(&c, id).await
    }

    async fn list_members(
        &self,
        prefix: Option<String>,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<Page<MemberRecord>> {
        let c = self.pool.get().await?;
        let Some(prefix) = prefix else {
            return id_page(
                &c,
                "members",
                MEMBER_COLS,
                limit,
                cursor,
                member_record,
                |m| m.profile.id.clone(),
            )
            .await;
        };
        let total: i64 = c
            .query_one(
                "SELECT count(*) FROM members WHERE starts_with(id, $1)",
                &[&prefix],
            )
            .await?
            .get(0);
        let items = c
            .query(
                &format!(
                    "SELECT {MEMBER_COLS} FROM members WHERE starts_with(id, $1) AND id > $2 \
                     ORDER BY id LIMIT $3"
                ),
                &[
                    &prefix,
                    &cursor.unwrap_or_default(),
                    &(i64::from(limit) + 1),
                ],
            )
            .await?
            .iter()
            .map(member_record)
            .collect::<Result<Vec<_>>>()?;
        Ok(page_of(items, limit, total, |m| m.profile.id.clone()))
    }

    async fn all_members(&self) -> Result<Vec<MemberRecord>> {
        let c = self.pool.get().await?;
        c.query(
            &format!("SELECT {MEMBER_COLS} FROM members ORDER BY id"),
            &[],
        )
        .await?
        .iter()
        .map(member_record)
        .collect()
    }

    async fn histories(&self, as_of: Timestamp) -> Result<HashMap<String, History>> {
        let c = self.pool.get().await?;
        let rows = c
            .query(
                "SELECT user_id, paid_at, amount FROM member_orders WHERE counted = 1 AND paid_at <= $1",
                &[&micros(as_of)],
            )
            .await?;
        let mut out: HashMap<String, History> = HashMap::new();
        for r in &rows {
            out.entry(r.get(0))
                .or_default()
                .add(from_micros(r.get(1)), r.get(2));
        }
        Ok(out)
    }

    async fn refresh_members(&self, ids: Option<Vec<String>>, now: Timestamp) -> Result<u64> {
        let ids = ids.as_deref();
        retrying(|| async move {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            let ids: BTreeSet<String> = match ids {
                Some(ids) => ids.iter().cloned().collect(),
                None => tx
                    .query("SELECT id FROM members", &[])
                    .await?
                    .iter()
                    .map(|r| r.get(0))
                    .collect(),
            };
            let n = refresh(&tx, &ids, now).await?;
            tx.commit().await?;
            Ok(n)
        })
        .await
    }
}
