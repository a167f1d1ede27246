//! Checkout orders on PostgreSQL: each transition decided by `checkout::step`, refunds by
//! `checkout::refund_plan` and `checkout::coupons_back`.

use quan_core::checkout::order::{OrderAction, Step};
use quan_core::checkout::refund::{RefundAsk, RefundPlan};
use quan_core::coupon::{CouponStatus, LedgerEvent};
use quan_core::{ErrorCode, FieldError};

use super::coupons::append_ledger;
use super::history::write_order;
use super::members::refresh;
use crate::checkout;
use crate::OrderStatus;
use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use jiff::Timestamp;

use super::rows::*;
use super::PgStore;
use crate::model::*;
use crate::traits::*;
use crate::{Result, StoreError};

async fn get_order(
    c: &impl GenericClient,
    id: &str,
    lock: bool,
) -> Result<Option<(OrderRecord, String)>> {
    let sql = format!(
        "SELECT {ORDER_COLS} FROM orders WHERE id = $1{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    c.query_opt(&sql, &[&id])
        .await?
        .as_ref()
        .map(order_record)
        .transpose()
}

async fn order_of(c: &impl GenericClient, id: &str) -> Result<OrderRecord> {
    get_order(c, id, false)
        .await?
        .map(|(o, _)| o)
        .ok_or_else(|| StoreError::Corrupt("order vanished".into()))
}

/// Moves the coupons an order still holds back to the wallet, with a ledger entry each.
async fn release_coupons(
    c: &impl GenericClient,
    order: &OrderRecord,
    now: Timestamp,
    actor: &str,
    reason: &str,
) -> Result<()> {
    let rows = c
        .query(
            "UPDATE coupons SET status = 'claimed', order_id = NULL, locked_until = NULL, updated_at = $3 \
             WHERE id = ANY($1) AND order_id = $2 AND status = 'locked' RETURNING id, template_id, user_id",
            &[&order.coupon_ids, &order.id, &micros(now)],
        )
        .await?;
    for r in rows {
        let (id, template_id, user_id): (String, String, String) = (r.get(0), r.get(1), r.get(2));
        append_ledger(
            c,
            &LedgerWrite {
                coupon_id: &id,
                template_id: &template_id,
                user_id: &user_id,
                event: LedgerEvent::Released,
                from: Some(CouponStatus::Locked),
                to: CouponStatus::Claimed,
                at: now,
                actor,
                reason: Some(reason),
                order_id: Some(&order.id),
            },
        )
        .await?;
    }
    Ok(())
}

async fn set_order_status(
    c: &impl GenericClient,
    id: &str,
    status: OrderStatus,
    now: Timestamp,
) -> Result<()> {
    c.execute(
        "UPDATE orders SET status = $2, updated_at = $3 WHERE id = $1",
        &[&id, &status.as_str(), &micros(now)],
    )
    .await?;
    Ok(())
}

#[async_trait]
impl Orders for PgStore {
    async fn lock_order(&self, o: NewOrder) -> Result<Result<OrderRecord, LockRefusal>> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        // Claim the order id first: a concurrent retry of the same order waits here.
        let inserted = tx
            .execute(
                "INSERT INTO orders (id, user_id, status, request_hash, quote, lines, coupon_ids, payable, lock_until, created_at, updated_at) \
                 VALUES ($1, $2, 'locked', $3, $4, $5, $6, $7, $8, $9, $9) ON CONFLICT (id) DO NOTHING",
                &[
                    &o.id,
                    &o.user_id,
                    &o.request_hash,
                    &o.quote,
                    &serde_json::to_string(&o.lines).expect("lines serialize"),
                    &serde_json::to_string(&o.coupon_ids).expect("ids serialize"),
                    &o.payable,
                    &micros(o.lock_until),
                    &micros(o.now),
                ],
            )
            .await?;
        if inserted == 0 {
            let (existing, hash) = get_order(&tx, &o.id, false)
                .await?
                .ok_or_else(|| StoreError::Corrupt("order vanished".into()))?;
            return Ok(if hash == o.request_hash {
                Ok(existing)
            } else {
                Err(LockRefusal::Conflict)
            });
        }
        // Lock every coupon in one statement; the row locks make racing orders take turns, and
        // the second finds the coupon no longer claimable.
        let rows = tx
            .query(
                "UPDATE coupons c SET status = 'locked', order_id = $2, locked_until = $3, updated_at = $4 \
                 FROM (SELECT id, status FROM coupons WHERE id = ANY($1) ORDER BY id FOR UPDATE) old \
                 WHERE c.id = old.id AND c.user_id = $5 AND c.valid_until > $4 \
                 AND (c.status = 'claimed' OR (c.status = 'locked' AND c.locked_until <= $4)) \
                 RETURNING c.id, c.template_id, old.status",
                &[&o.coupon_ids, &o.id, &micros(o.lock_until), &micros(o.now), &o.user_id],
            )
            .await?;
        if rows.len() != o.coupon_ids.len() {
            let locked: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
            let missing = o
                .coupon_ids
                .iter()
                .find(|id| !locked.contains(id))
                .cloned()
                .unwrap_or_default();
            return Ok(Err(LockRefusal::CouponNotUsable(missing))); // dropping `tx` rolls back
        }
        for r in &rows {
            let (id, template_id, from): (String, String, String) = (r.get(0), r.get(1), r.get(2));
            append_ledger(
                &tx,
                &LedgerWrite {
                    coupon_id: &id,
                    template_id: &template_id,
                    user_id: &o.user_id,
                    event: LedgerEvent::Locked,
                    from: CouponStatus::parse(&from),
                    to: CouponStatus::Locked,
                    at: o.now,
                    actor: &o.actor,
                    reason: None,
                    order_id: Some(&o.id),
                },
            )
            .await?;
        }
        let order = order_of(&tx, &o.id).await?;
        tx.commit().await?;
        Ok(Ok(order))
    }

    async fn order(&self, id: &str) -> Result<Option<OrderRecord>> {
        let c = self.pool.get().await?;
        Ok(get_order(&c, id, false).await?.map(|(o, _)| o))
    }

    async fn pay_order(
        &self,
        id: &str,
        now: Timestamp,
        actor: &str,
    ) -> Result<Result<OrderRecord, ErrorCode>> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let Some((order, _)) = get_order(&tx, id, true).await? else {
            return Ok(Err(ErrorCode::NotFound));
        };
        match checkout::step(&order, OrderAction::Pay, now) {
            Step::Pay => {}
            Step::Answer => return Ok(Ok(order)),
            Step::Expire => {
                expire(&tx, &order, now).await?;
                tx.commit().await?;
                return Ok(Err(ErrorCode::InvalidState));
            }
            _ => return Ok(Err(ErrorCode::InvalidState)),
        }
        let rows = tx
            .query(
                "UPDATE coupons SET status = 'redeemed', locked_until = NULL, updated_at = $3 \
                 WHERE id = ANY($1) AND order_id = $2 AND status = 'locked' RETURNING id, template_id, user_id",
                &[&order.coupon_ids, &id, &micros(now)],
            )
            .await?;
        if rows.len() != order.coupon_ids.len() {
            return Ok(Err(ErrorCode::InvalidState)); // dropping `tx` rolls back
        }
        for r in &rows {
            let (cid, template_id, user_id): (String, String, String) =
                (r.get(0), r.get(1), r.get(2));
            tx.execute(
                "UPDATE templates SET used = used + 1 WHERE id = $1",
                &[&template_id],
            )
            .await?;
            append_ledger(
                &tx,
                &LedgerWrite {
                    coupon_id: &cid,
                    template_id: &template_id,
                    user_id: &user_id,
                    event: LedgerEvent::Redeemed,
                    from: Some(CouponStatus::Locked),
                    to: CouponStatus::Redeemed,
                    at: now,
                    actor,
                    reason: None,
                    order_id: Some(id),
                },
            )
            .await?;
        }
        set_order_status(&tx, id, OrderStatus::Paid, now).await?;
        // A paid checkout order is an order of the member's history.
        let mut touched = std::collections::BTreeSet::new();
        let history = crate::scrm::checkout_history(&order, now);
        write_order(&tx, history, now, &mut touched).await?;
        refresh(&tx, &touched, now).await?;
        let out = order_of(&tx, id).await?;
        tx.commit().await?;
        Ok(Ok(out))
    }

    async fn cancel_order(
        &self,
        id: &str,
        now: Timestamp,
        actor: &str,
    ) -> Result<Result<OrderRecord, ErrorCode>> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let Some((order, _)) = get_order(&tx, id, true).await? else {
            return Ok(Err(ErrorCode::NotFound));
        };
        match checkout::step(&order, OrderAction::Cancel, now) {
            Step::Cancel => {
                release_coupons(&tx, &order, now, actor, "order cancelled").await?;
                set_order_status(&tx, id, OrderStatus::Cancelled, now).await?;
                let out = order_of(&tx, id).await?;
                tx.commit().await?;
                Ok(Ok(out))
            }
            Step::Answer => Ok(Ok(order)),
            _ => Ok(Err(ErrorCode::InvalidState)),
        }
    }

    async fn refund_order(
        &self,
        id: &str,
        ask: Vec<RefundAsk>,
        now: Timestamp,
        actor: &str,
    ) -> Result<Result<(OrderRecord, RefundPlan), FieldError>> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let Some((order, _)) = get_order(&tx, id, true).await? else {
            return Ok(Err(FieldError::new(
                ErrorCode::NotFound,
                "order_id",
                "no such order",
            )));
        };
        let plan = match checkout::refund_plan(&order, &ask, now)? {
            Ok(p) => p,
            Err(e) => return Ok(Err(e)),
        };
        let stored = tx
            .query(
                &format!(
                    "SELECT {COUPON_COLS} FROM coupons WHERE id = ANY($1) ORDER BY id FOR UPDATE"
                ),
                &[&plan.coupons_back],
            )
            .await?
            .iter()
            .map(coupon_record)
            .collect::<Result<Vec<_>>>()?;
        for back in checkout::coupons_back(&plan, &stored, now) {
            let c = back.coupon;
            tx.execute(
                "UPDATE coupons SET status = $2, order_id = NULL, updated_at = $3 WHERE id = $1",
                &[&c.id, &back.to.as_str(), &micros(now)],
            )
            .await?;
            tx.execute(
                "UPDATE templates SET used = used - 1 WHERE id = $1",
                &[&c.template_id],
            )
            .await?;
            append_ledger(
                &tx,
                &LedgerWrite {
                    coupon_id: &c.id,
                    template_id: &c.template_id,
                    user_id: &c.user_id,
                    event: back.event,
                    from: Some(CouponStatus::Redeemed),
                    to: back.to,
                    at: now,
                    actor,
                    reason: Some("order refunded"),
                    order_id: Some(id),
                },
            )
            .await?;
        }
        tx.execute(
            "UPDATE orders SET lines = $2, updated_at = $3 WHERE id = $1",
            &[
                &id,
                &serde_json::to_string(&plan.after).expect("lines serialize"),
                &micros(now),
            ],
        )
        .await?;
        let out = order_of(&tx, id).await?;
        // The member's history follows: what the lines paid less what was refunded.
        if let Some(row) = tx
            .query_opt("SELECT paid_at FROM member_orders WHERE id = $1", &[&id])
            .await?
        {
            let mut touched = std::collections::BTreeSet::new();
            let history = crate::scrm::checkout_history(&out, from_micros(row.get(0)));
            write_order(&tx, history, now, &mut touched).await?;
            refresh(&tx, &touched, now).await?;
        }
        tx.commit().await?;
        Ok(Ok((out, plan)))
    }

    async fn release_lapsed_locks(&self, now: Timestamp) -> Result<u64> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let rows = tx
            .query("SELECT id FROM orders WHERE status = 'locked' AND lock_until <= $1 LIMIT 1000 FOR UPDATE SKIP LOCKED", &[&micros(now)])
            .await?;
        let mut expired = 0;
        for r in &rows {
            let id: String = r.get(0);
            let order = order_of(&tx, &id).await?;
            if checkout::step(&order, OrderAction::Expire, now) == Step::Expire {
                expire(&tx, &order, now).await?;
                expired += 1;
            }
        }
        tx.commit().await?;
        Ok(expired)
    }
}

/// Expires an order whose lock lapsed: its coupons go back to the wallet.
async fn expire(tx: &impl GenericClient, order: &OrderRecord, now: Timestamp) -> Result<()> {
    release_coupons(tx, order, now, "system", "lock lapsed").await?;
    set_order_status(tx, &order.id, OrderStatus::Expired, now).await
}
