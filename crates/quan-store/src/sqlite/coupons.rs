//! Coupons outside checkout and their ledger on SQLite.

use quan_core::coupon::{CouponStatus, LedgerEvent};
use quan_core::ErrorCode;

use async_trait::async_trait;
use jiff::Timestamp;
use rusqlite::{params, Connection, OptionalExtension};

use super::rows::*;
use super::SqliteStore;
use crate::model::*;
use crate::traits::*;
use crate::Result;

pub(super) fn get_coupon(conn: &Connection, id: &str) -> Result<Option<CouponRecord>> {
    conn.prepare_cached(&format!("SELECT {COUPON_COLS} FROM coupons WHERE id = ?1"))?
        .query_row([id], coupon_row)
        .optional()?
        .transpose()
}

pub(super) fn append_ledger(conn: &Connection, e: &LedgerWrite) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO coupon_ledger (coupon_id, template_id, user_id, event, from_status, to_status, at, actor, reason, order_id) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        e.coupon_id,
        e.template_id,
        e.user_id,
        e.event.as_str(),
        e.from.map(CouponStatus::as_str),
        e.to.as_str(),
        micros(e.at),
        e.actor,
        e.reason,
        e.order_id
    ])?;
    Ok(())
}

#[async_trait]
impl Coupons for SqliteStore {
    async fn coupon(&self, id: &str) -> Result<Option<CouponRecord>> {
        let id = id.to_string();
        self.read_point_conn(move |conn| get_coupon(conn, &id))
            .await
    }

    async fn coupon_by_code(&self, code: &str) -> Result<Option<CouponRecord>> {
        let code = code.to_string();
        self.read_point_conn(move |conn| {
            conn.prepare_cached(&format!(
                "SELECT {COUPON_COLS} FROM coupons WHERE code = ?1"
            ))?
            .query_row([&code], coupon_row)
            .optional()?
            .transpose()
        })
        .await
    }

    async fn redeem_coupon(
        &self,
        id: &str,
        order_id: Option<&str>,
        now: Timestamp,
        actor: &str,
    ) -> Result<Result<CouponRecord, ErrorCode>> {
        let (id, order_id, actor) = (
            id.to_string(),
            order_id.map(str::to_string),
            actor.to_string(),
        );
        self.write_conn(move |tx, _| {
            let Some(c) = get_coupon(tx, &id)? else { return Ok(Err(ErrorCode::NotFound)) };
            if c.status != CouponStatus::Claimed || c.valid_from > now || c.valid_until <= now {
                return Ok(Err(ErrorCode::InvalidState));
            }
            tx.prepare_cached("UPDATE coupons SET status = 'redeemed', order_id = ?2, updated_at = ?3 WHERE id = ?1")?
                .execute(params![id, order_id, micros(now)])?;
            tx.prepare_cached("UPDATE templates SET used = used + 1 WHERE id = ?1")?.execute([&c.template_id])?;
            append_ledger(
                tx,
                &LedgerWrite {
                    coupon_id: &id,
                    template_id: &c.template_id,
                    user_id: &c.user_id,
                    event: LedgerEvent::Redeemed,
                    from: Some(CouponStatus::Claimed),
                    to: CouponStatus::Redeemed,
                    at: now,
                    actor: &actor,
                    reason: Some("redeemed by code"),
                    order_id: order_id.as_deref(),
                },
            )?;
            Ok(Ok(get_coupon(tx, &id)?.ok_or_else(|| corrupt("coupon vanished"))?))
        })
        .await
    }

    async fn usable_coupons(
        &self,
        user_id: &str,
        now: Timestamp,
        with_locked: bool,
        limit: u32,
    ) -> Result<Vec<CouponRecord>> {
        let user_id = user_id.to_string();
        self.read_point_conn(move |conn| {
            // Named, because without statistics the planner would walk every claimed coupon by
            // expiry (`coupons_expiry`) instead of this member's coupons. (A dedicated index
            // would cost every claim one more insert at a random page.)
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {COUPON_COLS} FROM coupons INDEXED BY coupons_user WHERE user_id = ?1 \
                 AND status IN ('claimed', ?3) AND valid_until > ?2 ORDER BY valid_until, id LIMIT 0 + ?4"
            ))?;
            let also = if with_locked { "locked" } else { "claimed" };
            let rows = stmt.query_map(params![user_id, micros(now), also, limit], coupon_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
            rows.into_iter().collect()
        })
        .await
    }

    async fn wallet(&self, q: WalletQuery) -> Result<Page<CouponRecord>> {
        self.read_conn(move |conn| {
            let stores = q.stores.as_ref().map(|s| json_list(s));
            let now = micros(q.now);
            // ?4 is the status asked for; a claimed coupon past its end (?3) reads as expired.
            let filter = "user_id = ?1 AND (?2 IS NULL OR store_id IN (SELECT value FROM json_each(?2))) AND (?4 = '' \
                 OR (?4 = 'claimed' AND status = 'claimed' AND valid_until > ?3) \
                 OR (?4 = 'expired' AND (status = 'expired' OR (status = 'claimed' AND valid_until <= ?3))) \
                 OR (?4 NOT IN ('claimed', 'expired') AND status = ?4))";
            let status = q.status.map(CouponStatus::as_str).unwrap_or("");
            let total: i64 = conn.query_row(&format!("SELECT COUNT(*) FROM coupons WHERE {filter}"), params![q.user_id, stores, now, status], |r| r.get(0))?;
            let mut stmt = conn.prepare_cached(&format!("SELECT {COUPON_COLS} FROM coupons WHERE {filter} AND (?5 IS NULL OR id > ?5) ORDER BY id LIMIT 0 + ?6"))?;
            let items = stmt
                .query_map(params![q.user_id, stores, now, status, q.cursor, i64::from(q.limit) + 1], coupon_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?
                .into_iter()
                .collect::<Result<Vec<_>>>()?;
            Ok(page_of(items, q.limit, total, |c| c.id.clone()))
        })
        .await
    }

    async fn revoke_coupon(
        &self,
        id: &str,
        actor: &str,
        reason: &str,
        now: Timestamp,
    ) -> Result<Result<CouponRecord, ErrorCode>> {
        let (id, actor, reason) = (id.to_string(), actor.to_string(), reason.to_string());
        self.write_conn(move |tx, _| {
            let Some(c) = get_coupon(tx, &id)? else {
                return Ok(Err(ErrorCode::NotFound));
            };
            if c.status != CouponStatus::Claimed {
                return Ok(Err(ErrorCode::InvalidState));
            }
            tx.execute(
                "UPDATE coupons SET status = 'revoked', updated_at = ?2 WHERE id = ?1",
                params![id, micros(now)],
            )?;
            append_ledger(
                tx,
                &LedgerWrite {
                    coupon_id: &id,
                    template_id: &c.template_id,
                    user_id: &c.user_id,
                    event: LedgerEvent::Revoked,
                    from: Some(CouponStatus::Claimed),
                    to: CouponStatus::Revoked,
                    at: now,
                    actor: &actor,
                    reason: Some(&reason),
                    order_id: None,
                },
            )?;
            Ok(Ok(
                get_coupon(tx, &id)?.ok_or_else(|| corrupt("coupon vanished"))?
            ))
        })
        .await
    }

    async fn expire_due(&self, now: Timestamp, limit: u32) -> Result<u64> {
        self.write_conn(move |tx, _| {
            let due: Vec<(String, String, String)> = tx
                .prepare_cached("SELECT id, template_id, user_id FROM coupons WHERE status = 'claimed' AND valid_until <= ?1 LIMIT 0 + ?2")?
                .query_map(params![micros(now), limit], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<rusqlite::Result<_>>()?;
            for (id, template_id, user_id) in &due {
                tx.prepare_cached("UPDATE coupons SET status = 'expired', updated_at = ?2 WHERE id = ?1")?.execute(params![id, micros(now)])?;
                append_ledger(
                    tx,
                    &LedgerWrite {
                        coupon_id: id,
                        template_id,
                        user_id,
                        event: LedgerEvent::Expired,
                        from: Some(CouponStatus::Claimed),
                        to: CouponStatus::Expired,
                        at: now,
                        actor: "system",
                        reason: Some("validity ended"),
                        order_id: None,
                    },
                )?;
            }
            Ok(due.len() as u64)
        })
        .await
    }

    async fn ledger(&self, coupon_id: &str) -> Result<Vec<LedgerEntry>> {
        let coupon_id = coupon_id.to_string();
        self.read_conn(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT seq, coupon_id, template_id, user_id, event, from_status, to_status, at, actor, reason, order_id \
                 FROM coupon_ledger WHERE coupon_id = ?1 ORDER BY seq",
            )?;
            let rows = stmt.query_map([&coupon_id], |r| {
                Ok(LedgerEntry {
                    seq: r.get(0)?,
                    coupon_id: r.get(1)?,
                    template_id: r.get(2)?,
                    user_id: r.get(3)?,
                    event: r.get(4)?,
                    from_status: r.get(5)?,
                    to_status: r.get(6)?,
                    at: ts(r.get(7)?),
                    actor: r.get(8)?,
                    reason: r.get(9)?,
                    order_id: r.get(10)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn ledger_count(&self) -> Result<i64> {
        self.read_conn(|conn| {
            Ok(conn.query_row("SELECT COUNT(*) FROM coupon_ledger", [], |r| r.get(0))?)
        })
        .await
    }

    async fn coupon_count(&self, template_id: &str) -> Result<i64> {
        let template_id = template_id.to_string();
        self.read_conn(move |conn| {
            Ok(conn.query_row(
                "SELECT COUNT(*) FROM coupons WHERE template_id = ?1",
                [&template_id],
                |r| r.get(0),
            )?)
        })
        .await
    }
}
