//! What one entry of a member into a campaign does: held out, capped, over budget, or treated,
//! and the occurrence keys that make an entry happen once.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::spec::{Budget, FrequencyCap};

/// Where an entry stands. `pending` waits for its due time; the others are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntryStatus {
    /// Entered, to be treated at its due time.
    Pending,
    /// Got the campaign's actions.
    Treated,
    /// In the holdout: recorded, never treated.
    HeldOut,
    /// Over the member's frequency cap: not treated.
    Capped,
    /// The budget could not cover it: not treated (and the campaign ended).
    OverBudget,
    /// A grant was refused (out of stock, a limit, the template ended): nothing granted.
    Refused,
    /// The campaign ended (or its end time passed) before the entry was due.
    Expired,
    /// An allocation gave the member none of its coupons: recorded, not treated.
    Unallocated,
}

impl EntryStatus {
    pub const ALL: [EntryStatus; 8] = [
        EntryStatus::Pending,
        EntryStatus::Treated,
        EntryStatus::HeldOut,
        EntryStatus::Capped,
        EntryStatus::OverBudget,
        EntryStatus::Refused,
        EntryStatus::Expired,
        EntryStatus::Unallocated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntryStatus::Pending => "pending",
            EntryStatus::Treated => "treated",
            EntryStatus::HeldOut => "held_out",
            EntryStatus::Capped => "capped",
            EntryStatus::OverBudget => "over_budget",
            EntryStatus::Refused => "refused",
            EntryStatus::Expired => "expired",
            EntryStatus::Unallocated => "unallocated",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        EntryStatus::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// Coupons and face value, granted so far or asked for by one treatment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Spend {
    pub count: i64,
    pub amount: i64,
}

/// What to do with a due entry, before its grants are tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Treat,
    Capped,
    OverBudget,
}

/// The start of a frequency cap's window ending at `now`.
pub fn cap_window_start(cap: &FrequencyCap, now: Timestamp) -> Timestamp {
    now.checked_sub(SignedDuration::from_hours(i64::from(cap.days) * 24))
        .unwrap_or(Timestamp::MIN)
}

/// Decides a due entry: the frequency cap first (`recent`: the member's treatments inside the
/// cap's window), then whether the budget covers `cost` on top of `spent`.
pub fn decide(
    cap: Option<&FrequencyCap>,
    recent: i64,
    budget: Option<&Budget>,
    spent: Spend,
    cost: Spend,
) -> Verdict {
    if cap.is_some_and(|c| recent >= i64::from(c.count)) {
        return Verdict::Capped;
    }
    if let Some(b) = budget {
        let over = |limit: Option<i64>, used: i64, more: i64| {
            limit.is_some_and(|l| used.saturating_add(more) > l)
        };
        if over(b.count, spent.count, cost.count) || over(b.amount, spent.amount, cost.amount) {
            return Verdict::OverBudget;
        }
    }
    Verdict::Treat
}

/// The occurrence of an event trigger: once per event id, ever.
pub fn event_occurrence(event_id: &str) -> String {
    format!("event:{event_id}")
}

/// The occurrence of a `once` trigger.
pub const ONCE: &str = "once";

/// The occurrence of an inactivity trigger: once per join, or once per last order (a member
/// who orders again and lapses again enters again).
pub fn inactivity_occurrence(anchor: Timestamp) -> String {
    format!("since:{anchor}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAP: FrequencyCap = FrequencyCap { count: 2, days: 7 };

    #[test]
    fn the_cap_counts_recent_treatments() {
        let none = Spend::default();
        assert_eq!(decide(Some(&CAP), 1, None, none, none), Verdict::Treat);
        assert_eq!(decide(Some(&CAP), 2, None, none, none), Verdict::Capped);
        assert_eq!(decide(None, 99, None, none, none), Verdict::Treat);
    }

    #[test]
    fn the_budget_is_never_exceeded() {
        let budget = Budget {
            count: Some(10),
            amount: Some(1000),
        };
        let cost = Spend {
            count: 2,
            amount: 300,
        };
        let spent = |count, amount| Spend { count, amount };
        assert_eq!(
            decide(None, 0, Some(&budget), spent(8, 700), cost),
            Verdict::Treat
        );
        assert_eq!(
            decide(None, 0, Some(&budget), spent(9, 0), cost),
            Verdict::OverBudget
        );
        assert_eq!(
            decide(None, 0, Some(&budget), spent(0, 701), cost),
            Verdict::OverBudget
        );
        let count_only = Budget {
            count: Some(1),
            amount: None,
        };
        assert_eq!(
            decide(None, 0, Some(&count_only), spent(0, i64::MAX), cost),
            Verdict::OverBudget
        );
    }

    #[test]
    fn window_and_keys() {
        let now: Timestamp = "2026-03-09T00:00:00Z".parse().unwrap();
        assert_eq!(
            cap_window_start(&CAP, now).to_string(),
            "2026-03-02T00:00:00Z"
        );
        assert_eq!(event_occurrence("e1"), "event:e1");
        assert_eq!(inactivity_occurrence(now), "since:2026-03-09T00:00:00Z");
        for s in EntryStatus::ALL {
            assert_eq!(EntryStatus::parse(s.as_str()), Some(s));
        }
    }
}
