//! The pure domain core of quan (券): the rules and arithmetic of coupons, with no I/O and no async.
//!
//! Everything here is a plain function of its inputs, "now" included: callers pass the time
//! (`jiff::Timestamp`) and the tenant's zone ([`zone::TenantZone`]) so that history can be
//! evaluated as of its own dates and tests can move the clock.
//!
//! - [`campaign`]: campaigns (triggers, audiences, actions, caps, budgets, holdouts) and their rules.
//! - [`template`]: the coupon template (券模板) and its validation into a [`template::Template`].
//! - [`access`]: roles and the principal behind an API key.
//! - [`checkout`]: carts, benefit arithmetic, apportionment and the exact best-combination solver.
//! - [`claim`]: the claim rules of docs/DOMAIN.md section 5, in their fixed order, and the batch
//!   decision that a store runs inside one transaction.
//! - [`coupon`]: coupon statuses, validity windows and ledger events.
//! - [`link`]: signed claim links (HMAC-SHA256 with expiry).
//! - [`outbox`]: message delivery: statuses, the retry policy, channel webhooks, signatures.
//! - [`review`]: what coupons cost and earned: money by funder, ROI, incrementality with intervals.
//! - [`task`]: store-guide tasks: statuses and the completion rule.
//! - [`scrm`]: members' order history, lifecycle stages, RFM tiers and segment rules.
//! - [`error`]: the one table of stable error codes and their HTTP statuses.
//! - [`text`]: ids and bounded texts, each parsed by one rule.
//! - [`zone`]: the tenant's time zone: local days and midnights.

pub mod access;
pub mod campaign;
pub mod checkout;
pub mod claim;
pub mod coupon;
pub mod error;
pub mod link;
pub mod outbox;
pub mod review;
pub mod scrm;
pub mod task;
pub mod template;
pub mod text;
pub mod zone;

pub use error::{ErrorCode, FieldError};
