//! A checkout order's status machine: what paying, cancelling, expiring or refunding an order
//! does, given its stored status, its lock time and now (docs/DOMAIN.md section 6.7).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// A checkout order's status as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Its coupons are locked until `lock_until`, waiting for payment.
    Locked,
    Paid,
    Cancelled,
    /// The lock lapsed before payment.
    Expired,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Locked => "locked",
            OrderStatus::Paid => "paid",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "locked" => OrderStatus::Locked,
            "paid" => OrderStatus::Paid,
            "cancelled" => OrderStatus::Cancelled,
            "expired" => OrderStatus::Expired,
            _ => return None,
        })
    }
}

impl std::fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What is asked of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderAction {
    Pay,
    Cancel,
    /// The sweeper's: expire the order if its lock lapsed.
    Expire,
    Refund,
}

/// What to do with the order, decided by [`step`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Write nothing and answer the order as it is (paying a paid order, cancelling an ended one,
    /// expiring one whose lock still holds or that is no longer locked).
    Answer,
    /// Write nothing and refuse with `invalid_state`.
    Refuse,
    /// Redeem the order's locked coupons and mark it `paid`.
    Pay,
    /// Release the order's locked coupons and mark it `cancelled`.
    Cancel,
    /// The lock lapsed: release the coupons and mark it `expired`. A payment asked for is then
    /// refused with `invalid_state` (the expiry is written all the same).
    Expire,
    /// Refund lines of the paid order (it stays `paid`).
    Refund,
}

impl Step {
    /// The status the order moves to, if it moves.
    pub fn to(self) -> Option<OrderStatus> {
        match self {
            Step::Pay => Some(OrderStatus::Paid),
            Step::Cancel => Some(OrderStatus::Cancelled),
            Step::Expire => Some(OrderStatus::Expired),
            Step::Answer | Step::Refuse | Step::Refund => None,
        }
    }
}

/// The order's next step. A lock holds while `now < lock_until`.
pub fn step(
    action: OrderAction,
    status: OrderStatus,
    lock_until: Timestamp,
    now: Timestamp,
) -> Step {
    let lapsed = lock_until <= now;
    match (action, status) {
        (OrderAction::Pay, OrderStatus::Paid) => Step::Answer,
        (OrderAction::Pay, OrderStatus::Locked) if lapsed => Step::Expire,
        (OrderAction::Pay, OrderStatus::Locked) => Step::Pay,
        (OrderAction::Pay, OrderStatus::Cancelled | OrderStatus::Expired) => Step::Refuse,
        (OrderAction::Cancel, OrderStatus::Paid) => Step::Refuse,
        (OrderAction::Cancel, OrderStatus::Locked) => Step::Cancel,
        (OrderAction::Cancel, OrderStatus::Cancelled | OrderStatus::Expired) => Step::Answer,
        (OrderAction::Expire, OrderStatus::Locked) if lapsed => Step::Expire,
        (OrderAction::Expire, _) => Step::Answer,
        (OrderAction::Refund, OrderStatus::Paid) => Step::Refund,
        (OrderAction::Refund, _) => Step::Refuse,
    }
}

#[cfg(test)]
mod tests {
    use super::OrderAction::*;
    use super::OrderStatus::*;
    use super::*;

    #[test]
    fn every_status_and_action() {
        let t = |s: &str| -> Timestamp { s.parse().unwrap() };
        let (until, before, after) = (
            t("2026-03-01T00:15:00Z"),
            t("2026-03-01T00:10:00Z"),
            t("2026-03-01T00:15:00Z"),
        );
        let cases = [
            (Pay, Locked, before, Step::Pay),
            (Pay, Locked, after, Step::Expire),
            (Pay, Paid, after, Step::Answer),
            (Pay, Cancelled, before, Step::Refuse),
            (Pay, Expired, before, Step::Refuse),
            (Cancel, Locked, before, Step::Cancel),
            (Cancel, Locked, after, Step::Cancel),
            (Cancel, Paid, before, Step::Refuse),
            (Cancel, Cancelled, before, Step::Answer),
            (Cancel, Expired, before, Step::Answer),
            (Expire, Locked, before, Step::Answer),
            (Expire, Locked, after, Step::Expire),
            (Expire, Paid, after, Step::Answer),
            (Refund, Paid, after, Step::Refund),
            (Refund, Locked, before, Step::Refuse),
            (Refund, Cancelled, before, Step::Refuse),
            (Refund, Expired, before, Step::Refuse),
        ];
        for (action, status, now, want) in cases {
            assert_eq!(
                step(action, status, until, now),
                want,
                "{action:?} {status:?} {now}"
            );
        }
    }

    #[test]
    fn statuses_keep_their_stored_names() {
        for s in [Locked, Paid, Cancelled, Expired] {
            assert_eq!(OrderStatus::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{s}\""));
        }
        assert_eq!(OrderStatus::parse("refunded"), None);
    }
}
