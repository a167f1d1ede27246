//! The decisions of checkout orders, made on the facts read and written by
//! `aggregate::orders`: an order's next step, which coupons it locks, pays or releases, what a
//! refund returns and what its coupons become.

use std::collections::BTreeMap;

use jiff::Timestamp;
use quan_core::checkout::order::{self, OrderAction, Step};
use quan_core::checkout::refund::{self, PaidLine, RefundAsk, RefundPlan};
use quan_core::coupon::{CouponStatus, LedgerEvent};
use quan_core::{ErrorCode, FieldError};

use quan_core::checkout::Quote;
use quan_core::review::given::{net_discounts, net_payable};

use crate::plan::counts::{sale_entries, SaleCoupon, SaleEntry};
use crate::records::{CouponMove, CouponRecord, LockRefusal, NewOrder, OrderRecord};
use crate::{Result, StoreError};

/// The order's next step when `action` is asked at `now` ([`order::step`]).
pub(crate) fn step(order: &OrderRecord, action: OrderAction, now: Timestamp) -> Step {
    order::step(action, order.status, order.lock_until, now)
}

/// What refunding `ask` of the order returns: refused unless the order is paid, else the
/// arithmetic of [`refund::plan`] over its paid lines and stored quote, with what its coupons
/// give and what it costs before and after the refund (the quote read once). (The outer
/// error: the stored quote is unreadable.)
pub(crate) fn refund_plan(
    order: &OrderRecord,
    ask: &[RefundAsk],
    now: Timestamp,
) -> Result<Result<(RefundPlan, Money, Money), FieldError>> {
    if step(order, OrderAction::Refund, now) != Step::Refund {
        return Ok(Err(FieldError::new(
            ErrorCode::InvalidState,
            "status",
            "only a paid order is refunded",
        )));
    }
    let quote = quote(order)?;
    Ok(refund::plan(&order.lines, &quote, ask).map(|plan| {
        let (before, after) = (money(&quote, &order.lines), money(&quote, &plan.after));
        (plan, before, after)
    }))
}

/// A coupon that a refund gives back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CouponBack<'a> {
    pub coupon: &'a CouponRecord,
    pub to: CouponStatus,
    pub event: LedgerEvent,
}

/// The coupons of `plan.coupons_back` that come back, each once and in the plan's order, from
/// those coupons as stored (`stored`; a coupon not found is skipped): [`refund::give_back`].
pub(crate) fn coupons_back<'a>(
    plan: &RefundPlan,
    stored: &'a [CouponRecord],
    now: Timestamp,
) -> Vec<CouponBack<'a>> {
    let mut seen = std::collections::HashSet::new();
    plan.coupons_back
        .iter()
        .filter(|id| seen.insert(id.as_str()))
        .filter_map(|id| stored.iter().find(|c| &c.id == id))
        .filter_map(|coupon| {
            let (to, event) = refund::give_back(coupon.status, coupon.valid_until, now)?;
            Some(CouponBack { coupon, to, event })
        })
        .collect()
}

/// The moves that lock `order`'s coupons, from those coupons as stored with the time their
/// lock ends (`found`), each once: all of them, or the first that may not be locked
/// ([`quan_core::coupon::lockable`]).
pub(crate) fn lock_moves<'a>(
    order: &'a NewOrder,
    found: &'a [(CouponRecord, Option<Timestamp>)],
) -> Result<Vec<CouponMove<'a>>, LockRefusal> {
    let mut seen = std::collections::HashSet::new();
    let mut moves = Vec::with_capacity(order.coupon_ids.len());
    for id in order
        .coupon_ids
        .iter()
        .filter(|id| seen.insert(id.as_str()))
    {
        let usable = found
            .iter()
            .find(|(c, _)| &c.id == id)
            .filter(|(c, until)| {
                quan_core::coupon::lockable(
                    c.user_id == order.user_id,
                    c.status,
                    c.valid_until,
                    *until,
                    order.now,
                )
            });
        let Some((coupon, _)) = usable else {
            return Err(LockRefusal::CouponNotUsable(id.clone()));
        };
        moves.push(CouponMove {
            coupon,
            to: CouponStatus::Locked,
            event: LedgerEvent::Locked,
            holder: Some(&order.id),
            locked_until: Some(order.lock_until),
            order_id: Some(&order.id),
            reason: None,
            given: 0,
        });
    }
    Ok(moves)
}

/// Whether `order` holds `coupon` locked.
fn holds(order: &OrderRecord, coupon: &CouponRecord) -> bool {
    coupon.status == CouponStatus::Locked && coupon.order_id.as_deref() == Some(order.id.as_str())
}

/// The order's stored quote.
fn quote(order: &OrderRecord) -> Result<Quote> {
    serde_json::from_str(&order.quote).map_err(|_| StoreError::Corrupt("order quote".into()))
}

/// What each of an order's coupons gives with its lines as they are (net of their refunds),
/// and what the order then costs its member.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Money {
    pub given: BTreeMap<String, i64>,
    pub payable: i64,
}

fn money(quote: &Quote, lines: &[PaidLine]) -> Money {
    Money {
        given: net_discounts(quote, lines),
        payable: net_payable(quote, lines),
    }
}

/// The [`Money`] of an order being paid. (Only the counters of coupons read it: an order
/// without coupons answers nothing and its quote is not read.)
pub(crate) fn paid_money(order: &OrderRecord) -> Result<Money> {
    if order.coupon_ids.is_empty() {
        return Ok(Money::default());
    }
    Ok(money(&quote(order)?, &order.lines))
}

/// The moves that redeem a paid order's coupons, each giving its discount (`given`, from
/// [`paid_money`]); `None` unless the order still holds every one.
pub(crate) fn pay_moves<'a>(
    order: &'a OrderRecord,
    stored: &'a [CouponRecord],
    given: &BTreeMap<String, i64>,
) -> Option<Vec<CouponMove<'a>>> {
    let mut seen = std::collections::HashSet::new();
    order
        .coupon_ids
        .iter()
        .filter(|id| seen.insert(id.as_str()))
        .map(|id| {
            let coupon = stored.iter().find(|c| &c.id == id && holds(order, c))?;
            Some(CouponMove {
                coupon,
                to: CouponStatus::Redeemed,
                event: LedgerEvent::Redeemed,
                holder: Some(&order.id),
                locked_until: None,
                order_id: Some(&order.id),
                reason: None,
                given: given.get(id).copied().unwrap_or(0),
            })
        })
        .collect()
}

/// The moves that give an ended order's coupons back to the wallet: those it still holds (a
/// coupon whose lapsed lock another order took over stays with that order).
pub(crate) fn release_moves<'a>(
    order: &'a OrderRecord,
    stored: &'a [CouponRecord],
    reason: &'a str,
) -> Vec<CouponMove<'a>> {
    stored
        .iter()
        .filter(|c| order.coupon_ids.contains(&c.id) && holds(order, c))
        .map(|coupon| CouponMove {
            coupon,
            to: CouponStatus::Claimed,
            event: LedgerEvent::Released,
            holder: None,
            locked_until: None,
            order_id: Some(&order.id),
            reason: Some(reason),
            given: 0,
        })
        .collect()
}

/// The moves of a refund: the coupons it gives back ([`coupons_back`]), and the entries of the
/// coupons that stay redeemed in the order but give less; each takes back what the refund
/// takes of its discount (`before` and `after`: from [`refund_plan`], around the refund).
pub(crate) fn refund_moves<'a>(
    order: &'a OrderRecord,
    stored: &'a [CouponRecord],
    back: &[CouponBack<'a>],
    before: &BTreeMap<String, i64>,
    after: &BTreeMap<String, i64>,
) -> Vec<CouponMove<'a>> {
    let less =
        |id: &str| after.get(id).copied().unwrap_or(0) - before.get(id).copied().unwrap_or(0);
    let mut moves: Vec<CouponMove<'a>> = back
        .iter()
        .map(|b| CouponMove {
            coupon: b.coupon,
            to: b.to,
            event: b.event,
            holder: None,
            locked_until: None,
            order_id: Some(&order.id),
            reason: Some("order refunded"),
            given: less(&b.coupon.id),
        })
        .collect();
    moves.extend(
        stored
            .iter()
            .filter(|c| redeemed_in(order, c) && !back.iter().any(|b| b.coupon.id == c.id))
            .filter(|c| less(&c.id) != 0)
            .map(|c| CouponMove {
                coupon: c,
                to: CouponStatus::Redeemed,
                event: LedgerEvent::Refunded,
                holder: Some(&order.id),
                locked_until: None,
                order_id: Some(&order.id),
                reason: Some("order partly refunded"),
                given: less(&c.id),
            }),
    );
    moves
}

/// Whether `coupon` is redeemed in `order`.
fn redeemed_in(order: &OrderRecord, coupon: &CouponRecord) -> bool {
    coupon.status == CouponStatus::Redeemed && coupon.order_id.as_deref() == Some(order.id.as_str())
}

/// The sales entries of paying `order` with `moves` (its coupons redeemed), for `payable`.
pub(crate) fn pay_sales(moves: &[CouponMove<'_>], payable: i64) -> Vec<SaleEntry> {
    let coupons: Vec<SaleCoupon> = moves
        .iter()
        .map(|m| SaleCoupon {
            template_id: &m.coupon.template_id,
            campaign_id: m.coupon.campaign_id.as_deref(),
            before: false,
            after: true,
        })
        .collect();
    sale_entries(&coupons, 0, payable)
}

/// The sales entries of a refund of `order` that gives `back` its coupons, its payable going
/// from `before` to `after`.
pub(crate) fn refund_sales(
    order: &OrderRecord,
    stored: &[CouponRecord],
    back: &[CouponBack<'_>],
    before: i64,
    after: i64,
) -> Vec<SaleEntry> {
    let coupons: Vec<SaleCoupon> = stored
        .iter()
        .filter(|c| redeemed_in(order, c))
        .map(|c| SaleCoupon {
            template_id: &c.template_id,
            campaign_id: c.campaign_id.as_deref(),
            before: true,
            after: !back.iter().any(|b| b.coupon.id == c.id),
        })
        .collect();
    sale_entries(&coupons, before, after)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::SignedDuration;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn coupon(id: &str, user: &str, status: CouponStatus, order: Option<&str>) -> CouponRecord {
        CouponRecord {
            id: id.into(),
            template_id: "t".into(),
            store_id: None,
            user_id: user.into(),
            code: id.into(),
            status,
            route: "public".into(),
            claimed_at: at("2026-05-01T00:00:00Z"),
            valid_from: at("2026-05-01T00:00:00Z"),
            valid_until: at("2026-06-01T00:00:00Z"),
            order_id: order.map(str::to_string),
            updated_at: at("2026-05-01T00:00:00Z"),
            campaign_id: None,
        }
    }

    fn new_order(ids: &[&str]) -> NewOrder {
        let now = at("2026-05-05T00:00:00Z");
        NewOrder {
            id: "o".into(),
            user_id: "u".into(),
            request_hash: "h".into(),
            quote: "{}".into(),
            lines: vec![],
            coupon_ids: ids.iter().map(|s| s.to_string()).collect(),
            payable: 0,
            lock_until: now + SignedDuration::from_mins(15),
            now,
            actor: "k".into(),
        }
    }

    #[test]
    fn a_lock_takes_all_or_names_the_first_unusable() {
        let o = new_order(&["a", "b", "a"]);
        let lapsed = Some(o.now - SignedDuration::from_secs(1));
        let found = vec![
            (coupon("a", "u", CouponStatus::Claimed, None), None),
            (coupon("b", "u", CouponStatus::Locked, Some("x")), lapsed),
        ];
        let moves = lock_moves(&o, &found).unwrap();
        assert_eq!(moves.len(), 2, "each coupon once");
        assert!(moves
            .iter()
            .all(|m| m.to == CouponStatus::Locked && m.holder == Some("o")));
        assert_eq!(
            moves[1].coupon.status,
            CouponStatus::Locked,
            "a lapsed lock is taken over"
        );

        let held = vec![(
            coupon("b", "u", CouponStatus::Locked, Some("x")),
            Some(o.lock_until),
        )];
        assert_eq!(
            lock_moves(&new_order(&["b"]), &held),
            Err(LockRefusal::CouponNotUsable("b".into()))
        );
        let theirs = vec![(coupon("a", "v", CouponStatus::Claimed, None), None)];
        assert_eq!(
            lock_moves(&new_order(&["a"]), &theirs),
            Err(LockRefusal::CouponNotUsable("a".into()))
        );
        assert_eq!(
            lock_moves(&new_order(&["a", "zz"]), &found[..1]),
            Err(LockRefusal::CouponNotUsable("zz".into()))
        );
    }

    fn order(ids: &[&str]) -> OrderRecord {
        OrderRecord {
            id: "o".into(),
            user_id: "u".into(),
            status: crate::OrderStatus::Locked,
            quote: "{}".into(),
            lines: vec![],
            coupon_ids: ids.iter().map(|s| s.to_string()).collect(),
            payable: 0,
            lock_until: at("2026-05-05T00:15:00Z"),
            created_at: at("2026-05-05T00:00:00Z"),
            updated_at: at("2026-05-05T00:00:00Z"),
        }
    }

    #[test]
    fn paying_needs_every_coupon_still_held() {
        let o = order(&["a", "b"]);
        let held = vec![
            coupon("a", "u", CouponStatus::Locked, Some("o")),
            coupon("b", "u", CouponStatus::Locked, Some("o")),
        ];
        let given = BTreeMap::from([("a".to_string(), 100)]);
        let moves = pay_moves(&o, &held, &given).unwrap();
        assert_eq!(
            moves.iter().map(|m| m.given).collect::<Vec<_>>(),
            [100, 0],
            "each redemption gives its discount"
        );
        assert!(moves.iter().all(|m| m.to == CouponStatus::Redeemed));
        let taken = vec![
            held[0].clone(),
            coupon("b", "u", CouponStatus::Locked, Some("x")),
        ];
        assert_eq!(pay_moves(&o, &taken, &given), None);
        assert_eq!(pay_moves(&o, &held[..1], &given), None);
    }

    #[test]
    fn releasing_gives_back_only_what_the_order_holds() {
        let o = order(&["a", "b"]);
        let stored = vec![
            coupon("a", "u", CouponStatus::Locked, Some("o")),
            coupon("b", "u", CouponStatus::Locked, Some("x")),
        ];
        let moves = release_moves(&o, &stored, "order cancelled");
        assert_eq!(moves.len(), 1);
        assert_eq!(moves[0].coupon.id, "a");
        assert_eq!(moves[0].to, CouponStatus::Claimed);
        assert_eq!(moves[0].holder, None);
        assert_eq!(moves[0].order_id, Some("o"));
    }
}
