//! The coupon template (券模板): its elements as the API carries them, and their validation.
//!
//! [`TemplateSpec`] is the body an operator sends; [`Template::parse`] checks every rule of
//! domain.md section 2 and names the field at fault. Holding a [`Template`] means it is valid.

use jiff::{civil::Time, Timestamp};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use crate::error::{ErrorCode, FieldError};

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
    Store { store_id: String },
    /// Some categories of one store. Merchant layer.
    Category {
        store_id: String,
        categories: Vec<String>,
    },
    /// Some SKUs of one store. Merchant layer.
    Product { store_id: String, skus: Vec<String> },
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
    pub rate_bp: i64,
}

/// What the coupon gives (优惠类型); the arithmetic is domain.md section 3.
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
        rate_bp: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cap: Option<i64>,
    },
    /// 多件多折: the tier with the largest `min_items` reached applies.
    Tiered { tiers: Vec<Tier> },
    /// 满赠: a gift line at price 0 when the base reaches `threshold`.
    Gift { threshold: i64, gift_sku: String },
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
        segment_id: String,
    },
    Users {
        user_ids: Vec<String>,
    },
    /// Members who joined less than `within_days` × 24 h ago.
    NewMembers {
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
    pub platform_bp: i64,
    pub merchant_bp: i64,
    #[serde(default)]
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

/// A template as the API carries it (domain.md section 2). Validate with [`Template::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateSpec {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
    pub stock: Option<i64>,
    /// Claims per user in all; `null`: unlimited.
    #[serde(default)]
    pub per_user_limit: Option<i64>,
    /// Claims per user per local day; `null`: unlimited.
    #[serde(default)]
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

/// A template whose every element has been checked. Build it with [`Template::parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    spec: TemplateSpec,
    hours: Vec<(Time, Time)>,
}

type Check = Result<(), FieldError>;

fn fail(code: ErrorCode, field: impl Into<String>, message: impl Into<String>) -> Check {
    Err(FieldError::new(code, field, message))
}

fn amount(field: &str, v: i64) -> Check {
    if v < 0 {
        return fail(ErrorCode::Negative, field, "must not be negative");
    }
    if v > MAX_AMOUNT {
        return fail(
            ErrorCode::TooLarge,
            field,
            format!("must be at most {MAX_AMOUNT}"),
        );
    }
    Ok(())
}

fn positive(field: &str, v: i64, max: i64) -> Check {
    if v < 1 {
        return fail(ErrorCode::NotPositive, field, "must be at least 1");
    }
    if v > max {
        return fail(ErrorCode::TooLarge, field, format!("must be at most {max}"));
    }
    Ok(())
}

fn rate(field: &str, v: i64) -> Check {
    if !(1..=9999).contains(&v) {
        return fail(
            ErrorCode::RateOutOfRange,
            field,
            "must be within 1..9999 basis points",
        );
    }
    Ok(())
}

fn list<T>(field: &str, v: &[T]) -> Check {
    if v.is_empty() {
        return fail(ErrorCode::EmptyList, field, "must not be empty");
    }
    if v.len() > MAX_LIST {
        return fail(
            ErrorCode::TooLarge,
            field,
            format!("must have at most {MAX_LIST} elements"),
        );
    }
    Ok(())
}

fn text(field: &str, v: &str) -> Check {
    if v.trim().is_empty() {
        return fail(ErrorCode::InvalidValue, field, "must not be blank");
    }
    if v.len() > 256 {
        return fail(ErrorCode::TooLarge, field, "must be at most 256 bytes");
    }
    Ok(())
}

fn texts(field: &str, v: &[String]) -> Check {
    list(field, v)?;
    v.iter()
        .enumerate()
        .try_for_each(|(i, s)| text(&format!("{field}[{i}]"), s))
}

/// Trims every id of the template and checks it with the one id rule.
fn ids(spec: &mut TemplateSpec) -> Check {
    use crate::text::id_in_place;
    match &mut spec.scope {
        Scope::Platform { .. } => {}
        Scope::Store { store_id } | Scope::Category { store_id, .. } => {
            id_in_place("scope.store_id", store_id)?
        }
        Scope::Product { store_id, skus } => {
            id_in_place("scope.store_id", store_id)?;
            for (i, sku) in skus.iter_mut().enumerate() {
                id_in_place(format!("scope.skus[{i}]"), sku)?;
            }
        }
    }
    if let Benefit::Gift { gift_sku, .. } = &mut spec.benefit {
        id_in_place("benefit.gift_sku", gift_sku)?;
    }
    match &mut spec.audience {
        Audience::Segment { segment_id } => id_in_place("audience.segment_id", segment_id)?,
        Audience::Users { user_ids } => {
            for (i, u) in user_ids.iter_mut().enumerate() {
                id_in_place(format!("audience.user_ids[{i}]"), u)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn hhmm(field: &str, v: &str) -> Result<Time, FieldError> {
    let bad = || {
        FieldError::new(
            ErrorCode::InvalidValue,
            field,
            "must be a local time HH:MM (00:00..24:00)",
        )
    };
    if v == "24:00" {
        return Ok(Time::MAX);
    }
    let (h, m) = v.split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let (h, m): (i8, i8) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    Time::new(h, m, 0, 0).map_err(|_| bad())
}

impl Template {
    /// Checks every rule of domain.md section 2; the error names the first field at fault.
    pub fn parse(mut spec: TemplateSpec) -> Result<Template, FieldError> {
        text("name", &spec.name)?;
        ids(&mut spec)?;
        check_scope(&spec.scope, &spec.benefit)?;
        check_benefit(&spec.benefit)?;
        check_validity(&spec.validity)?;
        let mut hours = Vec::new();
        if let Some(ranges) = &spec.usable_hours {
            list("usable_hours", ranges)?;
            for (i, r) in ranges.iter().enumerate() {
                let from = hhmm(&format!("usable_hours[{i}].from"), &r.from)?;
                let until = hhmm(&format!("usable_hours[{i}].until"), &r.until)?;
                if until <= from {
                    fail(
                        ErrorCode::WindowInverted,
                        format!("usable_hours[{i}].until"),
                        "must be after from",
                    )?;
                }
                hours.push((from, until));
            }
        }
        if let Some(days) = &spec.usable_weekdays {
            list("usable_weekdays", days)?;
            for (i, d) in days.iter().enumerate() {
                if !(1..=7).contains(d) {
                    fail(
                        ErrorCode::InvalidValue,
                        format!("usable_weekdays[{i}]"),
                        "must be an ISO weekday 1..7",
                    )?;
                }
            }
        }
        check_audience(&spec.audience)?;
        if let Some(orders) = &spec.usable_on_orders {
            list("usable_on_orders", orders)?;
            for (i, n) in orders.iter().enumerate() {
                positive(&format!("usable_on_orders[{i}]"), *n, 1_000_000)?;
            }
        }
        if let Some(channels) = &spec.channels {
            list("channels", channels)?;
        }
        if let Some(regions) = &spec.regions {
            texts("regions", regions)?;
        }
        if let Some(stock) = spec.stock {
            positive("stock", stock, MAX_AMOUNT)?;
        }
        if let Some(n) = spec.per_user_limit {
            positive("per_user_limit", n, 1_000_000)?;
        }
        if let Some(n) = spec.per_user_daily_limit {
            positive("per_user_daily_limit", n, 1_000_000)?;
        }
        if let Some(w) = &spec.claim_window {
            if let (Some(from), Some(until)) = (w.from, w.until) {
                if until <= from {
                    fail(
                        ErrorCode::WindowInverted,
                        "claim_window.until",
                        "must be after claim_window.from",
                    )?;
                }
            }
        }
        list("distribution", &spec.distribution.0)?;
        if spec.distribution.has(DistributionMode::Public)
            && spec.distribution.has(DistributionMode::LinkOnly)
        {
            fail(
                ErrorCode::DistributionConflict,
                "distribution",
                "public excludes link_only",
            )?;
        }
        let f = &spec.funding;
        for (field, v) in [
            ("funding.platform_bp", f.platform_bp),
            ("funding.merchant_bp", f.merchant_bp),
            ("funding.supplier_bp", f.supplier_bp),
        ] {
            if !(0..=10_000).contains(&v) {
                fail(
                    ErrorCode::FundingNotWhole,
                    field,
                    "must be within 0..10000 basis points",
                )?;
            }
        }
        if f.platform_bp + f.merchant_bp + f.supplier_bp != 10_000 {
            fail(
                ErrorCode::FundingNotWhole,
                "funding",
                "shares must sum to 10000 basis points",
            )?;
        }
        if let Some(v) = spec.face_value {
            amount("face_value", v)?;
        }
        Ok(Template { spec, hours })
    }

    pub fn spec(&self) -> &TemplateSpec {
        &self.spec
    }

    pub fn into_spec(self) -> TemplateSpec {
        self.spec
    }

    /// The face value for reporting: the template's own, or the benefit's nominal value.
    pub fn face_value(&self) -> i64 {
        self.spec
            .face_value
            .unwrap_or_else(|| self.spec.benefit.nominal_value())
    }

    /// Usable local hours as parsed times; empty means all day.
    pub fn usable_hours(&self) -> &[(Time, Time)] {
        &self.hours
    }
}

fn check_scope(scope: &Scope, benefit: &Benefit) -> Check {
    match scope {
        Scope::Platform { categories } => {
            if let Some(c) = categories {
                texts("scope.categories", c)?;
            }
        }
        Scope::Store { store_id } => text("scope.store_id", store_id)?,
        Scope::Category {
            store_id,
            categories,
        } => {
            text("scope.store_id", store_id)?;
            texts("scope.categories", categories)?;
        }
        Scope::Product { store_id, skus } => {
            text("scope.store_id", store_id)?;
            texts("scope.skus", skus)?;
        }
    }
    let whole = matches!(
        scope,
        Scope::Store { .. } | Scope::Platform { categories: None }
    );
    if matches!(benefit, Benefit::Gift { .. } | Benefit::FreeShipping { .. }) && !whole {
        fail(
            ErrorCode::ScopeNotAllowed,
            "scope.kind",
            "gift and free-shipping coupons take store or platform scope only",
        )?;
    }
    Ok(())
}

fn check_benefit(benefit: &Benefit) -> Check {
    match benefit {
        Benefit::Reduction { threshold, off } => {
            amount("benefit.threshold", *threshold)?;
            positive("benefit.off", *off, MAX_AMOUNT)?;
            if *threshold > 0 && off > threshold {
                fail(
                    ErrorCode::ReductionExceedsThreshold,
                    "benefit.off",
                    "must not exceed the threshold",
                )?;
            }
        }
        Benefit::Percent {
            min_amount,
            min_items,
            rate_bp,
            cap,
        } => {
            if min_amount.is_some() && min_items.is_some() {
                fail(
                    ErrorCode::InvalidValue,
                    "benefit.min_items",
                    "give min_amount or min_items, not both",
                )?;
            }
            if let Some(v) = min_amount {
                amount("benefit.min_amount", *v)?;
            }
            if let Some(v) = min_items {
                amount("benefit.min_items", *v)?;
            }
            rate("benefit.rate_bp", *rate_bp)?;
            if let Some(c) = cap {
                positive("benefit.cap", *c, MAX_AMOUNT)?;
            }
        }
        Benefit::Tiered { tiers } => {
            list("benefit.tiers", tiers)?;
            let mut last = 0;
            for (i, t) in tiers.iter().enumerate() {
                positive(
                    &format!("benefit.tiers[{i}].min_items"),
                    t.min_items,
                    1_000_000,
                )?;
                rate(&format!("benefit.tiers[{i}].rate_bp"), t.rate_bp)?;
                if t.min_items <= last {
                    fail(
                        ErrorCode::InvalidValue,
                        format!("benefit.tiers[{i}].min_items"),
                        "tiers must rise in min_items",
                    )?;
                }
                last = t.min_items;
            }
        }
        Benefit::Gift {
            threshold,
            gift_sku,
        } => {
            amount("benefit.threshold", *threshold)?;
            text("benefit.gift_sku", gift_sku)?;
        }
        Benefit::FreeShipping { threshold, cap } => {
            amount("benefit.threshold", *threshold)?;
            if let Some(c) = cap {
                positive("benefit.cap", *c, MAX_AMOUNT)?;
            }
        }
    }
    Ok(())
}

fn check_validity(validity: &Validity) -> Check {
    match validity {
        Validity::Fixed {
            valid_from,
            valid_until,
        } => {
            if valid_until <= valid_from {
                fail(
                    ErrorCode::WindowInverted,
                    "validity.valid_until",
                    "must be after valid_from",
                )?;
            }
        }
        Validity::Relative { days, .. } => positive("validity.days", *days, MAX_DAYS)?,
    }
    Ok(())
}

fn check_audience(audience: &Audience) -> Check {
    match audience {
        Audience::All | Audience::New | Audience::Returning => Ok(()),
        Audience::Tiers { tiers } => texts("audience.tiers", tiers),
        Audience::Segment { segment_id } => text("audience.segment_id", segment_id),
        Audience::Users { user_ids } => texts("audience.user_ids", user_ids),
        Audience::NewMembers { within_days } => {
            positive("audience.within_days", *within_days, MAX_DAYS)
        }
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

    type Edit = Box<dyn FnOnce(&mut TemplateSpec)>;

    fn refused(edit: impl FnOnce(&mut TemplateSpec)) -> (ErrorCode, String) {
        let mut s = spec();
        edit(&mut s);
        let e = Template::parse(s).unwrap_err();
        (e.code, e.field)
    }

    #[test]
    fn the_api_example_is_valid() {
        let t = Template::parse(spec()).unwrap();
        assert_eq!(t.face_value(), 1000);
    }

    #[test]
    fn single_string_distribution_reads_as_a_list() {
        let d: Distribution = serde_json::from_str("\"link_only\"").unwrap();
        assert_eq!(d.0, vec![DistributionMode::LinkOnly]);
    }

    #[test]
    fn every_rule_names_its_field() {
        use ErrorCode::*;
        let cases: Vec<(Edit, ErrorCode, &str)> = vec![
            (
                Box::new(|s| {
                    s.benefit = Benefit::Reduction {
                        threshold: 500,
                        off: 1000,
                    }
                }),
                ReductionExceedsThreshold,
                "benefit.off",
            ),
            (
                Box::new(|s| {
                    s.benefit = Benefit::Reduction {
                        threshold: 0,
                        off: 0,
                    }
                }),
                NotPositive,
                "benefit.off",
            ),
            (
                Box::new(|s| {
                    s.benefit = Benefit::Percent {
                        min_amount: None,
                        min_items: None,
                        rate_bp: 10_000,
                        cap: None,
                    }
                }),
                RateOutOfRange,
                "benefit.rate_bp",
            ),
            (
                Box::new(|s| {
                    s.benefit = Benefit::Percent {
                        min_amount: None,
                        min_items: None,
                        rate_bp: 8000,
                        cap: Some(0),
                    }
                }),
                NotPositive,
                "benefit.cap",
            ),
            (Box::new(|s| s.stock = Some(0)), NotPositive, "stock"),
            (
                Box::new(|s| s.per_user_limit = Some(0)),
                NotPositive,
                "per_user_limit",
            ),
            (
                Box::new(|s| s.per_user_daily_limit = Some(-1)),
                NotPositive,
                "per_user_daily_limit",
            ),
            (
                Box::new(|s| s.funding.merchant_bp = 9000),
                FundingNotWhole,
                "funding",
            ),
        ];
        for (edit, code, field) in cases {
            assert_eq!(refused(edit), (code, field.to_string()));
        }
    }
}

/// Where a template stands: created as `draft`, claimable only while `active`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TemplateStatus {
    Draft,
    Active,
    Paused,
    Ended,
}

/// A status change an operator asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusAction {
    Activate,
    Pause,
    End,
}

impl TemplateStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TemplateStatus::Draft => "draft",
            TemplateStatus::Active => "active",
            TemplateStatus::Paused => "paused",
            TemplateStatus::Ended => "ended",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "draft" => TemplateStatus::Draft,
            "active" => TemplateStatus::Active,
            "paused" => TemplateStatus::Paused,
            "ended" => TemplateStatus::Ended,
            _ => return None,
        })
    }

    /// The status after `action`, or `None` when the action is not allowed from here.
    /// Repeating the current state (activating an active template) is allowed, so retries are safe.
    pub fn apply(self, action: StatusAction) -> Option<TemplateStatus> {
        use TemplateStatus::*;
        match (self, action) {
            (Draft | Active | Paused, StatusAction::Activate) => Some(Active),
            (Active | Paused, StatusAction::Pause) => Some(Paused),
            (Draft | Active | Paused | Ended, StatusAction::End) => Some(Ended),
            _ => None,
        }
    }
}

#[cfg(test)]
mod status_tests {
    use super::*;

    #[test]
    fn ended_is_final_and_drafts_cannot_pause() {
        assert_eq!(TemplateStatus::Ended.apply(StatusAction::Activate), None);
        assert_eq!(TemplateStatus::Draft.apply(StatusAction::Pause), None);
        assert_eq!(
            TemplateStatus::Paused.apply(StatusAction::Activate),
            Some(TemplateStatus::Active)
        );
        assert_eq!(
            TemplateStatus::Active.apply(StatusAction::End),
            Some(TemplateStatus::Ended)
        );
    }
}
