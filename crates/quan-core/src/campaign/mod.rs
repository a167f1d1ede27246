//! Campaigns (docs/DOMAIN.md section 8): a trigger, an audience, actions, caps, a budget and a
//! holdout, and the pure rules that run them.
//!
//! - [`spec`]: the campaign as written.
//! - [`checked`]: its check into a [`Campaign`] by [`Campaign::parse`], and what a checked
//!   campaign answers (its grants, templates, allocation, attribution window).
//! - [`status`]: draft, active, paused, ended, and the changes an operator asks for.
//! - [`holdout`]: the stable hashed share of the audience that is recorded but never treated.
//! - [`schedule`]: the next tick of a weekly schedule, in the tenant's local time.
//! - [`decide`]: what one entry of a member into a campaign does (cap, budget, grants).
//! - [`treat`]: a campaign's lifecycle and its treatment batches, planned in memory.
//! - [`pack`]: a coupon pack's expected cost against the CAC ceiling (docs/DOMAIN.md section 9).

pub mod checked;
pub mod decide;
pub mod holdout;
pub mod pack;
pub mod schedule;
pub mod spec;
pub mod status;
pub mod treat;

pub use checked::{Allocation, Campaign, DEFAULT_EXPECTED_USE_BP};
pub use spec::{
    Action, Audience, Budget, CampaignSpec, EventKind, FrequencyCap, MessageChannel, Since, Trigger,
};
pub use status::{CampaignAction, CampaignStatus};
