//! The SCRM on SQLite: members, stores, products, members' orders, events, RFM and segments.

use std::collections::{BTreeSet, HashMap, HashSet};

use async_trait::async_trait;
use jiff::Timestamp;
use quan_core::scrm::rfm::RfmInput;
use quan_core::scrm::{History, LifecycleConfig, Purchase, RfmScore, RfmTier};
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::{corrupt, page_of, ts, SqliteStore};
use crate::model::{from_micros, micros};
use crate::scrm::*;
use crate::{Page, Result};

const MEMBER_COLS: &str = "id, joined_at, tier, region, channel, guide_id, points, tags, attributes, \
    paid_orders, total_spent, first_paid_at, last_paid_at, prev_paid_at, rfm_r, rfm_f, rfm_m, rfm_tier, rfm_at, updated_at";

fn json<T: serde::de::DeserializeOwned>(raw: &str, what: &str) -> Result<T> {
    serde_json::from_str(raw).map_err(|_| corrupt(what))
}

fn member_row(r: &Row) -> rusqlite::Result<Result<MemberRecord>> {
    let tags: String = r.get(7)?;
    let attributes: String = r.get(8)?;
    let opt_ts = |v: Option<i64>| v.map(from_micros);
    let tier: String = r.get(17)?;
    let record = (|| {
        Ok(MemberRecord {
            profile: MemberProfile {
                id: r.get(0)?,
                joined_at: ts(r.get(1)?),
                tier: r.get(2)?,
                region: r.get(3)?,
                channel: r.get(4)?,
                guide_id: r.get(5)?,
                points: r.get(6)?,
                tags: Vec::new(),
                attributes: serde_json::Value::Null,
            },
            history: History {
                orders: r.get(9)?,
                spent: r.get(10)?,
                first: opt_ts(r.get(11)?),
                last: opt_ts(r.get(12)?),
                prev: opt_ts(r.get(13)?),
            },
            rfm: RfmScore {
                r: r.get(14)?,
                f: r.get(15)?,
                m: r.get(16)?,
                tier: RfmTier::C,
            },
            rfm_at: opt_ts(r.get(18)?),
            updated_at: ts(r.get(19)?),
        })
    })();
    Ok(record.and_then(|mut m: MemberRecord| {
        m.profile.tags = json(&tags, "member tags")?;
        m.profile.attributes = json(&attributes, "member attributes")?;
        m.rfm.tier = RfmTier::parse(&tier).ok_or_else(|| corrupt("member rfm tier"))?;
        Ok(m)
    }))
}

pub(super) fn get_member(conn: &Connection, id: &str) -> Result<Option<MemberRecord>> {
    conn.prepare_cached(&format!("SELECT {MEMBER_COLS} FROM members WHERE id = ?1"))?
        .query_row([id], member_row)
        .optional()?
        .transpose()
}

fn get_setting(conn: &Connection, name: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT value FROM settings WHERE name = ?1")?
        .query_row([name], |r| r.get(0))
        .optional()?)
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
    let cuts: Option<RfmCuts> = get_setting(conn, RFM_CUTS_SETTING)?
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

/// Writes one order of a member's history (see [`Scrm::put_orders`]); the members whose
/// aggregates it changes go to `touched`.
pub(super) fn write_order(
    tx: &Connection,
    mut o: HistoryOrder,
    now: Timestamp,
    touched: &mut BTreeSet<String>,
) -> Result<Written> {
    let hash = o.content_hash();
    let before: Option<(String, String, String)> = tx
        .prepare_cached("SELECT user_id, content_hash, source FROM member_orders WHERE id = ?1")?
        .query_row([&o.id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    match &before {
        Some((_, h, _)) if *h == hash => {
            return Ok(Written::Unchanged);
        }
        Some((_, _, source)) if *source != o.source => {
            return Ok(Written::Conflict);
        }
        None if o.source == "ingest" => {
            let checkout: bool = tx
                .prepare_cached("SELECT EXISTS (SELECT 1 FROM orders WHERE id = ?1)")?
                .query_row([&o.id], |r| r.get(0))?;
            if checkout {
                return Ok(Written::Conflict);
            }
        }
        _ => {}
    }
    for line in o.lines.iter_mut().filter(|l| l.category.is_none()) {
        line.category = tx
            .prepare_cached("SELECT category FROM products WHERE id = ?1")?
            .query_row([&line.sku], |r| r.get(0))
            .optional()?
            .flatten();
    }
    let counted = i64::from(quan_core::scrm::history::counts(&o.status));
    let paid_at = micros(o.paid_at);
    if let Some((old_user, _, _)) = &before {
        tx.prepare_cached("DELETE FROM member_order_lines WHERE order_id = ?1")?
            .execute([&o.id])?;
        tx.prepare_cached("DELETE FROM member_orders WHERE id = ?1")?
            .execute([&o.id])?;
        touched.insert(old_user.clone());
    }
    tx.prepare_cached(
        "INSERT INTO member_orders (id, user_id, status, counted, channel, store_id, paid_at, amount, line_count, source, content_hash, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        o.id,
        o.user_id,
        o.status,
        counted,
        o.channel,
        o.store_id(),
        paid_at,
        o.amount(),
        o.lines.len() as i64,
        o.source,
        hash,
        micros(now)
    ])?;
    let mut line = tx.prepare_cached(
        "INSERT INTO member_order_lines (order_id, line_id, user_id, sku, store_id, category, qty, amount, paid_at, counted) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    for l in &o.lines {
        line.execute(params![
            o.id, l.line_id, o.user_id, l.sku, l.store_id, l.category, l.qty, l.amount, paid_at,
            counted
        ])?;
    }
    tx.prepare_cached(
        "INSERT INTO members (id, joined_at, updated_at) VALUES (?1, ?2, ?3) ON CONFLICT (id) DO NOTHING",
    )?
    .execute(params![o.user_id, paid_at, micros(now)])?;
    touched.insert(o.user_id);
    Ok(if before.is_some() {
        Written::Updated
    } else {
        Written::Inserted
    })
}

fn profile_of(conn: &Connection, id: &str) -> Result<Option<MemberProfile>> {
    Ok(get_member(conn, id)?.map(|m| m.profile))
}

/// Whether a member is in a segment at `now`, inside the writer (claims of `segment` audiences).
pub(super) fn in_segment(
    conn: &Connection,
    segment_id: &str,
    user_id: &str,
    now: Timestamp,
) -> Result<bool> {
    let Some(segment) = get_segment(conn, segment_id)? else {
        return Ok(false);
    };
    match segment.definition {
        SegmentDefinition::Listed(_) => Ok(conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM segment_members WHERE segment_id = ?1 AND member_id = ?2)")?
            .query_row([segment_id, user_id], |r| r.get(0))?),
        SegmentDefinition::Rule(rule) => {
            let Some(member) = get_member(conn, user_id)? else { return Ok(false) };
            let lifecycle: LifecycleConfig = get_setting(conn, LIFECYCLE_SETTING)?
                .and_then(|raw| serde_json::from_str(&raw).ok())
                .unwrap_or_default();
            let mut answers = HashMap::new();
            for p in rule.purchases() {
                let yes = !purchase_ids(conn, &p, now, Some(user_id))?.is_empty();
                answers.insert(p, yes);
            }
            let view = member.view(&member.history, now, &lifecycle);
            Ok(rule.matches(&view, now, &mut |p| answers.get(p).copied().unwrap_or(false)))
        }
    }
}

fn ph(n: usize) -> String {
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

const ORDER_COLS: &str =
    "id, user_id, status, channel, store_id, paid_at, amount, line_count, source";

fn order_row(r: &Row) -> rusqlite::Result<OrderSummary> {
    Ok(OrderSummary {
        id: r.get(0)?,
        user_id: r.get(1)?,
        status: r.get(2)?,
        channel: r.get(3)?,
        store_id: r.get(4)?,
        paid_at: ts(r.get(5)?),
        amount: r.get(6)?,
        line_count: r.get(7)?,
        source: r.get(8)?,
    })
}

fn store_row(r: &Row) -> rusqlite::Result<Result<StoreRecord>> {
    let attributes: String = r.get(3)?;
    Ok(
        json(&attributes, "store attributes").and_then(|attributes| {
            Ok(StoreRecord {
                id: r.get(0)?,
                name: r.get(1)?,
                region: r.get(2)?,
                attributes,
                updated_at: ts(r.get(4)?),
            })
        }),
    )
}

fn product_row(r: &Row) -> rusqlite::Result<Result<ProductRecord>> {
    let attributes: String = r.get(6)?;
    Ok(
        json(&attributes, "product attributes").and_then(|attributes| {
            Ok(ProductRecord {
                id: r.get(0)?,
                name: r.get(1)?,
                store_id: r.get(2)?,
                department: r.get(3)?,
                category: r.get(4)?,
                brand: r.get(5)?,
                attributes,
                updated_at: ts(r.get(7)?),
            })
        }),
    )
}

fn event_row(r: &Row) -> rusqlite::Result<Result<EventRecord>> {
    let data: String = r.get(6)?;
    Ok(json(&data, "event data").and_then(|data| {
        Ok(EventRecord {
            id: r.get(0)?,
            user_id: r.get(1)?,
            kind: r.get(2)?,
            at: ts(r.get(3)?),
            store_id: r.get(4)?,
            order_id: r.get(5)?,
            data,
        })
    }))
}

/// A page of `SELECT {cols} FROM {table} WHERE id > cursor ORDER BY id`, with the table's count.
fn id_page<T>(
    conn: &Connection,
    table: &str,
    cols: &str,
    limit: u32,
    cursor: Option<String>,
    row: impl Fn(&Row) -> rusqlite::Result<Result<T>>,
    id_of: impl Fn(&T) -> String,
) -> Result<Page<T>> {
    let total: i64 = conn
        .prepare_cached(&format!("SELECT count(*) FROM {table}"))?
        .query_row([], |r| r.get(0))?;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {cols} FROM {table} WHERE id > ?1 ORDER BY id LIMIT 0 + ?2"
    ))?;
    let items = stmt
        .query_map(
            params![cursor.unwrap_or_default(), i64::from(limit) + 1],
            row,
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?
        .into_iter()
        .collect::<Result<Vec<T>>>()?;
    Ok(page_of(items, limit, total, id_of))
}

#[async_trait]
impl Scrm for SqliteStore {
    async fn setting(&self, name: &str) -> Result<Option<String>> {
        let name = name.to_string();
        self.read_point(move |conn| get_setting(conn, &name)).await
    }

    async fn put_setting(&self, name: &str, value: String) -> Result<()> {
        let name = name.to_string();
        self.write(move |tx, _| {
            tx.execute(
                "INSERT INTO settings (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                [&name, &value],
            )?;
            Ok(())
        })
        .await
    }

    async fn put_members(
        &self,
        members: Vec<MemberProfile>,
        now: Timestamp,
    ) -> Result<Vec<Written>> {
        self.write(move |tx, _| {
            let mut out = Vec::with_capacity(members.len());
            for m in members {
                let before = profile_of(tx, &m.id)?;
                if before.as_ref() == Some(&m) {
                    out.push(Written::Unchanged);
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
                    micros(m.joined_at),
                    m.tier,
                    m.region,
                    m.channel,
                    m.guide_id,
                    m.points,
                    tags,
                    attributes,
                    micros(now)
                ])?;
                out.push(if before.is_some() { Written::Updated } else { Written::Inserted });
            }
            Ok(out)
        })
        .await
    }

    async fn member(&self, id: &str) -> Result<Option<MemberRecord>> {
        let id = id.to_string();
        self.read_point(move |conn| get_member(conn, &id)).await
    }

    async fn list_members(&self, limit: u32, cursor: Option<String>) -> Result<Page<MemberRecord>> {
        self.read(move |conn| {
            id_page(
                conn,
                "members",
                MEMBER_COLS,
                limit,
                cursor,
                member_row,
                |m| m.profile.id.clone(),
            )
        })
        .await
    }

    async fn all_members(&self) -> Result<Vec<MemberRecord>> {
        self.read(move |conn| {
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
        self.read(move |conn| {
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
        self.write(move |tx, _| {
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

    async fn put_stores(&self, stores: Vec<StoreRecord>) -> Result<Vec<Written>> {
        self.write(move |tx, _| {
            let mut out = Vec::with_capacity(stores.len());
            for s in stores {
                let before = tx
                    .prepare_cached("SELECT id, name, region, attributes, updated_at FROM stores WHERE id = ?1")?
                    .query_row([&s.id], store_row)
                    .optional()?
                    .transpose()?;
                if before.as_ref().is_some_and(|b| (&b.name, &b.region, &b.attributes) == (&s.name, &s.region, &s.attributes)) {
                    out.push(Written::Unchanged);
                    continue;
                }
                tx.prepare_cached(
                    "INSERT INTO stores (id, name, region, attributes, updated_at) VALUES (?1, ?2, ?3, ?4, ?5) \
                     ON CONFLICT (id) DO UPDATE SET name = excluded.name, region = excluded.region, \
                     attributes = excluded.attributes, updated_at = excluded.updated_at",
                )?
                .execute(params![s.id, s.name, s.region, s.attributes.to_string(), micros(s.updated_at)])?;
                out.push(if before.is_some() { Written::Updated } else { Written::Inserted });
            }
            Ok(out)
        })
        .await
    }

    async fn store_record(&self, id: &str) -> Result<Option<StoreRecord>> {
        let id = id.to_string();
        self.read_point(move |conn| {
            conn.prepare_cached(
                "SELECT id, name, region, attributes, updated_at FROM stores WHERE id = ?1",
            )?
            .query_row([&id], store_row)
            .optional()?
            .transpose()
        })
        .await
    }

    async fn list_stores(&self, limit: u32, cursor: Option<String>) -> Result<Page<StoreRecord>> {
        self.read(move |conn| {
            id_page(
                conn,
                "stores",
                "id, name, region, attributes, updated_at",
                limit,
                cursor,
                store_row,
                |s| s.id.clone(),
            )
        })
        .await
    }

    async fn put_products(&self, products: Vec<ProductRecord>) -> Result<Vec<Written>> {
        self.write(move |tx, _| {
            let mut out = Vec::with_capacity(products.len());
            for p in products {
                let before = tx
                    .prepare_cached(&format!("SELECT {PRODUCT_COLS} FROM products WHERE id = ?1"))?
                    .query_row([&p.id], product_row)
                    .optional()?
                    .transpose()?;
                if before.as_ref().is_some_and(|b| ProductRecord { updated_at: p.updated_at, ..b.clone() } == p) {
                    out.push(Written::Unchanged);
                    continue;
                }
                tx.prepare_cached(
                    "INSERT INTO products (id, name, store_id, department, category, brand, attributes, updated_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (id) DO UPDATE SET name = excluded.name, \
                     store_id = excluded.store_id, department = excluded.department, category = excluded.category, \
                     brand = excluded.brand, attributes = excluded.attributes, updated_at = excluded.updated_at",
                )?
                .execute(params![
                    p.id,
                    p.name,
                    p.store_id,
                    p.department,
                    p.category,
                    p.brand,
                    p.attributes.to_string(),
                    micros(p.updated_at)
                ])?;
                out.push(if before.is_some() { Written::Updated } else { Written::Inserted });
            }
            Ok(out)
        })
        .await
    }

    async fn product(&self, id: &str) -> Result<Option<ProductRecord>> {
        let id = id.to_string();
        self.read_point(move |conn| {
            conn.prepare_cached(&format!(
                "SELECT {PRODUCT_COLS} FROM products WHERE id = ?1"
            ))?
            .query_row([&id], product_row)
            .optional()?
            .transpose()
        })
        .await
    }

    async fn list_products(
        &self,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<Page<ProductRecord>> {
        self.read(move |conn| {
            id_page(
                conn,
                "products",
                PRODUCT_COLS,
                limit,
                cursor,
                product_row,
                |p| p.id.clone(),
            )
        })
        .await
    }

    async fn put_orders(
        &self,
        orders: Vec<HistoryOrder>,
        now: Timestamp,
        aggregates: Aggregates,
    ) -> Result<Vec<Written>> {
        self.write(move |tx, _| {
            let mut out = Vec::with_capacity(orders.len());
            let mut touched = BTreeSet::new();
            for o in orders {
                out.push(write_order(tx, o, now, &mut touched)?);
            }
            if aggregates == Aggregates::Current {
                refresh(tx, &touched, now)?;
            }
            Ok(out)
        })
        .await
    }

    async fn history_order(&self, id: &str) -> Result<Option<(OrderSummary, Vec<HistoryLine>)>> {
        let id = id.to_string();
        self.read(move |conn| {
            let Some(order) = conn
                .prepare_cached(&format!("SELECT {ORDER_COLS} FROM member_orders WHERE id = ?1"))?
                .query_row([&id], order_row)
                .optional()?
            else {
                return Ok(None);
            };
            let mut stmt = conn.prepare_cached(
                "SELECT line_id, sku, store_id, category, qty, amount FROM member_order_lines WHERE order_id = ?1 ORDER BY line_id",
            )?;
            let lines = stmt
                .query_map([&id], |r| {
                    Ok(HistoryLine {
                        line_id: r.get(0)?,
                        sku: r.get(1)?,
                        store_id: r.get(2)?,
                        category: r.get(3)?,
                        qty: r.get(4)?,
                        amount: r.get(5)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            Ok(Some((order, lines)))
        })
        .await
    }

    async fn list_orders(&self, f: OrderFilter) -> Result<Page<OrderSummary>> {
        self.read(move |conn| {
            let cursor = f.cursor.unwrap_or_default();
            let (total, items) = match &f.user_id {
                Some(user) => {
                    let total = conn
                        .prepare_cached("SELECT count(*) FROM member_orders WHERE user_id = ?1")?
                        .query_row([user], |r| r.get(0))?;
                    let mut stmt = conn.prepare_cached(&format!(
                        "SELECT {ORDER_COLS} FROM member_orders WHERE user_id = ?1 AND id > ?2 ORDER BY id LIMIT 0 + ?3"
                    ))?;
                    let items = stmt
                        .query_map(params![user, cursor, i64::from(f.limit) + 1], order_row)?
                        .collect::<rusqlite::Result<Vec<_>>>()?;
                    (total, items)
                }
                None => {
                    let total = conn.prepare_cached("SELECT count(*) FROM member_orders")?.query_row([], |r| r.get(0))?;
                    let mut stmt = conn.prepare_cached(&format!(
                        "SELECT {ORDER_COLS} FROM member_orders WHERE id > ?1 ORDER BY id LIMIT 0 + ?2"
                    ))?;
                    let items = stmt
                        .query_map(params![cursor, i64::from(f.limit) + 1], order_row)?
                        .collect::<rusqlite::Result<Vec<_>>>()?;
                    (total, items)
                }
            };
            Ok(page_of(items, f.limit, total, |o| o.id.clone()))
        })
        .await
    }

    async fn recent_orders(&self, user_id: &str, limit: u32) -> Result<Vec<OrderSummary>> {
        let user = user_id.to_string();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {ORDER_COLS} FROM member_orders WHERE user_id = ?1 ORDER BY paid_at DESC, id DESC LIMIT 0 + ?2"
            ))?;
            let rows = stmt.query_map(params![user, i64::from(limit)], order_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn order_totals(&self) -> Result<(i64, i64)> {
        self.read(move |conn| {
            Ok(conn.query_row(
                "SELECT count(*), coalesce(sum(amount), 0) FROM member_orders WHERE counted = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?)
        })
        .await
    }

    async fn put_events(&self, events: Vec<EventRecord>, now: Timestamp) -> Result<Vec<Written>> {
        self.write(move |tx, _| {
            let mut out = Vec::with_capacity(events.len());
            for e in events {
                let before = tx
                    .prepare_cached(&format!("SELECT {EVENT_COLS} FROM events WHERE id = ?1"))?
                    .query_row([&e.id], event_row)
                    .optional()?
                    .transpose()?;
                if let Some(b) = before {
                    out.push(if b == e { Written::Unchanged } else { Written::Conflict });
                    continue;
                }
                tx.prepare_cached(
                    "INSERT INTO events (id, user_id, kind, at, store_id, order_id, data, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )?
                .execute(params![e.id, e.user_id, e.kind, micros(e.at), e.store_id, e.order_id, e.data.to_string(), micros(now)])?;
                match e.kind.as_str() {
                    "signup" => {
                        tx.prepare_cached("INSERT INTO members (id, joined_at, updated_at) VALUES (?1, ?2, ?3) ON CONFLICT (id) DO NOTHING")?
                            .execute(params![e.user_id, micros(e.at), micros(now)])?;
                    }
                    "tier_changed" => {
                        let tier = e.data.get("tier").and_then(|t| t.as_str());
                        tx.prepare_cached("UPDATE members SET tier = ?2, updated_at = ?3 WHERE id = ?1")?
                            .execute(params![e.user_id, tier, micros(now)])?;
                    }
                    _ => {}
                }
                out.push(Written::Inserted);
            }
            Ok(out)
        })
        .await
    }

    async fn list_events(
        &self,
        user_id: &str,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<Page<EventRecord>> {
        let user = user_id.to_string();
        self.read(move |conn| {
            let total = conn
                .prepare_cached("SELECT count(*) FROM events WHERE user_id = ?1")?
                .query_row([&user], |r| r.get(0))?;
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {EVENT_COLS} FROM events WHERE user_id = ?1 AND id > ?2 ORDER BY id LIMIT 0 + ?3"
            ))?;
            let items = stmt
                .query_map(params![user, cursor.unwrap_or_default(), i64::from(limit) + 1], event_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?
                .into_iter()
                .collect::<Result<Vec<_>>>()?;
            Ok(page_of(items, limit, total, |e| e.id.clone()))
        })
        .await
    }

    async fn rfm_inputs(&self, since: Timestamp, as_of: Timestamp) -> Result<Vec<RfmInput>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT user_id, max(paid_at), count(*), sum(amount) FROM member_orders \
                 WHERE counted = 1 AND paid_at > ?1 AND paid_at <= ?2 GROUP BY user_id",
            )?;
            let rows = stmt.query_map([micros(since), micros(as_of)], |r| {
                Ok(RfmInput {
                    member_id: r.get(0)?,
                    last: r.get(1)?,
                    frequency: r.get(2)?,
                    monetary: r.get(3)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn write_rfm(&self, rows: Vec<(String, RfmScore)>, cuts: RfmCuts) -> Result<u64> {
        self.write(move |tx, _| {
            let at = micros(cuts.as_of);
            let all = tx.execute(
                "UPDATE members SET rfm_r = 0, rfm_f = 0, rfm_m = 0, rfm_tier = 'C', rfm_at = ?1",
                [at],
            )? as u64;
            let mut update = tx.prepare_cached(
                "UPDATE members SET rfm_r = ?2, rfm_f = ?3, rfm_m = ?4, rfm_tier = ?5 WHERE id = ?1",
            )?;
            let mut scored = 0;
            for (id, s) in &rows {
                scored += update.execute(params![id, s.r, s.f, s.m, s.tier.as_str()])? as u64;
            }
            tx.execute(
                "INSERT INTO settings (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                [RFM_CUTS_SETTING, &serde_json::to_string(&cuts).expect("json")],
            )?;
            Ok(all - scored)
        })
        .await
    }

    async fn purchase_members(
        &self,
        purchase: &Purchase,
        as_of: Timestamp,
    ) -> Result<HashSet<String>> {
        let p = purchase.clone();
        self.read(move |conn| purchase_ids(conn, &p, as_of, None))
            .await
    }

    async fn member_purchased(
        &self,
        member_id: &str,
        purchase: &Purchase,
        as_of: Timestamp,
    ) -> Result<bool> {
        let (p, m) = (purchase.clone(), member_id.to_string());
        self.read_point(move |conn| Ok(!purchase_ids(conn, &p, as_of, Some(&m))?.is_empty()))
            .await
    }

    async fn put_segment(&self, s: SegmentRecord) -> Result<SegmentRecord> {
        self.write(move |tx, _| {
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
        self.read(move |conn| get_segment(conn, &id)).await
    }

    async fn list_segments(
        &self,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<Page<SegmentRecord>> {
        self.read(move |conn| {
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

const PRODUCT_COLS: &str =
    "id, name, store_id, department, category, brand, attributes, updated_at";
const EVENT_COLS: &str = "id, user_id, kind, at, store_id, order_id, data";
