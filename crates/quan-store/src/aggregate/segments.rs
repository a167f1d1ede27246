//! Segments and the purchase conditions their rules ask about; whether a member is in one is
//! decided by `scrm::segments::admits` on the facts read here.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use jiff::Timestamp;
use quan_core::scrm::{Purchase, Rule};

use super::members::get_member;
use super::settings::get_setting;
use super::{corrupt, json, page_of};
use crate::records::*;
use crate::scrm::segments::{admits, purchase_query, Bind, Membership};
use crate::scrm::*;
use crate::sql::{Column, Db, Engine, Param, Row, Strings};
use crate::traits::Segments;
use crate::Result;

const SEGMENT_COLS: &str = "id, name, rule, created_at, updated_at";

/// Which of `asks` (each a customer and the time it is asked about) are in a segment, inside
/// the caller's transaction (claims of `segment` audiences): the segment's rule and the
/// lifecycle gaps read once, each customer's facts and purchases read for it, and the answer
/// made by [`admits`]. A customer asked twice is answered as of its latest time.
pub(crate) async fn in_segment(
    db: &mut Db<'_>,
    segment_id: &str,
    asks: &HashMap<&str, Timestamp>,
) -> Result<HashMap<String, bool>> {
    let rule: Option<Option<String>> = db
        .query_opt(
            "SELECT rule FROM segments WHERE id = $1",
            &[&segment_id],
            |r| r.get(0),
        )
        .await?;
    let mut answers = HashMap::with_capacity(asks.len());
    match rule.flatten() {
        None => {
            let users: Vec<String> = asks.keys().map(|u| u.to_string()).collect();
            let listed: HashSet<String> = db
                .query(
                    "SELECT member_id FROM segment_members WHERE segment_id = $1 AND member_id = ANY($2)",
                    &[&segment_id, &Strings(&users)],
                    |r| r.get(0),
                )
                .await?
                .into_iter()
                .collect();
            for (user, now) in asks {
                let yes = admits(Membership::Listed(listed.contains(*user)), *now);
                answers.insert(user.to_string(), yes);
            }
        }
        Some(raw) => {
            let rule: Rule = json(&raw, "segment rule")?;
            let lifecycle = lifecycle_of(get_setting(db, LIFECYCLE_SETTING).await?);
            for (user, now) in asks {
                let member = get_member(db, user).await?;
                let mut purchased = HashMap::new();
                if member.is_some() {
                    for p in rule.purchases() {
                        let yes = !purchase_ids(db, &p, *now, Some(user)).await?.is_empty();
                        purchased.insert(p, yes);
                    }
                }
                let membership = Membership::Rule {
                    rule: &rule,
                    member: member.as_ref(),
                    lifecycle: &lifecycle,
                    purchased: &purchased,
                };
                answers.insert(user.to_string(), admits(membership, *now));
            }
        }
    }
    Ok(answers)
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
                        &[("m", Column::Text(&unique))],
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
