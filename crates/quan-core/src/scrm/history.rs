//! A member's paid orders folded into counts, sums and the last two order times.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The status of an order of a member's history, as ingested from outside or as a paid
/// checkout order became.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HistoryStatus {
    Paid,
    Shipped,
    Confirmed,
    Completed,
    Refunded,
    Cancelled,
}

impl HistoryStatus {
    pub const ALL: [HistoryStatus; 6] = [
        HistoryStatus::Paid,
        HistoryStatus::Shipped,
        HistoryStatus::Confirmed,
        HistoryStatus::Completed,
        HistoryStatus::Refunded,
        HistoryStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            HistoryStatus::Paid => "paid",
            HistoryStatus::Shipped => "shipped",
            HistoryStatus::Confirmed => "confirmed",
            HistoryStatus::Completed => "completed",
            HistoryStatus::Refunded => "refunded",
            HistoryStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<HistoryStatus> {
        HistoryStatus::ALL.into_iter().find(|h| h.as_str() == s)
    }

    /// Whether an order in this status counts as a purchase (RFM, lifecycle, `orders` and
    /// `spent` rules). Refunded and cancelled orders are kept but do not count.
    pub fn counts(self) -> bool {
        !matches!(self, HistoryStatus::Refunded | HistoryStatus::Cancelled)
    }
}

/// Where an order of a member's history came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderSource {
    /// From outside: history, POS, other channels (`PUT /v1/orders/{id}`, `quan import`).
    Ingest,
    /// A paid checkout order.
    Checkout,
}

impl OrderSource {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderSource::Ingest => "ingest",
            OrderSource::Checkout => "checkout",
        }
    }

    pub fn parse(s: &str) -> Option<OrderSource> {
        [OrderSource::Ingest, OrderSource::Checkout]
            .into_iter()
            .find(|o| o.as_str() == s)
    }
}

/// What a member's counted orders add up to. Orders may be added in any order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    /// Counted orders.
    pub orders: i64,
    /// Their amounts, in minor units.
    pub spent: i64,
    pub first: Option<Timestamp>,
    /// The latest order's paid time.
    pub last: Option<Timestamp>,
    /// The paid time of the order before the latest (equal to `last` when two share a time).
    pub prev: Option<Timestamp>,
}

impl History {
    /// Adds one counted order.
    pub fn add(&mut self, paid_at: Timestamp, amount: i64) {
        self.orders += 1;
        self.spent += amount;
        self.first = Some(self.first.map_or(paid_at, |f| f.min(paid_at)));
        match self.last {
            Some(last) if paid_at < last => {
                if self.prev.is_none_or(|p| paid_at > p) {
                    self.prev = Some(paid_at);
                }
            }
            last => {
                self.prev = last;
                self.last = Some(paid_at);
            }
        }
    }

    /// The history of `orders` (paid time, amount) up to and including `as_of`.
    pub fn of<I: IntoIterator<Item = (Timestamp, i64)>>(orders: I, as_of: Timestamp) -> Self {
        let mut h = History::default();
        for (at, amount) in orders {
            if at <= as_of {
                h.add(at, amount);
            }
        }
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_back_and_only_refunds_and_cancellations_do_not_count() {
        for status in HistoryStatus::ALL {
            assert_eq!(HistoryStatus::parse(status.as_str()), Some(status));
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{}\"", status.as_str()));
        }
        let counted: Vec<_> = HistoryStatus::ALL
            .into_iter()
            .filter(|s| s.counts())
            .collect();
        assert_eq!(
            counted.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            ["paid", "shipped", "confirmed", "completed"]
        );
        assert_eq!(HistoryStatus::parse("lost"), None);
    }

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn last_two_times_whatever_the_order_of_arrival() {
        let a = t("2026-01-01T00:00:00Z");
        let b = t("2026-02-01T00:00:00Z");
        let c = t("2026-03-01T00:00:00Z");
        for order in [[a, b, c], [c, b, a], [b, c, a], [a, c, b]] {
            let h = History::of(order.iter().map(|&x| (x, 100)), c);
            assert_eq!((h.orders, h.spent), (3, 300));
            assert_eq!((h.first, h.prev, h.last), (Some(a), Some(b), Some(c)));
        }
        let h = History::of([(a, 1), (b, 2), (c, 4)], b);
        assert_eq!(
            (h.orders, h.spent, h.last, h.prev),
            (2, 3, Some(b), Some(a))
        );
        let h = History::of([(a, 1), (a, 1)], a);
        assert_eq!((h.last, h.prev), (Some(a), Some(a)));
    }
}
