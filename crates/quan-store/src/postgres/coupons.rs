//! Coupons outside checkout and their ledger on PostgreSQL.

use quan_core::coupon::{CouponStatus, LedgerEvent};
use quan_core::ErrorCode;

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use jiff::Timestamp;

use super::rows::*;
use super::PgStore;
use crate::model::*;
use crate::traits::*;
use crate::{Result, StoreError};

pub(super) async fn get_coupon(
    c: &impl GenericClient,
    id: &str,
    lock: bool,
) -> Result<Option<CouponRecord>> {
    let sql = format!(
        "SELECT {COUPON_COLS} FROM coupons WHERE id = $1{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    c.query_opt(&sql, &[&id])
        .await?
        .as_ref()
        .map(coupon_record)
        .transpose()
}

pub(super) async fn append_ledger(c: &impl GenericClient, e: &LedgerWrite<'_>) -> Result<()> {
    c.execute(
        "INSERT INTO coupon_ledger (coupon_id, template_id, user_id, event, from_status, to_status, at, actor, reason, order_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[&e.coupon_id, &e.template_id, &e.user_id, &e.event.as_str(), &e.from.map(CouponStatus::as_str), &e.to.as_str(), &micros(e.at), &e.actor, &e.reason, &e.order_id],
    )
    .await?;
    Ok(())
}

#[async_trait]
impl Coupons for PgStore {
    async fn coupon(&self, id: &str) -> Result<Option<CouponRecord>> {
        let c = self.pool.get().await?;
        get_coupon(&c, id, false).await
    }

    async fn coupon_by_code(&self, code: &str) -> Result<Option<CouponRecord>> {
        let c = self.pool.get().await?;
        c.query_opt(
            &format!("SELECT {COUPON_COLS} FROM coupons WHERE code = $1"),
            &[&code],
        )
        .await?
        .as_ref()
        .map(coupon_record)
        .transpose()
    }

    async fn redeem_coupon(
        &self,
        id: &str,
        order_id: Option<&str>,
        now: Timestamp,
        actor: &str,
    ) -> Result<Result<CouponRecord, ErrorCode>> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let Some(c) = get_coupon(&tx, id, true).await? else {
            return Ok(Err(ErrorCode::NotFound));
        };
        if c.status != CouponStatus::Claimed || c.valid_from > now || c.valid_until <= now {
            return Ok(Err(ErrorCode::InvalidState));
        }
        tx.execute(
            "UPDATE coupons SET status = 'redeemed', order_id = $2, updated_at = $3 WHERE id = $1",
            &[&id, &order_id, &micros(now)],
        )
        .await?;
        tx.execute(
            "UPDATE templates SET used = used + 1 WHERE id = $1",
            &[&c.template_id],
        )
        .await?;
        append_ledger(
            &tx,
            &LedgerWrite {
                coupon_id: id,
                template_id: &c.template_id,
                user_id: &c.user_id,
                event: LedgerEvent::Redeemed,
                from: Some(CouponStatus::Claimed),
                to: CouponStatus::Redeemed,
                at: now,
                actor,
                reason: Some("redeemed by code"),
                order_id,
            },
        )
        .await?;
        let out = get_coupon(&tx, id, false)
            .await?
            .ok_or_else(|| StoreError::Corrupt("coupon vanished".into()))?;
        tx.commit().await?;
        Ok(Ok(out))
    }

    async fn usable_coupons(
        &self,
        user_id: &str,
        now: Timestamp,
        with_locked: bool,
        limit: u32,
    ) -> Result<Vec<CouponRecord>> {
        let c = self.pool.get().await?;
        let rows = c
            .query(
                &format!(
                    "SELECT {COUPON_COLS} FROM coupons WHERE user_id = $1 AND valid_until > $2 \
                     AND (status = 'claimed' OR ($3 AND status = 'locked')) ORDER BY valid_until, id LIMIT $4"
                ),
                &[&user_id, &micros(now), &with_locked, &i64::from(limit)],
            )
            .await?;
        rows.iter().map(coupon_record).collect()
    }

    async fn wallet(&self, q: WalletQuery) -> Result<Page<CouponRecord>> {
        let c = self.pool.get().await?;
        let status = q.status.map(CouponStatus::as_str).unwrap_or("");
        let now = micros(q.now);
        // $4 is the status asked for; a claimed coupon past its end ($3) reads as expired.
        let filter = "user_id = $1 AND ($2::text[] IS NULL OR store_id = ANY($2)) AND ($4 = '' \
             OR ($4 = 'claimed' AND status = 'claimed' AND valid_until > $3) \
             OR ($4 = 'expired' AND (status = 'expired' OR (status = 'claimed' AND valid_until <= $3))) \
             OR ($4 NOT IN ('claimed', 'expired') AND status = $4))";
        let total: i64 = c
            .query_one(
                &format!("SELECT COUNT(*) FROM coupons WHERE {filter}"),
                &[&q.user_id, &q.stores, &now, &status],
            )
            .await?
            .get(0);
        let rows = c
            .query(
                &format!("SELECT {COUPON_COLS} FROM coupons WHERE {filter} AND ($5::text IS NULL OR id > $5) ORDER BY id LIMIT $6"),
                &[&q.user_id, &q.stores, &now, &status, &q.cursor, &(i64::from(q.limit) + 1)],
            )
            .await?;
        let items = rows.iter().map(coupon_record).collect::<Result<Vec<_>>>()?;
        Ok(page_of(items, q.limit, total, |c| c.id.clone()))
    }

    async fn revoke_coupon(
        &self,
        id: &str,
        actor: &str,
        reason: &str,
        now: Timestamp,
    ) -> Result<Result<CouponRecord, ErrorCode>> {
        let mut c = self.pool.get().await?;
        let tx = c.transaction().await?;
        let Some(coupon) = get_coupon(&tx, id, true).await? else {
            return Ok(Err(ErrorCode::NotFound));
        };
        if coupon.status != CouponStatus::Claimed {
            return Ok(Err(ErrorCode::InvalidState));
        }
        tx.execute(
            "UPDATE coupons SET status = 'revoked', updated_at = $2 WHERE id = $1",
            &[&id, &micros(now)],
        )
        .await?;
        append_ledger(
            &tx,
            &LedgerWrite {
                coupon_id: id,
                template_id: &coupon.template_id,
                user_id: &coupon.user_id,
                event: LedgerEvent::Revoked,
                from: Some(CouponStatus::Claimed),
                to: CouponStatus::Revoked,
                at: now,
                actor,
                reason: Some(reason),
                order_id: None,
            },
        )
        .await?;
        let out = get_coupon(&tx, id, false)
            .await?
            .ok_or_else(|| StoreError::Corrupt("coupon vanished".into()))?;
        tx.commit().await?;
        Ok(Ok(out))
    }

    async fn expire_due(&self, now: Timestamp, limit: u32) -> Result<u64> {
        let mut c = self.pool.get().await?;
        let tx = c.transaction().await?;
        let rows = tx
            .query(
                "UPDATE coupons SET status = 'expired', updated_at = $1 WHERE id IN \
                 (SELECT id FROM coupons WHERE status = 'claimed' AND valid_until <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED) \
                 RETURNING id, template_id, user_id",
                &[&micros(now), &i64::from(limit)],
            )
            .await?;
        for r in &rows {
            let (id, template_id, user_id): (String, String, String) =
                (r.get(0), r.get(1), r.get(2));
            append_ledger(
                &tx,
                &LedgerWrite {
                    coupon_id: &id,
                    template_id: &template_id,
                    user_id: &user_id,
                    event: LedgerEvent::Expired,
                    from: Some(CouponStatus::Claimed),
                    to: CouponStatus::Expired,
                    at: now,
                    actor: "system",
                    reason: Some("validity ended"),
                    order_id: None,
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(rows.len() as u64)
    }

    async fn ledger(&self, coupon_id: &str) -> Result<Vec<LedgerEntry>> {
        let c = self.pool.get().await?;
        let rows = c
            .query(
                "SELECT seq, coupon_id, template_id, user_id, event, from_status, to_status, at, actor, reason, order_id \
                 FROM coupon_ledger WHERE coupon_id = $1 ORDER BY seq",
                &[&coupon_id],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| LedgerEntry {
                seq: r.get(0),
                coupon_id: r.get(1),
                template_id: r.get(2),
                user_id: r.get(3),
                event: r.get(4),
                from_status: r.get(5),
                to_status: r.get(6),
                at: from_micros(r.get(7)),
                actor: r.get(8),
                reason: r.get(9),
                order_id: r.get(10),
            })
            .collect())
    }

    async fn ledger_count(&self) -> Result<i64> {
        let c = self.pool.get().await?;
        Ok(c.query_one("SELECT COUNT(*) FROM coupon_ledger", &[])
            .await?
            .get(0))
    }

    async fn coupon_count(&self, template_id: &str) -> Result<i64> {
        let c = self.pool.get().await?;
        Ok(c.query_one(
            "SELECT COUNT(*) FROM coupons WHERE template_id = $1",
            &[&template_id],
        )
        .await?
        .get(0))
    }
}
