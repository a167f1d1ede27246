//! What the redemption model learns from: members' basket lines and how their coupons ended.

use jiff::Timestamp;
use quan_core::coupon::CouponStatus;

/// One counted order line of a member's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasketLine {
    pub order_id: String,
    pub user_id: String,
    pub sku: String,
    pub category: Option<String>,
    /// What the line sold for, minor units.
    pub amount: i64,
    pub paid_at: Timestamp,
}

/// A coupon a member was given, and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CouponOutcome {
    pub user_id: String,
    pub template_id: String,
    pub claimed_at: Timestamp,
    pub valid_until: Timestamp,
    pub status: CouponStatus,
    /// When the status last changed: a redeemed coupon's redemption.
    pub updated_at: Timestamp,
}

/// A member's decided entry into a campaign, treated or held out: what uplift learns from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryOutcome {
    pub campaign_id: String,
    pub user_id: String,
    /// `true` treated, `false` held out.
    pub treated: bool,
    /// When it was decided.
    pub at: Timestamp,
}

impl CouponOutcome {
    /// Whether it was used, as known at `now`: `Some(true)` redeemed, `Some(false)` expired,
    /// revoked or past its end unused, `None` still open (a label not known yet).
    pub fn used(&self, now: Timestamp) -> Option<bool> {
        match self.status {
            CouponStatus::Redeemed if self.updated_at <= now => Some(true),
            CouponStatus::Revoked if self.updated_at <= now => Some(false),
            // Ended unused by then (a later redemption or revocation was still to come).
            _ if self.valid_until <= now => Some(false),
            _ => None,
        }
    }
}
