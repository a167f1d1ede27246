//! The pure planners of the store's writes: what a batch of claims does ([`claims`]) and what
//! each order transition does to its coupons ([`orders`]), decided from the facts an
//! aggregate read; the campaign treatment planner is the core's `campaign::treat`.

pub(crate) mod claims;
pub(crate) mod orders;
