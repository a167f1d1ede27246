//! Checkout orders: locking coupons all or none, and every transition of
//! `quan_core::checkout::order::step` (pay, cancel, lapse, refund) with what it does to the
//! coupons, the template's counters and the ledger.

use jiff::Timestamp;
use quan_core::checkout::refund::{PaidLine, RefundAsk};
use quan_core::coupon::CouponStatus;
use quan_core::ErrorCode;
use quan_store::on_both_backends;
use quan_store::prelude::*;
use quan_store::testing::Backend;
use quan_store::{LockRefusal, NewOrder, OrderRecord, OrderStatus};
use serde_json::json;

use crate::common::*;

on_both_backends!(
    an_order_locks_pays_and_refunds,
    orders_cancel_and_lapse,
    lapsed_locks_are_taken_over,
);

/// An order of `user` holding `coupons` from `now` until `until`: one line of two units that
/// paid 1500 after the first coupon's 500 off.
pub(crate) fn new_order(
    id: &str,
    user: &str,
    coupons: &[&str],
    now: Timestamp,
    until: Timestamp,
) -> NewOrder {
    let applied: Vec<_> = coupons
        .iter()
        .take(1)
        .map(|c| json!({"coupon_id": c, "discount": 500, "lines": [{"line_id": "1", "amount": 500}]}))
        .collect();
    let quote = json!({
        "subtotal": 2000, "discount": 500, "shipping": 0, "shipping_waived": 0, "payable": 1500,
        "coupons": applied, "gifts": [], "not_applied": []
    });
    NewOrder {
        id: id.into(),
        user_id: user.into(),
        request_hash: format!("hash-{id}"),
        quote: quote.to_string(),
        lines: vec![PaidLine {
            line_id: "1".into(),
            sku: "tea".into(),
            category: Some("tea".into()),
            store_id: "s1".into(),
            qty: 2,
            paid: 1500,
            refunded_qty: 0,
            refunded: 0,
        }],
        coupon_ids: coupons.iter().map(|c| c.to_string()).collect(),
        payable: 1500,
        lock_until: until,
        now,
        actor: "test".into(),
    }
}

async fn status_of(s: &dyn Store, coupon: &str) -> (CouponStatus, Option<String>) {
    let c = s.coupon(coupon).await.unwrap().expect("coupon");
    (c.status, c.order_id)
}

async fn last_event(s: &dyn Store, coupon: &str) -> String {
    s.ledger(coupon)
        .await
        .unwrap()
        .last()
        .unwrap()
        .event
        .clone()
}

fn status(r: Result<OrderRecord, ErrorCode>) -> Result<OrderStatus, ErrorCode> {
    r.map(|o| o.status)
}

async fn an_order_locks_pays_and_refunds(backend: Backend) {
    let db = open(backend).await;
    let s = &*db.store;
    let t = active(s, "tpl_o", json!({})).await;
    let c1 = claimed(s, &t, "ana", t0()).await;
    let c2 = claimed(s, &t, "ana", t0()).await;
    let bobs = claimed(s, &t, "bob", t0()).await;

    let o1 = new_order("o1", "ana", &[&c1], at(1), at(15));
    let locked = s.lock_order(o1.clone()).await.unwrap().expect("locked");
    assert_eq!(
        (locked.status, locked.lock_until, locked.coupon_ids.clone()),
        (OrderStatus::Locked, at(15), vec![c1.clone()])
    );
    assert_eq!(s.order("o1").await.unwrap(), Some(locked.clone()));
    assert_eq!(s.order("nope").await.unwrap(), None);
    assert_eq!(
        status_of(s, &c1).await,
        (CouponStatus::Locked, Some("o1".into()))
    );
    // A retry answers the order as it is; the same id with another request is refused.
    assert_eq!(s.lock_order(o1.clone()).await.unwrap(), Ok(locked.clone()));
    let other = NewOrder {
        request_hash: "another".into(),
        ..o1.clone()
    };
    assert_eq!(
        s.lock_order(other).await.unwrap(),
        Err(LockRefusal::Conflict)
    );
    // All or none: a coupon already locked, or another member's, refuses the whole lock.
    for coupons in [
        vec![c2.as_str(), c1.as_str()],
        vec![c2.as_str(), bobs.as_str()],
    ] {
        let refused = s
            .lock_order(new_order("o2", "ana", &coupons, at(2), at(16)))
            .await
            .unwrap();
        assert_eq!(
            refused,
            Err(LockRefusal::CouponNotUsable(coupons[1].to_string()))
        );
        assert_eq!(status_of(s, &c2).await, (CouponStatus::Claimed, None));
    }
    assert_eq!(s.order("o2").await.unwrap(), None);

    // Paying redeems the coupons; paying again answers the paid order.
    let paid = s
        .pay_order("o1", at(3), "test")
        .await
        .unwrap()
        .expect("paid");
    assert_eq!((paid.status, paid.updated_at), (OrderStatus::Paid, at(3)));
    assert_eq!(
        status_of(s, &c1).await,
        (CouponStatus::Redeemed, Some("o1".into()))
    );
    assert_eq!(s.template(&t).await.unwrap().unwrap().used, 1);
    assert_eq!(
        s.pay_order("o1", at(4), "test").await.unwrap(),
        Ok(paid.clone())
    );
    assert_eq!(
        status(s.cancel_order("o1", at(4), "test").await.unwrap()),
        Err(ErrorCode::InvalidState),
        "a paid order is not cancelled"
    );
    assert_eq!(
        status(s.pay_order("nope", at(4), "test").await.unwrap()),
        Err(ErrorCode::NotFound)
    );
    let events: Vec<String> = s
        .ledger(&c1)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .collect();
    assert_eq!(events, ["claimed", "locked", "redeemed"]);
    // The paid order joins the member's history.
    let (summary, _) = s
        .history_order("o1")
        .await
        .unwrap()
        .expect("in the history");
    assert_eq!((summary.status.as_str(), summary.amount), ("paid", 1500));
    assert_eq!(history(s, "ana").await.orders, 1);

    // Refunds: one unit returns half; the last unit gives the coupon back, valid, as claimed.
    let ask = || {
        vec![RefundAsk {
            line_id: "1".into(),
            qty: 1,
        }]
    };
    let (after, plan) = s
        .refund_order("o1", ask(), at(5), "test")
        .await
        .unwrap()
        .expect("refund");
    assert_eq!((plan.lines[0].amount, plan.coupons_back.len()), (750, 0));
    assert_eq!(
        (after.status, after.lines[0].refunded_qty),
        (OrderStatus::Paid, 1)
    );
    assert_eq!(status_of(s, &c1).await.0, CouponStatus::Redeemed);
    let (after, plan) = s
        .refund_order("o1", ask(), at(6), "test")
        .await
        .unwrap()
        .expect("refund");
    assert_eq!(
        (plan.lines[0].amount, plan.coupons_back.clone()),
        (750, vec![c1.clone()])
    );
    assert_eq!(
        (after.lines[0].refunded, after.lines[0].refunded_qty),
        (1500, 2)
    );
    assert_eq!(status_of(s, &c1).await, (CouponStatus::Claimed, None));
    assert_eq!(last_event(s, &c1).await, "restored");
    assert_eq!(s.template(&t).await.unwrap().unwrap().used, 0);
    let (summary, _) = s.history_order("o1").await.unwrap().unwrap();
    assert_eq!((summary.status.as_str(), summary.amount), ("refunded", 0));
    assert_eq!(history(s, "ana").await.orders, 0);
    let too_much = s.refund_order("o1", ask(), at(7), "test").await.unwrap();
    assert_eq!(
        too_much.map_err(|e| e.code).map(|_| ()),
        Err(ErrorCode::TooLarge)
    );
    let missing = s.refund_order("nope", ask(), at(7), "test").await.unwrap();
    assert_eq!(
        missing.map_err(|e| e.code).map(|_| ()),
        Err(ErrorCode::NotFound)
    );
}

async fn orders_cancel_and_lapse(backend: Backend) {
    let db = open(backend).await;
    let s = &*db.store;
    let t = active(
        s,
        "tpl_o",
        json!({"validity": {"kind": "relative", "days": 1}}),
    )
    .await;
    let c1 = claimed(s, &t, "bob", t0()).await;
    let c2 = claimed(s, &t, "bob", t0()).await;
    let ask = vec![RefundAsk {
        line_id: "1".into(),
        qty: 2,
    }];

    // Cancelled: the coupon goes back; cancelling again answers the order; it cannot be paid
    // or refunded.
    s.lock_order(new_order("o3", "bob", &[&c1], at(1), at(15)))
        .await
        .unwrap()
        .unwrap();
    let cancelled = s
        .cancel_order("o3", at(2), "test")
        .await
        .unwrap()
        .expect("cancelled");
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    assert_eq!(status_of(s, &c1).await, (CouponStatus::Claimed, None));
    assert_eq!(last_event(s, &c1).await, "released");
    assert_eq!(
        s.cancel_order("o3", at(3), "test").await.unwrap(),
        Ok(cancelled)
    );
    assert_eq!(
        status(s.pay_order("o3", at(3), "test").await.unwrap()),
        Err(ErrorCode::InvalidState)
    );
    let refused = s
        .refund_order("o3", ask.clone(), at(3), "test")
        .await
        .unwrap();
    assert_eq!(
        refused.map_err(|e| e.code).map(|_| ()),
        Err(ErrorCode::InvalidState)
    );
    assert_eq!(
        status(s.cancel_order("nope", at(3), "test").await.unwrap()),
        Err(ErrorCode::NotFound)
    );

    // Paying once the lock lapsed expires the order (and says so) and frees its coupon.
    s.lock_order(new_order("o4", "bob", &[&c1], at(3), at(10)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        status(s.pay_order("o4", at(10), "test").await.unwrap()),
        Err(ErrorCode::InvalidState)
    );
    assert_eq!(
        s.order("o4").await.unwrap().unwrap().status,
        OrderStatus::Expired
    );
    assert_eq!(status_of(s, &c1).await, (CouponStatus::Claimed, None));
    assert_eq!(
        status(s.pay_order("o4", at(11), "test").await.unwrap()),
        Err(ErrorCode::InvalidState)
    );
    assert_eq!(
        status(s.cancel_order("o4", at(11), "test").await.unwrap()),
        Ok(OrderStatus::Expired)
    );

    // The sweeper expires lapsed locks only.
    s.lock_order(new_order("o5", "bob", &[&c1], at(12), at(20)))
        .await
        .unwrap()
        .unwrap();
    s.lock_order(new_order("o6", "bob", &[&c2], at(12), at(30)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s.release_lapsed_locks(at(19)).await.unwrap(), 0);
    assert_eq!(s.release_lapsed_locks(at(20)).await.unwrap(), 1);
    assert_eq!(s.release_lapsed_locks(at(20)).await.unwrap(), 0);
    assert_eq!(
        s.order("o5").await.unwrap().unwrap().status,
        OrderStatus::Expired
    );
    assert_eq!(status_of(s, &c1).await, (CouponStatus::Claimed, None));
    assert_eq!(last_event(s, &c1).await, "released");
    assert_eq!(
        s.order("o6").await.unwrap().unwrap().status,
        OrderStatus::Locked
    );
    // Cancelling a lapsed lock before the sweeper cancels it.
    assert_eq!(
        status(s.cancel_order("o6", at(31), "test").await.unwrap()),
        Ok(OrderStatus::Cancelled)
    );

    // A coupon whose validity ended while the order was paid comes back expired.
    s.lock_order(new_order("o7", "bob", &[&c2], at(40), at(55)))
        .await
        .unwrap()
        .unwrap();
    s.pay_order("o7", at(41), "test")
        .await
        .unwrap()
        .expect("paid");
    let next_day = t0()
        .checked_add(jiff::SignedDuration::from_hours(25))
        .unwrap();
    let (_, plan) = s
        .refund_order("o7", ask, next_day, "test")
        .await
        .unwrap()
        .expect("refund");
    assert_eq!(plan.coupons_back, [c2.as_str()]);
    assert_eq!(status_of(s, &c2).await, (CouponStatus::Expired, None));
    assert_eq!(last_event(s, &c2).await, "expired");
}

async fn lapsed_locks_are_taken_over(backend: Backend) {
    let db = open(backend).await;
    let s = &*db.store;
    let t = active(s, "tpl_o", json!({})).await;
    let c = claimed(s, &t, "cat", t0()).await;
    s.lock_order(new_order("o8", "cat", &[&c], at(1), at(5)))
        .await
        .unwrap()
        .unwrap();
    let early = s
        .lock_order(new_order("o9", "cat", &[&c], at(4), at(20)))
        .await
        .unwrap();
    assert_eq!(early, Err(LockRefusal::CouponNotUsable(c.clone())));
    // Once o8's lock lapsed, another order may take the coupon over.
    let o9 = s
        .lock_order(new_order("o9", "cat", &[&c], at(6), at(20)))
        .await
        .unwrap()
        .expect("taken over");
    assert_eq!(o9.status, OrderStatus::Locked);
    assert_eq!(
        status_of(s, &c).await,
        (CouponStatus::Locked, Some("o9".into()))
    );
    let ledger = s.ledger(&c).await.unwrap();
    let last = ledger.last().unwrap();
    assert_eq!(
        (
            last.event.as_str(),
            last.from_status.as_deref(),
            last.order_id.as_deref()
        ),
        ("locked", Some("locked"), Some("o9"))
    );
    // The old order expires without touching the coupon it lost.
    assert_eq!(
        status(s.pay_order("o8", at(7), "test").await.unwrap()),
        Err(ErrorCode::InvalidState)
    );
    assert_eq!(
        s.order("o8").await.unwrap().unwrap().status,
        OrderStatus::Expired
    );
    assert_eq!(
        status_of(s, &c).await,
        (CouponStatus::Locked, Some("o9".into()))
    );
    let paid = s
        .pay_order("o9", at(8), "test")
        .await
        .unwrap()
        .expect("paid");
    assert_eq!(paid.status, OrderStatus::Paid);
}
