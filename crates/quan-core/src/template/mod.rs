//! The coupon template (券模板): its elements as the API carries them.
//!
//! [`TemplateSpec`] is the body an operator sends; [`Template::parse`] (in `parse`) checks every
//! rule of docs/DOMAIN.md section 2 and names the field at fault. Holding a [`Template`] means it
//! is valid. [`TemplateStatus`] (in `status`) is where a template stands.

pub(crate) mod parse;
mod status;

pub use status::{stock_after_edit, StatusAction, TemplateAction, TemplateStatus};

use jiff::{civil::Time, Timestamp};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

/// The largest amount quan accepts anywhere (10^12 minor units), so sums never overflow `i64`.
pub const MAX_AMOUNT: i64 = 1_000_000_000_000;
/// The longest list (users, SKUs, categories) a template may carry.
pub const MAX_LIST: usize = 10_000;
/// The longest relative validity, in days (about 100 years).
pub const MAX_DAYS: i64 = 36_500;

/// Where a coupon can be used; it alone decides the layer (platform or merchant).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Scope {
    /// The whole platform, or only some categories. Platform layer.
    Platform {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        categories: Option<Vec<String>>,
    },
    /// One whole store. Merchant layer.
    Store {
        #[schema(value_type = crate::text::Id)]
        store_id: String,
    },
    /// Some categories of one store. Merchant layer.
    Category {
        #[schema(value_type = crate::text::Id)]
        store_id: String,
        categories: Vec<String>,
    },
    /// Some SKUs of one store. Merchant layer.
    Product {
        #[schema(value_type = crate::text::Id)]
        store_id: String,
        #[schema(value_type = Vec<crate::text::Id>)]
        skus: Vec<String>,
    },
}

impl Scope {
    /// The store this scope belongs to; `None` for platform scope.
    pub fn store_id(&self) -> Option<&str> {
        match self {
            Scope::Platform { .. } => None,
            Scope::Store { store_id }
            | Scope::Category { store_id, .. }
            | Scope::Product { store_id, .. } => Some(store_id),
        }
    }

    pub fn is_platform(&self) -> bool {
        matches!(self, Scope::Platform { .. })
    }
}

/// One tier of a tiered multi-item discount (多件多折).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    pub min_items: i64,
    #[schema(minimum = 1, maximum = 9999)]
    pub rate_bp: i64,
}

/// What the coupon gives (优惠类型); the arithmetic is docs/DOMAIN.md section 3.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Benefit {
    /// 满减 (threshold 0: 直降): `off` when the base reaches `threshold`.
    Reduction { threshold: i64, off: i64 },
    /// 折扣: pay `rate_bp` / 10000 of the base, at most `cap` off.
    Percent {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min_amount: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min_items: Option<i64>,
        #[schema(minimum = 1, maximum = 9999)]
        rate_bp: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cap: Option<i64>,
    },
    /// 多件多折: the tier with the largest `min_items` reached applies.
    Tiered { tiers: Vec<Tier> },
    /// 满赠: a gift line at price 0 when the base reaches `threshold`.
    Gift {
        threshold: i64,
        #[schema(value_type = crate::text::Id)]
        gift_sku: String,
    },
    /// 包邮: waives one store's shipping fee (up to `cap`).
    FreeShipping {
        threshold: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cap: Option<i64>,
    },
}

impl Benefit {
    /// The nominal value used for reporting when the template gives no `face_value`.
    pub fn nominal_value(&self) -> i64 {
        match self {
            Benefit::Reduction { off, .. } => *off,
            Benefit::Percent { cap, .. } => cap.unwrap_or(0),
            Benefit::FreeShipping { cap, .. } => cap.unwrap_or(0),
            Benefit::Tiered { .. } | Benefit::Gift { .. } => 0,
        }
    }
}

/// When a claimed coupon may be used (使用时间).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Validity {
    /// The same window `[valid_from, valid_until)` for every coupon.
    Fixed {
        #[schema(value_type = String, format = DateTime)]
        valid_from: Timestamp,
        #[schema(value_type = String, format = DateTime)]
        valid_until: Timestamp,
    },
    /// From the claim for `days` × 24 h; with `from_next_day`, from the next local midnight for
    /// `days` local days.
    Relative {
        #[schema(minimum = 1, maximum = 36500)]
        days: i64,
        #[serde(default)]
        from_next_day: bool,
    },
}

/// Who may claim it (使用对象), checked at claim time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Audience {
    All,
    /// No paid order yet.
    New,
    /// At least one paid order.
    Returning,
    Tiers {
        tiers: Vec<String>,
    },
    Segment {
        #[schema(value_type = crate::text::Id)]
        segment_id: String,
    },
    Users {
        #[schema(value_type = Vec<crate::text::Id>)]
        user_ids: Vec<String>,
    },
    /// Members who joined less than `within_days` × 24 h ago.
    NewMembers {
        #[schema(minimum = 1, maximum = 36500)]
        within_days: i64,
    },
}

/// A channel a claim or an order comes through (使用渠道).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    MiniProgram,
    App,
    Web,
    LiveStream,
    Douyin,
    Weibo,
    PrivateMessage,
    Sms,
    CustomerService,
    StoreGuide,
    OfflineStore,
}

/// One route by which a template may reach a wallet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DistributionMode {
    /// Listed in the coupon center; anyone in the audience may claim.
    Public,
    /// Hidden: claimable only with a signed link or a claim code.
    LinkOnly,
    /// Store members only.
    MemberOnly,
    /// Granted by customer service or a store guide.
    ServiceOnly,
    /// Granted by campaigns.
    CampaignOnly,
}

/// The set of distribution modes; a single string reads as a list of one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(value_type = Vec<DistributionMode>)]
pub struct Distribution(pub Vec<DistributionMode>);

impl Distribution {
    pub fn has(&self, mode: DistributionMode) -> bool {
        self.0.contains(&mode)
    }
}

impl Default for Distribution {
    fn default() -> Self {
        Distribution(vec![DistributionMode::Public])
    }
}

impl<'de> Deserialize<'de> for Distribution {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum OneOrMany {
            One(DistributionMode),
            Many(Vec<DistributionMode>),
        }
        Ok(match OneOrMany::deserialize(d)? {
            OneOrMany::One(m) => Distribution(vec![m]),
            OneOrMany::Many(v) => Distribution(v),
        })
    }
}

/// Who pays for the discount, in basis points summing to 10000.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Funding {
    #[schema(minimum = 0, maximum = 10000)]
    pub platform_bp: i64,
    #[schema(minimum = 0, maximum = 10000)]
    pub merchant_bp: i64,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 10000)]
    pub supplier_bp: i64,
}

/// A local time-of-day range `[from, until)` in `HH:MM`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HourRange {
    pub from: String,
    pub until: String,
}

/// When a template may be claimed; either end may be open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimWindow {
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub from: Option<Timestamp>,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub until: Option<Timestamp>,
}

impl ClaimWindow {
    pub fn contains(&self, at: Timestamp) -> bool {
        self.from.is_none_or(|f| at >= f) && self.until.is_none_or(|u| at < u)
    }
}

/// A template as the API carries it (docs/DOMAIN.md section 2). Validate with [`Template::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateSpec {
    #[schema(min_length = 1, max_length = 256)]
    pub name: String,
    /// At most 2,000 bytes; line breaks allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    pub scope: Scope,
    pub benefit: Benefit,
    pub validity: Validity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usable_hours: Option<Vec<HourRange>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usable_weekdays: Option<Vec<i64>>,
    #[serde(default = "audience_all")]
    pub audience: Audience,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usable_on_orders: Option<Vec<i64>>,
    #[serde(default)]
    pub excludes_activity_price: bool,
    /// `null`: every channel.
    #[serde(default)]
    pub channels: Option<Vec<Channel>>,
    /// `null`: every region.
    #[serde(default)]
    pub regions: Option<Vec<String>>,
    /// Total issuance; `null`: unlimited.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 1_000_000_000_000_i64)]
    pub stock: Option<i64>,
    /// Claims per user in all; `null`: unlimited.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 1000000)]
    pub per_user_limit: Option<i64>,
    /// Claims per user per local day; `null`: unlimited.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 1000000)]
    pub per_user_daily_limit: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_window: Option<ClaimWindow>,
    #[serde(default)]
    pub distribution: Distribution,
    pub funding: Funding,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub face_value: Option<i64>,
}

fn audience_all() -> Audience {
    Audience::All
}

impl TemplateSpec {
    /// The face value for reporting: the template's own, or the benefit's nominal value.
    pub fn face_value(&self) -> i64 {
        self.face_value
            .unwrap_or_else(|| self.benefit.nominal_value())
    }
}

/// A template whose every element has been checked. Build it with [`Template::parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    spec: TemplateSpec,
    hours: Vec<(Time, Time)>,
}

impl Template {
    pub fn spec(&self) -> &TemplateSpec {
        &self.spec
    }

    pub fn into_spec(self) -> TemplateSpec {
        self.spec
    }

    /// The face value for reporting ([`TemplateSpec::face_value`]).
    pub fn face_value(&self) -> i64 {
        self.spec.face_value()
    }

    /// Usable local hours as parsed times; empty means all day.
    pub fn usable_hours(&self) -> &[(Time, Time)] {
        &self.hours
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn spec() -> TemplateSpec {
        serde_json::from_value(serde_json::json!({
            "name": "Store 99-10",
            "scope": {"kind": "store", "store_id": "s1"},
            "benefit": {"kind": "reduction", "threshold": 9900, "off": 1000},
            "validity": {"kind": "relative", "days": 30},
            "stock": 100000, "per_user_limit": 1, "per_user_daily_limit": 1,
            "audience": {"kind": "all"}, "channels": null, "regions": null,
            "distribution": ["public"], "funding": {"platform_bp": 0, "merchant_bp": 10000, "supplier_bp": 0}
        }))
        .unwrap()
    }

    #[test]
    fn single_string_distribution_reads_as_a_list() {
        let d: Distribution = serde_json::from_str("\"link_only\"").unwrap();
        assert_eq!(d.0, vec![DistributionMode::LinkOnly]);
    }
}
