//! The tenant's redemption model: member histories read from the store, a model trained on how
//! its coupons ended (or smoothed rates while that history is thin), and the scores it gives.

use std::collections::{HashMap, HashSet};

use jiff::{SignedDuration, Timestamp};
use quan_core::template::{Benefit, Scope, TemplateSpec};
use quan_model::{
    features, AsOf, Attributes, Basket, BenefitKind, CampaignKind, Dataset, Exposure, Line,
    MemberHistory, ModelError, Offer, PropensityModel, Redemption, TrainConfig, TwoModelUplift,
};
use quan_store::scrm::MemberRecord;
use quan_store::{BasketLine, CouponOutcome, EntryOutcome, TemplateRecord};
use serde::Serialize;
use utoipa::ToSchema;

/// The fewest settled coupons, and of each outcome, a model is trained on; below that the
/// scores are smoothed redemption rates.
pub const MIN_EXAMPLES: usize = 200;
pub const MIN_EACH: usize = 20;
/// How far back coupons are learnt from.
const LOOKBACK: SignedDuration = SignedDuration::from_hours(24 * 365);
/// The days after a grant its incremental revenue is counted over.
pub const WINDOW_DAYS: f64 = 30.0;
/// The fewest decided entries of each side (treated, held out) uplift is trained on.
pub const MIN_UPLIFT: usize = 100;
/// The weight, in coupons, of the prior in a smoothed rate.
const PRIOR_WEIGHT: f64 = 20.0;

/// Everything the model reads, interned: members' histories and the templates' offers.
pub struct Histories {
    members: HashMap<String, MemberHistory>,
    skus: HashMap<String, i64>,
    categories: HashMap<String, u32>,
    /// Each template's number, as a "campaign" of the model.
    templates: HashMap<String, i64>,
    /// The average counted basket over every member, minor units.
    pub average_basket: f64,
    /// The history of a member never seen.
    empty: MemberHistory,
}

impl Histories {
    /// Groups basket lines into baskets and coupons into exposures and redemptions, and reads
    /// the demographics members' profiles carry.
    pub fn build(
        profiles: &[MemberRecord],
        lines: Vec<BasketLine>,
        coupons: &[CouponOutcome],
        now: Timestamp,
    ) -> Histories {
        let mut h = Histories {
            members: HashMap::new(),
            skus: HashMap::new(),
            categories: HashMap::new(),
            templates: HashMap::new(),
            average_basket: 0.0,
            empty: MemberHistory::default(),
        };
        let mut last_order: Option<String> = None;
        let (mut total, mut baskets) = (0i64, 0usize);
        for l in lines {
            let product = h.sku(&l.sku);
            let category = l.category.as_deref().map(|c| h.category(c));
            let member = h.members.entry(l.user_id.clone()).or_default();
            if last_order.as_deref() != Some(l.order_id.as_str()) {
                member.baskets.push(Basket {
                    at: l.paid_at,
                    lines: Vec::new(),
                });
                baskets += 1;
                last_order = Some(l.order_id);
            }
            total += l.amount;
            member
                .baskets
                .last_mut()
                .expect("a basket")
                .lines
                .push(Line {
                    product,
                    category,
                    department: None,
                    amount: l.amount,
                    coupon_discount: 0,
                });
        }
        h.average_basket = if baskets > 0 {
            total as f64 / baskets as f64
        } else {
            0.0
        };
        for c in coupons {
            let campaign = h.template(&c.template_id);
            let member = h.members.entry(c.user_id.clone()).or_default();
            member.exposures.push(Exposure {
                campaign,
                kind: CampaignKind::Other,
                start: c.claimed_at,
            });
            if c.used(now) == Some(true) {
                member.redemptions.push(Redemption {
                    campaign,
                    at: c.updated_at,
                });
            }
        }
        for p in profiles {
            let a = attributes(&p.profile.attributes);
            if a != Attributes::default() {
                h.members
                    .entry(p.profile.id.clone())
                    .or_default()
                    .attributes = a;
            }
        }
        for m in h.members.values_mut() {
            m.sort();
        }
        h
    }

    fn sku(&mut self, sku: &str) -> i64 {
        let n = self.skus.len() as i64;
        *self.skus.entry(sku.to_string()).or_insert(n)
    }

    fn category(&mut self, c: &str) -> u32 {
        let n = self.categories.len() as u32;
        *self.categories.entry(c.to_string()).or_insert(n)
    }

    fn template(&mut self, id: &str) -> i64 {
        let n = self.templates.len() as i64;
        *self.templates.entry(id.to_string()).or_insert(n)
    }

    /// The member as known strictly before `t` (an empty history for one never seen).
    pub fn as_of(&self, user: &str, t: Timestamp) -> AsOf<'_> {
        self.members.get(user).unwrap_or(&self.empty).as_of(t)
    }

    /// The member's average counted basket, or the tenant's when it has none.
    pub fn average_basket(&self, m: &AsOf<'_>) -> f64 {
        let b = m.baskets();
        if b.is_empty() {
            return self.average_basket;
        }
        b.iter().map(|b| b.amount()).sum::<i64>() as f64 / b.len() as f64
    }

    /// Whether the member placed a counted order in the [`WINDOW_DAYS`] after `t`: an
    /// outcome, so it reads after `t` on purpose (labels only, never features).
    pub fn ordered_after(&self, user: &str, t: Timestamp) -> bool {
        let end = t + SignedDuration::from_secs((WINDOW_DAYS * 86_400.0) as i64);
        self.members
            .get(user)
            .is_some_and(|m| m.baskets.iter().any(|b| b.at > t && b.at <= end))
    }

    /// The chance the member orders within [`WINDOW_DAYS`] after its decision time without
    /// a coupon: its rate of counted orders over the 91 days before, as a Poisson process. A
    /// redemption by a member who would have bought anyway earns nothing, so only
    /// `1 − organic` of a redemption's revenue counts as incremental.
    pub fn organic(m: &AsOf<'_>) -> f64 {
        let since = m.t() - SignedDuration::from_hours(24 * 91);
        let recent = m.baskets().iter().filter(|b| b.at >= since).count();
        1.0 - (-(recent as f64) * WINDOW_DAYS / 91.0).exp()
    }

    /// What the model knows of a template: its products or categories, depth and threshold.
    pub fn offer(&self, spec: &TemplateSpec) -> Offer {
        let (products, categories): (HashSet<i64>, Vec<&String>) = match &spec.scope {
            Scope::Product { skus, .. } => (
                skus.iter()
                    .filter_map(|s| self.skus.get(s).copied())
                    .collect(),
                Vec::new(),
            ),
            Scope::Category { categories, .. }
            | Scope::Platform {
                categories: Some(categories),
            } => (HashSet::new(), categories.iter().collect()),
            _ => (HashSet::new(), Vec::new()),
        };
        let benefit = match &spec.benefit {
            Benefit::Reduction { .. } => BenefitKind::Reduction,
            Benefit::Percent { .. } => BenefitKind::Percent,
            Benefit::Tiered { .. } => BenefitKind::Tiered,
            Benefit::Gift { .. } => BenefitKind::Gift,
            Benefit::FreeShipping { .. } => BenefitKind::FreeShipping,
        };
        let (depth, threshold) = match &spec.benefit {
            Benefit::Reduction { threshold, off } => (
                (*threshold > 0).then(|| *off as f64 / *threshold as f64),
                Some(*threshold),
            ),
            Benefit::Percent {
                rate_bp,
                min_amount,
                ..
            } => (Some(1.0 - *rate_bp as f64 / 10_000.0), *min_amount),
            Benefit::Gift { threshold, .. } | Benefit::FreeShipping { threshold, .. } => {
                (None, Some(*threshold))
            }
            Benefit::Tiered { .. } => (None, None),
        };
        Offer {
            kind: CampaignKind::Other,
            coupons: 1,
            duration_days: 30.0,
            products,
            category_coverage: categories
                .into_iter()
                .filter_map(|c| self.categories.get(c).map(|&id| (id, 1.0)))
                .collect(),
            departments: HashSet::new(),
            benefit: Some(benefit),
            depth,
            threshold,
        }
    }
}

/// How the scores are made, for the operator to see.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ModelReport {
    /// `trained` (gradient-boosted trees, calibrated) or `rates` (smoothed redemption rates
    /// by template: too few settled coupons to train on).
    pub kind: &'static str,
    /// Settled coupons learnt from, and how many of them were used.
    pub examples: usize,
    pub positives: usize,
    /// The trained model's AUC on members held out of its trees, when trained.
    pub auc: Option<f64>,
}

/// The offer uplift is learnt and scored with: no coupon's particulars, so the estimate is a
/// member's response to being treated at all.
pub fn neutral_offer() -> Offer {
    Offer {
        kind: CampaignKind::Other,
        coupons: 1,
        duration_days: WINDOW_DAYS,
        products: HashSet::new(),
        category_coverage: HashMap::new(),
        departments: HashSet::new(),
        benefit: None,
        depth: None,
        threshold: None,
    }
}

/// How an allocation values a coupon, for the operator to see.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ValueReport {
    /// `uplift`: the chance of an order in the 30 days after treatment less that of the
    /// holdout (two models, learnt from past campaigns' treated and held-out members), times
    /// the average basket. `redemption`: the chance of use times the average basket, less
    /// the share the member would have bought anyway (too few held-out members to learn
    /// uplift from).
    pub kind: &'static str,
    /// Decided entries learnt from, treated and held out.
    pub treated: usize,
    pub control: usize,
}

/// Learns the uplift of treating a member from past campaigns' entries whose window has
/// closed by `now`, when both sides have [`MIN_UPLIFT`] of them.
pub fn learn_uplift(
    h: &Histories,
    entries: &[EntryOutcome],
    now: Timestamp,
) -> Result<(Option<TwoModelUplift>, ValueReport), ModelError> {
    let window = SignedDuration::from_secs((WINDOW_DAYS * 86_400.0) as i64);
    let offer = neutral_offer();
    let (mut treated, mut control) = (Dataset::default(), Dataset::default());
    for e in entries.iter().filter(|e| e.at + window <= now) {
        let side = if e.treated {
            &mut treated
        } else {
            &mut control
        };
        side.push(
            features(&h.as_of(&e.user_id, e.at), &offer),
            h.ordered_after(&e.user_id, e.at),
            group_of(&e.user_id),
        );
    }
    let mut report = ValueReport {
        kind: "redemption",
        treated: treated.len(),
        control: control.len(),
    };
    if treated.len() < MIN_UPLIFT || control.len() < MIN_UPLIFT {
        return Ok((None, report));
    }
    let uplift = TwoModelUplift::train(&treated, &control, TrainConfig::default())?;
    if !uplift.informative() {
        return Ok((None, report));
    }
    report.kind = "uplift";
    Ok((Some(uplift), report))
}

/// The coupons settled by `now` (used, or ended unused) and claimed in the last year, each
/// with whether it was used: what the model and the smoothed rates learn from.
pub fn settled(coupons: &[CouponOutcome], now: Timestamp) -> Vec<(&CouponOutcome, bool)> {
    let since = now - LOOKBACK;
    coupons
        .iter()
        .filter(|c| c.claimed_at >= since)
        .filter_map(|c| c.used(now).map(|u| (c, u)))
        .collect()
}

/// Whether settled coupons are enough to train a model on: [`MIN_EXAMPLES`] of them, and
/// [`MIN_EACH`] of each outcome.
pub fn trainable(settled: &[(&CouponOutcome, bool)]) -> bool {
    let positives = settled.iter().filter(|(_, u)| *u).count();
    settled.len() >= MIN_EXAMPLES && positives >= MIN_EACH && settled.len() - positives >= MIN_EACH
}

/// Redemption probabilities for (member, template) pairs.
pub enum Scorer {
    Trained(Box<PropensityModel>),
    /// Per template, and for a template never given, the tenant's.
    Rates {
        by_template: HashMap<String, f64>,
        prior: f64,
    },
}

impl Scorer {
    /// Learns from the coupons settled by `now` (used, or ended unused) and claimed in the
    /// last year: each one's features as of its claim, against whether it was used.
    /// `expected_use`: the rate assumed before any coupon has settled.
    pub fn learn(
        h: &Histories,
        coupons: &[CouponOutcome],
        templates: &HashMap<String, TemplateRecord>,
        expected_use: f64,
        now: Timestamp,
    ) -> (Scorer, ModelReport) {
        let settled = settled(coupons, now);
        let positives = settled.iter().filter(|(_, u)| *u).count();
        let mut report = ModelReport {
            kind: "rates",
            examples: settled.len(),
            positives,
            auc: None,
        };
        if trainable(&settled) {
            let mut data = Dataset::default();
            let mut offers: HashMap<&str, Offer> = HashMap::new();
            for (c, used) in &settled {
                let Some(t) = templates.get(&c.template_id) else {
                    continue;
                };
                let offer = offers
                    .entry(c.template_id.as_str())
                    .or_insert_with(|| h.offer(t.spec()));
                let group = group_of(&c.user_id);
                data.push(
                    features(&h.as_of(&c.user_id, c.claimed_at), offer),
                    *used,
                    group,
                );
            }
            match PropensityModel::train(&data, TrainConfig::default()) {
                Ok(model) => {
                    report.kind = "trained";
                    report.auc = model.report().calibration_auc;
                    return (Scorer::Trained(Box::new(model)), report);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "redemption model not trained: smoothed rates instead")
                }
            }
        }
        let smooth = |used: usize, n: usize, prior: f64| {
            (used as f64 + PRIOR_WEIGHT * prior) / (n as f64 + PRIOR_WEIGHT)
        };
        let prior = smooth(positives, settled.len(), expected_use);
        let mut counts: HashMap<&str, (usize, usize)> = HashMap::new();
        for (c, used) in &settled {
            let e = counts.entry(c.template_id.as_str()).or_default();
            e.0 += usize::from(*used);
            e.1 += 1;
        }
        let by_template = counts
            .into_iter()
            .map(|(t, (u, n))| (t.to_string(), smooth(u, n, prior)))
            .collect();
        (Scorer::Rates { by_template, prior }, report)
    }

    /// The chance each member (as of the decision) uses the template of `offer`.
    pub fn score(
        &self,
        template_id: &str,
        offer: &Offer,
        members: &[AsOf<'_>],
    ) -> Result<Vec<f64>, ModelError> {
        match self {
            Scorer::Trained(model) => {
                let rows: Vec<Vec<f64>> = members.iter().map(|m| features(m, offer)).collect();
                model.predict(&rows)
            }
            Scorer::Rates { by_template, prior } => {
                Ok(vec![
                    by_template.get(template_id).copied().unwrap_or(*prior);
                    members.len()
                ])
            }
        }
    }
}

/// Demographics from a profile's attributes, where present: numbers `age`, `income`,
/// `household_size`, `kids`; booleans `homeowner`, `married`.
fn attributes(raw: &serde_json::Value) -> Attributes {
    let num = |k: &str| raw.get(k).and_then(serde_json::Value::as_f64);
    let flag = |k: &str| raw.get(k).and_then(serde_json::Value::as_bool);
    Attributes {
        tier: None,
        age: num("age"),
        income: num("income"),
        homeowner: flag("homeowner"),
        married: flag("married"),
        household_size: num("household_size"),
        kids: num("kids"),
    }
}

/// A number for a member, grouping its examples (calibration holds whole members out).
fn group_of(user: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut s = std::collections::hash_map::DefaultHasher::new();
    user.hash(&mut s);
    s.finish()
}
