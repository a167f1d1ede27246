//! Members' order history on SQLite; what each write does is `scrm::ingest::plan`.

use std::collections::BTreeSet;

use super::members::refresh;
use crate::scrm::ingest::{self, StoredOrder};
use crate::scrm::*;
use async_trait::async_trait;
use jiff::Timestamp;
use rusqlite::{params, Connection, OptionalExtension};

use super::rows::*;
use super::SqliteStore;
use crate::model::*;
use crate::traits::*;
use crate::Result;

/// Writes one order of a member's history (see [`OrderHistory::put_orders`]); the members whose
/// aggregates it changes go to `touched`.
pub(super) fn write_order(
    tx: &Connection,
    mut o: HistoryOrder,
    now: Timestamp,
    touched: &mut BTreeSet<String>,
) -> Result<Written> {
    let hash = o.content_hash();
    let stored = tx
        .prepare_cached("SELECT user_id, content_hash, source FROM member_orders WHERE id = ?1")?
        .query_row([&o.id], |r| {
            Ok(StoredOrder {
                user_id: r.get(0)?,
                content_hash: r.get(1)?,
                source: r.get(2)?,
            })
        })
        .optional()?;
    let checkout_id = stored.is_none()
        && tx
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM orders WHERE id = ?1)")?
            .query_row([&o.id], |r| r.get::<_, bool>(0))?;
    let written = ingest::plan(stored.as_ref(), checkout_id, &o, &hash);
    if matches!(written, Written::Unchanged | Written::Conflict) {
        return Ok(written);
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
    if written == Written::Updated {
        tx.prepare_cached("DELETE FROM member_order_lines WHERE order_id = ?1")?
            .execute([&o.id])?;
        tx.prepare_cached("DELETE FROM member_orders WHERE id = ?1")?
            .execute([&o.id])?;
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
    // Buying is not joining: an unknown customer gets a row, with no join time.
    tx.prepare_cached(&crate::scrm::members::buyer_sql(super::segments::ph))?
        .execute(params![o.user_id, micros(now)])?;
    touched.insert(o.user_id);
    Ok(written)
}

#[async_trait]
impl OrderHistory for SqliteStore {
    async fn put_orders(
        &self,
        orders: Vec<HistoryOrder>,
        now: Timestamp,
        aggregates: Aggregates,
    ) -> Result<Vec<Written>> {
        self.write_conn(move |tx, _| {
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
        self.read_conn(move |conn| {
            let Some(order) = conn
                .prepare_cached(&format!("SELECT {HISTORY_COLS} FROM member_orders WHERE id = ?1"))?
                .query_row([&id], summary_row)
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
        self.read_conn(move |conn| {
            let cursor = f.cursor.unwrap_or_default();
            let (total, items) = match &f.user_id {
                Some(user) => {
                    let total = conn
                        .prepare_cached("SELECT count(*) FROM member_orders WHERE user_id = ?1")?
                        .query_row([user], |r| r.get(0))?;
                    let mut stmt = conn.prepare_cached(&format!(
                        "SELECT {HISTORY_COLS} FROM member_orders WHERE user_id = ?1 AND id > ?2 ORDER BY id LIMIT 0 + ?3"
                    ))?;
                    let items = stmt
                        .query_map(params![user, cursor, i64::from(f.limit) + 1], summary_row)?
                        .collect::<rusqlite::Result<Vec<_>>>()?;
                    (total, items)
                }
                None => {
                    let total = conn.prepare_cached("SELECT count(*) FROM member_orders")?.query_row([], |r| r.get(0))?;
                    let mut stmt = conn.prepare_cached(&format!(
                        "SELECT {HISTORY_COLS} FROM member_orders WHERE id > ?1 ORDER BY id LIMIT 0 + ?2"
                    ))?;
                    let items = stmt
                        .query_map(params![cursor, i64::from(f.limit) + 1], summary_row)?
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
        self.read_conn(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {HISTORY_COLS} FROM member_orders WHERE user_id = ?1 ORDER BY paid_at DESC, id DESC LIMIT 0 + ?2"
            ))?;
            let rows = stmt.query_map(params![user, i64::from(limit)], summary_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn order_totals(&self) -> Result<(i64, i64)> {
        self.read_conn(move |conn| {
            Ok(conn.query_row(
                "SELECT count(*), coalesce(sum(amount), 0) FROM member_orders WHERE counted = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?)
        })
        .await
    }
}
