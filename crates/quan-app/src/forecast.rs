//! Forecasts before launch (docs/DOMAIN.md section 9, the articles' 活动前预估): a coupon
//! offered to an audience, its expected use rate read from the tenant's history, and the
//! figures it gives. A campaign keeps the forecast made when it is activated, and its review
//! sets it beside what happened.

use std::collections::{HashMap, HashSet};

use jiff::Timestamp;
use quan_core::access::Principal;
use quan_core::campaign::{Action, Audience, CampaignSpec, DEFAULT_EXPECTED_USE_BP};
use quan_core::review::forecast::{
    issued_to, order_value, rate_bp, Basis, Figures, Likeness, UseRate,
};
use quan_core::review::ratio_bp_floor;
use quan_core::template::{Template, TemplateSpec};
use quan_core::text::Id;
use quan_core::ErrorCode;
use quan_store::scrm::MemberRecord;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use quan_model::AsOf;

use crate::keys::Capability;
use crate::scoring::{settled, trainable, Histories, Scorer};
use crate::{require, App, Error, Result};

/// The most members a trained model scores for a forecast (an even spread of the audience).
const MAX_SCORED: usize = 20_000;
/// The most coupons a forecast may issue.
const MAX_ISSUED: i64 = 100_000_000;

/// `POST /v1/forecasts`: a stored template or one being designed, an audience, an issue
/// count.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForecastBody {
    /// A stored template; or `template`, one being designed (exactly one of them).
    #[serde(default)]
    pub template_id: Option<Id>,
    #[serde(default)]
    pub template: Option<TemplateSpec>,
    /// Who would get it (default everyone).
    #[serde(default)]
    pub audience: Audience,
    /// Coupons to issue (default one per member of the audience not held out).
    #[serde(default)]
    pub issued: Option<i64>,
    /// The share of the audience a campaign would hold out (0..=10000, default 0).
    #[serde(default)]
    pub holdout_bp: Option<u32>,
    /// The use rate assumed while nothing has settled (default 1000, 10%).
    #[serde(default)]
    pub expected_use_bp: Option<u32>,
    /// Forecast as of this time (default now): the audience, and the coupons learnt from, as
    /// they were then (a campaign of the past forecast without hindsight).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub as_of: Option<Timestamp>,
}

/// What a coupon offered to an audience is expected to cost and earn.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Forecast {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_id: Option<String>,
    /// Members the audience selects now.
    pub audience: i64,
    /// Their average counted order (the tenant's when they have none), minor units.
    pub average_order: i64,
    /// Where the expected use rate came from.
    pub basis: Basis,
    /// The settled coupons it was learnt from.
    pub examples: i64,
    #[serde(flatten)]
    pub figures: Figures,
}

/// A campaign's forecast, made when it was activated: one per coupon it grants, and their
/// sums.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CampaignForecast {
    #[schema(value_type = String, format = DateTime)]
    pub made_at: Timestamp,
    /// Members the audience selected then; each template is issued to the share not held out.
    pub audience: i64,
    pub templates: Vec<Forecast>,
    pub issued: i64,
    pub issue_cost: i64,
    pub use_cost: i64,
    pub expected_used: i64,
    pub expected_output: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_roi_bp: Option<i64>,
}

/// The setting a campaign's forecast is kept under.
fn forecast_key(campaign_id: &str) -> String {
    format!("forecast:{campaign_id}")
}

/// The members an audience selects, their average order, and every member (what the
/// model and the similar coupons' averages read).
struct Audiences {
    all: Vec<MemberRecord>,
    chosen: Vec<usize>,
    average_order: i64,
}

impl App {
    /// `POST /v1/forecasts`.
    pub async fn forecast(&self, principal: &Principal, body: ForecastBody) -> Result<Forecast> {
        require(principal, Capability::Campaigns.roles())?;
        let (template_id, template) = match (body.template_id, body.template) {
            (Some(id), None) => match self.store.parsed_template(&id).await? {
                Some(t) => (Some(id.to_string()), t.as_ref().clone()),
                None => {
                    return Err(Error::field(
                        ErrorCode::InvalidValue,
                        "template_id",
                        format!("no template {id}"),
                    ))
                }
            },
            (None, Some(spec)) => (None, Template::parse(spec)?),
            _ => {
                return Err(Error::field(
                    ErrorCode::InvalidValue,
                    "template_id",
                    "give template_id or template, one of them",
                ))
            }
        };
        body.audience.check()?;
        if let Audience::Segment { segment_id } = &body.audience {
            if self.store.segment(segment_id).await?.is_none() {
                return Err(Error::field(
                    ErrorCode::InvalidValue,
                    "audience.segment_id",
                    format!("no segment {segment_id}"),
                ));
            }
        }
        if let Some(n) = body.issued {
            if !(1..=MAX_ISSUED).contains(&n) {
                return Err(Error::field(
                    ErrorCode::InvalidValue,
                    "issued",
                    "from 1 to 100000000 coupons",
                ));
            }
        }
        let holdout_bp = body.holdout_bp.unwrap_or(0);
        if holdout_bp > 10_000 {
            return Err(Error::field(
                ErrorCode::InvalidValue,
                "holdout_bp",
                "from 0 to 10000 basis points",
            ));
        }
        let prior = prior_rate(body.expected_use_bp, "expected_use_bp")?;
        let now = self.as_of(body.as_of)?;
        let audiences = self.audiences(&body.audience, now).await?;
        let issued = body
            .issued
            .unwrap_or_else(|| issued_to(audiences.chosen.len() as i64, holdout_bp));
        let mut forecasts = self
            .forecasts(
                &[(template_id, template.spec(), issued)],
                &audiences,
                prior,
                now,
            )
            .await?;
        Ok(forecasts.remove(0))
    }

    /// Makes and keeps a campaign's forecast, once (a campaign activated again keeps its
    /// first): for each template it grants, issued to the audience's members not held out.
    /// A campaign that grants nothing has none.
    pub(crate) async fn keep_campaign_forecast(
        &self,
        campaign_id: &str,
        spec: &CampaignSpec,
    ) -> Result<()> {
        if self
            .store
            .setting(&forecast_key(campaign_id))
            .await?
            .is_some()
        {
            return Ok(());
        }
        let mut ids: Vec<&Id> = Vec::new();
        for a in &spec.actions {
            match a {
                Action::Grant { template_id } => ids.push(template_id),
                Action::GrantPack { template_ids, .. } => ids.extend(template_ids),
                _ => {}
            }
        }
        if ids.is_empty() {
            return Ok(());
        }
        let now = self.now();
        let audiences = self.audiences(&spec.audience, now).await?;
        let members = audiences.chosen.len() as i64;
        let mut issued = issued_to(members, spec.holdout_bp);
        if let Some(count) = spec.budget.as_ref().and_then(|b| b.count) {
            issued = issued.min(count);
        }
        let mut templates = Vec::new();
        for id in ids {
            templates.push((id.to_string(), self.parsed_template(id).await?));
        }
        let offers: Vec<(Option<String>, &TemplateSpec, i64)> = templates
            .iter()
            .map(|(id, t)| (Some(id.clone()), t.spec(), issued))
            .collect();
        let prior = f64::from(DEFAULT_EXPECTED_USE_BP) / 10_000.0;
        let templates = self.forecasts(&offers, &audiences, prior, now).await?;
        let sum = |f: fn(&Figures) -> i64| templates.iter().map(|t| f(&t.figures)).sum::<i64>();
        let (use_cost, expected_output) = (sum(|f| f.use_cost), sum(|f| f.expected_output));
        let forecast = CampaignForecast {
            made_at: now,
            audience: members,
            issued: sum(|f| f.issued),
            issue_cost: sum(|f| f.issue_cost),
            use_cost,
            expected_used: sum(|f| f.expected_used),
            expected_output,
            expected_roi_bp: ratio_bp_floor(expected_output, use_cost),
            templates,
        };
        let json = serde_json::to_string(&forecast).expect("a forecast serializes");
        self.store
            .setting_or_init(&forecast_key(campaign_id), json)
            .await?;
        Ok(())
    }

    /// The forecast a campaign kept when it was activated.
    pub(crate) async fn campaign_forecast(
        &self,
        campaign_id: &str,
    ) -> Result<Option<CampaignForecast>> {
        let Some(raw) = self.store.setting(&forecast_key(campaign_id)).await? else {
            return Ok(None);
        };
        serde_json::from_str(&raw)
            .map(Some)
            .map_err(|e| Error::failure(format!("campaign forecast: {e}")))
    }

    /// Every member, the ones an audience selects as of `now` (joined by then), and their
    /// average counted order (everyone's when they have none).
    async fn audiences(&self, audience: &Audience, now: Timestamp) -> Result<Audiences> {
        let filter = self.audience_filter(audience, now).await?;
        let all = self.store.all_members().await?;
        let chosen: Vec<usize> = (0..all.len())
            .filter(|&i| {
                let m = &all[i].profile;
                m.joined_at.is_some_and(|j| j <= now)
                    && filter.as_ref().is_none_or(|s| s.contains(&m.id))
            })
            .collect();
        let average = |it: &mut dyn Iterator<Item = &MemberRecord>| {
            let (spent, orders) = it.fold((0i64, 0i64), |(s, o), m| {
                (s + m.history.spent, o + m.history.orders)
            });
            (orders > 0).then(|| spent / orders)
        };
        let average_order = average(&mut chosen.iter().map(|&i| &all[i]))
            .or_else(|| average(&mut all.iter()))
            .unwrap_or(0);
        Ok(Audiences {
            all,
            chosen,
            average_order,
        })
    }

    /// A forecast for each (template id, template, issued): the expected use rate from the
    /// tenant's trained model over the audience where it has the history, from similar
    /// settled coupons otherwise.
    async fn forecasts(
        &self,
        offers: &[(Option<String>, &TemplateSpec, i64)],
        audiences: &Audiences,
        prior: f64,
        now: Timestamp,
    ) -> Result<Vec<Forecast>> {
        let coupons = self.store.coupon_outcomes(now).await?;
        let settled = settled(&coupons, now);
        let mut rates: Option<Vec<UseRate>> = None;
        if trainable(&settled) {
            let templates = self.learnt_templates(&coupons, HashMap::new()).await?;
            let lines = self.store.basket_lines(now).await?;
            let h = Histories::build(&audiences.all, lines, &coupons, now);
            let (scorer, report) = Scorer::learn(&h, &coupons, &templates, prior, now);
            if let Scorer::Trained(_) = scorer {
                let step = audiences.chosen.len().div_ceil(MAX_SCORED).max(1);
                let views: Vec<AsOf<'_>> = audiences
                    .chosen
                    .iter()
                    .step_by(step)
                    .map(|&i| h.as_of(&audiences.all[i].profile.id, now))
                    .collect();
                let mut out = Vec::new();
                for (id, spec, _) in offers {
                    let scores = scorer
                        .score(id.as_deref().unwrap_or(""), &h.offer(spec), &views)
                        .map_err(|e| Error::failure(format!("forecast scoring: {e}")))?;
                    let mean = scores.iter().sum::<f64>() / scores.len().max(1) as f64;
                    out.push(UseRate {
                        rate: if views.is_empty() { prior } else { mean },
                        basis: Basis::Model,
                        examples: report.examples as u64,
                    });
                }
                rates = Some(out);
            }
        }
        let rates = match rates {
            Some(r) => r,
            None => {
                let likes = self.settled_likeness(&settled, &audiences.all).await?;
                offers
                    .iter()
                    .map(|(_, spec, _)| {
                        let target = Likeness::of(spec, audiences.average_order);
                        UseRate::from_similar(&likes, target, prior)
                    })
                    .collect()
            }
        };
        Ok(offers
            .iter()
            .zip(rates)
            .map(|((id, spec, issued), rate)| Forecast {
                template_id: id.clone(),
                audience: audiences.chosen.len() as i64,
                average_order: audiences.average_order,
                basis: rate.basis,
                examples: rate.examples as i64,
                figures: Figures::new(
                    spec.face_value(),
                    order_value(spec, audiences.average_order),
                    *issued,
                    rate_bp(rate.rate),
                ),
            })
            .collect())
    }

    /// Each settled coupon's likeness (its template against the average order of the members
    /// who held that template's coupons) and whether it was used.
    async fn settled_likeness(
        &self,
        settled: &[(&quan_store::CouponOutcome, bool)],
        members: &[MemberRecord],
    ) -> Result<Vec<(Likeness, bool)>> {
        let by_id: HashMap<&str, &MemberRecord> =
            members.iter().map(|m| (m.profile.id.as_str(), m)).collect();
        let mut holders: HashMap<&str, HashSet<&str>> = HashMap::new();
        for (c, _) in settled {
            holders
                .entry(c.template_id.as_str())
                .or_default()
                .insert(c.user_id.as_str());
        }
        let mut likeness: HashMap<&str, Likeness> = HashMap::new();
        for (template_id, users) in holders {
            let Some(t) = self.store.parsed_template(template_id).await? else {
                continue;
            };
            let (spent, orders) = users
                .iter()
                .filter_map(|u| by_id.get(u))
                .fold((0i64, 0i64), |(s, o), m| {
                    (s + m.history.spent, o + m.history.orders)
                });
            let average = if orders > 0 { spent / orders } else { 0 };
            likeness.insert(template_id, Likeness::of(t.spec(), average));
        }
        Ok(settled
            .iter()
            .filter_map(|(c, used)| likeness.get(c.template_id.as_str()).map(|l| (*l, *used)))
            .collect())
    }
}

/// An assumed rate in bp (1..=10000, default [`DEFAULT_EXPECTED_USE_BP`]) as a share.
fn prior_rate(bp: Option<u32>, field: &str) -> Result<f64> {
    let bp = bp.unwrap_or(DEFAULT_EXPECTED_USE_BP);
    if !(1..=10_000).contains(&bp) {
        return Err(Error::field(
            ErrorCode::InvalidValue,
            field,
            "from 1 to 10000 basis points",
        ));
    }
    Ok(f64::from(bp) / 10_000.0)
}
