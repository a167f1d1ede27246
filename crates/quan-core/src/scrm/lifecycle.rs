//! Lifecycle stages (docs/DOMAIN.md section 7), derived from a member's history as of a time.
//!
//! The stage is never stored as the truth: it is a function of the counted orders up to the
//! as-of time and of the configured gaps, so it moves with time without a sweeper.
//! - `new`: no counted order;
//! - `lapsed`: the last order is at least `lapsed_days` old; `at_risk`: at least `at_risk_days`;
//! - otherwise `won_back` when the last order came after a gap of at least `lapsed_days` (the
//!   member had lapsed and ordered again); `first_order` with one order; else `active`.
//!
//! Days here are spans of 24 hours from the as-of time.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::History;
use crate::error::{ErrorCode, FieldError};

/// A member's lifecycle stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    New,
    FirstOrder,
    Active,
    AtRisk,
    Lapsed,
    WonBack,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::New => "new",
            Stage::FirstOrder => "first_order",
            Stage::Active => "active",
            Stage::AtRisk => "at_risk",
            Stage::Lapsed => "lapsed",
            Stage::WonBack => "won_back",
        }
    }
}

/// The gaps that move a member to `at_risk` and `lapsed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LifecycleConfig {
    /// Days without an order after which a member is at risk (default 30).
    pub at_risk_days: u32,
    /// Days without an order after which a member has lapsed (default 90).
    pub lapsed_days: u32,
}

impl Default for LifecycleConfig {
    fn default() -> Self {
        LifecycleConfig {
            at_risk_days: 30,
            lapsed_days: 90,
        }
    }
}

impl LifecycleConfig {
    /// Refuses gaps out of order or out of range.
    pub fn validate(&self) -> Result<(), FieldError> {
        if self.at_risk_days == 0 {
            return Err(FieldError::new(
                ErrorCode::NotPositive,
                "at_risk_days",
                "must be at least 1",
            ));
        }
        if self.lapsed_days > 3650 {
            return Err(FieldError::new(
                ErrorCode::TooLarge,
                "lapsed_days",
                "at most 3650 days",
            ));
        }
        if self.lapsed_days <= self.at_risk_days {
            return Err(FieldError::new(
                ErrorCode::InvalidValue,
                "lapsed_days",
                "must be more than at_risk_days",
            ));
        }
        Ok(())
    }
}

fn days(n: u32) -> SignedDuration {
    SignedDuration::from_hours(24 * i64::from(n))
}

/// The member's stage as of `as_of`; `history` holds only orders paid up to `as_of`.
pub fn stage(history: &History, as_of: Timestamp, config: &LifecycleConfig) -> Stage {
    let Some(last) = history.last else {
        return Stage::New;
    };
    let idle = as_of.duration_since(last);
    if idle >= days(config.lapsed_days) {
        Stage::Lapsed
    } else if idle >= days(config.at_risk_days) {
        Stage::AtRisk
    } else if history
        .prev
        .is_some_and(|prev| last.duration_since(prev) >= days(config.lapsed_days))
    {
        Stage::WonBack
    } else if history.orders == 1 {
        Stage::FirstOrder
    } else {
        Stage::Active
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(n: i64) -> Timestamp {
        Timestamp::from_second(1_767_225_600 + n * 86_400).unwrap() // 2026-01-01 + n days
    }

    fn at(orders: &[i64], now: i64) -> Stage {
        let h = History::of(orders.iter().map(|&d| (day(d), 100)), day(now));
        stage(&h, day(now), &LifecycleConfig::default())
    }

    #[test]
    fn every_transition_as_time_passes_and_orders_arrive() {
        assert_eq!(at(&[], 0), Stage::New);
        assert_eq!(
            at(&[5], 4),
            Stage::New,
            "an order after the as-of time does not count"
        );
        assert_eq!(at(&[5], 5), Stage::FirstOrder);
        assert_eq!(at(&[5], 34), Stage::FirstOrder, "29 days idle");
        assert_eq!(at(&[5], 35), Stage::AtRisk, "30 days idle");
        assert_eq!(at(&[5, 20], 20), Stage::Active);
        assert_eq!(at(&[5, 20], 49), Stage::Active);
        assert_eq!(at(&[5, 20], 50), Stage::AtRisk);
        assert_eq!(at(&[5, 20], 109), Stage::AtRisk);
        assert_eq!(at(&[5, 20], 110), Stage::Lapsed, "90 days idle");
        assert_eq!(
            at(&[5, 20, 110], 110),
            Stage::WonBack,
            "ordered again after lapsing"
        );
        assert_eq!(at(&[5, 20, 110], 139), Stage::WonBack);
        assert_eq!(
            at(&[5, 20, 110], 140),
            Stage::AtRisk,
            "won back, then idle again"
        );
        assert_eq!(
            at(&[5, 20, 110, 115], 115),
            Stage::Active,
            "a second order after winning back"
        );
        assert_eq!(
            at(&[5, 94], 94),
            Stage::Active,
            "89 days between orders is not a lapse"
        );
        assert_eq!(
            at(&[5, 95], 95),
            Stage::WonBack,
            "a first order long ago, then another"
        );
    }

    #[test]
    fn configured_gaps() {
        let cfg = LifecycleConfig {
            at_risk_days: 7,
            lapsed_days: 14,
        };
        let h = History::of([(day(0), 1)], day(10));
        assert_eq!(stage(&h, day(6), &cfg), Stage::FirstOrder);
        assert_eq!(stage(&h, day(7), &cfg), Stage::AtRisk);
        assert_eq!(stage(&h, day(14), &cfg), Stage::Lapsed);
        assert!(cfg.validate().is_ok());
        let bad = LifecycleConfig {
            at_risk_days: 30,
            lapsed_days: 30,
        };
        assert_eq!(bad.validate().unwrap_err().field, "lapsed_days");
    }
}
