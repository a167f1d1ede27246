//! The operator's calculators (docs/DOMAIN.md section 9): LTV per RFM tier or segment from the
//! tenant's own orders, CAC from acquisition campaigns, a threshold from a category mix with
//! the category prices read from the orders, a pack's expected cost against CAC, and a
//! lottery's big-prize reach against the 20% rule.

use std::collections::{BTreeMap, HashMap, HashSet};

use jiff::{SignedDuration, Timestamp};
use quan_core::access::Principal;
use quan_core::campaign::pack::cac_check;
use quan_core::campaign::{EventKind, Trigger};
use quan_core::review::economics::{
    big_prize_reach, cac, cac_ceiling, threshold_from_mix, Activity, MixPart, PrizeOdds,
    BIG_PRIZE_REACH_BP,
};
use quan_core::review::uplift::Warning;
use quan_core::review::whole;
use quan_core::text::Id;
use quan_core::ErrorCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::keys::Capability;
use crate::{require, App, Error, Result};

/// The gross margin assumed until the tenant sets its own (20%).
pub const DEFAULT_MARGIN_BP: u32 = 2_000;
/// The months of orders read by default.
const DEFAULT_MONTHS: u32 = 12;
/// A month, as the calculators count them back from `as_of`.
const MONTH: SignedDuration = SignedDuration::from_hours(24 * 30);
const SETTING: &str = "economics";

/// The tenant's economics settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Economics {
    /// Gross margin on sales, bp (1..=10000; default 2000).
    pub gross_margin_bp: u32,
}

/// `?segment_id=&margin_bp=&months=&as_of=` of the LTV calculator.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LtvQuery {
    /// Also the LTV of this segment's members.
    pub segment_id: Option<Id>,
    /// The gross margin (default the tenant's setting).
    #[param(minimum = 1, maximum = 10000)]
    pub margin_bp: Option<u32>,
    /// Months of orders to read, 30 days each, back from `as_of` (2..=36, default 12).
    #[param(minimum = 2, maximum = 36)]
    pub months: Option<u32>,
    #[param(value_type = Option<String>, format = DateTime)]
    pub as_of: Option<Timestamp>,
}

/// LTV per group of members.
#[derive(Debug, Serialize, ToSchema)]
pub struct LtvView {
    #[schema(value_type = String, format = DateTime)]
    pub as_of: Timestamp,
    pub months: u32,
    pub margin_bp: u32,
    /// Everyone who bought, each RFM tier (and `unranked`), and the segment when asked.
    pub groups: Vec<LtvGroup>,
}

/// One group's activity and what it makes a member worth.
#[derive(Debug, Serialize, ToSchema)]
pub struct LtvGroup {
    /// `all`, `rfm_tier` or `segment`.
    pub kind: &'static str,
    /// The tier (`S`, `A`, `B`, `C`, `unranked`) or the segment id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Members of the group who bought in the window.
    pub buyers: i64,
    pub orders: i64,
    pub revenue: i64,
    /// Orders per month a buyer is active.
    pub monthly_orders: f64,
    pub average_order: i64,
    /// Of the buyers active in a month, the share not active the month after, bp.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub churn_bp: Option<u32>,
    /// monthly orders × average order × margin / churn, minor units half up (absent without
    /// churn).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ltv: Option<i64>,
    /// 80% of the LTV, rounded down: the most a member of the group may cost to acquire.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cac_ceiling: Option<i64>,
}

/// `?campaign_ids=&ltv=` of the CAC calculator.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CacQuery {
    /// Comma-separated campaign ids (default every campaign triggered by `signup`).
    pub campaign_ids: Option<String>,
    /// The LTV to hold CAC against (default everyone's, from the LTV calculator).
    pub ltv: Option<i64>,
}

/// What acquiring a member cost.
#[derive(Debug, Serialize, ToSchema)]
pub struct CacView {
    pub campaigns: Vec<CacCampaign>,
    /// Σ money given by the campaigns' coupons, net of refunds.
    pub spend: i64,
    /// Σ treated members who ordered in their campaign's attribution window.
    pub acquired: i64,
    /// spend / acquired, half up (absent with nobody acquired).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cac: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ltv: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cac_ceiling: Option<i64>,
    /// CAC at most 80% of LTV (absent when either is unknown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub within_ceiling: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CacCampaign {
    pub campaign_id: String,
    pub name: String,
    pub spend: i64,
    pub acquired: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cac: Option<i64>,
}

/// `POST /v1/calculators/threshold`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ThresholdBody {
    pub mix: Vec<MixInput>,
    /// Months of orders the category prices are read from (default 12).
    #[serde(default)]
    pub months: Option<u32>,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub as_of: Option<Timestamp>,
}

/// A category's share of the mix; its average price is read from the orders unless given.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MixInput {
    pub category: String,
    pub share_bp: u32,
    #[serde(default)]
    pub average_price: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ThresholdView {
    /// Σ share × average price, minor units half up.
    pub threshold: i64,
    pub mix: Vec<MixLine>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MixLine {
    pub category: String,
    pub share_bp: u32,
    pub average_price: i64,
    /// `orders` (Σ amount / Σ units of the category's lines) or `given`.
    pub source: &'static str,
}

/// `POST /v1/calculators/pack`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PackBody {
    pub template_ids: Vec<Id>,
    /// The share of the pack's coupons expected to be used, bp.
    pub expected_use_bp: u32,
    /// A member's LTV (default everyone's, from the LTV calculator).
    #[serde(default)]
    pub ltv: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PackView {
    pub face_value: i64,
    /// Σ face value × expected use, half up.
    pub expected_cost: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ltv: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cac_ceiling: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub within_ceiling: Option<bool>,
}

/// `POST /v1/calculators/lottery`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LotteryBody {
    pub prizes: Vec<PrizeInput>,
    /// Draws per participant (default 1).
    #[serde(default)]
    pub draws: Option<u32>,
    /// Participants expected, to hold the big prizes' stock against.
    #[serde(default)]
    pub participants: Option<u64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrizeInput {
    pub weight: u64,
    #[serde(default)]
    pub big: bool,
    #[serde(default)]
    pub stock: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LotteryView {
    /// The share of participants who win a big prize, bp.
    pub big_prize_reach_bp: i64,
    /// At least 20% (二八原则).
    pub meets_rule: bool,
    pub warnings: Vec<Warning>,
}

fn bad(field: impl Into<String>, message: impl Into<String>) -> Error {
    Error::field(ErrorCode::InvalidValue, field, message)
}

fn months(given: Option<u32>, field: &str) -> Result<u32> {
    match given.unwrap_or(DEFAULT_MONTHS) {
        m @ 2..=36 => Ok(m),
        _ => Err(bad(field, "from 2 to 36 months")),
    }
}

fn margin(bp: u32, field: &str) -> Result<u32> {
    if (1..=10_000).contains(&bp) {
        Ok(bp)
    } else {
        Err(bad(field, "from 1 to 10000 basis points"))
    }
}

impl App {
    /// The tenant's economics settings.
    pub async fn economics(&self, principal: &Principal) -> Result<Economics> {
        require(principal, Capability::Campaigns.roles())?;
        self.economics_setting().await
    }

    /// Replaces the tenant's economics settings.
    pub async fn put_economics(&self, principal: &Principal, body: Economics) -> Result<Economics> {
        require(principal, Capability::Campaigns.roles())?;
        margin(body.gross_margin_bp, "gross_margin_bp")?;
        let json = serde_json::to_string(&body).expect("settings serialize");
        self.store.put_setting(SETTING, json).await?;
        Ok(body)
    }

    async fn economics_setting(&self) -> Result<Economics> {
        match self.store.setting(SETTING).await? {
            None => Ok(Economics {
                gross_margin_bp: DEFAULT_MARGIN_BP,
            }),
            Some(raw) => serde_json::from_str(&raw)
                .map_err(|e| Error::failure(format!("economics settings: {e}"))),
        }
    }

    /// LTV per group from the tenant's counted orders over the months before `as_of`.
    pub async fn ltv_calculator(&self, principal: &Principal, q: LtvQuery) -> Result<LtvView> {
        require(principal, Capability::Campaigns.roles())?;
        let months = months(q.months, "months")?;
        let margin_bp = match q.margin_bp {
            Some(bp) => margin(bp, "margin_bp")?,
            None => self.economics_setting().await?.gross_margin_bp,
        };
        let as_of = self.as_of(q.as_of)?;
        let segment: Option<HashSet<String>> = match &q.segment_id {
            None => None,
            Some(id) => {
                let Some(s) = self.store.segment(id).await? else {
                    return Err(bad("segment_id", format!("no segment {id}")));
                };
                Some(
                    quan_store::scrm::segment_members(self.store.as_ref(), &s, as_of)
                        .await?
                        .into_iter()
                        .collect(),
                )
            }
        };
        let orders = self
            .store
            .paid_orders(as_of - MONTH * i32::try_from(months).unwrap_or(36), as_of)
            .await?;
        let tiers: HashMap<String, &'static str> = self
            .store
            .all_members()
            .await?
            .into_iter()
            .filter(|m| m.is_member())
            .map(|m| {
                let tier = match m.rfm_at {
                    Some(_) => m.rfm.tier.as_str(),
                    None => "unranked",
                };
                (m.profile.id, tier)
            })
            .collect();
        // Each order as (buyer, month, amount), with the buyer's groups.
        let mut buyers: HashMap<&str, usize> = HashMap::new();
        let mut rows: Vec<(usize, usize, i64)> = Vec::with_capacity(orders.len());
        for o in &orders {
            let next = buyers.len();
            let buyer = *buyers.entry(o.user_id.as_str()).or_insert(next);
            let age = as_of.duration_since(o.paid_at).as_secs() / MONTH.as_secs();
            rows.push((buyer, age as usize, o.amount));
        }
        let user_of: Vec<&str> = {
            let mut v = vec![""; buyers.len()];
            for (u, i) in &buyers {
                v[*i] = u;
            }
            v
        };
        let group = |kind: &'static str, name: Option<String>, keep: &dyn Fn(&str) -> bool| {
            let a = Activity::of(
                rows.iter().copied().filter(|(b, _, _)| keep(user_of[*b])),
                months as usize,
            );
            let ltv = a.ltv(margin_bp);
            LtvGroup {
                kind,
                name,
                buyers: a.buyers as i64,
                orders: a.orders as i64,
                revenue: a.revenue,
                monthly_orders: a.monthly_orders,
                average_order: a.average_order,
                churn_bp: a.churn_bp,
                ltv,
                cac_ceiling: ltv.map(cac_ceiling),
            }
        };
        let mut groups = vec![group("all", None, &|_| true)];
        for tier in ["S", "A", "B", "C", "unranked"] {
            groups.push(group("rfm_tier", Some(tier.to_string()), &|u| {
                tiers.get(u).copied() == Some(tier)
            }));
        }
        if let (Some(id), Some(members)) = (&q.segment_id, &segment) {
            groups.push(group("segment", Some(id.to_string()), &|u| {
                members.contains(u)
            }));
        }
        Ok(LtvView {
            as_of,
            months,
            margin_bp,
            groups,
        })
    }

    /// Everyone's LTV now, at the tenant's margin: what CAC is held against by default.
    async fn tenant_ltv(&self, principal: &Principal) -> Result<Option<i64>> {
        let view = self.ltv_calculator(principal, LtvQuery::default()).await?;
        Ok(view.groups.first().and_then(|g| g.ltv))
    }

    /// CAC of acquisition campaigns: the money their coupons gave over the treated members
    /// who ordered in the attribution window.
    pub async fn cac_calculator(&self, principal: &Principal, q: CacQuery) -> Result<CacView> {
        require(principal, Capability::Campaigns.roles())?;
        let mut chosen = Vec::new();
        match &q.campaign_ids {
            Some(list) => {
                for raw in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    let id = Id::parse(raw)
                        .map_err(|(code, why)| Error::field(code, "campaign_ids", why))?;
                    match self.store.campaign(&id).await? {
                        Some(c) => chosen.push(c),
                        None => return Err(bad("campaign_ids", format!("no campaign {id}"))),
                    }
                }
            }
            None => {
                let mut cursor = None;
                loop {
                    let page = self.store.list_campaigns(500, cursor).await?;
                    chosen.extend(page.items.into_iter().filter(|c| {
                        matches!(
                            c.spec.trigger,
                            Trigger::Event {
                                event: EventKind::Signup,
                                ..
                            }
                        )
                    }));
                    match page.next {
                        Some(n) => cursor = Some(n),
                        None => break,
                    }
                }
            }
        }
        let mut campaigns = Vec::new();
        let (mut spend, mut acquired) = (0i64, 0i64);
        for c in chosen {
            let given = self.campaign_spent(&c.id).await?.by_funder.total();
            let window = SignedDuration::from_hours(24 * i64::from(c.spec.attribution_days()));
            let converted = self
                .store
                .campaign_outcomes(&c.id, window)
                .await?
                .iter()
                .filter(|m| m.treated && m.outcome.converted)
                .count() as i64;
            spend += given;
            acquired += converted;
            campaigns.push(CacCampaign {
                campaign_id: c.id,
                name: c.spec.name.to_string(),
                spend: given,
                acquired: converted,
                cac: cac(given, converted as u64),
            });
        }
        let ltv = match q.ltv {
            Some(v) if v < 0 => return Err(bad("ltv", "not negative")),
            Some(v) => Some(v),
            None => self.tenant_ltv(principal).await?,
        };
        let cac = cac(spend, acquired as u64);
        let ceiling = ltv.map(cac_ceiling);
        Ok(CacView {
            campaigns,
            spend,
            acquired,
            cac,
            ltv,
            cac_ceiling: ceiling,
            within_ceiling: cac.zip(ceiling).map(|(c, l)| c <= l),
        })
    }

    /// A threshold for a category mix: Σ share × the category's average price.
    pub async fn threshold_calculator(
        &self,
        principal: &Principal,
        body: ThresholdBody,
    ) -> Result<ThresholdView> {
        require(principal, Capability::Campaigns.roles())?;
        let months = months(body.months, "months")?;
        let as_of = self.as_of(body.as_of)?;
        if body.mix.is_empty() || body.mix.len() > 50 {
            return Err(bad("mix", "from 1 to 50 categories"));
        }
        let sales: BTreeMap<String, (i64, i64)> = self
            .store
            .category_sales(as_of - MONTH * i32::try_from(months).unwrap_or(36), as_of)
            .await?
            .into_iter()
            .map(|s| (s.category, (s.amount, s.units)))
            .collect();
        let mut lines = Vec::with_capacity(body.mix.len());
        for (i, part) in body.mix.into_iter().enumerate() {
            let (average_price, source) = match part.average_price {
                Some(p) if p < 0 => {
                    return Err(bad(format!("mix[{i}].average_price"), "not negative"))
                }
                Some(p) => (p, "given"),
                None => match sales.get(&part.category) {
                    Some(&(amount, units)) if units > 0 => {
                        (whole(amount as f64 / units as f64), "orders")
                    }
                    _ => {
                        return Err(bad(
                            format!("mix[{i}].category"),
                            format!(
                                "no sales of {} in the window: give its average_price",
                                part.category
                            ),
                        ))
                    }
                },
            };
            lines.push(MixLine {
                category: part.category,
                share_bp: part.share_bp,
                average_price,
                source,
            });
        }
        let parts: Vec<MixPart> = lines
            .iter()
            .map(|l| MixPart {
                share_bp: l.share_bp,
                average_price: l.average_price,
            })
            .collect();
        Ok(ThresholdView {
            threshold: threshold_from_mix(&parts)?,
            mix: lines,
        })
    }

    /// A pack's expected cost against the CAC ceiling.
    pub async fn pack_calculator(&self, principal: &Principal, body: PackBody) -> Result<PackView> {
        require(principal, Capability::Campaigns.roles())?;
        if body.template_ids.is_empty() || body.template_ids.len() > 20 {
            return Err(bad("template_ids", "from 1 to 20 templates"));
        }
        if !(1..=10_000).contains(&body.expected_use_bp) {
            return Err(bad("expected_use_bp", "from 1 to 10000 basis points"));
        }
        let mut faces = Vec::with_capacity(body.template_ids.len());
        for (i, id) in body.template_ids.iter().enumerate() {
            match self.store.parsed_template(id).await? {
                Some(t) => faces.push(t.face_value()),
                None => {
                    return Err(bad(
                        format!("template_ids[{i}]"),
                        format!("no template {id}"),
                    ))
                }
            }
        }
        let ltv = match body.ltv {
            Some(v) if v < 0 => return Err(bad("ltv", "not negative")),
            Some(v) => Some(v),
            None => self.tenant_ltv(principal).await?,
        };
        let (expected_cost, _) = cac_check(&faces, body.expected_use_bp, ltv.unwrap_or(0));
        let ceiling = ltv.map(cac_ceiling);
        Ok(PackView {
            face_value: faces.iter().sum(),
            expected_cost,
            ltv,
            cac_ceiling: ceiling,
            within_ceiling: ceiling.map(|c| expected_cost <= c),
        })
    }

    /// A lottery's big-prize reach against the 20% rule.
    pub async fn lottery_calculator(
        &self,
        principal: &Principal,
        body: LotteryBody,
    ) -> Result<LotteryView> {
        require(principal, Capability::Campaigns.roles())?;
        if body.prizes.is_empty() || body.prizes.len() > 100 {
            return Err(bad("prizes", "from 1 to 100 prizes"));
        }
        if body.prizes.iter().all(|p| p.weight == 0) {
            return Err(bad("prizes", "a prize has weight"));
        }
        let draws = body.draws.unwrap_or(1);
        if !(1..=1_000).contains(&draws) {
            return Err(bad("draws", "from 1 to 1000 draws"));
        }
        let odds: Vec<PrizeOdds> = body
            .prizes
            .iter()
            .map(|p| PrizeOdds {
                weight: p.weight,
                big: p.big,
                stock: p.stock,
            })
            .collect();
        let reach = big_prize_reach(&odds, draws, body.participants).unwrap_or(0);
        let meets_rule = reach >= BIG_PRIZE_REACH_BP;
        let warnings = if meets_rule {
            Vec::new()
        } else {
            vec![Warning {
                code: "big_prize_reach_below_20pct".into(),
                message: format!(
                    "a big prize reaches {}.{:02}% of participants; the 20% rule asks at least 20%",
                    reach / 100,
                    reach % 100
                ),
            }]
        };
        Ok(LotteryView {
            big_prize_reach_bp: reach,
            meets_rule,
            warnings,
        })
    }
}
