//! Checkout orders: each transition decided by `plan::step`, the coupons it moves by the
//! planners of `crate::plan::orders`, and written by `coupons::apply_moves`.

use async_trait::async_trait;
use jiff::Timestamp;
use quan_core::checkout::order::{OrderAction, Step};
use quan_core::checkout::refund::{RefundAsk, RefundPlan};
use quan_core::{ErrorCode, FieldError};

use super::counts::record_sales;
use super::coupons::{apply_moves, coupon_record, lock_coupons, COUPON_COLS};
use crate::plan::orders as plan;
use crate::records::*;
use crate::sql::{Db, Engine, Row, Strings};
use crate::traits::Orders;
use crate::{OrderStatus, Result, StoreError};

/// An order and the hash of the request that locked it.
pub(super) fn order_record(r: &Row) -> Result<(OrderRecord, String)> {
    let corrupt = |what: &str| StoreError::Corrupt(what.into());
    let (status, lines, coupons): (String, String, String) = (r.get(2)?, r.get(4)?, r.get(5)?);
    Ok((
        OrderRecord {
            id: r.get(0)?,
            user_id: r.get(1)?,
            status: OrderStatus::parse(&status).ok_or_else(|| corrupt("order status"))?,
            quote: r.get(3)?,
            lines: serde_json::from_str(&lines).map_err(|_| corrupt("order lines"))?,
            coupon_ids: serde_json::from_str(&coupons).map_err(|_| corrupt("order coupons"))?,
            payable: r.get(6)?,
            lock_until: r.time(7)?,
            created_at: r.time(8)?,
            updated_at: r.time(9)?,
        },
        r.get(10)?,
    ))
}

/// An order by id with its request hash; with `lock`, its row is locked.
async fn get_order(db: &mut Db<'_>, id: &str, lock: bool) -> Result<Option<(OrderRecord, String)>> {
    let sql = if lock {
        "SELECT id, user_id, status, quote, lines, coupon_ids, payable, lock_until, created_at, updated_at, request_hash FROM orders WHERE id = $1 FOR UPDATE"
    } else {
        "SELECT id, user_id, status, quote, lines, coupon_ids, payable, lock_until, created_at, updated_at, request_hash FROM orders WHERE id = $1"
    };
    db.query_opt(sql, &[&id], order_record).await
}

async fn written(db: &mut Db<'_>, id: &str) -> Result<OrderRecord> {
    get_order(db, id, false)
        .await?
        .map(|(o, _)| o)
        .ok_or_else(|| StoreError::Corrupt("order vanished".into()))
}

/// The coupons of `ids`, their rows locked in id order.
async fn stored_coupons(db: &mut Db<'_>, ids: &[String]) -> Result<Vec<CouponRecord>> {
    db.query(
        &format!("SELECT {COUPON_COLS} FROM coupons WHERE id = ANY($1) ORDER BY id FOR UPDATE"),
        &[&Strings(ids)],
        coupon_record,
    )
    .await
}

async fn set_status(db: &mut Db<'_>, id: &str, status: OrderStatus, now: Timestamp) -> Result<()> {
    db.execute(
        "UPDATE orders SET status = $2, updated_at = $3 WHERE id = $1",
        &[&id, &status.as_str(), &micros(now)],
    )
    .await?;
    Ok(())
}

/// Ends an order: the coupons it still holds go back to the wallet.
async fn end(
    db: &mut Db<'_>,
    order: &OrderRecord,
    to: OrderStatus,
    actor: &str,
    reason: &str,
    now: Timestamp,
    day: i64,
) -> Result<()> {
    let stored = stored_coupons(db, &order.coupon_ids).await?;
    let moves = plan::release_moves(order, &stored, reason);
    apply_moves(db, &moves, actor, now, day).await?;
    set_status(db, &order.id, to, now).await
}

/// Writes a paid checkout order into its member's history (paid at `paid_at`).
async fn record_history(
    db: &mut Db<'_>,
    order: &OrderRecord,
    paid_at: Timestamp,
    now: Timestamp,
) -> Result<()> {
    let history = crate::scrm::checkout_history(order, paid_at);
    let (_, touched) = super::write_orders(db, std::slice::from_ref(&history), now).await?;
    super::refresh(db, &touched, now).await?;
    Ok(())
}

#[async_trait]
impl<E: Engine> Orders for E {
    async fn lock_order(&self, o: NewOrder) -> Result<Result<OrderRecord, LockRefusal>> {
        let day = self.ctx().zone.day_number(o.now);
        self.write(o, move |db, o| {
            Box::pin(async move {
                // The coupons' rows first, in id order: a racing order, or a retry of this one,
                // waits here and then finds the coupons locked, or this order written.
                let found = lock_coupons(db, &o.coupon_ids).await?;
                if let Some((existing, hash)) = get_order(db, &o.id, false).await? {
                    return Ok(if hash == o.request_hash {
                        Ok(existing)
                    } else {
                        Err(LockRefusal::Conflict)
                    });
                }
                let moves = match plan::lock_moves(o, &found) {
                    Ok(moves) => moves,
                    Err(refusal) => return Ok(Err(refusal)),
                };
                apply_moves(db, &moves, &o.actor, o.now, day).await?;
                db.execute(
                    "INSERT INTO orders (id, user_id, status, request_hash, quote, lines, coupon_ids, payable, lock_until, created_at, updated_at) \
                     VALUES ($1, $2, 'locked', $3, $4, $5, $6, $7, $8, $9, $9)",
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
                Ok(Ok(written(db, &o.id).await?))
            })
        })
        .await
    }

    async fn order(&self, id: &str) -> Result<Option<OrderRecord>> {
        let id = id.to_string();
        self.read_point(move |db| {
            Box::pin(async move { Ok(get_order(db, &id, false).await?.map(|(o, _)| o)) })
        })
        .await
    }

    async fn pay_order(
        &self,
        id: &str,
        now: Timestamp,
        actor: &str,
    ) -> Result<Result<OrderRecord, ErrorCode>> {
        let day = self.ctx().zone.day_number(now);
        self.write(
            (id.to_string(), now, actor.to_string()),
            move |db, (id, now, actor)| {
                Box::pin(async move {
                    let now = *now;
                    let Some((order, _)) = get_order(db, id, true).await? else {
                        return Ok(Err(ErrorCode::NotFound));
                    };
                    match plan::step(&order, OrderAction::Pay, now) {
                        Step::Pay => {}
                        Step::Answer => return Ok(Ok(order)),
                        Step::Expire => {
                            end(
                                db,
                                &order,
                                OrderStatus::Expired,
                                "system",
                                "lock lapsed",
                                now,
                                day,
                            )
                            .await?;
                            return Ok(Err(ErrorCode::InvalidState));
                        }
                        _ => return Ok(Err(ErrorCode::InvalidState)),
                    }
                    let stored = stored_coupons(db, &order.coupon_ids).await?;
                    let money = plan::paid_money(&order)?;
                    let Some(moves) = plan::pay_moves(&order, &stored, &money.given) else {
                        return Ok(Err(ErrorCode::InvalidState));
                    };
                    apply_moves(db, &moves, actor, now, day).await?;
                    let sales = plan::pay_sales(&moves, money.payable);
                    record_sales(db, id, &sales, now, day).await?;
                    set_status(db, id, OrderStatus::Paid, now).await?;
                    // A paid checkout order is an order of the member's history.
                    record_history(db, &order, now, now).await?;
                    Ok(Ok(written(db, id).await?))
                })
            },
        )
        .await
    }

    async fn cancel_order(
        &self,
        id: &str,
        now: Timestamp,
        actor: &str,
    ) -> Result<Result<OrderRecord, ErrorCode>> {
        let day = self.ctx().zone.day_number(now);
        self.write(
            (id.to_string(), now, actor.to_string()),
            move |db, (id, now, actor)| {
                Box::pin(async move {
                    let Some((order, _)) = get_order(db, id, true).await? else {
                        return Ok(Err(ErrorCode::NotFound));
                    };
                    match plan::step(&order, OrderAction::Cancel, *now) {
                        Step::Cancel => {
                            end(
                                db,
                                &order,
                                OrderStatus::Cancelled,
                                actor,
                                "order cancelled",
                                *now,
                                day,
                            )
                            .await?;
                            Ok(Ok(written(db, id).await?))
                        }
                        Step::Answer => Ok(Ok(order)),
                        _ => Ok(Err(ErrorCode::InvalidState)),
                    }
                })
            },
        )
        .await
    }

    async fn refund_order(
        &self,
        id: &str,
        ask: Vec<RefundAsk>,
        now: Timestamp,
        actor: &str,
    ) -> Result<Result<(OrderRecord, RefundPlan), FieldError>> {
        let args = (id.to_string(), ask, now, actor.to_string());
        let day = self.ctx().zone.day_number(now);
        self.write(args, move |db, (id, ask, now, actor)| {
            Box::pin(async move {
                let now = *now;
                let Some((order, _)) = get_order(db, id, true).await? else {
                    return Ok(Err(FieldError::new(
                        ErrorCode::NotFound,
                        "order_id",
                        "no such order",
                    )));
                };
                let (refund, before, left) = match plan::refund_plan(&order, ask, now)? {
                    Ok(p) => p,
                    Err(e) => return Ok(Err(e)),
                };
                let stored = stored_coupons(db, &order.coupon_ids).await?;
                let back = plan::coupons_back(&refund, &stored, now);
                let moves = plan::refund_moves(&order, &stored, &back, &before.given, &left.given);
                apply_moves(db, &moves, actor, now, day).await?;
                let sales =
                    plan::refund_sales(&order, &stored, &back, before.payable, left.payable);
                record_sales(db, id, &sales, now, day).await?;
                db.execute(
                    "UPDATE orders SET lines = $2, updated_at = $3 WHERE id = $1",
                    &[
                        id,
                        &serde_json::to_string(&refund.after).expect("lines serialize"),
                        &micros(now),
                    ],
                )
                .await?;
                let after = written(db, id).await?;
                // The member's history follows: what the lines paid less what was refunded.
                let paid_at: Option<i64> = db
                    .query_opt(
                        "SELECT paid_at FROM member_orders WHERE id = $1",
                        &[id],
                        |r| r.get(0),
                    )
                    .await?;
                if let Some(at) = paid_at {
                    record_history(db, &after, from_micros(at), now).await?;
                }
                Ok(Ok((after, refund)))
            })
        })
        .await
    }

    async fn release_lapsed_locks(&self, now: Timestamp) -> Result<u64> {
        let day = self.ctx().zone.day_number(now);
        self.write(now, move |db, now| {
            Box::pin(async move {
                let lapsed = db
                    .query(
                        "SELECT id, user_id, status, quote, lines, coupon_ids, payable, lock_until, created_at, updated_at, request_hash \
                         FROM orders WHERE status = 'locked' AND lock_until <= $1 LIMIT 1000 FOR UPDATE SKIP LOCKED",
                        &[&micros(*now)],
                        order_record,
                    )
                    .await?;
                let mut expired = 0;
                for (order, _) in &lapsed {
                    if plan::step(order, OrderAction::Expire, *now) == Step::Expire {
                        end(db, order, OrderStatus::Expired, "system", "lock lapsed", *now, day).await?;
                        expired += 1;
                    }
                }
                Ok(expired)
            })
        })
        .await
    }
}
