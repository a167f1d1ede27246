//! Members' order history: ingested orders, and checkout orders once paid. What each write
//! does is [`ingest::plan`], over the whole batch at once ([`batch::plan`]); the rows it decides
//! are written set-based.

use std::collections::{BTreeSet, HashMap, HashSet};

use async_trait::async_trait;
use jiff::Timestamp;

use super::{corrupt, page_of};
use crate::records::*;
use crate::scrm::ingest::{self, StoredOrder};
use crate::scrm::{batch, *};
use crate::sql::{Column, Db, Engine, Row, Strings};
use crate::traits::OrderHistory;
use crate::Result;

const HISTORY_COLS: &str =
    "id, user_id, status, channel, store_id, paid_at, amount, line_count, source";

fn order_summary(r: &Row) -> Result<OrderSummary> {
    Ok(OrderSummary {
        id: r.get(0)?,
        user_id: r.get(1)?,
        status: HistoryStatus::parse(&r.get::<String>(2)?)
            .ok_or_else(|| corrupt("order status"))?,
        channel: r.get(3)?,
        store_id: r.get(4)?,
        paid_at: r.time(5)?,
        amount: r.get(6)?,
        line_count: r.get(7)?,
        source: OrderSource::parse(&r.get::<String>(8)?).ok_or_else(|| corrupt("order source"))?,
    })
}

/// Writes orders of customers' history (see [`OrderHistory::put_orders`]): what each did, and
/// the customers whose aggregates they change.
pub(crate) async fn write_orders(
    db: &mut Db<'_>,
    orders: &[HistoryOrder],
    now: Timestamp,
) -> Result<(Vec<Written>, BTreeSet<String>)> {
    let ids: Vec<String> = orders.iter().map(|o| o.id.clone()).collect();
    let stored: HashMap<String, StoredOrder> = db
        .query(
            "SELECT id, user_id, content_hash, source FROM member_orders WHERE id = ANY($1) ORDER BY id FOR UPDATE",
            &[&Strings(&ids)],
            |r| {
                Ok((
                    r.get::<String>(0)?,
                    StoredOrder {
                        user_id: r.get(1)?,
                        content_hash: r.get(2)?,
                        source: OrderSource::parse(&r.get::<String>(3)?)
                            .ok_or_else(|| corrupt("order source"))?,
                    },
                ))
            },
        )
        .await?
        .into_iter()
        .collect();
    let checkout: HashSet<String> = db
        .query(
            "SELECT id FROM orders WHERE id = ANY($1)",
            &[&Strings(&ids)],
            |r| r.get(0),
        )
        .await?
        .into_iter()
        .collect();
    let replaced: Vec<String> = stored.keys().cloned().collect();
    let hashed: Vec<(&HistoryOrder, String)> =
        orders.iter().map(|o| (o, o.content_hash())).collect();
    let planned = batch::plan(
        stored,
        &hashed,
        |(o, _)| &o.id,
        |s, (o, hash)| ingest::plan(s, checkout.contains(&o.id), o, hash),
        |(o, hash)| StoredOrder {
            user_id: o.user_id.clone(),
            content_hash: hash.clone(),
            source: o.source,
        },
    );
    let rows: Vec<(HistoryOrder, &str)> = planned
        .rows
        .iter()
        .map(|(o, hash)| ((*o).clone(), hash.as_str()))
        .collect();
    let rows = with_categories(db, rows).await?;
    let replaced: Vec<String> = replaced
        .into_iter()
        .filter(|id| rows.iter().any(|(o, _)| &o.id == id))
        .collect();
    if !replaced.is_empty() {
        db.execute(
            "DELETE FROM member_order_lines WHERE order_id = ANY($1)",
            &[&Strings(&replaced)],
        )
        .await?;
        db.execute(
            "DELETE FROM member_orders WHERE id = ANY($1)",
            &[&Strings(&replaced)],
        )
        .await?;
    }
    insert_orders(db, &rows, now).await?;
    insert_lines(db, &rows).await?;
    // Buying is not joining: an unknown customer gets a row, with no join time.
    let buyers: BTreeSet<String> = rows.iter().map(|(o, _)| o.user_id.clone()).collect();
    let users: Vec<String> = buyers.iter().cloned().collect();
    db.execute_rows(
        "INSERT INTO members (id, updated_at) SELECT x.id, $1::bigint FROM {rows} WHERE true \
         ON CONFLICT (id) DO NOTHING",
        &[&micros(now)],
        &[("id", Column::Text(&users))],
    )
    .await?;
    Ok((planned.written, buyers))
}

/// Lines without a category take their product's.
async fn with_categories<'h>(
    db: &mut Db<'_>,
    mut rows: Vec<(HistoryOrder, &'h str)>,
) -> Result<Vec<(HistoryOrder, &'h str)>> {
    let skus: Vec<String> = rows
        .iter()
        .flat_map(|(o, _)| o.lines.iter())
        .filter(|l| l.category.is_none())
        .map(|l| l.sku.clone())
        .collect();
    if skus.is_empty() {
        return Ok(rows);
    }
    let categories: HashMap<String, Option<String>> = db
        .query(
            "SELECT id, category FROM products WHERE id = ANY($1)",
            &[&Strings(&skus)],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .await?
        .into_iter()
        .collect();
    for (o, _) in &mut rows {
        for line in o.lines.iter_mut().filter(|l| l.category.is_none()) {
            line.category = categories.get(&line.sku).cloned().flatten();
        }
    }
    Ok(rows)
}

async fn insert_orders(
    db: &mut Db<'_>,
    rows: &[(HistoryOrder, &str)],
    now: Timestamp,
) -> Result<u64> {
    let texts = |f: fn(&HistoryOrder) -> String| -> Vec<String> {
        rows.iter().map(|(o, _)| f(o)).collect()
    };
    let ints =
        |f: fn(&HistoryOrder) -> i64| -> Vec<i64> { rows.iter().map(|(o, _)| f(o)).collect() };
    let hashes: Vec<String> = rows.iter().map(|(_, h)| h.to_string()).collect();
    let channel: Vec<Option<String>> = rows.iter().map(|(o, _)| o.channel.clone()).collect();
    let store: Vec<Option<String>> = rows
        .iter()
        .map(|(o, _)| o.store_id().map(str::to_string))
        .collect();
    db.execute_rows(
        "INSERT INTO member_orders (id, user_id, status, counted, channel, store_id, paid_at, amount, line_count, source, content_hash, updated_at) \
         SELECT x.id, x.user_id, x.status, x.counted, x.channel, x.store_id, x.paid_at, x.amount, x.line_count, x.source, x.content_hash, $1::bigint FROM {rows}",
        &[&micros(now)],
        &[
            ("id", Column::Text(&texts(|o| o.id.clone()))),
            ("user_id", Column::Text(&texts(|o| o.user_id.clone()))),
            ("status", Column::Text(&texts(|o| o.status.as_str().into()))),
            ("counted", Column::Int(&ints(|o| i64::from(o.status.counts())))),
            ("channel", Column::MaybeText(&channel)),
            ("store_id", Column::MaybeText(&store)),
            ("paid_at", Column::Int(&ints(|o| micros(o.paid_at)))),
            ("amount", Column::Int(&ints(HistoryOrder::amount))),
            ("line_count", Column::Int(&ints(|o| o.lines.len() as i64))),
            ("source", Column::Text(&texts(|o| o.source.as_str().into()))),
            ("content_hash", Column::Text(&hashes)),
        ],
    )
    .await
}

async fn insert_lines(db: &mut Db<'_>, rows: &[(HistoryOrder, &str)]) -> Result<u64> {
    let lines: Vec<(&HistoryOrder, &HistoryLine)> = rows
        .iter()
        .flat_map(|(o, _)| o.lines.iter().map(move |l| (o, l)))
        .collect();
    let texts = |f: fn(&HistoryOrder, &HistoryLine) -> String| -> Vec<String> {
        lines.iter().map(|(o, l)| f(o, l)).collect()
    };
    let maybe = |f: fn(&HistoryLine) -> Option<String>| -> Vec<Option<String>> {
        lines.iter().map(|(_, l)| f(l)).collect()
    };
    let ints = |f: fn(&HistoryOrder, &HistoryLine) -> i64| -> Vec<i64> {
        lines.iter().map(|(o, l)| f(o, l)).collect()
    };
    db.execute_rows(
        "INSERT INTO member_order_lines (order_id, line_id, user_id, sku, store_id, category, qty, amount, paid_at, counted) \
         SELECT x.order_id, x.line_id, x.user_id, x.sku, x.store_id, x.category, x.qty, x.amount, x.paid_at, x.counted FROM {rows}",
        &[],
        &[
            ("order_id", Column::Text(&texts(|o, _| o.id.clone()))),
            ("line_id", Column::Text(&texts(|_, l| l.line_id.clone()))),
            ("user_id", Column::Text(&texts(|o, _| o.user_id.clone()))),
            ("sku", Column::Text(&texts(|_, l| l.sku.clone()))),
            ("store_id", Column::MaybeText(&maybe(|l| l.store_id.clone()))),
            ("category", Column::MaybeText(&maybe(|l| l.category.clone()))),
            ("qty", Column::Int(&ints(|_, l| l.qty))),
            ("amount", Column::Int(&ints(|_, l| l.amount))),
            ("paid_at", Column::Int(&ints(|o, _| micros(o.paid_at)))),
            ("counted", Column::Int(&ints(|o, _| i64::from(o.status.counts())))),
        ],
    )
    .await
}

#[async_trait]
impl<E: Engine> OrderHistory for E {
    async fn put_orders(
        &self,
        orders: Vec<HistoryOrder>,
        now: Timestamp,
        aggregates: Aggregates,
    ) -> Result<Vec<Written>> {
        self.write(
            (orders, now, aggregates),
            |db, (orders, now, aggregates)| {
                Box::pin(async move {
                    let (written, touched) = write_orders(db, orders, *now).await?;
                    if *aggregates == Aggregates::Current {
                        super::refresh(db, &touched, *now).await?;
                    }
                    Ok(written)
                })
            },
        )
        .await
    }

    async fn history_order(&self, id: &str) -> Result<Option<(OrderSummary, Vec<HistoryLine>)>> {
        let id = id.to_string();
        self.read(move |db| {
            Box::pin(async move {
                // One statement, so one snapshot, for the order and its lines.
                let rows = db
                    .query(
                        "SELECT o.id, o.user_id, o.status, o.channel, o.store_id, o.paid_at, o.amount, o.line_count, o.source, \
                         l.line_id, l.sku, l.store_id, l.category, l.qty, l.amount \
                         FROM member_orders o LEFT JOIN member_order_lines l ON l.order_id = o.id \
                         WHERE o.id = $1 ORDER BY l.line_id",
                        &[&id],
                        |r| {
                            let line = match r.get::<Option<String>>(9)? {
                                Some(line_id) => Some(HistoryLine {
                                    line_id,
                                    sku: r.get(10)?,
                                    store_id: r.get(11)?,
                                    category: r.get(12)?,
                                    qty: r.get(13)?,
                                    amount: r.get(14)?,
                                }),
                                None => None,
                            };
                            Ok((order_summary(r)?, line))
                        },
                    )
                    .await?;
                let Some((order, _)) = rows.first() else {
                    return Ok(None);
                };
                let order = order.clone();
                Ok(Some((order, rows.into_iter().filter_map(|(_, l)| l).collect())))
            })
        })
        .await
    }

    async fn list_orders(&self, f: OrderFilter) -> Result<Page<OrderSummary>> {
        self.read(move |db| {
            Box::pin(async move {
                let filter = "($1::text IS NULL OR user_id = $1)";
                let total: i64 = db
                    .query_one(
                        &format!("SELECT COUNT(*) FROM member_orders WHERE {filter}"),
                        &[&f.user_id],
                        |r| r.get(0),
                    )
                    .await?;
                let items = db
                    .query(
                        &format!("SELECT {HISTORY_COLS} FROM member_orders WHERE {filter} AND id > $2 ORDER BY id LIMIT $3"),
                        &[&f.user_id, &f.cursor.clone().unwrap_or_default(), &(i64::from(f.limit) + 1)],
                        order_summary,
                    )
                    .await?;
                Ok(page_of(items, f.limit, total, |o| o.id.clone()))
            })
        })
        .await
    }

    async fn recent_orders(&self, user_id: &str, limit: u32) -> Result<Vec<OrderSummary>> {
        let user = user_id.to_string();
        self.read(move |db| {
            Box::pin(async move {
                db.query(
                    &format!("SELECT {HISTORY_COLS} FROM member_orders WHERE user_id = $1 ORDER BY paid_at DESC, id DESC LIMIT $2"),
                    &[&user, &i64::from(limit)],
                    order_summary,
                )
                .await
            })
        })
        .await
    }

    async fn order_totals(&self) -> Result<(i64, i64)> {
        self.read(|db| {
            Box::pin(async move {
                db.query_one(
                    "SELECT COUNT(*), CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM member_orders WHERE counted = 1",
                    &[],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .await
            })
        })
        .await
    }
}
