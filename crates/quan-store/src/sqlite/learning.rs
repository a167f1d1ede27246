//! What the redemption model learns from, on SQLite: basket lines and coupon outcomes.

use async_trait::async_trait;
use jiff::Timestamp;
use quan_core::coupon::CouponStatus;

use super::rows::*;
use super::SqliteStore;
use crate::learning::{BasketLine, CouponOutcome, EntryOutcome};
use crate::model::micros;
use crate::traits::Learning;
use crate::Result;

#[async_trait]
impl Learning for SqliteStore {
    async fn basket_lines(&self, before: Timestamp) -> Result<Vec<BasketLine>> {
        self.read_conn(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT order_id, user_id, sku, category, amount, paid_at FROM member_order_lines \
                 WHERE counted = 1 AND paid_at < ?1 ORDER BY user_id, paid_at, order_id, line_id",
            )?;
            let rows = stmt.query_map([micros(before)], |r| {
                Ok(BasketLine {
                    order_id: r.get(0)?,
                    user_id: r.get(1)?,
                    sku: r.get(2)?,
                    category: r.get(3)?,
                    amount: r.get(4)?,
                    paid_at: ts(r.get(5)?),
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn coupon_outcomes(&self, before: Timestamp) -> Result<Vec<CouponOutcome>> {
        self.read_conn(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT user_id, template_id, claimed_at, valid_until, status, updated_at FROM coupons \
                 WHERE claimed_at < ?1 ORDER BY user_id, claimed_at, id",
            )?;
            let mut rows = stmt.query([micros(before)])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                let status: String = r.get(4)?;
                out.push(CouponOutcome {
                    user_id: r.get(0)?,
                    template_id: r.get(1)?,
                    claimed_at: ts(r.get(2)?),
                    valid_until: ts(r.get(3)?),
                    status: CouponStatus::parse(&status).ok_or_else(|| corrupt("coupon status"))?,
                    updated_at: ts(r.get(5)?),
                });
            }
            Ok(out)
        })
        .await
    }

    async fn entry_outcomes(&self, before: Timestamp) -> Result<Vec<EntryOutcome>> {
        self.read_conn(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT campaign_id, user_id, status, done_at FROM campaign_entries \
                 WHERE status IN ('treated', 'held_out') AND done_at < ?1 ORDER BY user_id, done_at, campaign_id",
            )?;
            let rows = stmt.query_map([micros(before)], |r| {
                Ok(EntryOutcome {
                    campaign_id: r.get(0)?,
                    user_id: r.get(1)?,
                    treated: r.get::<_, String>(2)? == "treated",
                    at: ts(r.get(3)?),
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }
}
