//! SCRM customers: profiles (members when joined), and the aggregates and scores quan keeps of
//! them, recomputed under the members' row locks.

use std::collections::{BTreeSet, HashMap};

use async_trait::async_trait;
use jiff::Timestamp;
use quan_core::scrm::{History, RfmScore, RfmTier};

use super::{id_page, json, page_of};
use crate::records::*;
use crate::scrm::{batch, members::profile_written, *};
use crate::sql::{Column, Db, Engine, Row, Strings};
use crate::traits::Members;
use crate::{Result, StoreError};

/// Members whose aggregates one statement recomputes.
const REFRESH_CHUNK: usize = 1000;

pub(crate) const MEMBER_COLS: &str = "id, joined_at, tier, region, channel, guide_id, points, tags, attributes, \
    paid_orders, total_spent, first_paid_at, last_paid_at, prev_paid_at, rfm_r, rfm_f, rfm_m, rfm_tier, rfm_at, updated_at";

fn score(r: &Row, i: usize) -> Result<u8> {
    u8::try_from(r.get::<i64>(i)?).map_err(|_| StoreError::Corrupt("member rfm score".into()))
}

fn maybe_time(r: &Row, i: usize) -> Result<Option<Timestamp>> {
    Ok(r.get::<Option<i64>>(i)?.map(from_micros))
}

pub(crate) fn member_record(r: &Row) -> Result<MemberRecord> {
    let tier: String = r.get(17)?;
    Ok(MemberRecord {
        profile: MemberProfile {
            id: r.get(0)?,
            joined_at: maybe_time(r, 1)?,
            tier: r.get(2)?,
            region: r.get(3)?,
            channel: r.get(4)?,
            guide_id: r.get(5)?,
            points: r.get(6)?,
            tags: json(&r.get::<String>(7)?, "member tags")?,
            attributes: json(&r.get::<String>(8)?, "member attributes")?,
        },
        history: History {
            orders: r.get(9)?,
            spent: r.get(10)?,
            first: maybe_time(r, 11)?,
            last: maybe_time(r, 12)?,
            prev: maybe_time(r, 13)?,
        },
        rfm: RfmScore {
            r: score(r, 14)?,
            f: score(r, 15)?,
            m: score(r, 16)?,
            tier: RfmTier::parse(&tier)
                .ok_or_else(|| StoreError::Corrupt("member rfm tier".into()))?,
        },
        rfm_at: maybe_time(r, 18)?,
        updated_at: r.time(19)?,
    })
}

/// A customer's row by id.
pub(crate) async fn get_member(db: &mut Db<'_>, id: &str) -> Result<Option<MemberRecord>> {
    db.query_opt(
        &format!("SELECT {MEMBER_COLS} FROM members WHERE id = $1"),
        &[&id],
        member_record,
    )
    .await
}

/// Recomputes members' aggregates, and their RFM scores against the last full run's cuts.
pub(crate) async fn refresh(
    db: &mut Db<'_>,
    ids: &BTreeSet<String>,
    now: Timestamp,
) -> Result<u64> {
    let cuts: Option<RfmCuts> = db
        .query_opt(
            "SELECT value FROM settings WHERE name = $1",
            &[&RFM_CUTS_SETTING],
            |r| r.get::<String>(0),
        )
        .await?
        .map(|raw| json(&raw, "rfm cuts"))
        .transpose()?;
    let ids: Vec<String> = ids.iter().cloned().collect();
    for chunk in ids.chunks(REFRESH_CHUNK) {
        // The rows' locks first, in id order: a writer of the same members' orders waits here
        // and then (read committed) reads their orders with ours committed.
        db.query(
            "SELECT id FROM members WHERE id = ANY($1) ORDER BY id FOR UPDATE",
            &[&Strings(chunk)],
            |r| r.get::<String>(0),
        )
        .await?;
        let mut orders: HashMap<String, Vec<(i64, i64)>> = HashMap::new();
        for (user, at, amount) in db
            .query(
                "SELECT user_id, paid_at, amount FROM member_orders WHERE user_id = ANY($1) AND counted = 1",
                &[&Strings(chunk)],
                |r| Ok((r.get::<String>(0)?, r.get::<i64>(1)?, r.get::<i64>(2)?)),
            )
            .await?
        {
            orders.entry(user).or_default().push((at, amount));
        }
        let n = chunk.len();
        let (mut count, mut spent) = (Vec::with_capacity(n), Vec::with_capacity(n));
        let (mut first, mut last, mut prev) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        let (mut r, mut f, mut m, mut tier) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let none = Vec::new();
        for id in chunk {
            let mine = orders.get(id).unwrap_or(&none);
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
                tier.push(s.tier.as_str().to_string());
            }
        }
        db.execute_rows(
            "UPDATE members SET paid_orders = x.orders, total_spent = x.spent, first_paid_at = x.first, \
             last_paid_at = x.last, prev_paid_at = x.prev FROM {rows} WHERE members.id = x.id",
            &[],
            &[
                ("id", Column::Text(chunk)),
                ("orders", Column::Int(&count)),
                ("spent", Column::Int(&spent)),
                ("first", Column::MaybeInt(&first)),
                ("last", Column::MaybeInt(&last)),
                ("prev", Column::MaybeInt(&prev)),
            ],
        )
        .await?;
        if cuts.is_some() {
            db.execute_rows(
                "UPDATE members SET rfm_r = x.r, rfm_f = x.f, rfm_m = x.m, rfm_tier = x.tier, rfm_at = $1 \
                 FROM {rows} WHERE members.id = x.id",
                &[&micros(now)],
                &[
                    ("id", Column::Text(chunk)),
                    ("r", Column::Int(&r)),
                    ("f", Column::Int(&f)),
                    ("m", Column::Int(&m)),
                    ("tier", Column::Text(&tier)),
                ],
            )
            .await?;
        }
    }
    Ok(ids.len() as u64)
}

/// Writes profiles as they are (the last of an id in `profiles` is the one kept).
async fn upsert_profiles(
    db: &mut Db<'_>,
    profiles: &[&MemberProfile],
    now: Timestamp,
) -> Result<u64> {
    let text = |f: fn(&MemberProfile) -> &Option<String>| -> Vec<Option<String>> {
        profiles.iter().map(|p| f(p).clone()).collect()
    };
    let ids: Vec<String> = profiles.iter().map(|p| p.id.clone()).collect();
    let joined: Vec<Option<i64>> = profiles.iter().map(|p| p.joined_at.map(micros)).collect();
    let (tier, region, channel, guide) = (
        text(|p| &p.tier),
        text(|p| &p.region),
        text(|p| &p.channel),
        text(|p| &p.guide_id),
    );
    let points: Vec<i64> = profiles.iter().map(|p| p.points).collect();
    let tags: Vec<String> = profiles
        .iter()
        .map(|p| serde_json::to_string(&p.tags).expect("tags serialize"))
        .collect();
    let attributes: Vec<String> = profiles.iter().map(|p| p.attributes.to_string()).collect();
    db.execute_rows(
        "INSERT INTO members (id, joined_at, tier, region, channel, guide_id, points, tags, attributes, updated_at) \
         SELECT x.id, x.joined_at, x.tier, x.region, x.channel, x.guide_id, x.points, x.tags, x.attributes, $1::bigint \
         FROM {rows} WHERE true ON CONFLICT (id) DO UPDATE SET \
         joined_at = EXCLUDED.joined_at, tier = EXCLUDED.tier, region = EXCLUDED.region, channel = EXCLUDED.channel, \
         guide_id = EXCLUDED.guide_id, points = EXCLUDED.points, tags = EXCLUDED.tags, attributes = EXCLUDED.attributes, \
         updated_at = EXCLUDED.updated_at",
        &[&micros(now)],
        &[
            ("id", Column::Text(&ids)),
            ("joined_at", Column::MaybeInt(&joined)),
            ("tier", Column::MaybeText(&tier)),
            ("region", Column::MaybeText(&region)),
            ("channel", Column::MaybeText(&channel)),
            ("guide_id", Column::MaybeText(&guide)),
            ("points", Column::Int(&points)),
            ("tags", Column::Text(&tags)),
            ("attributes", Column::Text(&attributes)),
        ],
    )
    .await
}

#[async_trait]
impl<E: Engine> Members for E {
    async fn put_members(
        &self,
        members: Vec<MemberProfile>,
        now: Timestamp,
    ) -> Result<Vec<Written>> {
        self.write((members, now), |db, (members, now)| {
            Box::pin(async move {
                let ids: Vec<String> = members.iter().map(|m| m.id.clone()).collect();
                let before: HashMap<String, MemberProfile> = db
                    .query(
                        &format!("SELECT {MEMBER_COLS} FROM members WHERE id = ANY($1) ORDER BY id FOR UPDATE"),
                        &[&Strings(&ids)],
                        member_record,
                    )
                    .await?
                    .into_iter()
                    .map(|m| (m.profile.id.clone(), m.profile))
                    .collect();
                let planned = batch::plan(before, members, |m| &m.id, profile_written, Clone::clone);
                upsert_profiles(db, &planned.rows, *now).await?;
                Ok(planned.written)
            })
        })
        .await
    }

    async fn member(&self, id: &str) -> Result<Option<MemberRecord>> {
        let id = id.to_string();
        self.read_point(move |db| Box::pin(async move { get_member(db, &id).await }))
            .await
    }

    async fn list_members(
        &self,
        prefix: Option<String>,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<Page<MemberRecord>> {
        self.read(move |db| {
            Box::pin(async move {
                let Some(prefix) = prefix else {
                    return id_page(db, "members", MEMBER_COLS, limit, cursor, member_record, |m| {
                        m.profile.id.clone()
                    })
                    .await;
                };
                let of_prefix = "substr(id, 1, length($1::text)) = $1::text";
                let total: i64 = db
                    .query_one(
                        &format!("SELECT COUNT(*) FROM members WHERE {of_prefix}"),
                        &[&prefix],
                        |r| r.get(0),
                    )
                    .await?;
                let items = db
                    .query(
                        &format!(
                            "SELECT {MEMBER_COLS} FROM members WHERE {of_prefix} AND id > $2 ORDER BY id LIMIT $3"
                        ),
                        &[&prefix, &cursor.unwrap_or_default(), &(i64::from(limit) + 1)],
                        member_record,
                    )
                    .await?;
                Ok(page_of(items, limit, total, |m| m.profile.id.clone()))
            })
        })
        .await
    }

    async fn all_members(&self) -> Result<Vec<MemberRecord>> {
        self.read(|db| {
            Box::pin(async move {
                db.query(
                    &format!("SELECT {MEMBER_COLS} FROM members ORDER BY id"),
                    &[],
                    member_record,
                )
                .await
            })
        })
        .await
    }

    async fn histories(&self, as_of: Timestamp) -> Result<HashMap<String, History>> {
        self.read(move |db| {
            Box::pin(async move {
                let mut out: HashMap<String, History> = HashMap::new();
                for (user, at, amount) in db
                    .query(
                        "SELECT user_id, paid_at, amount FROM member_orders WHERE counted = 1 AND paid_at <= $1",
                        &[&micros(as_of)],
                        |r| Ok((r.get::<String>(0)?, r.time(1)?, r.get::<i64>(2)?)),
                    )
                    .await?
                {
                    out.entry(user).or_default().add(at, amount);
                }
                Ok(out)
            })
        })
        .await
    }

    async fn refresh_members(&self, ids: Option<Vec<String>>, now: Timestamp) -> Result<u64> {
        self.write((ids, now), |db, (ids, now)| {
            Box::pin(async move {
                let ids: BTreeSet<String> = match ids {
                    Some(ids) => ids.iter().cloned().collect(),
                    None => db
                        .query("SELECT id FROM members", &[], |r| r.get(0))
                        .await?
                        .into_iter()
                        .collect(),
                };
                refresh(db, &ids, *now).await
            })
        })
        .await
    }
}
