//! The SCRM on PostgreSQL: members, stores, products, members' orders, events, RFM and segments.
//!
//! The semantics are those of the SQLite backend (`sqlite/scrm.rs`); what differs is how they
//! hold under several writers. A write that touches several rows is one transaction, retried
//! whole on a deadlock, a serialisation failure or a unique-key race (two writers inserting the
//! same new order or event). Members' aggregates are recomputed under their rows' locks, taken
//! in id order before their orders are read, so two writers of one member's orders never leave
//! aggregates that miss the other's order.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::future::Future;

use deadpool_postgres::GenericClient;
use jiff::Timestamp;
use quan_core::scrm::rfm::RfmInput;
use quan_core::scrm::{History, LifecycleConfig, Purchase, RfmScore, RfmTier, Rule};
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::Row;

use super::{page_of, retryable, PgStore, ATTEMPTS};
use crate::model::{from_micros, micros};
use crate::scrm::*;
use crate::{Page, Result, StoreError};

const MEMBER_COLS: &str = "id, joined_at, tier, region, channel, guide_id, points, tags, attributes, \
    paid_orders, total_spent, first_paid_at, last_paid_at, prev_paid_at, rfm_r, rfm_f, rfm_m, rfm_tier, rfm_at, updated_at";
const STORE_COLS: &str = "id, name, region, attributes, updated_at";
const PRODUCT_COLS: &str =
    "id, name, store_id, department, category, brand, attributes, updated_at";
const ORDER_COLS: &str =
    "id, user_id, status, channel, store_id, paid_at, amount, line_count, source";
const EVENT_COLS: &str = "id, user_id, kind, at, store_id, order_id, data";
const SEGMENT_COLS: &str = "id, name, rule, created_at, updated_at";
/// Members whose aggregates one statement recomputes.
const REFRESH_CHUNK: usize = 1000;

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

fn json<T: serde::de::DeserializeOwned>(raw: &str, what: &str) -> Result<T> {
    serde_json::from_str(raw).map_err(|_| corrupt(what))
}

fn score(v: i64, what: &str) -> Result<u8> {
    u8::try_from(v).map_err(|_| corrupt(what))
}

fn member_record(r: &Row) -> Result<MemberRecord> {
    let opt_ts = |v: Option<i64>| v.map(from_micros);
    Ok(MemberRecord {
        profile: MemberProfile {
            id: r.get(0),
            joined_at: from_micros(r.get(1)),
            tier: r.get(2),
            region: r.get(3),
            channel: r.get(4),
            guide_id: r.get(5),
            points: r.get(6),
            tags: json(r.get(7), "member tags")?,
            attributes: json(r.get(8), "member attributes")?,
        },
        history: History {
            orders: r.get(9),
            spent: r.get(10),
            first: opt_ts(r.get(11)),
            last: opt_ts(r.get(12)),
            prev: opt_ts(r.get(13)),
        },
        rfm: RfmScore {
            r: score(r.get(14), "member rfm r")?,
            f: score(r.get(15), "member rfm f")?,
            m: score(r.get(16), "member rfm m")?,
            tier: RfmTier::parse(r.get(17)).ok_or_else(|| corrupt("member rfm tier"))?,
        },
        rfm_at: opt_ts(r.get(18)),
        updated_at: from_micros(r.get(19)),
    })
}

fn store_record(r: &Row) -> Result<StoreRecord> {
    Ok(StoreRecord {
        id: r.get(0),
        name: r.get(1),
        region: r.get(2),
        attributes: json(r.get(3), "store attributes")?,
        updated_at: from_micros(r.get(4)),
    })
}

fn product_record(r: &Row) -> Result<ProductRecord> {
    Ok(ProductRecord {
        id: r.get(0),
        name: r.get(1),
        store_id: r.get(2),
        department: r.get(3),
        category: r.get(4),
        brand: r.get(5),
        attributes: json(r.get(6), "product attributes")?,
        updated_at: from_micros(r.get(7)),
    })
}

fn order_summary(r: &Row) -> Result<OrderSummary> {
    Ok(OrderSummary {
        id: r.get(0),
        user_id: r.get(1),
        status: r.get(2),
        channel: r.get(3),
        store_id: r.get(4),
        paid_at: from_micros(r.get(5)),
        amount: r.get(6),
        line_count: r.get(7),
        source: r.get(8),
    })
}

fn event_record(r: &Row) -> Result<EventRecord> {
    Ok(EventRecord {
        id: r.get(0),
        user_id: r.get(1),
        kind: r.get(2),
        at: from_micros(r.get(3)),
        store_id: r.get(4),
        order_id: r.get(5),
        data: json(r.get(6), "event data")?,
    })
}

/// Runs `attempt` (one transaction) again while it fails on a deadlock, a serialisation
/// failure or a unique-key race with another writer.
async fn retrying<T, F, Fut>(mut attempt: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut n = 0;
    loop {
        n += 1;
        match attempt().await {
            Err(e) if n < ATTEMPTS && retryable(&e) => {
                tracing::debug!(error = %e, attempt = n, "retrying scrm write");
            }
            other => return other,
        }
    }
}

/// `execute` through the connection's statement cache: one round trip instead of two.
async fn exec(c: &impl GenericClient, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64> {
    let st = c.prepare_cached(sql).await?;
    Ok(c.execute(&st, params).await?)
}

async fn query(
    c: &impl GenericClient,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<Row>> {
    let st = c.prepare_cached(sql).await?;
    Ok(c.query(&st, params).await?)
}

async fn query_opt(
    c: &impl GenericClient,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Option<Row>> {
    let st = c.prepare_cached(sql).await?;
    Ok(c.query_opt(&st, params).await?)
}

async fn query_one(
    c: &impl GenericClient,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Row> {
    let st = c.prepare_cached(sql).await?;
    Ok(c.query_one(&st, params).await?)
}

async fn get_setting(c: &impl GenericClient, name: &str) -> Result<Option<String>> {
    Ok(
        c.query_opt("SELECT value FROM settings WHERE name = $1", &[&name])
            .await?
            .map(|r| r.get(0)),
    )
}

async fn put_setting_in(c: &impl GenericClient, name: &str, value: &str) -> Result<()> {
    c.execute(
        "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
        &[&name, &value],
    )
    .await?;
    Ok(())
}

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
    let cuts: Option<RfmCuts> = get_setting(c, RFM_CUTS_SETTING)
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

/// Writes one order of a member's history (see [`Scrm::put_orders`]); the members whose
/// aggregates it changes go to `touched`.
pub(super) async fn write_order(
    tx: &impl GenericClient,
    mut o: HistoryOrder,
    now: Timestamp,
    touched: &mut BTreeSet<String>,
) -> Result<Written> {
    let hash = o.content_hash();
    let before: Option<(String, String, String)> = query_opt(
        tx,
        "SELECT user_id, content_hash, source FROM member_orders WHERE id = $1 FOR UPDATE",
        &[&o.id],
    )
    .await?
    .map(|r| (r.get(0), r.get(1), r.get(2)));
    match &before {
        Some((_, h, _)) if *h == hash => return Ok(Written::Unchanged),
        Some((_, _, source)) if *source != o.source => return Ok(Written::Conflict),
        None if o.source == "ingest" => {
            let checkout: bool = query_one(
                tx,
                "SELECT EXISTS (SELECT 1 FROM orders WHERE id = $1)",
                &[&o.id],
            )
            .await?
            .get(0);
            if checkout {
                return Ok(Written::Conflict);
            }
        }
        _ => {}
    }
    let skus: Vec<&str> = o
        .lines
        .iter()
        .filter(|l| l.category.is_none())
        .map(|l| l.sku.as_str())
        .collect();
    if !skus.is_empty() {
        let categories: HashMap<String, Option<String>> = query(
            tx,
            "SELECT id, category FROM products WHERE id = ANY($1)",
            &[&skus],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
        for line in o.lines.iter_mut().filter(|l| l.category.is_none()) {
            line.category = categories.get(&line.sku).cloned().flatten();
        }
    }
    let counted = i64::from(quan_core::scrm::history::counts(&o.status));
    let paid_at = micros(o.paid_at);
    if let Some((old_user, _, _)) = &before {
        exec(
            tx,
            "DELETE FROM member_order_lines WHERE order_id = $1",
            &[&o.id],
        )
        .await?;
        exec(tx, "DELETE FROM member_orders WHERE id = $1", &[&o.id]).await?;
        touched.insert(old_user.clone());
    }
    exec(tx,
        "INSERT INTO member_orders (id, user_id, status, counted, channel, store_id, paid_at, amount, line_count, source, content_hash, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        &[
            &o.id,
            &o.user_id,
            &o.status,
            &counted,
            &o.channel,
            &o.store_id(),
            &paid_at,
            &o.amount(),
            &(o.lines.len() as i64),
            &o.source,
            &hash,
            &micros(now),
        ],
    )
    .await?;
    if !o.lines.is_empty() {
        let line_ids: Vec<&str> = o.lines.iter().map(|l| l.line_id.as_str()).collect();
        let line_skus: Vec<&str> = o.lines.iter().map(|l| l.sku.as_str()).collect();
        let stores: Vec<Option<&str>> = o.lines.iter().map(|l| l.store_id.as_deref()).collect();
        let categories: Vec<Option<&str>> = o.lines.iter().map(|l| l.category.as_deref()).collect();
        let qtys: Vec<i64> = o.lines.iter().map(|l| l.qty).collect();
        let amounts: Vec<i64> = o.lines.iter().map(|l| l.amount).collect();
        exec(tx,
            "INSERT INTO member_order_lines (order_id, line_id, user_id, sku, store_id, category, qty, amount, paid_at, counted) \
             SELECT $1, n.line_id, $2, n.sku, n.store_id, n.category, n.qty, n.amount, $3, $4 \
             FROM unnest($5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[], $10::bigint[]) \
             AS n (line_id, sku, store_id, category, qty, amount)",
            &[&o.id, &o.user_id, &paid_at, &counted, &line_ids, &line_skus, &stores, &categories, &qtys, &amounts],
        )
        .await?;
    }
    exec(tx,
        "INSERT INTO members (id, joined_at, updated_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
        &[&o.user_id, &paid_at, &micros(now)],
    )
    .await?;
    touched.insert(o.user_id);
    Ok(if before.is_some() {
        Written::Updated
    } else {
        Written::Inserted
    })
}

/// The lifecycle gaps in force, read through `c`.
pub(super) async fn lifecycle_in(c: &impl GenericClient) -> Result<LifecycleConfig> {
    Ok(get_setting(c, LIFECYCLE_SETTING)
        .await?
        .and_then(|raw| serde_json::from_str(&raw).ok())
        .unwrap_or_default())
}

/// Whether one member meets a rule at `now`: its stored facts, and one query per purchase
/// condition of the rule (claims of `segment` audiences, inside the claim batch).
pub(super) async fn rule_matches(
    c: &impl GenericClient,
    rule: &Rule,
    lifecycle: &LifecycleConfig,
    user_id: &str,
    now: Timestamp,
) -> Result<bool> {
    let Some(member) = get_member(c, user_id).await? else {
        return Ok(false);
    };
    let mut answers = HashMap::new();
    for p in rule.purchases() {
        let yes = !purchase_ids(c, &p, now, Some(user_id)).await?.is_empty();
        answers.insert(p, yes);
    }
    let view = member.view(&member.history, now, lifecycle);
    Ok(rule.matches(&view, now, &mut |p| {
        answers.get(p).copied().unwrap_or(false)
    }))
}

fn ph(n: usize) -> String {
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

/// A page of `SELECT {cols} FROM {table} WHERE id > cursor ORDER BY id`, with the table's count.
async fn id_page<T: Send>(
    c: &impl GenericClient,
    table: &str,
    cols: &str,
    limit: u32,
    cursor: Option<String>,
    row: fn(&Row) -> Result<T>,
    id_of: fn(&T) -> String,
) -> Result<Page<T>> {
    let total: i64 = c
        .query_one(&format!("SELECT count(*) FROM {table}"), &[])
        .await?
        .get(0);
    let items = c
        .query(
            &format!("SELECT {cols} FROM {table} WHERE id > $1 ORDER BY id LIMIT $2"),
            &[&cursor.unwrap_or_default(), &(i64::from(limit) + 1)],
        )
        .await?
        .iter()
        .map(row)
        .collect::<Result<Vec<T>>>()?;
    Ok(page_of(items, limit, total, id_of))
}

impl PgStore {
    async fn put_members_once(
        &self,
        members: &[MemberProfile],
        now: Timestamp,
    ) -> Result<Vec<Written>> {
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
            if before.as_ref() == Some(m) {
                out.push(Written::Unchanged);
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
                    &micros(m.joined_at),
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
            out.push(if before.is_some() {
                Written::Updated
            } else {
                Written::Inserted
            });
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn put_stores_once(&self, stores: &[StoreRecord]) -> Result<Vec<Written>> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let mut out = Vec::with_capacity(stores.len());
        for s in stores {
            let before = query_opt(
                &tx,
                &format!("SELECT {STORE_COLS} FROM stores WHERE id = $1 FOR UPDATE"),
                &[&s.id],
            )
            .await?
            .as_ref()
            .map(store_record)
            .transpose()?;
            if before.as_ref().is_some_and(|b| {
                (&b.name, &b.region, &b.attributes) == (&s.name, &s.region, &s.attributes)
            }) {
                out.push(Written::Unchanged);
                continue;
            }
            exec(&tx,
                "INSERT INTO stores (id, name, region, attributes, updated_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, region = EXCLUDED.region, \
                 attributes = EXCLUDED.attributes, updated_at = EXCLUDED.updated_at",
                &[&s.id, &s.name, &s.region, &s.attributes.to_string(), &micros(s.updated_at)],
            )
            .await?;
            out.push(if before.is_some() {
                Written::Updated
            } else {
                Written::Inserted
            });
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn put_products_once(&self, products: &[ProductRecord]) -> Result<Vec<Written>> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let mut out = Vec::with_capacity(products.len());
        for p in products {
            let before = query_opt(
                &tx,
                &format!("SELECT {PRODUCT_COLS} FROM products WHERE id = $1 FOR UPDATE"),
                &[&p.id],
            )
            .await?
            .as_ref()
            .map(product_record)
            .transpose()?;
            if before.as_ref().is_some_and(|b| {
                ProductRecord {
                    updated_at: p.updated_at,
                    ..b.clone()
                } == *p
            }) {
                out.push(Written::Unchanged);
                continue;
            }
            exec(&tx,
                "INSERT INTO products (id, name, store_id, department, category, brand, attributes, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, \
                 store_id = EXCLUDED.store_id, department = EXCLUDED.department, category = EXCLUDED.category, \
                 brand = EXCLUDED.brand, attributes = EXCLUDED.attributes, updated_at = EXCLUDED.updated_at",
                &[
                    &p.id,
                    &p.name,
                    &p.store_id,
                    &p.department,
                    &p.category,
                    &p.brand,
                    &p.attributes.to_string(),
                    &micros(p.updated_at),
                ],
            )
            .await?;
            out.push(if before.is_some() {
                Written::Updated
            } else {
                Written::Inserted
            });
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn put_orders_once(
        &self,
        orders: &[HistoryOrder],
        now: Timestamp,
        aggregates: Aggregates,
    ) -> Result<Vec<Written>> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let mut out = Vec::with_capacity(orders.len());
        let mut touched = BTreeSet::new();
        for o in orders {
            out.push(write_order(&tx, o.clone(), now, &mut touched).await?);
        }
        if aggregates == Aggregates::Current {
            refresh(&tx, &touched, now).await?;
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn refresh_members_once(&self, ids: Option<&[String]>, now: Timestamp) -> Result<u64> {
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
    }

    async fn put_events_once(
        &self,
        events: &[EventRecord],
        now: Timestamp,
    ) -> Result<Vec<Written>> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let mut out = Vec::with_capacity(events.len());
        for e in events {
            let before = tx
                .query_opt(
                    &format!("SELECT {EVENT_COLS} FROM events WHERE id = $1"),
                    &[&e.id],
                )
                .await?
                .as_ref()
                .map(event_record)
                .transpose()?;
            if let Some(b) = before {
                out.push(if b == *e {
                    Written::Unchanged
                } else {
                    Written::Conflict
                });
                continue;
            }
            tx.execute(
                "INSERT INTO events (id, user_id, kind, at, store_id, order_id, data, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                &[&e.id, &e.user_id, &e.kind, &micros(e.at), &e.store_id, &e.order_id, &e.data.to_string(), &micros(now)],
            )
            .await?;
            match e.kind.as_str() {
                "signup" => {
                    tx.execute(
                        "INSERT INTO members (id, joined_at, updated_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
                        &[&e.user_id, &micros(e.at), &micros(now)],
                    )
                    .await?;
                }
                "tier_changed" => {
                    let tier = e.data.get("tier").and_then(|t| t.as_str());
                    tx.execute(
                        "UPDATE members SET tier = $2, updated_at = $3 WHERE id = $1",
                        &[&e.user_id, &tier, &micros(now)],
                    )
                    .await?;
                }
                _ => {}
            }
            out.push(Written::Inserted);
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn write_rfm_once(&self, rows: &[(String, RfmScore)], cuts: &RfmCuts) -> Result<u64> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let all = tx
            .execute(
                "UPDATE members SET rfm_r = 0, rfm_f = 0, rfm_m = 0, rfm_tier = 'C', rfm_at = $1",
                &[&micros(cuts.as_of)],
            )
            .await?;
        let ids: Vec<&str> = rows.iter().map(|(id, _)| id.as_str()).collect();
        let r: Vec<i64> = rows.iter().map(|(_, s)| i64::from(s.r)).collect();
        let f: Vec<i64> = rows.iter().map(|(_, s)| i64::from(s.f)).collect();
        let m: Vec<i64> = rows.iter().map(|(_, s)| i64::from(s.m)).collect();
        let tier: Vec<&str> = rows.iter().map(|(_, s)| s.tier.as_str()).collect();
        let scored = tx
            .execute(
                "UPDATE members SET rfm_r = n.r, rfm_f = n.f, rfm_m = n.m, rfm_tier = n.tier \
                 FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[]) \
                 AS n (id, r, f, m, tier) WHERE members.id = n.id",
                &[&ids, &r, &f, &m, &tier],
            )
            .await?;
        put_setting_in(
            &tx,
            RFM_CUTS_SETTING,
            &serde_json::to_string(cuts).expect("json"),
        )
        .await?;
        tx.commit().await?;
        Ok(all - scored)
    }

    async fn put_segment_once(&self, s: &SegmentRecord) -> Result<SegmentRecord> {
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
    }
}

#[async_trait::async_trait]
impl Scrm for PgStore {
    async fn setting(&self, name: &str) -> Result<Option<String>> {
        let c = self.pool.get().await?;
        get_setting(&c, name).await
    }

    async fn put_setting(&self, name: &str, value: String) -> Result<()> {
        let c = self.pool.get().await?;
        put_setting_in(&c, name, &value).await
    }

    async fn put_members(
        &self,
        members: Vec<MemberProfile>,
        now: Timestamp,
    ) -> Result<Vec<Written>> {
        retrying(|| self.put_members_once(&members, now)).await
    }

    async fn member(&self, id: &str) -> Result<Option<MemberRecord>> {
        let c = self.pool.get().await?;
        get_member(&c, id).await
    }

    async fn list_members(&self, limit: u32, cursor: Option<String>) -> Result<Page<MemberRecord>> {
        let c = self.pool.get().await?;
        id_page(
            &c,
            "members",
            MEMBER_COLS,
            limit,
            cursor,
            member_record,
            |m| m.profile.id.clone(),
        )
        .await
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
        retrying(|| self.refresh_members_once(ids.as_deref(), now)).await
    }

    async fn put_stores(&self, stores: Vec<StoreRecord>) -> Result<Vec<Written>> {
        retrying(|| self.put_stores_once(&stores)).await
    }

    async fn store_record(&self, id: &str) -> Result<Option<StoreRecord>> {
        let c = self.pool.get().await?;
        c.query_opt(
            &format!("SELECT {STORE_COLS} FROM stores WHERE id = $1"),
            &[&id],
        )
        .await?
        .as_ref()
        .map(store_record)
        .transpose()
    }

    async fn list_stores(&self, limit: u32, cursor: Option<String>) -> Result<Page<StoreRecord>> {
        let c = self.pool.get().await?;
        id_page(&c, "stores", STORE_COLS, limit, cursor, store_record, |s| {
            s.id.clone()
        })
        .await
    }

    async fn put_products(&self, products: Vec<ProductRecord>) -> Result<Vec<Written>> {
        retrying(|| self.put_products_once(&products)).await
    }

    async fn product(&self, id: &str) -> Result<Option<ProductRecord>> {
        let c = self.pool.get().await?;
        c.query_opt(
            &format!("SELECT {PRODUCT_COLS} FROM products WHERE id = $1"),
            &[&id],
        )
        .await?
        .as_ref()
        .map(product_record)
        .transpose()
    }

    async fn list_products(
        &self,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<Page<ProductRecord>> {
        let c = self.pool.get().await?;
        id_page(
            &c,
            "products",
            PRODUCT_COLS,
            limit,
            cursor,
            product_record,
            |p| p.id.clone(),
        )
        .await
    }

    async fn put_orders(
        &self,
        orders: Vec<HistoryOrder>,
        now: Timestamp,
        aggregates: Aggregates,
    ) -> Result<Vec<Written>> {
        retrying(|| self.put_orders_once(&orders, now, aggregates)).await
    }

    async fn history_order(&self, id: &str) -> Result<Option<(OrderSummary, Vec<HistoryLine>)>> {
        let mut client = self.pool.get().await?;
        // One snapshot for the order and its lines.
        let tx = client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?;
        let Some(order) = tx
            .query_opt(
                &format!("SELECT {ORDER_COLS} FROM member_orders WHERE id = $1"),
                &[&id],
            )
            .await?
        else {
            return Ok(None);
        };
        let order = order_summary(&order)?;
        let lines = tx
            .query(
                "SELECT line_id, sku, store_id, category, qty, amount FROM member_order_lines WHERE order_id = $1 ORDER BY line_id",
                &[&id],
            )
            .await?
            .iter()
            .map(|r| HistoryLine {
                line_id: r.get(0),
                sku: r.get(1),
                store_id: r.get(2),
                category: r.get(3),
                qty: r.get(4),
                amount: r.get(5),
            })
            .collect();
        tx.commit().await?;
        Ok(Some((order, lines)))
    }

    async fn list_orders(&self, f: OrderFilter) -> Result<Page<OrderSummary>> {
        let c = self.pool.get().await?;
        let filter = "($1::text IS NULL OR user_id = $1)";
        let total: i64 = c
            .query_one(
                &format!("SELECT count(*) FROM member_orders WHERE {filter}"),
                &[&f.user_id],
            )
            .await?
            .get(0);
        let items = c
            .query(
                &format!("SELECT {ORDER_COLS} FROM member_orders WHERE {filter} AND id > $2 ORDER BY id LIMIT $3"),
                &[&f.user_id, &f.cursor.unwrap_or_default(), &(i64::from(f.limit) + 1)],
            )
            .await?
            .iter()
            .map(order_summary)
            .collect::<Result<Vec<_>>>()?;
        Ok(page_of(items, f.limit, total, |o| o.id.clone()))
    }

    async fn recent_orders(&self, user_id: &str, limit: u32) -> Result<Vec<OrderSummary>> {
        let c = self.pool.get().await?;
        c.query(
            &format!("SELECT {ORDER_COLS} FROM member_orders WHERE user_id = $1 ORDER BY paid_at DESC, id DESC LIMIT $2"),
            &[&user_id, &i64::from(limit)],
        )
        .await?
        .iter()
        .map(order_summary)
        .collect()
    }

    async fn order_totals(&self) -> Result<(i64, i64)> {
        let c = self.pool.get().await?;
        let r = c
            .query_one(
                "SELECT count(*), coalesce(sum(amount), 0)::bigint FROM member_orders WHERE counted = 1",
                &[],
            )
            .await?;
        Ok((r.get(0), r.get(1)))
    }

    async fn put_events(&self, events: Vec<EventRecord>, now: Timestamp) -> Result<Vec<Written>> {
        retrying(|| self.put_events_once(&events, now)).await
    }

    async fn list_events(
        &self,
        user_id: &str,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<Page<EventRecord>> {
        let c = self.pool.get().await?;
        let total: i64 = c
            .query_one(
                "SELECT count(*) FROM events WHERE user_id = $1",
                &[&user_id],
            )
            .await?
            .get(0);
        let items = c
            .query(
                &format!("SELECT {EVENT_COLS} FROM events WHERE user_id = $1 AND id > $2 ORDER BY id LIMIT $3"),
                &[&user_id, &cursor.unwrap_or_default(), &(i64::from(limit) + 1)],
            )
            .await?
            .iter()
            .map(event_record)
            .collect::<Result<Vec<_>>>()?;
        Ok(page_of(items, limit, total, |e| e.id.clone()))
    }

    async fn rfm_inputs(&self, since: Timestamp, as_of: Timestamp) -> Result<Vec<RfmInput>> {
        let c = self.pool.get().await?;
        Ok(c.query(
            "SELECT user_id, max(paid_at), count(*), sum(amount)::bigint FROM member_orders \
                 WHERE counted = 1 AND paid_at > $1 AND paid_at <= $2 GROUP BY user_id",
            &[&micros(since), &micros(as_of)],
        )
        .await?
        .iter()
        .map(|r| RfmInput {
            member_id: r.get(0),
            last: r.get(1),
            frequency: r.get(2),
            monetary: r.get(3),
        })
        .collect())
    }

    async fn write_rfm(&self, rows: Vec<(String, RfmScore)>, cuts: RfmCuts) -> Result<u64> {
        retrying(|| self.write_rfm_once(&rows, &cuts)).await
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

    async fn put_segment(&self, segment: SegmentRecord) -> Result<SegmentRecord> {
        retrying(|| self.put_segment_once(&segment)).await
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
}
