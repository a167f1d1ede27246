//! What a campaign's review reads: the coupons it granted, and its members' outcomes.

use quan_core::coupon::CouponStatus;
use quan_core::review::Outcome;

/// What a redemption at a store counter took off, and what the purchase then cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CounterSale {
    pub discount: i64,
    pub payable: i64,
}

/// A coupon a campaign granted, as it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantedCoupon {
    pub id: String,
    pub template_id: String,
    pub status: CouponStatus,
    /// The checkout order that redeemed it (or the order a counter named).
    pub order_id: Option<String>,
    /// Set when it was redeemed at a store counter.
    pub counter: Option<CounterSale>,
    pub claimed_at: jiff::Timestamp,
    /// When its status last changed: a redeemed coupon's redemption.
    pub updated_at: jiff::Timestamp,
}

/// A campaign's messages by what became of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MessageCounts {
    /// Every message the campaign queued.
    pub sent: i64,
    /// Those a channel's webhook accepted (2xx).
    pub delivered: i64,
    /// Those given up after their last retry.
    pub dead: i64,
}

/// A member of a campaign's treated or held-out arm, and what they did in the attribution
/// window after entering (and in the same length of time before).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArmMember {
    pub treated: bool,
    pub outcome: Outcome,
}

/// A counted order: whose, when it was paid, and its amount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaidOrder {
    pub user_id: String,
    pub paid_at: jiff::Timestamp,
    pub amount: i64,
}

/// What a category sold: the amount and the units of its counted lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategorySales {
    pub category: String,
    pub amount: i64,
    pub units: i64,
}
