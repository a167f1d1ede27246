//! Features of a (member, offer) pair as of the decision time: a pure function of `AsOf`.

use std::collections::{BTreeMap, HashMap, HashSet};

use jiff::{SignedDuration, Timestamp};
use quan_core::scrm::{lifecycle, History, LifecycleConfig, Stage};

use crate::history::{AsOf, CategoryId, DepartmentId, ProductId};

/// The kind of a campaign; Complete Journey's "Type A/B/C", or another tenant's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CampaignKind {
    A,
    B,
    C,
    Other,
}

impl CampaignKind {
    /// `Type A`, `A`, `a` and so on; anything else is `Other`.
    pub fn parse(raw: &str) -> Self {
        match raw.trim().trim_start_matches("Type").trim() {
            "A" | "a" => CampaignKind::A,
            "B" | "b" => CampaignKind::B,
            "C" | "c" => CampaignKind::C,
            _ => CampaignKind::Other,
        }
    }

    fn code(self) -> f64 {
        match self {
            CampaignKind::A => 0.0,
            CampaignKind::B => 1.0,
            CampaignKind::C => 2.0,
            CampaignKind::Other => 3.0,
        }
    }
}

/// What the offer's coupons give, when the tenant's data says (docs/DOMAIN.md section 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BenefitKind {
    Reduction,
    Percent,
    Tiered,
    Gift,
    FreeShipping,
}

impl BenefitKind {
    fn code(self) -> f64 {
        match self {
            BenefitKind::Reduction => 0.0,
            BenefitKind::Percent => 1.0,
            BenefitKind::Tiered => 2.0,
            BenefitKind::Gift => 3.0,
            BenefitKind::FreeShipping => 4.0,
        }
    }
}

/// The campaign (its coupons) a member may be sent: what is known of it when it starts.
#[derive(Debug, Clone)]
pub struct Offer {
    pub kind: CampaignKind,
    /// Distinct coupons in the campaign.
    pub coupons: usize,
    /// How long it runs, in days.
    pub duration_days: f64,
    /// The products its coupons apply to.
    pub products: HashSet<ProductId>,
    /// For each category its products fall in, the share of that category's products covered.
    pub category_coverage: HashMap<CategoryId, f64>,
    /// The departments its products fall in.
    pub departments: HashSet<DepartmentId>,
    /// The coupons' benefit, when the tenant's data says.
    pub benefit: Option<BenefitKind>,
    /// The coupons' depth (share off, 0..1), when the tenant's data says.
    pub depth: Option<f64>,
    /// The coupons' spending threshold in minor units, when there is one.
    pub threshold: Option<i64>,
}

/// Every feature, in the order `features` writes them; a saved model carries this list.
pub const FEATURES: [&str; 45] = [
    "recency_days",
    "tenure_days",
    "baskets",
    "baskets_28d",
    "baskets_91d",
    "spend",
    "spend_28d",
    "spend_91d",
    "avg_basket",
    "trend_28d",
    "trend_91d",
    "distinct_products",
    "coupon_lines",
    "coupon_basket_share",
    "coupon_discount",
    "coupon_lines_91d",
    "campaigns_received",
    "campaigns_redeemed",
    "redemption_rate",
    "redemptions",
    "days_since_redemption",
    "same_kind_received",
    "same_kind_redeemed",
    "stage",
    "tier",
    "age",
    "income",
    "homeowner",
    "married",
    "household_size",
    "kids",
    "campaign_kind",
    "campaign_coupons",
    "campaign_products",
    "campaign_days",
    "benefit_kind",
    "depth",
    "threshold_vs_basket",
    "offer_spend_share",
    "offer_spend_91d",
    "offer_coupon_lines",
    "offer_products_bought",
    "offer_basket_share",
    "offer_category_affinity",
    "offer_department_share",
];

const DAY: SignedDuration = SignedDuration::from_hours(24);

fn days(from: Timestamp, to: Timestamp) -> f64 {
    to.duration_since(from).as_secs_f64() / DAY.as_secs_f64()
}

fn opt(v: Option<f64>) -> f64 {
    v.unwrap_or(f64::NAN)
}

fn flag(v: Option<bool>) -> f64 {
    v.map_or(f64::NAN, |b| f64::from(u8::from(b)))
}

/// `a / b`, or missing when `b` is 0.
fn ratio(a: f64, b: f64) -> f64 {
    if b == 0.0 {
        f64::NAN
    } else {
        a / b
    }
}

fn stage_code(s: Stage) -> f64 {
    match s {
        Stage::New => 0.0,
        Stage::FirstOrder => 1.0,
        Stage::Active => 2.0,
        Stage::WonBack => 3.0,
        Stage::AtRisk => 4.0,
        Stage::Lapsed => 5.0,
    }
}

/// The features of sending `offer` to the member known as `m`, in the order of `FEATURES`.
/// Missing values are NaN (the trees learn where they go). Money is in major units (/100).
pub fn features(m: &AsOf<'_>, offer: &Offer) -> Vec<f64> {
    let t = m.t();
    let baskets = m.baskets();
    let since = |d: i64| t - SignedDuration::from_hours(24 * d);
    let (d28, d91) = (since(28), since(91));

    let mut spend = 0i64;
    let (mut spend28, mut spend91) = (0i64, 0i64);
    let (mut n28, mut n91) = (0usize, 0usize);
    let (mut coupon_lines, mut coupon_baskets, mut coupon_discount, mut coupon_lines91) =
        (0usize, 0usize, 0i64, 0usize);
    let (mut offer_spend, mut offer_baskets) = (0i64, 0usize);
    let (mut offer_spend91, mut offer_coupon_lines) = (0i64, 0usize);
    let mut offer_bought: HashSet<ProductId> = HashSet::new();
    let mut products: HashSet<ProductId> = HashSet::new();
    // Ordered, so the affinity sums in the same order every time (bit-identical features).
    let mut by_category: BTreeMap<CategoryId, i64> = BTreeMap::new();
    let mut dept_spend = 0i64;
    for b in baskets {
        let amount = b.amount();
        spend += amount;
        if b.at >= d91 {
            spend91 += amount;
            n91 += 1;
        }
        if b.at >= d28 {
            spend28 += amount;
            n28 += 1;
        }
        let mut with_coupon = false;
        let mut with_offer = false;
        for l in &b.lines {
            products.insert(l.product);
            if l.coupon_discount > 0 {
                coupon_lines += 1;
                coupon_discount += l.coupon_discount;
                with_coupon = true;
                if b.at >= d91 {
                    coupon_lines91 += 1;
                }
            }
            if offer.products.contains(&l.product) {
                offer_spend += l.amount;
                if b.at >= d91 {
                    offer_spend91 += l.amount;
                }
                offer_coupon_lines += usize::from(l.coupon_discount > 0);
                offer_bought.insert(l.product);
                with_offer = true;
            }
            if let Some(c) = l.category {
                *by_category.entry(c).or_default() += l.amount;
            }
            if l.department.is_some_and(|d| offer.departments.contains(&d)) {
                dept_spend += l.amount;
            }
        }
        coupon_baskets += usize::from(with_coupon);
        offer_baskets += usize::from(with_offer);
    }
    let n = baskets.len();
    let spend_f = spend as f64 / 100.0;
    let avg_basket = ratio(spend_f, n as f64);
    // Spend in the last 28 (91) days against the rate of the 91 (182) days before, as a log ratio.
    let earlier = |from: Timestamp, to: Timestamp| -> f64 {
        baskets
            .iter()
            .filter(|b| b.at >= from && b.at < to)
            .map(|b| b.amount() as f64 / 100.0)
            .sum()
    };
    let prior28 = earlier(since(91), d28) * 28.0 / 63.0;
    let prior91 = earlier(since(273), d91) * 91.0 / 182.0;
    let trend = |recent: f64, prior: f64| ((recent + 1.0) / (prior + 1.0)).ln();
    let affinity: f64 = by_category
        .iter()
        .map(|(c, &s)| s as f64 * offer.category_coverage.get(c).copied().unwrap_or(0.0))
        .sum::<f64>();

    let history = History::of(baskets.iter().map(|b| (b.at, b.amount())), t);
    let stage = lifecycle::stage(&history, t, &LifecycleConfig::default());

    let received: HashSet<_> = m.exposures().iter().map(|e| e.campaign).collect();
    let redeemed: HashSet<_> = m.redemptions().iter().map(|r| r.campaign).collect();
    let last_redemption = m.redemptions().iter().map(|r| r.at).max();
    // Campaigns of the offer's kind received, and redeemed.
    let same_kind: HashSet<_> = m
        .exposures()
        .iter()
        .filter(|e| e.kind == offer.kind)
        .map(|e| e.campaign)
        .collect();
    let same_kind_redeemed = redeemed.intersection(&same_kind).count();
    let a = m.attributes();

    let out = vec![
        baskets.last().map_or(f64::NAN, |b| days(b.at, t)),
        baskets.first().map_or(f64::NAN, |b| days(b.at, t)),
        n as f64,
        n28 as f64,
        n91 as f64,
        spend_f,
        spend28 as f64 / 100.0,
        spend91 as f64 / 100.0,
        avg_basket,
        trend(spend28 as f64 / 100.0, prior28),
        trend(spend91 as f64 / 100.0, prior91),
        products.len() as f64,
        coupon_lines as f64,
        ratio(coupon_baskets as f64, n as f64),
        coupon_discount as f64 / 100.0,
        coupon_lines91 as f64,
        received.len() as f64,
        redeemed.len() as f64,
        ratio(redeemed.len() as f64, received.len() as f64),
        m.redemptions().len() as f64,
        last_redemption.map_or(f64::NAN, |r| days(r, t)),
        same_kind.len() as f64,
        same_kind_redeemed as f64,
        stage_code(stage),
        opt(a.tier),
        opt(a.age),
        opt(a.income),
        flag(a.homeowner),
        flag(a.married),
        opt(a.household_size),
        opt(a.kids),
        offer.kind.code(),
        offer.coupons as f64,
        offer.products.len() as f64,
        offer.duration_days,
        offer.benefit.map_or(f64::NAN, BenefitKind::code),
        opt(offer.depth),
        offer
            .threshold
            .map_or(f64::NAN, |th| ratio(th as f64 / 100.0, avg_basket)),
        ratio(offer_spend as f64, spend as f64),
        offer_spend91 as f64 / 100.0,
        offer_coupon_lines as f64,
        offer_bought.len() as f64,
        ratio(offer_baskets as f64, n as f64),
        ratio(affinity, spend as f64),
        ratio(dept_spend as f64, spend as f64),
    ];
    debug_assert_eq!(out.len(), FEATURES.len());
    out
}
