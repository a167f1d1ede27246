//! What the redemption model learns from, on PostgreSQL: basket lines and coupon outcomes.

use async_trait::async_trait;
use jiff::Timestamp;
use quan_core::coupon::CouponStatus;

use super::rows::*;
use super::PgStore;
use crate::learning::{BasketLine, CouponOutcome, EntryOutcome};
use crate::model::{from_micros, micros};
use crate::traits::Learning;
use crate::Result;

#[async_trait]
impl Learning for PgStore {
    async fn basket_lines(&self, before: Timestamp) -> Result<Vec<BasketLine>> {
        let c = self.pool.get().await?;
        let rows = c
            .query(
                "SELECT order_id, user_id, sku, category, amount, paid_at FROM member_order_lines \
                 WHERE counted = 1 AND paid_at < $1 ORDER BY user_id, paid_at, order_id, line_id",
                &[&micros(before)],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| BasketLine {
                order_id: r.get(0),
                user_id: r.get(1),
                sku: r.get(2),
                category: r.get(3),
                amount: r.get(4),
                paid_at: from_micros(r.get(5)),
            })
            .collect())
    }

    async fn coupon_outcomes(&self, before: Timestamp) -> Result<Vec<CouponOutcome>> {
        let c = self.pool.get().await?;
        let rows = c
            .query(
                "SELECT user_id, template_id, claimed_at, valid_until, status, updated_at FROM coupons \
                 WHERE claimed_at < $1 ORDER BY user_id, claimed_at, id",
                &[&micros(before)],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(CouponOutcome {
                    user_id: r.get(0),
                    template_id: r.get(1),
                    claimed_at: from_micros(r.get(2)),
                    valid_until: from_micros(r.get(3)),
                    status: CouponStatus::parse(r.get(4))
                        .ok_or_else(|| corrupt("coupon status"))?,
                    updated_at: from_micros(r.get(5)),
                })
            })
            .collect()
    }

    async fn entry_outcomes(&self, before: Timestamp) -> Result<Vec<EntryOutcome>> {
        let c = self.pool.get().await?;
        let rows = c
            .query(
                "SELECT campaign_id, user_id, status, done_at FROM campaign_entries \
                 WHERE status IN ('treated', 'held_out') AND done_at < $1 ORDER BY user_id, done_at, campaign_id",
                &[&micros(before)],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| EntryOutcome {
                campaign_id: r.get(0),
                user_id: r.get(1),
                treated: r.get::<_, &str>(2) == "treated",
                at: from_micros(r.get(3)),
            })
            .collect())
    }
}
