//! Checkout orders on SQLite: each transition decided by `checkout::step`, refunds by
//! `checkout::refund_plan` and `checkout::coupons_back`.

use quan_core::checkout::order::{OrderAction, Step};
use quan_core::checkout::refund::{RefundAsk, RefundPlan};
use quan_core::coupon::{CouponStatus, LedgerEvent};
use quan_core::{ErrorCode, FieldError};

use super::coupons::{append_ledger, get_coupon};
use super::history::write_order;
use super::members::refresh;
use crate::checkout;
use crate::OrderStatus;
use async_trait::async_trait;
use jiff::Timestamp;
use rusqlite::{params, Connection, OptionalExtension};

use super::rows::*;
use super::SqliteStore;
use crate::model::*;
use crate::traits::*;
use crate::Result;

pub(super) fn get_order(conn: &Connection, id: &str) -> Result<Option<(OrderRecord, String)>> {
    conn.prepare_cached(&format!("SELECT {ORDER_COLS} FROM orders WHERE id = ?1"))?
        .query_row([id], order_row)
        .optional()?
        .transpose()
}

fn order_of(conn: &Connection, id: &str) -> Result<OrderRecord> {
    get_order(conn, id)?
        .map(|(o, _)| o)
        .ok_or_else(|| corrupt("order vanished"))
}

/// Moves the coupons an order still holds back to the wallet, with a ledger entry each.
fn release_coupons(
    conn: &Connection,
    order: &OrderRecord,
    now: Timestamp,
    actor: &str,
    reason: &str,
) -> Result<()> {
    for id in &order.coupon_ids {
        let Some(c) = get_coupon(conn, id)? else {
            continue;
        };
        if c.status != CouponStatus::Locked || c.order_id.as_deref() != Some(order.id.as_str()) {
            continue;
        }
        conn.prepare_cached("UPDATE coupons SET status = 'claimed', order_id = NULL, locked_until = NULL, updated_at = ?2 WHERE id = ?1")?
            .execute(params![id, micros(now)])?;
        append_ledger(
            conn,
            &LedgerWrite {
                coupon_id: id,
                template_id: &c.template_id,
                user_id: &c.user_id,
                event: LedgerEvent::Released,
                from: Some(CouponStatus::Locked),
                to: CouponStatus::Claimed,
                at: now,
                actor,
                reason: Some(reason),
                order_id: Some(&order.id),
            },
        )?;
    }
    Ok(())
}

fn set_order_status(
    conn: &Connection,
    id: &str,
    status: OrderStatus,
    now: Timestamp,
) -> Result<()> {
    conn.prepare_cached("UPDATE orders SET status = ?2, updated_at = ?3 WHERE id = ?1")?
        .execute(params![id, status.as_str(), micros(now)])?;
    Ok(())
}

#[async_trait]
impl Orders for SqliteStore {
    async fn lock_order(&self, o: NewOrder) -> Result<Result<OrderRecord, LockRefusal>> {
        self.write_conn(move |tx, _| {
            if let Some((existing, hash)) = get_order(tx, &o.id)? {
                return Ok(if hash == o.request_hash { Ok(existing) } else { Err(LockRefusal::Conflict) });
            }
            // Check every coupon before changing any: the lock is all or nothing.
            let mut held = Vec::with_capacity(o.coupon_ids.len());
            for id in &o.coupon_ids {
                let lapsed = |until: Option<i64>| until.is_some_and(|l| l <= micros(o.now));
                let locked_until: Option<i64> = tx
                    .prepare_cached("SELECT locked_until FROM coupons WHERE id = ?1")?
                    .query_row([id], |r| r.get(0))
                    .optional()?
                    .flatten();
                let usable = get_coupon(tx, id)?.filter(|c| {
                    c.user_id == o.user_id
                        && c.valid_until > o.now
                        && (c.status == CouponStatus::Claimed || (c.status == CouponStatus::Locked && lapsed(locked_until)))
                });
                match usable {
                    Some(c) => held.push(c),
                    None => return Ok(Err(LockRefusal::CouponNotUsable(id.clone()))),
                }
            }
            for c in &held {
                tx.prepare_cached("UPDATE coupons SET status = 'locked', order_id = ?2, locked_until = ?3, updated_at = ?4 WHERE id = ?1")?
                    .execute(params![c.id, o.id, micros(o.lock_until), micros(o.now)])?;
                append_ledger(
                    tx,
                    &LedgerWrite {
                        coupon_id: &c.id,
                        template_id: &c.template_id,
                        user_id: &c.user_id,
                        event: LedgerEvent::Locked,
                        from: Some(c.status),
                        to: CouponStatus::Locked,
                        at: o.now,
                        actor: &o.actor,
                        reason: None,
                        order_id: Some(&o.id),
                    },
                )?;
            }
            tx.execute(
                "INSERT INTO orders (id, user_id, status, request_hash, quote, lines, coupon_ids, payable, lock_until, created_at, updated_at) \
                 VALUES (?1, ?2, 'locked', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
                params![
                    o.id,
                    o.user_id,
                    o.request_hash,
                    o.quote,
                    serde_json::to_string(&o.lines).expect("lines serialize"),
                    json_list(&o.coupon_ids),
                    o.payable,
                    micros(o.lock_until),
                    micros(o.now)
                ],
            )?;
            Ok(Ok(order_of(tx, &o.id)?))
        })
        .await
    }

    async fn order(&self, id: &str) -> Result<Option<OrderRecord>> {
        let id = id.to_string();
        self.read_point_conn(move |conn| Ok(get_order(conn, &id)?.map(|(o, _)| o)))
            .await
    }

    async fn pay_order(
        &self,
        id: &str,
        now: Timestamp,
        actor: &str,
    ) -> Result<Result<OrderRecord, ErrorCode>> {
        let (id, actor) = (id.to_string(), actor.to_string());
        self.write_conn(move |tx, _| {
            let Some((order, _)) = get_order(tx, &id)? else {
                return Ok(Err(ErrorCode::NotFound));
            };
            match checkout::step(&order, OrderAction::Pay, now) {
                Step::Pay => {}
                Step::Answer => return Ok(Ok(order)),
                Step::Expire => {
                    expire(tx, &order, now)?;
                    return Ok(Err(ErrorCode::InvalidState));
                }
                _ => return Ok(Err(ErrorCode::InvalidState)),
            }
            let mut coupons = Vec::new();
            for cid in &order.coupon_ids {
                match get_coupon(tx, cid)? {
                    Some(c)
                        if c.status == CouponStatus::Locked
                            && c.order_id.as_deref() == Some(id.as_str()) =>
                    {
                        coupons.push(c)
                    }
                    _ => return Ok(Err(ErrorCode::InvalidState)),
                }
            }
            for c in &coupons {
                tx.prepare_cached("UPDATE coupons SET status = 'redeemed', locked_until = NULL, updated_at = ?2 WHERE id = ?1")?
                    .execute(params![c.id, micros(now)])?;
                tx.prepare_cached("UPDATE templates SET used = used + 1 WHERE id = ?1")?
                    .execute([&c.template_id])?;
                append_ledger(
                    tx,
                    &LedgerWrite {
                        coupon_id: &c.id,
                        template_id: &c.template_id,
                        user_id: &c.user_id,
                        event: LedgerEvent::Redeemed,
                        from: Some(CouponStatus::Locked),
                        to: CouponStatus::Redeemed,
                        at: now,
                        actor: &actor,
                        reason: None,
                        order_id: Some(&id),
                    },
                )?;
            }
            set_order_status(tx, &id, OrderStatus::Paid, now)?;
            // A paid checkout order is an order of the member's history.
            let mut touched = std::collections::BTreeSet::new();
            write_order(tx, crate::scrm::checkout_history(&order, now), now, &mut touched)?;
            refresh(tx, &touched, now)?;
            Ok(Ok(order_of(tx, &id)?))
        })
        .await
    }

    async fn cancel_order(
        &self,
        id: &str,
        now: Timestamp,
        actor: &str,
    ) -> Result<Result<OrderRecord, ErrorCode>> {
        let (id, actor) = (id.to_string(), actor.to_string());
        self.write_conn(move |tx, _| {
            let Some((order, _)) = get_order(tx, &id)? else {
                return Ok(Err(ErrorCode::NotFound));
            };
            match checkout::step(&order, OrderAction::Cancel, now) {
                Step::Cancel => {
                    release_coupons(tx, &order, now, &actor, "order cancelled")?;
                    set_order_status(tx, &id, OrderStatus::Cancelled, now)?;
                    Ok(Ok(order_of(tx, &id)?))
                }
                Step::Answer => Ok(Ok(order)),
                _ => Ok(Err(ErrorCode::InvalidState)),
            }
        })
        .await
    }

    async fn refund_order(
        &self,
        id: &str,
        ask: Vec<RefundAsk>,
        now: Timestamp,
        actor: &str,
    ) -> Result<Result<(OrderRecord, RefundPlan), FieldError>> {
        let (id, actor) = (id.to_string(), actor.to_string());
        self.write_conn(move |tx, _| {
            let Some((order, _)) = get_order(tx, &id)? else {
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
            let mut stored = Vec::new();
            for cid in &plan.coupons_back {
                stored.extend(get_coupon(tx, cid)?);
            }
            for back in checkout::coupons_back(&plan, &stored, now) {
                let c = back.coupon;
                tx.prepare_cached("UPDATE coupons SET status = ?2, order_id = NULL, updated_at = ?3 WHERE id = ?1")?
                    .execute(params![c.id, back.to.as_str(), micros(now)])?;
                tx.prepare_cached("UPDATE templates SET used = used - 1 WHERE id = ?1")?
                    .execute([&c.template_id])?;
                append_ledger(
                    tx,
                    &LedgerWrite {
                        coupon_id: &c.id,
                        template_id: &c.template_id,
                        user_id: &c.user_id,
                        event: back.event,
                        from: Some(CouponStatus::Redeemed),
                        to: back.to,
                        at: now,
                        actor: &actor,
                        reason: Some("order refunded"),
                        order_id: Some(&id),
                    },
                )?;
            }
            tx.prepare_cached("UPDATE orders SET lines = ?2, updated_at = ?3 WHERE id = ?1")?
                .execute(params![
                    id,
                    serde_json::to_string(&plan.after).expect("lines serialize"),
                    micros(now)
                ])?;
            let after = order_of(tx, &id)?;
            // The member's history follows: what the lines paid less what was refunded.
            let paid_at: Option<i64> = tx
                .prepare_cached("SELECT paid_at FROM member_orders WHERE id = ?1")?
                .query_row([&id], |r| r.get(0))
                .optional()?;
            if let Some(at) = paid_at {
                let mut touched = std::collections::BTreeSet::new();
                let history = crate::scrm::checkout_history(&after, ts(at));
                write_order(tx, history, now, &mut touched)?;
                refresh(tx, &touched, now)?;
            }
            Ok(Ok((after, plan)))
        })
        .await
    }

    async fn release_lapsed_locks(&self, now: Timestamp) -> Result<u64> {
        self.write_conn(move |tx, _| {
            let ids: Vec<String> = tx
                .prepare_cached(
                    "SELECT id FROM orders WHERE status = 'locked' AND lock_until <= ?1 LIMIT 1000",
                )?
                .query_map([micros(now)], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let mut expired = 0;
            for id in &ids {
                let order = order_of(tx, id)?;
                if checkout::step(&order, OrderAction::Expire, now) == Step::Expire {
                    expire(tx, &order, now)?;
                    expired += 1;
                }
            }
            Ok(expired)
        })
        .await
    }
}

/// Expires an order whose lock lapsed: its coupons go back to the wallet.
fn expire(tx: &Connection, order: &OrderRecord, now: Timestamp) -> Result<()> {
    release_coupons(tx, order, now, "system", "lock lapsed")?;
    set_order_status(tx, &order.id, OrderStatus::Expired, now)
}
