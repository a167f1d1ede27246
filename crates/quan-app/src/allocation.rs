//! Allocating a campaign's audience (docs/DOMAIN.md section 10): the tenant's redemption model
//! scores every member against every template, and the knapsack gives each member one coupon
//! or none, for the most expected value within the expected-cost budget.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use jiff::Timestamp;
use quan_allocate::{Constraints, Instance, NONE};
use quan_core::campaign::Allocation;
use quan_store::{CouponOutcome, TemplateRecord};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use quan_model::features;

use crate::scoring::{learn_uplift, neutral_offer, Histories, ModelReport, Scorer, ValueReport};
use crate::{App, Error, Result};

/// What an allocation decided, kept with the campaign and shown in it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AllocationReport {
    /// How the redemption probabilities were made.
    pub model: ModelSummary,
    /// How a coupon's value was estimated.
    pub value: ValueSummary,
    /// Members allocated over (the audience less the holdout), and how many got a coupon.
    pub members: u64,
    pub chosen: u64,
    /// Members given each template.
    pub by_template: BTreeMap<String, u64>,
    /// Expected value of the allocation (for each member, the chance it uses the coupon times
    /// its average basket, less the share it would have bought anyway: minor units), its
    /// expected cost (face value × redemption probability), and the
    /// dual bound no allocation can beat: `gap` = (upper_bound − objective) / upper_bound.
    pub objective: f64,
    pub spend: f64,
    pub upper_bound: f64,
    pub gap: f64,
    pub seconds: f64,
}

/// [`ModelReport`], stored.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ModelSummary {
    /// `trained` or `rates`.
    pub kind: String,
    pub examples: usize,
    pub positives: usize,
    pub auc: Option<f64>,
}

impl From<ModelReport> for ModelSummary {
    fn from(m: ModelReport) -> Self {
        ModelSummary {
            kind: m.kind.to_string(),
            examples: m.examples,
            positives: m.positives,
            auc: m.auc,
        }
    }
}

/// [`ValueReport`], stored.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ValueSummary {
    /// `uplift` or `redemption`.
    pub kind: String,
    pub treated: usize,
    pub control: usize,
}

impl From<ValueReport> for ValueSummary {
    fn from(v: ValueReport) -> Self {
        ValueSummary {
            kind: v.kind.to_string(),
            treated: v.treated,
            control: v.control,
        }
    }
}

/// The setting an allocation's report is kept under.
pub(crate) fn report_key(campaign_id: &str) -> String {
    format!("allocation:{campaign_id}")
}

impl App {
    /// Chooses a template (or none) for each of `members` as of `now`; the answer maps each
    /// member given a coupon to its template.
    pub(crate) async fn allocate(
        &self,
        campaign_id: &str,
        a: Allocation<'_>,
        members: &[String],
        now: Timestamp,
    ) -> Result<(HashMap<String, String>, AllocationReport)> {
        let started = Instant::now();
        let mut templates: HashMap<String, TemplateRecord> = HashMap::new();
        for id in a.template_ids {
            let t = self.store.template(id.as_str()).await?.ok_or_else(|| {
                Error::failure(format!("template {id} of campaign {campaign_id} is gone"))
            })?;
            templates.insert(id.as_str().to_string(), t);
        }
        let coupons = self.store.coupon_outcomes(now).await?;
        let learnt = self.learnt_templates(&coupons, templates.clone()).await?;
        let lines = self.store.basket_lines(now).await?;
        let past = self.store.entry_outcomes(now).await?;
        let profiles = self.store.all_members().await?;
        let expected_use = f64::from(a.expected_use_bp) / 10_000.0;
        let options: Vec<String> = a.template_ids.iter().map(|t| t.to_string()).collect();
        let members = members.to_vec();
        let (budget, min_roi) = (
            a.budget as f64,
            a.min_roi_bp.map(|bp| f64::from(bp) / 10_000.0),
        );
        // Training and solving are CPU work: off the async threads.
        let (choice, report) = tokio::task::spawn_blocking(move || {
            let h = Histories::build(&profiles, lines, &coupons, now);
            let (scorer, model) = Scorer::learn(&h, &coupons, &learnt, expected_use, now);
            let views: Vec<_> = members.iter().map(|m| h.as_of(m, now)).collect();
            let (uplift, value) =
                learn_uplift(&h, &past, now).map_err(|e| Error::failure(format!("uplift: {e}")))?;
            // What a coupon earns if used. With uplift: the extra chance of an order, over its
            // chance of use, times the basket. Without: the basket less the share the member
            // would have bought anyway.
            let incremental: Vec<f64> = match &uplift {
                Some(u) => {
                    let neutral = neutral_offer();
                    let rows: Vec<Vec<f64>> = views.iter().map(|m| features(m, &neutral)).collect();
                    u.predict(&rows)
                        .map_err(|e| Error::failure(format!("uplift: {e}")))?
                        .into_iter()
                        .map(|u| u.max(0.0))
                        .collect()
                }
                None => views.iter().map(|m| 1.0 - Histories::organic(m)).collect(),
            };
            let baskets: Vec<f64> = views.iter().map(|m| h.average_basket(m)).collect();
            let mut scores = Vec::with_capacity(options.len());
            for t in &options {
                let offer = h.offer(templates[t].spec());
                scores.push(
                    scorer
                        .score(t, &offer, &views)
                        .map_err(|e| Error::failure(format!("scoring: {e}")))?,
                );
            }
            let faces: Vec<f64> = options
                .iter()
                .map(|t| templates[t].spec().face_value() as f64)
                .collect();
            let mut rows = Vec::with_capacity(members.len() * options.len());
            for (i, m) in members.iter().enumerate() {
                for (j, t) in options.iter().enumerate() {
                    let p = scores[j][i].clamp(0.0, 1.0);
                    let value = match uplift {
                        Some(_) => incremental[i] * baskets[i],
                        None => p * incremental[i] * baskets[i],
                    };
                    rows.push((m.as_str(), t.as_str(), p * faces[j], value));
                }
            }
            let inst = Instance::from_rows(rows)
                .map_err(|e| Error::failure(format!("allocation instance: {e}")))?;
            let mut c = Constraints::new(budget)
                .map_err(|e| Error::failure(format!("allocation budget: {e}")))?;
            for t in &options {
                if let Some(left) = templates[t].remaining {
                    c = c
                        .with_stock(&inst, t, left.max(0) as u64)
                        .map_err(|e| Error::failure(format!("allocation stock: {e}")))?;
                }
            }
            if let Some(r) = min_roi {
                c = c
                    .with_min_roi(r)
                    .map_err(|e| Error::failure(format!("allocation ROI: {e}")))?;
            }
            let solved = quan_allocate::solve(&inst, &c);
            let mut choice = HashMap::new();
            let mut by_template = BTreeMap::new();
            for (m, &o) in solved.choice.iter().enumerate() {
                if o != NONE {
                    let t = inst.options()[usize::from(o)].clone();
                    *by_template.entry(t.clone()).or_insert(0) += 1;
                    choice.insert(inst.member_id(m).to_string(), t);
                }
            }
            let report = AllocationReport {
                model: model.into(),
                value: value.into(),
                members: inst.members() as u64,
                chosen: solved.chosen,
                by_template,
                objective: solved.objective,
                spend: solved.spend,
                upper_bound: solved.upper_bound,
                gap: solved.gap(),
                seconds: 0.0,
            };
            Ok::<_, Error>((choice, report))
        })
        .await
        .map_err(|e| Error::failure(format!("allocation task: {e}")))??;
        let report = AllocationReport {
            seconds: started.elapsed().as_secs_f64(),
            ..report
        };
        let json = serde_json::to_string(&report).expect("a report serializes");
        self.store
            .put_setting(&report_key(campaign_id), json)
            .await?;
        tracing::info!(
            campaign = campaign_id,
            members = report.members,
            chosen = report.chosen,
            gap = report.gap,
            model = %report.model.kind,
            "allocated"
        );
        Ok((choice, report))
    }

    /// `known` and the templates of `coupons`, for the offers' features of the coupons the
    /// model learns from (a template since deleted is left out).
    pub(crate) async fn learnt_templates(
        &self,
        coupons: &[CouponOutcome],
        mut known: HashMap<String, TemplateRecord>,
    ) -> Result<HashMap<String, TemplateRecord>> {
        for c in coupons {
            if !known.contains_key(&c.template_id) {
                if let Some(t) = self.store.template(&c.template_id).await? {
                    known.insert(c.template_id.clone(), t);
                }
            }
        }
        Ok(known)
    }

    /// The report of a campaign's allocation, once it ran.
    pub(crate) async fn allocation_report(
        &self,
        campaign_id: &str,
    ) -> Result<Option<AllocationReport>> {
        let Some(raw) = self.store.setting(&report_key(campaign_id)).await? else {
            return Ok(None);
        };
        serde_json::from_str(&raw)
            .map(Some)
            .map_err(|e| Error::failure(format!("allocation report: {e}")))
    }
}
