//! Segments and the purchase conditions their rules ask about; whether a member is in one is
//! decided by `scrm::segments::admits` on the facts read here.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use jiff::Timestamp;
use quan_core::scrm::{History, Purchase, RfmScore, RfmTier, Rule};

use super::page_of;
use crate::records::*;
use crate::scrm::segments::{admits, purchase_query, Bind, Membership};
use crate::scrm::*;
use crate::sql::{Db, Engine, Param, Row, Strings};
use crate::traits::Segments;
use crate::{Result, StoreError};

const SEGMENT_COLS: &str = "id, name, rule, created_at, updated_at";

pub(crate) const MEMBER_COLS: &str = "id, joined_at, tier, region, channel, guide_id, points, tags, attributes, \
    paid_orders, total_spent, first_paid_at, last_paid_at, prev_paid_at, rfm_r, rfm_f, rfm_m, rfm_tier, rfm_at, updated_at";

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

fn json<T: serde::de::DeserializeOwned>(raw: &str, what: &str) -> Result<T> {
    serde_json::from_str(raw).map_err(|_| corrupt(what))
}

fn score(v: i64, what: &str) -> Result<u8> {
    u8::try_from(v).map_err(|_| corrupt(what))
}

/// A member from a row of [`MEMBER_COLS`].
pub(crate) fn member_record(r: &Row) -> Result<MemberRecord> {
    let opt_ts = |v: Option<i64>| v.map(from_micros);
    let tags: String = r.get(7)?;
    let attributes: String = r.get(8)?;
    let tier: String = r.get(17)?;
    Ok(MemberRecord {
        profile: MemberProfile {
            id: r.get(0)?,
            joined_at: opt_ts(r.get(1)?),
            tier: r.get(2)?,
            region: r.get(3)?,
            channel: r.get(4)?,
            guide_id: r.get(5)?,
            points: r.get(6)?,
            tags: json(&tags, "member tags")?,
            attributes: json(&attributes, "member attributes")?,
        },
        history: History {
            orders: r.get(9)?,
            spent: r.get(10)?,
            first: opt_ts(r.get(11)?),
            last: opt_ts(r.get(12)?),
            prev: opt_ts(r.get(13)?),
        },
        rfm: RfmScore {
            r: score(r.get(14)?, "member rfm r")?,
            f: score(r.get(15)?, "member rfm f")?,
            m: score(r.get(16)?, "member rfm m")?,
            tier: RfmTier::parse(&tier).ok_or_else(|| corrupt("member rfm tier"))?,
        },
        rfm_at: opt_ts(r.get(18)?),
        updated_at: r.time(19)?,
    })
}

/// A member by id.
pub(crate) async fn member_by_id(db: &mut Db<'_>, id: &str) -> Result<Option<MemberRecord>> {
    db.query_opt(
        &format!("SELECT {MEMBER_COLS} FROM members WHERE id = $1"),
        &[&id],
        member_record,
    )
    .await
}

/// A setting's value, if set.
pub(crate) async fn setting_in(db: &mut Db<'_>, name: &str) -> Result<Option<String>> {
    db.query_opt(
        "SELECT value FROM settings WHERE name = $1",
        &[&name],
        |r| r.get(0),
    )
    .await
}

/// Whether a member is in a segment at `now`, inside the caller's transaction (claims of
/// `segment` audiences): the facts [`admits`] needs, read through `db`.
pub(crate) async fn in_segment(
    db: &mut Db<'_>,
    segment_id: &str,
    user_id: &str,
    now: Timestamp,
) -> Result<bool> {
    let rule: Option<Option<String>> = db
        .query_opt(
            "SELECT rule FROM segments WHERE id = $1",
            &[&segment_id],
            |r| r.get(0),
        )
        .await?;
    match rule.flatten() {
        None => {
            let listed = db
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM segment_members WHERE segment_id = $1 AND member_id = $2)",
                    &[&segment_id, &user_id],
                    |r| r.get(0),
                )
                .await?;
            Ok(admits(Membership::Listed(listed), now))
        }
        Some(raw) => {
            let rule: Rule = json(&raw, "segment rule")?;
            let member = member_by_id(db, user_id).await?;
            let lifecycle = lifecycle_of(setting_in(db, LIFECYCLE_SETTING).await?);
            let mut purchased = HashMap::new();
            if member.is_some() {
                for p in rule.purchases() {
                    let yes = !purchase_ids(db, &p, now, Some(user_id)).await?.is_empty();
                    purchased.insert(p, yes);
                }
            }
            let membership = Membership::Rule {
                rule: &rule,
                member: member.as_ref(),
                lifecycle: &lifecycle,
                purchased: &purchased,
            };
            Ok(admits(membership, now))
        }
    }
}

/// The members who meet a purchase condition at `as_of` (with `member`, only that one).
async fn purchase_ids(
    db: &mut Db<'_>,
    p: &Purchase,
    as_of: Timestamp,
    member: Option<&str>,
) -> Result<HashSet<String>> {
    let (sql, binds) = purchase_query(p, as_of, member);
    let params: Vec<&dyn Param> = binds
        .iter()
        .map(|b| match b {
            Bind::Int(v) => v as &dyn Param,
            Bind::Text(v) => v as &dyn Param,
        })
        .collect();
    Ok(db
        .query(&sql, &params, |r| r.get(0))
        .await?
        .into_iter()
        .collect())
}

/// A segment's row: id, name, rule (none for a listed segment), created and updated times.
type SegmentRow = (String, String, Option<String>, i64, Option<i64>);

/// Segments from their rows; listed segments' members in one more query.
async fn segments_of(db: &mut Db<'_>, rows: Vec<SegmentRow>) -> Result<Vec<SegmentRecord>> {
    let listed: Vec<String> = rows
        .iter()
        .filter(|r| r.2.is_none())
        .map(|r| r.0.clone())
        .collect();
    let mut members: HashMap<String, Vec<String>> = HashMap::new();
    if !listed.is_empty() {
        let pairs: Vec<(String, String)> = db
            .query(
                "SELECT segment_id, member_id FROM segment_members WHERE segment_id = ANY($1) ORDER BY segment_id, member_id",
                &[&Strings(&listed)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .await?;
        for (segment, member) in pairs {
            members.entry(segment).or_default().push(member);
        }
    }
    rows.into_iter()
        .map(|(id, name, rule, created, updated)| {
            let definition = match rule {
                Some(raw) => SegmentDefinition::Rule(json(&raw, "segment rule")?),
                None => SegmentDefinition::Listed(members.remove(&id).unwrap_or_default()),
            };
            Ok(SegmentRecord {
                name,
                definition,
                created_at: from_micros(created),
                updated_at: from_micros(updated.unwrap_or(created)),
                id,
            })
        })
        .collect()
}

fn segment_row(r: &Row) -> Result<SegmentRow> {
    Ok((
        r.get(0)?,
        r.get::<Option<String>>(1)?.unwrap_or_default(),
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
    ))
}

async fn get_segment(db: &mut Db<'_>, id: &str) -> Result<Option<SegmentRecord>> {
    let rows = db
        .query(
            &format!("SELECT {SEGMENT_COLS} FROM segments WHERE id = $1"),
            &[&id],
            segment_row,
        )
        .await?;
    Ok(segments_of(db, rows).await?.pop())
}

#[async_trait]
impl<E: Engine> Segments for E {
    async fn put_segment(&self, segment: SegmentRecord) -> Result<SegmentRecord> {
        self.write(segment, |db, s| {
            Box::pin(async move {
                let rule = match &s.definition {
                    SegmentDefinition::Rule(rule) => {
                        Some(serde_json::to_string(rule).expect("json"))
                    }
                    SegmentDefinition::Listed(_) => None,
                };
                db.execute(
                    "INSERT INTO segments (id, name, rule, created_at, updated_at) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (id) DO UPDATE SET name = excluded.name, rule = excluded.rule, updated_at = excluded.updated_at",
                    &[&s.id, &s.name, &rule, &micros(s.created_at), &micros(s.updated_at)],
                )
                .await?;
                db.execute("DELETE FROM segment_members WHERE segment_id = $1", &[&s.id])
                    .await?;
                if let SegmentDefinition::Listed(ids) = &s.definition {
                    let unique: Vec<String> = ids
                        .iter()
                        .collect::<std::collections::BTreeSet<_>>()
                        .into_iter()
                        .cloned()
                        .collect();
                    db.execute_rows(
                        "INSERT INTO segment_members (segment_id, member_id) SELECT $1, x.m FROM {rows} \
                         ON CONFLICT DO NOTHING",
                        &[&s.id],
                        &[("m", crate::sql::Column::Text(&unique))],
                    )
                    .await?;
                }
                get_segment(db, &s.id)
                    .await?
                    .ok_or_else(|| corrupt("segment vanished"))
            })
        })
        .await
    }

    async fn segment(&self, id: &str) -> Result<Option<SegmentRecord>> {
        let id = id.to_string();
        self.read(move |db| Box::pin(async move { get_segment(db, &id).await }))
            .await
    }

    async fn list_segments(
        &self,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<Page<SegmentRecord>> {
        self.read(move |db| {
            Box::pin(async move {
                let total: i64 = db
                    .query_one("SELECT count(*) FROM segments", &[], |r| r.get(0))
                    .await?;
                let rows = db
                    .query(
                        &format!("SELECT {SEGMENT_COLS} FROM segments WHERE id > $1 ORDER BY id LIMIT $2"),
                        &[&cursor.unwrap_or_default(), &(i64::from(limit) + 1)],
                        segment_row,
                    )
                    .await?;
                let items = segments_of(db, rows).await?;
                Ok(page_of(items, limit, total, |s| s.id.clone()))
            })
        })
        .await
    }

    async fn purchase_members(
        &self,
        purchase: &Purchase,
        as_of: Timestamp,
    ) -> Result<HashSet<String>> {
        let p = purchase.clone();
        self.read(move |db| Box::pin(async move { purchase_ids(db, &p, as_of, None).await }))
            .await
    }

    async fn member_purchased(
        &self,
        member_id: &str,
        purchase: &Purchase,
        as_of: Timestamp,
    ) -> Result<bool> {
        let (p, m) = (purchase.clone(), member_id.to_string());
        self.read_point(move |db| {
            Box::pin(async move { Ok(!purchase_ids(db, &p, as_of, Some(&m)).await?.is_empty()) })
        })
        .await
    }
}
