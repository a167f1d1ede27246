//! SCRM customers on SQLite: profiles (members when joined), and the aggregates and scores
//! quan keeps of them.

use std::collections::{BTreeSet, HashMap};

use quan_core::scrm::History;

use crate::scrm::*;
use async_trait::async_trait;
use jiff::Timestamp;
use rusqlite::{params, Connection, OptionalExtension};

use super::rows::*;
use super::SqliteStore;
use crate::model::*;
use crate::traits::*;
use crate::Result;

pub(super) fn get_member(conn: &Connection, id: &str) -> Result<Option<MemberRecord>> {
    conn.prepare_cached(&format!("SELECT {MEMBER_COLS} FROM members WHERE id = ?1"))?
        .query_row([id], member_row)
        .optional()?
        .transpose()
}

/// A member's counted orders, `(paid_at µs, amount)`.
fn counted_orders(conn: &Connection, user_id: &str) -> Result<Vec<(i64, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT paid_at, amount FROM member_orders WHERE user_id = ?1 AND counted = 1",
    )?;
    let rows = stmt.query_map([user_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Recomputes members' aggregates, and their RFM scores against the last full run's cuts.
pub(super) fn refresh(conn: &Connection, ids: &BTreeSet<String>, now: Timestamp) -> Result<u64> {
    let cuts: Option<RfmCuts> = super::keys::get_setting(conn, RFM_CUTS_SETTING)?
        .map(|raw| json(&raw, "rfm cuts"))
        .transpose()?;
    let mut update = conn.prepare_cached(
        "UPDATE members SET paid_orders = ?2, total_spent = ?3, first_paid_at = ?4, last_paid_at = ?5, prev_paid_at = ?6 WHERE id = ?1",
    )?;
    let mut rescore = conn.prepare_cached(
        "UPDATE members SET rfm_r = ?2, rfm_f = ?3, rfm_m = ?4, rfm_tier = ?5, rfm_at = ?6 WHERE id = ?1",
    )?;
    for id in ids {
        let orders = counted_orders(conn, id)?;
        let h = History::of(
            orders.iter().map(|&(at, amount)| (from_micros(at), amount)),
            Timestamp::MAX,
        );
        update.execute(params![
            id,
            h.orders,
            h.spent,
            h.first.map(micros),
            h.last.map(micros),
            h.prev.map(micros)
        ])?;
        if let Some(cuts) = &cuts {
            let s = cuts.rescore(id, &orders, now);
            rescore.execute(params![id, s.r, s.f, s.m, s.tier.as_str(), micros(now)])?;
        }
    }
    Ok(ids.len() as u64)
}

fn profile_of(conn: &Connection, id: &str) -> Result<Option<MemberProfile>> {
    Ok(get_member(conn, id)?.map(|m| m.profile))
}

#[async_trait]
impl Members for SqliteStore {
    async fn put_members(
        &self,
        members: Vec<MemberProfile>,
        now: Timestamp,
    ) -> Result<Vec<Written>> {
        self.write_conn(move |tx, _| {
            let mut out = Vec::with_capacity(members.len());
            for m in members {
                let before = profile_of(tx, &m.id)?;
                let written = crate::scrm::members::profile_written(before.as_ref(), &m);
                if written == Written::Unchanged {
                    out.push(written);
                    continue;
                }
                let (tags, attributes) = (serde_json::to_string(&m.tags).expect("json"), m.attributes.to_string());
                tx.prepare_cached(
                    "INSERT INTO members (id, joined_at, tier, region, channel, guide_id, points, tags, attributes, updated_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (id) DO UPDATE SET \
                     joined_at = excluded.joined_at, tier = excluded.tier, region = excluded.region, channel = excluded.channel, \
                     guide_id = excluded.guide_id, points = excluded.points, tags = excluded.tags, attributes = excluded.attributes, \
                     updated_at = excluded.updated_at",
                )?
                .execute(params![
                    m.id,
                    m.joined_at.map(micros),
                    m.tier,
                    m.region,
                    m.channel,
                    m.guide_id,
                    m.points,
                    tags,
                    attributes,
                    micros(now)
                ])?;
                out.push(written);
            }
            Ok(out)
        })
        .await
    }

    async fn member(&self, id: &str) -> Result<Option<MemberRecord>> {
        let id = id.to_string();
        self.read_point_conn(move |conn| get_member(conn, &id))
            .await
    }

    async fn list_members(
        &self,
        prefix: Option<String>,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<Page<MemberRecord>> {
        self.read_conn(move |conn| match prefix {
            None => id_page(
                conn,
                "members",
                MEMBER_COLS,
                limit,
                cursor,
                member_row,
                |m| m.profile.id.clone(),
            ),
            Some(prefix) => {
                let total: i64 = conn
                    .prepare_cached(
                        "SELECT count(*) FROM members WHERE substr(id, 1, length(?1)) = ?1",
                    )?
                    .query_row([&prefix], |r| r.get(0))?;
                let mut stmt = conn.prepare_cached(&format!(
                    "SELECT {MEMBER_COLS} FROM members WHERE substr(id, 1, length(?1)) = ?1 \
                     AND id > ?2 ORDER BY id LIMIT 0 + ?3"
                ))?;
                let items = stmt
                    .query_map(
                        params![prefix, cursor.unwrap_or_default(), i64::from(limit) + 1],
                        member_row,
                    )?
                    .collect::<rusqlite::Result<Vec<_>>>()?
                    .into_iter()
                    .collect::<Result<Vec<_>>>()?;
                Ok(page_of(items, limit, total, |m| m.profile.id.clone()))
            }
        })
        .await
    }

    async fn all_members(&self) -> Result<Vec<MemberRecord>> {
        self.read_conn(move |conn| {
            let mut stmt =
                conn.prepare_cached(&format!("SELECT {MEMBER_COLS} FROM members ORDER BY id"))?;
            let rows = stmt
                .query_map([], member_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            rows.into_iter().collect()
        })
        .await
    }

    async fn histories(&self, as_of: Timestamp) -> Result<HashMap<String, History>> {
        self.read_conn(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT user_id, paid_at, amount FROM member_orders WHERE counted = 1 AND paid_at <= ?1",
            )?;
            let mut rows = stmt.query([micros(as_of)])?;
            let mut out: HashMap<String, History> = HashMap::new();
            while let Some(r) = rows.next()? {
                let user: String = r.get(0)?;
                out.entry(user).or_default().add(ts(r.get(1)?), r.get(2)?);
            }
            Ok(out)
        })
        .await
    }

    async fn refresh_members(&self, ids: Option<Vec<String>>, now: Timestamp) -> Result<u64> {
        self.write_conn(move |tx, _| {
            let ids: BTreeSet<String> = match ids {
                Some(ids) => ids.into_iter().collect(),
                None => {
                    let mut stmt = tx.prepare_cached("SELECT id FROM members")?;
                    let ids = stmt
                        .query_map([], |r| r.get(0))?
                        .collect::<rusqlite::Result<_>>()?;
                    ids
                }
            };
            refresh(tx, &ids, now)
        })
        .await
    }
}
