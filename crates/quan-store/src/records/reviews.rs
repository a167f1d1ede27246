//! What a campaign's review reads: the coupons it granted, and its members' outcomes.

use quan_core::review::Outcome;

/// What a redemption at a store counter took off, and what the purchase then cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CounterSale {
    pub discount: i64,
    pub payable: i64,
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

/// Whose counters to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CountsOf {
    Campaign(String),
    Template(String),
    Everything,
}

/// A row of the coupon counters: a template, campaign (`""` none), store (`""` platform),
/// claim route and tenant-local day (the zone's day number).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct CouponCount {
    pub template_id: String,
    pub campaign_id: String,
    pub store_id: String,
    pub route: String,
    pub day: i64,
    /// Coupons that came into wallets (claimed or granted).
    pub claimed: i64,
    /// Redemptions.
    pub used: i64,
    /// Redemptions undone by a refund that gave the coupon back.
    pub returned: i64,
    /// Money given, net of refunds.
    pub given: i64,
}

/// A row of the sales counters: a template's or campaign's orders that used its coupons.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SalesCount {
    /// `template` or `campaign`.
    pub kind: String,
    pub key: String,
    pub day: i64,
    pub orders: i64,
    /// What they cost the members, less refunds.
    pub gmv: i64,
}

/// What a rebuild of the counters read and wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rebuilt {
    pub coupon_entries: u64,
    pub sales_entries: u64,
    pub coupon_rows: u64,
    pub sales_rows: u64,
}

/// One of a campaign's coupons, as its slices by member read it: whose, whether it is used
/// now, and the money it gave net of refunds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberCoupon {
    pub user_id: String,
    pub redeemed: bool,
    pub given: i64,
}
