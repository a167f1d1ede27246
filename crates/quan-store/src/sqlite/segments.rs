//! Segments and purchase conditions on SQLite; membership is decided by
//! `scrm::segments::admits`.

use std::collections::{HashMap, HashSet};

use quan_core::scrm::Purchase;

use crate::scrm::segments::{admits, purchase_query, Bind, Membership};
use crate::scrm::*;
use async_trait::async_trait;
use jiff::Timestamp;
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::rows::*;
use super::SqliteStore;
use crate::model::*;
use crate::traits::*;
use crate::Result;

/// Whether a member is in a segment at `now`, inside the writer (claims of `segment` audiences):
/// the facts [`admits`] needs, read through `conn`.
pub(super) fn in_segment(
    conn: &Connection,
    segment_id: &str,
    user_id: &str,
    now: Timestamp,
) -> Result<bool> {
    let rule: Option<Option<String>> = conn
        .prepare_cached("SELECT rule FROM segments WHERE id = ?1")?
        .query_row([segment_id], |r| r.get(0))
        .optional()?;
    match rule.flatten() {
        None => {
            let listed = conn
                .prepare_cached("SELECT EXISTS (SELECT 1 FROM segment_members WHERE segment_id = ?1 AND member_id = ?2)")?
                .query_row([segment_id, user_id], |r| r.get(0))?;
            Ok(admits(Membership::Listed(listed), now))
        }
        Some(raw) => {
            let rule: quan_core::scrm::Rule = json(&raw, "segment rule")?;
            let member = super::members::get_member(conn, user_id)?;
            let lifecycle = lifecycle_of(super::keys::get_setting(conn, LIFECYCLE_SETTING)?);
            let mut purchased = HashMap::new();
            if member.is_some() {
                for p in rule.purchases() {
                    let yes = !purchase_ids(conn, &p, now, Some(user_id))?.is_empty();
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

/// The n-th placeholder of this backend, for the shared SQL of `scrm`.
pub(super) fn ph(n: usize) -> String {
    format!("?{n}")
}

fn purchase_ids(
    conn: &Connection,
    p: &Purchase,
    as_of: Timestamp,
    member: Option<&str>,
) -> Result<HashSet<String>> {
    let (sql, binds) = purchase_query(p, as_of, member, ph);
    let values: Vec<rusqlite::types::Value> = binds
        .into_iter()
        .map(|b| match b {
            Bind::Int(v) => rusqlite::types::Value::Integer(v),
            Bind::Text(v) => rusqlite::types::Value::Text(v),
        })
        .collect();
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(values), |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn segment_row(conn: &Connection, r: &Row) -> rusqlite::Result<Result<SegmentRecord>> {
    let id: String = r.get(0)?;
    let rule: Option<String> = r.get(2)?;
    let created: i64 = r.get(3)?;
    let updated: Option<i64> = r.get(4)?;
    let definition = match rule {
        Some(raw) => json(&raw, "segment rule").map(SegmentDefinition::Rule),
        None => {
            let mut stmt = conn.prepare_cached(
                "SELECT member_id FROM segment_members WHERE segment_id = ?1 ORDER BY member_id",
            )?;
            let ids = stmt
                .query_map([&id], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()?;
            Ok(SegmentDefinition::Listed(ids))
        }
    };
    Ok(definition.map(|definition| SegmentRecord {
        id,
        name: r.get(1).unwrap_or_default(),
        definition,
        created_at: ts(created),
        updated_at: ts(updated.unwrap_or(created)),
    }))
}

fn get_segment(conn: &Connection, id: &str) -> Result<Option<SegmentRecord>> {
    conn.prepare_cached(
        "SELECT id, name, rule, created_at, updated_at FROM segments WHERE id = ?1",
    )?
    .query_row([id], |r| segment_row(conn, r))
    .optional()?
    .transpose()
}

#[async_trait]
impl Segments for SqliteStore {
    async fn purchase_members(
        &self,
        purchase: &Purchase,
        as_of: Timestamp,
    ) -> Result<HashSet<String>> {
        let p = purchase.clone();
        self.read_conn(move |conn| purchase_ids(conn, &p, as_of, None))
            .await
    }

    async fn member_purchased(
        &self,
        member_id: &str,
        purchase: &Purchase,
        as_of: Timestamp,
    ) -> Result<bool> {
        let (p, m) = (purchase.clone(), member_id.to_string());
        self.read_point_conn(move |conn| Ok(!purchase_ids(conn, &p, as_of, Some(&m))?.is_empty()))
            .await
    }

    async fn put_segment(&self, s: SegmentRecord) -> Result<SegmentRecord> {
        self.write_conn(move |tx, _| {
            let rule = match &s.definition {
                SegmentDefinition::Rule(rule) => Some(serde_json::to_string(rule).expect("json")),
                SegmentDefinition::Listed(_) => None,
            };
            tx.execute(
                "INSERT INTO segments (id, name, rule, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, rule = excluded.rule, updated_at = excluded.updated_at",
                params![s.id, s.name, rule, micros(s.created_at), micros(s.updated_at)],
            )?;
            tx.execute("DELETE FROM segment_members WHERE segment_id = ?1", [&s.id])?;
            if let SegmentDefinition::Listed(ids) = &s.definition {
                let mut insert = tx.prepare_cached("INSERT OR IGNORE INTO segment_members (segment_id, member_id) VALUES (?1, ?2)")?;
                for m in ids {
                    insert.execute([&s.id, m])?;
                }
            }
            Ok(get_segment(tx, &s.id)?.expect("just written"))
        })
        .await
    }

    async fn segment(&self, id: &str) -> Result<Option<SegmentRecord>> {
        let id = id.to_string();
        self.read_conn(move |conn| get_segment(conn, &id)).await
    }

    async fn list_segments(
        &self,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<Page<SegmentRecord>> {
        self.read_conn(move |conn| {
            let total = conn.query_row("SELECT count(*) FROM segments", [], |r| r.get(0))?;
            let mut stmt = conn.prepare_cached(
                "SELECT id, name, rule, created_at, updated_at FROM segments WHERE id > ?1 ORDER BY id LIMIT 0 + ?2",
            )?;
            let items = stmt
                .query_map(params![cursor.unwrap_or_default(), i64::from(limit) + 1], |r| segment_row(conn, r))?
                .collect::<rusqlite::Result<Vec<_>>>()?
                .into_iter()
                .collect::<Result<Vec<_>>>()?;
            Ok(page_of(items, limit, total, |s| s.id.clone()))
        })
        .await
    }
}
