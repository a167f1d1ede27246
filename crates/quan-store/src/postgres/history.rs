//! Members' order history on PostgreSQL; what each write does is `scrm::ingest::plan`.

use std::collections::{BTreeSet, HashMap};

use super::members::refresh;
use crate::scrm::ingest::{self, StoredOrder};
use crate::scrm::*;
use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use jiff::Timestamp;

use super::rows::*;
use super::{exec, query, query_one, query_opt, retrying, PgStore};
use crate::model::*;
use crate::traits::*;
use crate::Result;

/// Writes one order of a member's history (see [`OrderHistory::put_orders`]); the members whose
/// aggregates it changes go to `touched`.
pub(super) async fn write_order(
    tx: &impl GenericClient,
    mut o: HistoryOrder,
    now: Timestamp,
    touched: &mut BTreeSet<String>,
) -> Result<Written> {
    let hash = o.content_hash();
    let stored = query_opt(
        tx,
        "SELECT user_id, content_hash, source FROM member_orders WHERE id = $1 FOR UPDATE",
        &[&o.id],
    )
    .await?
    .map(|r| StoredOrder {
        user_id: r.get(0),
        content_hash: r.get(1),
        source: r.get(2),
    });
    let checkout_id = stored.is_none()
        && query_one(
            tx,
            "SELECT EXISTS (SELECT 1 FROM orders WHERE id = $1)",
            &[&o.id],
        )
        .await?
        .get::<_, bool>(0);
    let written = ingest::plan(stored.as_ref(), checkout_id, &o, &hash);
    if matches!(written, Written::Unchanged | Written::Conflict) {
        return Ok(written);
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
    if written == Written::Updated {
        exec(
            tx,
            "DELETE FROM member_order_lines WHERE order_id = $1",
            &[&o.id],
        )
        .await?;
        exec(tx, "DELETE FROM member_orders WHERE id = $1", &[&o.id]).await?;
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
    // Buying is not joining: an unknown customer gets a row, with no join time.
    exec(
        tx,
        &crate::scrm::members::buyer_sql(super::segments::ph),
        &[&o.user_id, &micros(now)],
    )
    .await?;
    touched.insert(o.user_id);
    Ok(written)
}

#[async_trait]
impl OrderHistory for PgStore {
    async fn put_orders(
        &self,
        orders: Vec<HistoryOrder>,
        now: Timestamp,
        aggregates: Aggregates,
    ) -> Result<Vec<Written>> {
        let orders = &orders;
        retrying(|| async move {
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
        })
        .await
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
                &format!("SELECT {HISTORY_COLS} FROM member_orders WHERE id = $1"),
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
                &format!("SELECT {HISTORY_COLS} FROM member_orders WHERE {filter} AND id > $2 ORDER BY id LIMIT $3"),
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
            &format!("SELECT {HISTORY_COLS} FROM member_orders WHERE user_id = $1 ORDER BY paid_at DESC, id DESC LIMIT $2"),
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
}
