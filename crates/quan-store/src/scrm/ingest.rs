//! What writing an order of a member's history does ([`plan`], the one rule both backends
//! follow), and a paid checkout order as such an order ([`checkout_history`]).

use jiff::Timestamp;

use super::{HistoryLine, HistoryOrder, HistoryStatus, OrderSource, Written};

/// What is stored under an order id before it is written again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredOrder {
    pub user_id: String,
    pub content_hash: String,
    pub source: OrderSource,
}

/// What writing `new` (whose content hash is `hash`) does: `Unchanged` for the same content,
/// `Conflict` for an id of the other source (a checkout order's id, when `checkout_id` says a
/// checkout order has it, or a stored order of the other source) or of another member's order
/// (an order belongs to one customer), else `Inserted` or `Updated` (the stored order is
/// replaced). `checkout_id` is only asked about when nothing is stored under the id.
pub fn plan(
    stored: Option<&StoredOrder>,
    checkout_id: bool,
    new: &HistoryOrder,
    hash: &str,
) -> Written {
    match stored {
        Some(s) if s.content_hash == hash => Written::Unchanged,
        Some(s) if s.source != new.source || s.user_id != new.user_id => Written::Conflict,
        Some(_) => Written::Updated,
        None if new.source == OrderSource::Ingest && checkout_id => Written::Conflict,
        None => Written::Inserted,
    }
}

/// A paid checkout order as an order of the member's history: what each line paid less what
/// was refunded; `refunded` once every unit of every line came back.
pub fn checkout_history(order: &crate::OrderRecord, paid_at: Timestamp) -> HistoryOrder {
    let all_back = order.lines.iter().all(|l| l.refunded_qty >= l.qty);
    HistoryOrder {
        id: order.id.clone(),
        user_id: order.user_id.clone(),
        status: if all_back {
            HistoryStatus::Refunded
        } else {
            HistoryStatus::Paid
        },
        channel: None,
        paid_at,
        lines: order
            .lines
            .iter()
            .map(|l| HistoryLine {
                line_id: l.line_id.clone(),
                sku: l.sku.clone(),
                store_id: Some(l.store_id.clone()),
                category: l.category.clone(),
                qty: l.qty - l.refunded_qty,
                amount: l.paid - l.refunded,
            })
            .collect(),
        source: OrderSource::Checkout,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(user: &str, source: OrderSource) -> HistoryOrder {
        HistoryOrder {
            id: "o1".into(),
            user_id: user.into(),
            status: HistoryStatus::Paid,
            channel: None,
            paid_at: Timestamp::UNIX_EPOCH,
            lines: vec![],
            source,
        }
    }

    fn stored(user: &str, hash: &str, source: OrderSource) -> StoredOrder {
        StoredOrder {
            user_id: user.into(),
            content_hash: hash.into(),
            source,
        }
    }

    #[test]
    fn one_rule_for_every_write() {
        use Written::*;
        let ana = new("ana", OrderSource::Ingest);
        let cases = [
            (None, false, &ana, Inserted),
            (None, true, &ana, Conflict),
            (
                Some(stored("ana", "h", OrderSource::Ingest)),
                false,
                &ana,
                Unchanged,
            ),
            (
                Some(stored("ana", "old", OrderSource::Ingest)),
                false,
                &ana,
                Updated,
            ),
            (
                Some(stored("bob", "old", OrderSource::Ingest)),
                false,
                &ana,
                Conflict,
            ),
            (
                Some(stored("ana", "old", OrderSource::Checkout)),
                false,
                &ana,
                Conflict,
            ),
        ];
        for (stored, checkout_id, order, want) in cases {
            assert_eq!(
                plan(stored.as_ref(), checkout_id, order, "h"),
                want,
                "{stored:?}"
            );
        }
        // A checkout order is written under its own id.
        let paid = new("ana", OrderSource::Checkout);
        assert_eq!(plan(None, true, &paid, "h"), Inserted);
        assert_eq!(
            plan(
                Some(&stored("ana", "old", OrderSource::Checkout)),
                false,
                &paid,
                "h"
            ),
            Updated
        );
    }
}
