//! The customer side (SCRM): a member's order history, lifecycle stage, RFM scores and tiers,
//! and the rules that define segments. Pure functions of their inputs and an as-of time.
//!
//! - [`event`]: the kinds of member event, and what a `signup` and a `tier_changed` do.
//! - [`history`]: a member's paid orders folded into the few numbers the rules read.
//! - [`lifecycle`]: the stage of docs/DOMAIN.md section 7 (new, first order, active, at risk,
//!   lapsed, won back) as of a time.
//! - [`rfm`]: recency, frequency and monetary scores by quintile, and the S/A/B/C tiers.
//! - [`segment`]: segment rules (and / or / not over member fields, stage, RFM and purchases),
//!   their validation and their evaluation for one member.

pub mod event;
pub mod history;
pub mod lifecycle;
pub mod rfm;
pub mod segment;

pub use event::{EventKind, MemberEffect};
pub use history::History;
pub use lifecycle::{LifecycleConfig, Stage};
pub use rfm::{RfmConfig, RfmScore, RfmTier};
pub use segment::{Member, Purchase, Rule};
