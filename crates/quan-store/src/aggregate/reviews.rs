//! What reviews and calculators read: each treated or held-out member's orders around their
//! entry, a campaign's messages, the daily counters (and their rebuild), paid orders and
//! category sales.

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use quan_core::review::Outcome;

use super::counts;
use crate::records::micros;
use crate::records::reviews::{
    ArmMember, CategorySales, CountsOf, CouponCount, MemberCoupon, MessageCounts, PaidOrder,
    Rebuilt, SalesCount,
};
use crate::sql::Engine;
use crate::traits::Reviews;
use crate::Result;

/// Per member of the campaign's arms, their first entry and their counted orders paid within
/// `$2` (microseconds) after it, and their revenue in the `$2` before it.
const OUTCOMES: &str = "\
SELECT a.status,
       CAST(COUNT(CASE WHEN o.paid_at >= a.at THEN 1 END) AS BIGINT),
       CAST(COALESCE(SUM(CASE WHEN o.paid_at >= a.at THEN o.amount END), 0) AS BIGINT),
       CAST(COALESCE(SUM(CASE WHEN o.paid_at < a.at THEN o.amount END), 0) AS BIGINT)
  FROM (SELECT user_id, status, MIN(entered_at) AS at FROM campaign_entries
         WHERE campaign_id = $1 AND status IN ('treated', 'held_out')
         GROUP BY user_id, status) AS a
  LEFT JOIN member_orders o ON o.user_id = a.user_id AND o.counted = 1
       AND o.paid_at >= a.at - $2 AND o.paid_at < a.at + $2
 GROUP BY a.user_id, a.status";

#[async_trait]
impl<E: Engine> Reviews for E {
    async fn campaign_messages(&self, campaign_id: &str) -> Result<MessageCounts> {
        let campaign_id = campaign_id.to_string();
        self.read(move |db| {
            Box::pin(async move {
                let by_status: Vec<(String, i64)> = db
                    .query(
                        "SELECT status, CAST(COUNT(*) AS BIGINT) FROM outbox WHERE campaign_id = $1 GROUP BY status",
                        &[&campaign_id],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .await?;
                let mut counts = MessageCounts::default();
                for (status, n) in by_status {
                    counts.sent += n;
                    match status.as_str() {
                        "sent" => counts.delivered += n,
                        "dead" => counts.dead += n,
                        _ => {}
                    }
                }
                Ok(counts)
            })
        })
        .await
    }

    async fn campaign_outcomes(
        &self,
        campaign_id: &str,
        window: SignedDuration,
    ) -> Result<Vec<ArmMember>> {
        let campaign_id = campaign_id.to_string();
        let window = window.as_micros() as i64;
        self.read(move |db| {
            Box::pin(async move {
                db.query(OUTCOMES, &[&campaign_id, &window], |r| {
                    let status: String = r.get(0)?;
                    let orders: i64 = r.get(1)?;
                    Ok(ArmMember {
                        treated: status == "treated",
                        outcome: Outcome {
                            converted: orders > 0,
                            revenue: r.get(2)?,
                            pre_revenue: r.get(3)?,
                        },
                    })
                })
                .await
            })
        })
        .await
    }

    async fn paid_orders(&self, since: Timestamp, until: Timestamp) -> Result<Vec<PaidOrder>> {
        self.read(move |db| {
            Box::pin(async move {
                db.query(
                    "SELECT user_id, paid_at, amount FROM member_orders \
                     WHERE counted = 1 AND paid_at >= $1 AND paid_at < $2",
                    &[&micros(since), &micros(until)],
                    |r| {
                        Ok(PaidOrder {
                            user_id: r.get(0)?,
                            paid_at: r.time(1)?,
                            amount: r.get(2)?,
                        })
                    },
                )
                .await
            })
        })
        .await
    }

    async fn category_sales(
        &self,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<CategorySales>> {
        self.read(move |db| {
            Box::pin(async move {
                db.query(
                    "SELECT category, CAST(SUM(amount) AS BIGINT), CAST(SUM(qty) AS BIGINT) \
                     FROM member_order_lines \
                     WHERE counted = 1 AND qty > 0 AND category IS NOT NULL \
                       AND paid_at >= $1 AND paid_at < $2 \
                     GROUP BY category ORDER BY category",
                    &[&micros(since), &micros(until)],
                    |r| {
                        Ok(CategorySales {
                            category: r.get(0)?,
                            amount: r.get(1)?,
                            units: r.get(2)?,
                        })
                    },
                )
                .await
            })
        })
        .await
    }

    async fn coupon_counts(&self, of: CountsOf) -> Result<Vec<CouponCount>> {
        self.read(move |db| Box::pin(async move { counts::coupon_counts(db, &of).await }))
            .await
    }

    async fn sales_counts(&self, of: CountsOf) -> Result<Vec<SalesCount>> {
        self.read(move |db| Box::pin(async move { counts::sales_counts(db, &of).await }))
            .await
    }

    async fn record_link_open(&self, campaign_id: &str, day: i64) -> Result<()> {
        self.write((campaign_id.to_string(), day), |db, (campaign_id, day)| {
            Box::pin(async move {
                db.execute(
                    "INSERT INTO link_opens (campaign_id, day, opens) VALUES ($1, $2, 1) \
                         ON CONFLICT (campaign_id, day) DO UPDATE SET opens = link_opens.opens + 1",
                    &[campaign_id, day],
                )
                .await?;
                Ok(())
            })
        })
        .await
    }

    async fn link_opens(&self, campaign_id: &str) -> Result<i64> {
        let campaign_id = campaign_id.to_string();
        self.read(move |db| {
            Box::pin(async move {
                db.query_one(
                    "SELECT CAST(COALESCE(SUM(opens), 0) AS BIGINT) FROM link_opens WHERE campaign_id = $1",
                    &[&campaign_id],
                    |r| r.get(0),
                )
                .await
            })
        })
        .await
    }

    async fn campaign_member_coupons(&self, campaign_id: &str) -> Result<Vec<MemberCoupon>> {
        let campaign_id = campaign_id.to_string();
        self.read(move |db| {
            Box::pin(async move {
                db.query(
                    "SELECT c.user_id, c.status, CAST(COALESCE((SELECT SUM(l.given) FROM coupon_ledger l \
                     WHERE l.coupon_id = c.id), 0) AS BIGINT) FROM coupons c WHERE c.campaign_id = $1",
                    &[&campaign_id],
                    |r| {
                        let status: String = r.get(1)?;
                        Ok(MemberCoupon {
                            user_id: r.get(0)?,
                            redeemed: status == "redeemed",
                            given: r.get(2)?,
                        })
                    },
                )
                .await
            })
        })
        .await
    }

    async fn rebuild_counts(&self) -> Result<Rebuilt> {
        let zone = self.ctx().zone.clone();
        self.write(zone, |db, zone| Box::pin(counts::rebuild(db, zone)))
            .await
    }
}
