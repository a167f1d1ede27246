//! A member's history as the model reads it, and `AsOf`, the only view features ever get.

use jiff::Timestamp;

use crate::features::CampaignKind;

/// A product, as the tenant's catalogue names it.
pub type ProductId = i64;
/// A product category, interned by the caller (one number per distinct category name).
pub type CategoryId = u32;
/// A department, interned by the caller.
pub type DepartmentId = u32;
/// A campaign (or coupon batch) as the tenant names it.
pub type CampaignId = i64;

/// One line of a basket.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub product: ProductId,
    pub category: Option<CategoryId>,
    pub department: Option<DepartmentId>,
    /// What the line sold for, in minor units.
    pub amount: i64,
    /// The coupon discount taken on the line, in minor units, as a positive number (0 for none).
    pub coupon_discount: i64,
}

/// One basket (order) of a member.
#[derive(Debug, Clone, PartialEq)]
pub struct Basket {
    pub at: Timestamp,
    pub lines: Vec<Line>,
}

impl Basket {
    pub fn amount(&self) -> i64 {
        self.lines.iter().map(|l| l.amount).sum()
    }
}

/// A campaign's coupon redeemed by the member.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Redemption {
    pub campaign: CampaignId,
    pub at: Timestamp,
}

/// A campaign the member was sent, from its start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Exposure {
    pub campaign: CampaignId,
    pub kind: CampaignKind,
    pub start: Timestamp,
}

/// What is known of the member beyond its purchases; every field may be absent.
///
/// Numbers are ordinal encodings (an income band's lower bound, an age band's lower bound), so
/// trees can split on them; the caller turns the tenant's labels into them.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Attributes {
    /// The member's tier as an ordinal (0 lowest), when the tenant has tiers.
    pub tier: Option<f64>,
    pub age: Option<f64>,
    pub income: Option<f64>,
    pub homeowner: Option<bool>,
    pub married: Option<bool>,
    pub household_size: Option<f64>,
    pub kids: Option<f64>,
}

/// Everything known of one member, in any order; `AsOf` is how it is read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemberHistory {
    pub baskets: Vec<Basket>,
    pub redemptions: Vec<Redemption>,
    pub exposures: Vec<Exposure>,
    pub attributes: Attributes,
}

impl MemberHistory {
    /// Sorts baskets by time, so `as_of` can cut them with a binary search.
    pub fn sort(&mut self) {
        self.baskets.sort_by_key(|b| b.at);
    }

    /// The member as known strictly before `t`. Baskets must be sorted (`sort`).
    pub fn as_of(&self, t: Timestamp) -> AsOf<'_> {
        debug_assert!(self.baskets.windows(2).all(|w| w[0].at <= w[1].at));
        let cut = self.baskets.partition_point(|b| b.at < t);
        AsOf {
            t,
            baskets: &self.baskets[..cut],
            redemptions: self
                .redemptions
                .iter()
                .filter(|r| r.at < t)
                .copied()
                .collect(),
            exposures: self
                .exposures
                .iter()
                .filter(|e| e.start < t)
                .copied()
                .collect(),
            attributes: self.attributes,
        }
    }
}

/// A member's history strictly before the decision time `t`: baskets, redemptions and campaign
/// exposures dated at or after `t` are not in it, so a feature computed from it cannot see them.
#[derive(Debug, Clone)]
pub struct AsOf<'a> {
    t: Timestamp,
    baskets: &'a [Basket],
    redemptions: Vec<Redemption>,
    exposures: Vec<Exposure>,
    attributes: Attributes,
}

impl AsOf<'_> {
    /// The decision time.
    pub fn t(&self) -> Timestamp {
        self.t
    }
    /// Baskets before `t`, oldest first.
    pub fn baskets(&self) -> &[Basket] {
        self.baskets
    }
    /// Redemptions dated before `t`.
    pub fn redemptions(&self) -> &[Redemption] {
        &self.redemptions
    }
    /// Campaigns that reached the member and started before `t`.
    pub fn exposures(&self) -> &[Exposure] {
        &self.exposures
    }
    pub fn attributes(&self) -> &Attributes {
        &self.attributes
    }
}
