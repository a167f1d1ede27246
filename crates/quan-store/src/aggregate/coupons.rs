//! Claimed coupons: reads, their moves outside checkout (counter redemption, revocation,
//! expiry) and the ledger; every move of a coupon, here or in checkout, is written by
//! [`apply_moves`].

use std::collections::BTreeMap;

use async_trait::async_trait;
use jiff::Timestamp;
use quan_core::coupon::{redeemable, CouponStatus, LedgerEvent};
use quan_core::ErrorCode;

use super::counts::{add_coupon_counts, record_sales};
use super::page_of;
use crate::plan::counts::{sale_entries, CouponCounts, CouponDelta, CouponKey, SaleCoupon};
use crate::records::reviews::CounterSale;
use crate::records::*;
use crate::sql::{Column, Db, Engine, Row, Strings};
use crate::traits::Coupons;
use crate::{Result, StoreError};

pub(crate) const COUPON_COLS: &str = "id, template_id, store_id, user_id, code, status, route, claimed_at, valid_from, valid_until, order_id, updated_at, campaign_id";

pub(crate) fn coupon_record(r: &Row) -> Result<CouponRecord> {
    let status: String = r.get(5)?;
    Ok(CouponRecord {
        id: r.get(0)?,
        template_id: r.get(1)?,
        store_id: r.get(2)?,
        user_id: r.get(3)?,
        code: r.get(4)?,
        status: CouponStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt("coupon status".into()))?,
        route: r.get(6)?,
        claimed_at: r.time(7)?,
        valid_from: r.time(8)?,
        valid_until: r.time(9)?,
        order_id: r.get(10)?,
        updated_at: r.time(11)?,
        campaign_id: r.get(12)?,
    })
}

/// A coupon by id; with `lock`, its row is locked for the rest of the transaction.
pub(crate) async fn get_coupon(
    db: &mut Db<'_>,
    id: &str,
    lock: bool,
) -> Result<Option<CouponRecord>> {
    static LOCKED: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!("SELECT {COUPON_COLS} FROM coupons WHERE id = $1 FOR UPDATE")
    });
    static PLAIN: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| format!("SELECT {COUPON_COLS} FROM coupons WHERE id = $1"));
    let sql = if lock {
        LOCKED.as_str()
    } else {
        PLAIN.as_str()
    };
    db.query_opt(sql, &[&id], coupon_record).await
}

/// The coupons of `ids` that exist, in id order, their rows locked (racing writers take turns
/// in one order), each with the time its lock ends, if locked.
pub(crate) async fn lock_coupons(
    db: &mut Db<'_>,
    ids: &[String],
) -> Result<Vec<(CouponRecord, Option<Timestamp>)>> {
    static LOCK: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!("SELECT {COUPON_COLS}, locked_until FROM coupons WHERE id = ANY($1) ORDER BY id FOR UPDATE")
    });
    db.query(&LOCK, &[&Strings(ids)], |r| {
        let until: Option<i64> = r.get(13)?;
        Ok((coupon_record(r)?, until.map(from_micros)))
    })
    .await
}

/// Appends entries to the ledger, in their order.
pub(crate) async fn append_ledger(db: &mut Db<'_>, entries: &[LedgerWrite<'_>]) -> Result<()> {
    let text = |f: for<'e> fn(&'e LedgerWrite) -> &'e str| -> Vec<String> {
        entries.iter().map(|e| f(e).to_string()).collect()
    };
    let maybe = |f: for<'e> fn(&'e LedgerWrite) -> Option<&'e str>| -> Vec<Option<String>> {
        entries.iter().map(|e| f(e).map(str::to_string)).collect()
    };
    let (coupon, template, user, actor) = (
        text(|e| e.coupon_id),
        text(|e| e.template_id),
        text(|e| e.user_id),
        text(|e| e.actor),
    );
    let (event, to) = (text(|e| e.event.as_str()), text(|e| e.to.as_str()));
    let from = maybe(|e| e.from.map(CouponStatus::as_str));
    let (reason, order) = (maybe(|e| e.reason), maybe(|e| e.order_id));
    let at: Vec<i64> = entries.iter().map(|e| micros(e.at)).collect();
    let given: Vec<i64> = entries.iter().map(|e| e.given).collect();
    db.execute_rows(
        "INSERT INTO coupon_ledger (coupon_id, template_id, user_id, event, from_status, to_status, at, actor, reason, order_id, given) \
         SELECT x.coupon_id, x.template_id, x.user_id, x.event, x.from_status, x.to_status, x.at, x.actor, x.reason, x.order_id, x.given FROM {rows}",
        &[],
        &[
            ("coupon_id", Column::Text(&coupon)),
            ("template_id", Column::Text(&template)),
            ("user_id", Column::Text(&user)),
            ("event", Column::Text(&event)),
            ("from_status", Column::MaybeText(&from)),
            ("to_status", Column::Text(&to)),
            ("at", Column::Int(&at)),
            ("actor", Column::Text(&actor)),
            ("reason", Column::MaybeText(&reason)),
            ("order_id", Column::MaybeText(&order)),
            ("given", Column::Int(&given)),
        ],
    )
    .await?;
    Ok(())
}

/// How each template's used count moves with `moves`, in template id order (no zeros).
pub(crate) fn used_deltas(moves: &[CouponMove<'_>]) -> Vec<(String, i64)> {
    let mut by_template = BTreeMap::<&str, i64>::new();
    for m in moves {
        *by_template.entry(&m.coupon.template_id).or_default() += m.coupon.status.used_delta(m.to);
    }
    by_template
        .into_iter()
        .filter(|(_, d)| *d != 0)
        .map(|(t, d)| (t.to_string(), d))
        .collect()
}

/// Writes coupon moves: the coupons' rows, a ledger entry each (by `actor` at `now`, tenant-local
/// `day`), their templates' used counts and the daily counters.
pub(crate) async fn apply_moves(
    db: &mut Db<'_>,
    moves: &[CouponMove<'_>],
    actor: &str,
    now: Timestamp,
    day: i64,
) -> Result<()> {
    if moves.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = moves.iter().map(|m| m.coupon.id.clone()).collect();
    let to: Vec<String> = moves.iter().map(|m| m.to.as_str().to_string()).collect();
    let holder: Vec<Option<String>> = moves.iter().map(|m| m.holder.map(str::to_string)).collect();
    let until: Vec<Option<i64>> = moves.iter().map(|m| m.locked_until.map(micros)).collect();
    db.execute_rows(
        "UPDATE coupons SET status = x.status, order_id = x.order_id, locked_until = x.locked_until, updated_at = $1 \
         FROM {rows} WHERE coupons.id = x.id",
        &[&micros(now)],
        &[
            ("id", Column::Text(&ids)),
            ("status", Column::Text(&to)),
            ("order_id", Column::MaybeText(&holder)),
            ("locked_until", Column::MaybeInt(&until)),
        ],
    )
    .await?;
    let entries: Vec<LedgerWrite> = moves
        .iter()
        .map(|m| LedgerWrite {
            coupon_id: &m.coupon.id,
            template_id: &m.coupon.template_id,
            user_id: &m.coupon.user_id,
            event: m.event,
            from: Some(m.coupon.status),
            to: m.to,
            at: now,
            actor,
            reason: m.reason,
            order_id: m.order_id,
            given: m.given,
        })
        .collect();
    append_ledger(db, &entries).await?;
    let mut counts = CouponCounts::default();
    for m in moves {
        counts.add(
            coupon_key(m.coupon, day),
            CouponDelta::of(Some(m.coupon.status), m.to, m.given),
        );
    }
    add_coupon_counts(db, &counts).await?;
    let (templates, deltas): (Vec<String>, Vec<i64>) = used_deltas(moves).into_iter().unzip();
    db.execute_rows(
        "UPDATE templates SET used = used + x.delta FROM {rows} WHERE templates.id = x.id",
        &[],
        &[
            ("id", Column::Text(&templates)),
            ("delta", Column::Int(&deltas)),
        ],
    )
    .await?;
    Ok(())
}

/// The counters' row of a coupon's entries on tenant-local `day`.
pub(crate) fn coupon_key(c: &CouponRecord, day: i64) -> CouponKey {
    CouponKey {
        template_id: c.template_id.clone(),
        campaign_id: c.campaign_id.clone().unwrap_or_default(),
        store_id: c.store_id.clone().unwrap_or_default(),
        route: c.route.clone(),
        day,
    }
}

async fn written(db: &mut Db<'_>, id: &str) -> Result<CouponRecord> {
    get_coupon(db, id, false)
        .await?
        .ok_or_else(|| StoreError::Corrupt("coupon vanished".into()))
}

#[async_trait]
impl<E: Engine> Coupons for E {
    async fn coupon(&self, id: &str) -> Result<Option<CouponRecord>> {
        let id = id.to_string();
        self.read_point(move |db| Box::pin(async move { get_coupon(db, &id, false).await }))
            .await
    }

    async fn coupon_by_code(&self, code: &str) -> Result<Option<CouponRecord>> {
        let code = code.to_string();
        self.read_point(move |db| {
            Box::pin(async move {
                static BY_CODE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
                    format!("SELECT {COUPON_COLS} FROM coupons WHERE code = $1")
                });
                db.query_opt(&BY_CODE, &[&code], coupon_record).await
            })
        })
        .await
    }

    async fn redeem_coupon(
        &self,
        id: &str,
        order_id: Option<&str>,
        sale: CounterSale,
        now: Timestamp,
        actor: &str,
    ) -> Result<Result<CouponRecord, ErrorCode>> {
        let day = self.ctx().zone.day_number(now);
        let args = (
            id.to_string(),
            order_id.map(str::to_string),
            sale,
            now,
            actor.to_string(),
        );
        self.write(args, move |db, (id, order_id, sale, now, actor)| {
            Box::pin(async move {
                let Some(c) = get_coupon(db, id, true).await? else {
                    return Ok(Err(ErrorCode::NotFound));
                };
                if !redeemable(c.status, c.valid_from, c.valid_until, *now) {
                    return Ok(Err(ErrorCode::InvalidState));
                }
                let redeem = CouponMove {
                    coupon: &c,
                    to: CouponStatus::Redeemed,
                    event: LedgerEvent::Redeemed,
                    holder: order_id.as_deref(),
                    locked_until: None,
                    order_id: order_id.as_deref(),
                    reason: Some("redeemed by code"),
                    given: sale.discount,
                };
                apply_moves(db, &[redeem], actor, *now, day).await?;
                // The purchase is an order of its own, unless it names one a coupon of the
                // same template or campaign already counted.
                let sale_order = order_id.clone().unwrap_or_else(|| format!("counter:{id}"));
                let counted: Vec<(String, String)> = db
                    .query(
                        "SELECT kind, key FROM sales_ledger WHERE order_id = $1 \
                         GROUP BY kind, key HAVING SUM(orders) > 0",
                        &[&sale_order],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .await?;
                let entries: Vec<_> = sale_entries(
                    &[SaleCoupon {
                        template_id: &c.template_id,
                        campaign_id: c.campaign_id.as_deref(),
                        before: false,
                        after: true,
                    }],
                    0,
                    sale.payable,
                )
                .into_iter()
                .filter(|e| {
                    !counted
                        .iter()
                        .any(|(k, key)| k == e.kind.as_str() && key == &e.key)
                })
                .collect();
                record_sales(db, &sale_order, &entries, *now, day).await?;
                db.execute(
                    "UPDATE coupons SET discount = $2, payable = $3 WHERE id = $1",
                    &[id, &sale.discount, &sale.payable],
                )
                .await?;
                Ok(Ok(written(db, id).await?))
            })
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
        self.read_point(move |db| {
            Box::pin(async move {
                // Named on SQLite, because without statistics its planner would walk every
                // claimed coupon by expiry (`coupons_expiry`) instead of this member's coupons.
                let from = if db.is_postgres() {
                    "coupons"
                } else {
                    "coupons INDEXED BY coupons_user"
                };
                let sql = format!(
                    "SELECT {COUPON_COLS} FROM {from} WHERE user_id = $1 AND valid_until > $2 \
                     AND (status = 'claimed' OR ($3 AND status = 'locked')) ORDER BY valid_until, id LIMIT $4"
                );
                db.query(&sql, &[&user_id, &micros(now), &with_locked, &i64::from(limit)], coupon_record)
                    .await
            })
        })
        .await
    }

    async fn wallet(&self, q: WalletQuery) -> Result<Page<CouponRecord>> {
        self.read(move |db| {
            Box::pin(async move {
                // The status asked for, as the wallet shows it at `now` (`CouponStatus::as_of`).
                let shown = q.status.map(CouponStatus::shown_as);
                let stored: Option<Vec<String>> = shown
                    .as_ref()
                    .map(|s| s.stored.iter().map(|s| s.as_str().to_string()).collect());
                let claimed_valid = shown.as_ref().and_then(|s| s.claimed_valid);
                let stores = q.stores.as_deref().map(Strings);
                let stored = stored.as_deref().map(Strings);
                let filter = "user_id = $1 AND ($2::text[] IS NULL OR store_id = ANY($2)) \
                     AND ($4::text[] IS NULL OR status = ANY($4) \
                     OR ($5::boolean IS NOT NULL AND status = 'claimed' AND (valid_until > $3) = $5))";
                let now = micros(q.now);
                let total: i64 = db
                    .query_one(
                        &format!("SELECT COUNT(*) FROM coupons WHERE {filter}"),
                        &[&q.user_id, &stores, &now, &stored, &claimed_valid],
                        |r| r.get(0),
                    )
                    .await?;
                let items = db
                    .query(
                        &format!("SELECT {COUPON_COLS} FROM coupons WHERE {filter} AND ($6::text IS NULL OR id > $6) ORDER BY id LIMIT $7"),
                        &[&q.user_id, &stores, &now, &stored, &claimed_valid, &q.cursor, &(i64::from(q.limit) + 1)],
                        coupon_record,
                    )
                    .await?;
                Ok(page_of(items, q.limit, total, |c| c.id.clone()))
            })
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
        let day = self.ctx().zone.day_number(now);
        let args = (id.to_string(), actor.to_string(), reason.to_string(), now);
        self.write(args, move |db, (id, actor, reason, now)| {
            Box::pin(async move {
                let Some(c) = get_coupon(db, id, true).await? else {
                    return Ok(Err(ErrorCode::NotFound));
                };
                if c.status != CouponStatus::Claimed {
                    return Ok(Err(ErrorCode::InvalidState));
                }
                let revoke = CouponMove {
                    coupon: &c,
                    to: CouponStatus::Revoked,
                    event: LedgerEvent::Revoked,
                    holder: None,
                    locked_until: None,
                    order_id: None,
                    reason: Some(reason),
                    given: 0,
                };
                apply_moves(db, &[revoke], actor, *now, day).await?;
                Ok(Ok(written(db, id).await?))
            })
        })
        .await
    }

    async fn expire_due(&self, now: Timestamp, limit: u32) -> Result<u64> {
        let day = self.ctx().zone.day_number(now);
        self.write((now, limit), move |db, (now, limit)| {
            Box::pin(async move {
                let due = db
                    .query(
                        &format!(
                            "SELECT {COUPON_COLS} FROM coupons WHERE status = 'claimed' AND valid_until <= $1 \
                             LIMIT $2 FOR UPDATE SKIP LOCKED"
                        ),
                        &[&micros(*now), &i64::from(*limit)],
                        coupon_record,
                    )
                    .await?;
                // Those the wallet already shows as expired (`CouponStatus::as_of`).
                let moves: Vec<CouponMove> = due
                    .iter()
                    .filter(|c| c.status.as_of(c.valid_until, *now) == CouponStatus::Expired)
                    .map(|c| CouponMove {
                        coupon: c,
                        to: CouponStatus::Expired,
                        event: LedgerEvent::Expired,
                        holder: None,
                        locked_until: None,
                        order_id: None,
                        reason: Some("validity ended"),
                        given: 0,
                    })
                    .collect();
                apply_moves(db, &moves, "system", *now, day).await?;
                Ok(moves.len() as u64)
            })
        })
        .await
    }

    async fn ledger(&self, coupon_id: &str) -> Result<Vec<LedgerEntry>> {
        let coupon_id = coupon_id.to_string();
        self.read(move |db| {
            Box::pin(async move {
                db.query(
                    "SELECT seq, coupon_id, template_id, user_id, event, from_status, to_status, at, actor, reason, order_id, given \
                     FROM coupon_ledger WHERE coupon_id = $1 ORDER BY seq",
                    &[&coupon_id],
                    |r| {
                        Ok(LedgerEntry {
                            seq: r.get(0)?,
                            coupon_id: r.get(1)?,
                            template_id: r.get(2)?,
                            user_id: r.get(3)?,
                            event: r.get(4)?,
                            from_status: r.get(5)?,
                            to_status: r.get(6)?,
                            at: r.time(7)?,
                            actor: r.get(8)?,
                            reason: r.get(9)?,
                            order_id: r.get(10)?,
                            given: r.get(11)?,
                        })
                    },
                )
                .await
            })
        })
        .await
    }

    async fn ledger_count(&self) -> Result<i64> {
        self.read(|db| {
            Box::pin(async move {
                db.query_one("SELECT COUNT(*) FROM coupon_ledger", &[], |r| r.get(0))
                    .await
            })
        })
        .await
    }

    async fn coupon_count(&self, template_id: &str) -> Result<i64> {
        let template_id = template_id.to_string();
        self.read(move |db| {
            Box::pin(async move {
                db.query_one(
                    "SELECT COUNT(*) FROM coupons WHERE template_id = $1",
                    &[&template_id],
                    |r| r.get(0),
                )
                .await
            })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn coupon(id: &str, template: &str, status: CouponStatus) -> CouponRecord {
        let t: Timestamp = "2026-05-01T00:00:00Z".parse().unwrap();
        CouponRecord {
            id: id.into(),
            template_id: template.into(),
            store_id: None,
            user_id: "u".into(),
            code: id.into(),
            status,
            route: "public".into(),
            claimed_at: t,
            valid_from: t,
            valid_until: t,
            order_id: None,
            updated_at: t,
            campaign_id: None,
        }
    }

    #[test]
    fn used_counts_move_once_per_template() {
        let cs = [
            coupon("a", "t2", CouponStatus::Locked),
            coupon("b", "t1", CouponStatus::Locked),
            coupon("c", "t2", CouponStatus::Locked),
            coupon("d", "t3", CouponStatus::Claimed),
        ];
        fn mv(coupon: &CouponRecord, to: CouponStatus) -> CouponMove<'_> {
            CouponMove {
                coupon,
                to,
                event: LedgerEvent::Redeemed,
                holder: None,
                locked_until: None,
                order_id: None,
                reason: None,
                given: 0,
            }
        }
        let moves = [
            mv(&cs[0], CouponStatus::Redeemed),
            mv(&cs[1], CouponStatus::Redeemed),
            mv(&cs[2], CouponStatus::Redeemed),
            mv(&cs[3], CouponStatus::Locked),
        ];
        assert_eq!(
            used_deltas(&moves),
            vec![("t1".to_string(), 1), ("t2".to_string(), 2)]
        );
    }
}
