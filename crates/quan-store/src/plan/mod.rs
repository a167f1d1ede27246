//! The pure planners of the store's writes: what a batch of claims does ([`claims`]), what
//! each order transition does to its coupons ([`orders`]) and what every coupon entry and
//! order change adds to the daily counters ([`counts`]), decided from the facts an aggregate
//! read; the campaign treatment planner is the core's `campaign::treat`.

pub(crate) mod claims;
pub(crate) mod counts;
pub(crate) mod orders;
