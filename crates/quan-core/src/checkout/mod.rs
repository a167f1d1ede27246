//! Checkout (结算): carts, the arithmetic of every benefit, apportionment, and the solver that
//! finds the best legal combination of a member's coupons (docs/DOMAIN.md sections 3 and 6).
//!
//! - [`cart`]: a validated cart; a line's base amount.
//! - [`eligibility`]: whether a coupon may be used on a cart at all, and why not.
//! - [`money`]: benefit arithmetic and largest-remainder apportionment, exact to the minor unit.
//! - [`solver`]: eligibility, the stacking rules and the exact search with its tie-breaks.
//! - [`order`]: a checkout order's status machine; [`refund`]: what a refund returns.

pub mod cart;
pub mod eligibility;
pub mod money;
pub mod order;
pub mod refund;
pub mod solver;

#[cfg(test)]
mod examples;
#[cfg(test)]
mod proptests;

pub use cart::{Cart, Line};
pub use solver::{
    effort, quote, Applied, GiftLine, LineShare, NotApplied, Offer, Quote, QuoteContext, QuoteError,
};
