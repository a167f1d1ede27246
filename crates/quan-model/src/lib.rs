//! quan-model: who redeems which coupon, learnt from the tenant's own history.
//!
//! The main types:
//! - [`MemberHistory`] is everything known of a member (baskets, redemptions, campaigns it
//!   received, attributes); [`AsOf`] is that history cut strictly before a decision time, and
//!   the only thing [`features`] reads. A feature cannot see an order or a redemption from
//!   after the decision, because the view it is given does not hold one.
//! - [`features`] turns an `AsOf` and an [`Offer`] (the campaign's kind, coupons and covered
//!   products) into the [`FEATURES`] vector: RFM, trend, coupon use, past redemptions, lifecycle
//!   stage (the core's rule), attributes, and the member's affinity with the offer's products.
//! - [`PropensityModel`] is gradient-boosted trees (the pure-Rust `perpetual` crate; no
//!   optimiser is written here) with an isotonic calibration fitted on members held out of the
//!   trees' training, saved as versioned JSON that carries its feature list.
//! - [`TwoModelUplift`] estimates the incremental redemption where a control group exists.
//! - [`metrics`]: AUC, Brier score, expected calibration error and reliability bins.
//!
//! The crate is pure: no clock, no database, no files except a model's own.

pub mod calibration;
pub mod features;
pub mod history;
pub mod metrics;
pub mod propensity;
pub mod uplift;

pub use features::{features, BenefitKind, CampaignKind, Offer, FEATURES};
pub use history::{AsOf, Attributes, Basket, Exposure, Line, MemberHistory, Redemption};
pub use propensity::{Dataset, ModelError, PropensityModel, TrainConfig, FORMAT_VERSION};
pub use uplift::{Side, TwoModelUplift};
