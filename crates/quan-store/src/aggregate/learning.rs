//! What the redemption model learns from: basket lines, coupon and entry outcomes.

use async_trait::async_trait;
use jiff::Timestamp;
use quan_core::coupon::CouponStatus;

use crate::records::learning::{BasketLine, CouponOutcome, EntryOutcome};
use crate::records::micros;
use crate::sql::Engine;
use crate::traits::Learning;
use crate::{Result, StoreError};

#[async_trait]
impl<E: Engine> Learning for E {
    async fn basket_lines(&self, before: Timestamp) -> Result<Vec<BasketLine>> {
        self.read(move |db| {
            Box::pin(async move {
                db.query(
                    "SELECT order_id, user_id, sku, category, amount, paid_at FROM member_order_lines \
                     WHERE counted = 1 AND paid_at < $1 ORDER BY user_id, paid_at, order_id, line_id",
                    &[&micros(before)],
                    |r| {
                        Ok(BasketLine {
                            order_id: r.get(0)?,
                            user_id: r.get(1)?,
                            sku: r.get(2)?,
                            category: r.get(3)?,
                            amount: r.get(4)?,
                            paid_at: r.time(5)?,
                        })
                    },
                )
                .await
            })
        })
        .await
    }

    async fn coupon_outcomes(&self, before: Timestamp) -> Result<Vec<CouponOutcome>> {
        self.read(move |db| {
            Box::pin(async move {
                db.query(
                    "SELECT user_id, template_id, claimed_at, valid_until, status, updated_at FROM coupons \
                     WHERE claimed_at < $1 ORDER BY user_id, claimed_at, id",
                    &[&micros(before)],
                    |r| {
                        let status: String = r.get(4)?;
                        Ok(CouponOutcome {
                            user_id: r.get(0)?,
                            template_id: r.get(1)?,
                            claimed_at: r.time(2)?,
                            valid_until: r.time(3)?,
                            status: CouponStatus::parse(&status)
                                .ok_or_else(|| StoreError::Corrupt("coupon status".into()))?,
                            updated_at: r.time(5)?,
                        })
                    },
                )
                .await
            })
        })
        .await
    }

    async fn entry_outcomes(&self, before: Timestamp) -> Result<Vec<EntryOutcome>> {
        self.read(move |db| {
            Box::pin(async move {
                db.query(
                    "SELECT campaign_id, user_id, status, done_at FROM campaign_entries \
                     WHERE status IN ('treated', 'held_out') AND done_at < $1 ORDER BY user_id, done_at, campaign_id",
                    &[&micros(before)],
                    |r| {
                        Ok(EntryOutcome {
                            campaign_id: r.get(0)?,
                            user_id: r.get(1)?,
                            treated: r.get::<String>(2)? == "treated",
                            at: r.time(3)?,
                        })
                    },
                )
                .await
            })
        })
        .await
    }
}
