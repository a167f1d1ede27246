//! Segments and purchase conditions on PostgreSQL; membership is decided by
//! `scrm::segments::admits`.

use std::collections::{HashMap, HashSet};

use quan_core::scrm::{LifecycleConfig, Purchase, Rule};
use tokio_postgres::types::{ToSql, Type};

use crate::scrm::segments::{admits, purchase_query, Bind, Membership};
use crate::scrm::*;
use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use jiff::Timestamp;
use tokio_postgres::Row;

use super::rows::*;
use super::{retrying, PgStore};
use crate::model::*;
use crate::traits::*;
use crate::Result;

/// The lifecycle gaps in force, read through `c`.
pub(super) async fn lifecycle_in(c: &impl GenericClient) -> Result<LifecycleConfig> {
    Ok(lifecycle_of(
        super::keys::get_setting(c, LIFECYCLE_SETTING).await?,
    ))
}

/// Whether one member meets a rule at `now` (claims of `segment` audiences, inside the claim
/// batch): the facts [`admits`] needs, its stored record and one query per purchase condition.
pub(super) async fn rule_admits(
    c: &impl GenericClient,
    rule: &Rule,
    lifecycle: &LifecycleConfig,
    user_id: &str,
    now: Timestamp,
) -> Result<bool> {
    let member = super::members::get_member(c, user_id).await?;
    let mut purchased = HashMap::new();
    if member.is_some() {
        for p in rule.purchases() {
            let yes = !purchase_ids(c, &p, now, Some(user_id)).await?.is_empty();
            purchased.insert(p, yes);
        }
    }
    let membership = Membership::Rule {
        rule,
        member: member.as_ref(),
        lifecycle,
        purchased: &purchased,
    };
    Ok(admits(membership, now))
}

/// The n-th placeholder of this backend, for the shared SQL of `scrm`.
pub(super) fn ph(n: usize) -> String {
    format!("${n}")
}

async fn purchase_ids(
    c: &impl GenericClient,
    p: &Purchase,
    as_of: Timestamp,
    member: Option<&str>,
) -> Result<HashSet<String>> {
    let (sql, binds) = purchase_query(p, as_of, member, ph);
    // Typed: `sum(amount) >= $n` would otherwise ask for a NUMERIC.
    let types: Vec<Type> = binds
        .iter()
        .map(|b| match b {
            Bind::Int(_) => Type::INT8,
            Bind::Text(_) => Type::TEXT,
        })
        .collect();
    let params: Vec<&(dyn ToSql + Sync)> = binds
        .iter()
        .map(|b| match b {
            Bind::Int(v) => v as &(dyn ToSql + Sync),
            Bind::Text(v) => v as &(dyn ToSql + Sync),
        })
        .collect();
    let st = c.prepare_typed_cached(&sql, &types).await?;
    Ok(c.query(&st, &params)
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

/// Segments from their rows; listed segments' members in one more query.
async fn segments_of(c: &impl GenericClient, rows: &[Row]) -> Result<Vec<SegmentRecord>> {
    let listed: Vec<&str> = rows
        .iter()
        .filter(|r| r.get::<_, Option<&str>>(2).is_none())
        .map(|r| r.get(0))
        .collect();
    let mut members: HashMap<String, Vec<String>> = HashMap::new();
    if !listed.is_empty() {
        for r in c
            .query(
                "SELECT segment_id, member_id FROM segment_members WHERE segment_id = ANY($1) ORDER BY segment_id, member_id",
                &[&listed],
            )
            .await?
        {
            members.entry(r.get(0)).or_default().push(r.get(1));
        }
    }
    rows.iter()
        .map(|r| {
            let id: String = r.get(0);
            let created: i64 = r.get(3);
            let updated: Option<i64> = r.get(4);
            let definition = match r.get::<_, Option<&str>>(2) {
                Some(raw) => SegmentDefinition::Rule(json(raw, "segment rule")?),
                None => SegmentDefinition::Listed(members.remove(&id).unwrap_or_default()),
            };
            Ok(SegmentRecord {
                name: r.get(1),
                definition,
                created_at: from_micros(created),
                updated_at: from_micros(updated.unwrap_or(created)),
                id,
            })
        })
        .collect()
}

async fn get_segment(c: &impl GenericClient, id: &str) -> Result<Option<SegmentRecord>> {
    let rows = c
        .query(
            &format!("SELECT {SEGMENT_COLS} FROM segments WHERE id = $1"),
            &[&id],
        )
        .await?;
    Ok(segments_of(c, &rows).await?.pop())
}

#[async_trait]
impl Segments for PgStore {
    async fn put_segment(&self, segment: SegmentRecord) -> Result<SegmentRecord> {
        let s = &segment;
        retrying(|| async move {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let rule = match &s.definition {
            SegmentDefinition::Rule(rule) => Some(serde_json::to_string(rule).expect("json")),
            SegmentDefinition::Listed(_) => None,
        };
        tx.execute(
            "INSERT INTO segments (id, name, rule, created_at, updated_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, rule = EXCLUDED.rule, updated_at = EXCLUDED.updated_at",
            &[&s.id, &s.name, &rule, &micros(s.created_at), &micros(s.updated_at)],
        )
        .await?;
        tx.execute(
            "DELETE FROM segment_members WHERE segment_id = $1",
            &[&s.id],
        )
        .await?;
        if let SegmentDefinition::Listed(ids) = &s.definition {
            tx.execute(
                "INSERT INTO segment_members (segment_id, member_id) SELECT $1, m FROM unnest($2::text[]) AS m \
                 ON CONFLICT DO NOTHING",
                &[&s.id, ids],
            )
            .await?;
        }
        let out = get_segment(&tx, &s.id)
            .await?
            .ok_or_else(|| corrupt("segment vanished"))?;
        tx.commit().await?;
        Ok(out)
        })
        .await
    }

    async fn segment(&self, id: &str) -> Result<Option<SegmentRecord>> {
        let mut client = self.pool.get().await?;
        let tx = client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?;
        let out = get_segment(&tx, id).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn list_segments(
        &self,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<Page<SegmentRecord>> {
        let mut client = self.pool.get().await?;
        let tx = client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?;
        let total: i64 = tx
            .query_one("SELECT count(*) FROM segments", &[])
            .await?
            .get(0);
        let rows = tx
            .query(
                &format!("SELECT {SEGMENT_COLS} FROM segments WHERE id > $1 ORDER BY id LIMIT $2"),
                &[&cursor.unwrap_or_default(), &(i64::from(limit) + 1)],
            )
            .await?;
        let items = segments_of(&tx, &rows).await?;
        tx.commit().await?;
        Ok(page_of(items, limit, total, |s| s.id.clone()))
    }

    async fn purchase_members(
        &self,
        purchase: &Purchase,
        as_of: Timestamp,
    ) -> Result<HashSet<String>> {
        let c = self.pool.get().await?;
        purchase_ids(&c, purchase, as_of, None).await
    }

    async fn member_purchased(
        &self,
        member_id: &str,
        purchase: &Purchase,
        as_of: Timestamp,
    ) -> Result<bool> {
        let c = self.pool.get().await?;
        Ok(!purchase_ids(&c, purchase, as_of, Some(member_id))
            .await?
            .is_empty())
    }
}
