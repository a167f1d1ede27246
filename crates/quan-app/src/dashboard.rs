//! The console's dashboard: a period's templates with what they issued, claimed and used,
//! today's claims, and how members spread over RFM tiers and lifecycle stages.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use quan_core::access::Principal;
use quan_core::scrm::Stage;
use quan_core::template::TemplateStatus;
use quan_core::ErrorCode;
use quan_store::scrm;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::members::MemberView;

use crate::keys::Capability;
use crate::{require, App, Error, Result, Role};

/// The longest period the dashboard reports.
const MAX_DAYS: u32 = 366;

/// `?days=` (1..=366, default 30): the period, ending now.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DashboardQuery {
    #[param(minimum = 1, maximum = 366)]
    pub days: Option<u32>,
}

/// Counts within the period.
#[derive(Debug, Default, Clone, Serialize, ToSchema)]
pub struct PeriodCounts {
    pub issued: i64,
    pub claimed: i64,
    pub used: i64,
}

/// A template of the period: active now, or with activity in the period.
#[derive(Debug, Serialize, ToSchema)]
pub struct DashboardTemplate {
    pub id: String,
    pub name: String,
    pub status: TemplateStatus,
    pub stock: Option<i64>,
    /// All-time counters.
    pub issued: i64,
    pub claimed: i64,
    pub used: i64,
    /// The same counters within the period.
    pub period: PeriodCounts,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TierCount {
    /// S, A, B or C; `null` for members RFM has not scored yet.
    pub tier: Option<String>,
    pub members: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StageCount {
    pub stage: Stage,
    pub members: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Dashboard {
    #[schema(value_type = String, format = DateTime)]
    pub from: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub to: Timestamp,
    /// Coupons claimed since the tenant's local midnight (of the caller's templates).
    pub claims_today: i64,
    pub templates: Vec<DashboardTemplate>,
    /// Members per RFM tier; `null` for a merchant, who may not see members.
    pub rfm_tiers: Option<Vec<TierCount>>,
    /// The time the tiers were scored as of (the latest `rfm/recompute`; an import of past
    /// data scores as of its last order); `null` before any scoring, and for a merchant.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub rfm_as_of: Option<Timestamp>,
    /// Members per lifecycle stage; `null` for a merchant.
    pub stages: Option<Vec<StageCount>>,
}

impl App {
    /// The dashboard over the last `days` days, confined to the caller's templates.
    pub async fn dashboard(&self, principal: &Principal, q: DashboardQuery) -> Result<Dashboard> {
        require(principal, Capability::Dashboard.roles())?;
        let days = q.days.unwrap_or(30);
        if !(1..=MAX_DAYS).contains(&days) {
            return Err(Error::field(
                ErrorCode::InvalidValue,
                "days",
                format!("must be within 1..{MAX_DAYS}"),
            ));
        }
        // Reports wait for a permit of their own, never for the reads claims and wallets use.
        let _report = self
            .reports
            .acquire()
            .await
            .map_err(|_| Error::internal())?;
        let to = self.now();
        let from = to - SignedDuration::from_hours(24 * i64::from(days));
        let midnight = self.zone.start_of(self.zone.local_date(to));
        let listed = self
            .all_templates(principal.store_filter().map(<[String]>::to_vec), None)
            .await?;
        // A merchant's report reads its own templates' activity only.
        let own: Option<Vec<String>> = principal
            .store_filter()
            .map(|_| listed.iter().map(|t| t.id.clone()).collect());
        if own.as_ref().is_some_and(Vec::is_empty) {
            return Ok(Dashboard {
                from,
                to,
                claims_today: 0,
                templates: vec![],
                rfm_tiers: None,
                rfm_as_of: None,
                stages: None,
            });
        }
        let period: BTreeMap<String, PeriodCounts> = self
            .store
            .template_activity(from, to, own.clone())
            .await?
            .into_iter()
            .map(|a| {
                let counts = PeriodCounts {
                    issued: a.issued,
                    claimed: a.claimed,
                    used: a.used,
                };
                (a.template_id, counts)
            })
            .collect();
        let today: BTreeMap<String, i64> = self
            .store
            .template_activity(midnight, to, own)
            .await?
            .into_iter()
            .map(|a| (a.template_id, a.claimed))
            .collect();
        let mut templates = Vec::new();
        let mut claims_today = 0;
        for t in listed {
            claims_today += today.get(&t.id).copied().unwrap_or(0);
            let counts = period.get(&t.id).cloned();
            if counts.is_none() && t.status != TemplateStatus::Active {
                continue;
            }
            templates.push(DashboardTemplate {
                name: t.spec().name.clone(),
                status: t.status,
                stock: t.spec().stock,
                issued: t.issued,
                claimed: t.claimed,
                used: t.used,
                period: counts.unwrap_or_default(),
                id: t.id,
            });
        }
        let (rfm_tiers, rfm_as_of, stages) = match principal.role {
            Role::Platform => {
                let (tiers, as_of, stages) = self.member_spread(to).await?;
                (Some(tiers), as_of, Some(stages))
            }
            _ => (None, None, None),
        };
        Ok(Dashboard {
            from,
            to,
            claims_today,
            templates,
            rfm_tiers,
            rfm_as_of,
            stages,
        })
    }

    /// Members (those who joined) per RFM tier (with the latest time they were scored as of)
    /// and per lifecycle stage as of `now`.
    async fn member_spread(
        &self,
        now: Timestamp,
    ) -> Result<(Vec<TierCount>, Option<Timestamp>, Vec<StageCount>)> {
        let config = scrm::lifecycle_config(self.store.as_ref()).await?;
        let mut tiers: BTreeMap<Option<String>, i64> = BTreeMap::new();
        let mut stages: BTreeMap<&'static str, (Stage, i64)> = BTreeMap::new();
        let mut scored_as_of: Option<Timestamp> = None;
        for m in self.store.all_members().await? {
            if !m.is_member() {
                continue;
            }
            let view = MemberView::current(m, now, &config);
            scored_as_of = scored_as_of.max(view.rfm.as_of);
            let tier = view.rfm.as_of.is_some().then(|| view.rfm.tier.clone());
            *tiers.entry(tier).or_default() += 1;
            stages
                .entry(view.lifecycle_stage.as_str())
                .or_insert((view.lifecycle_stage, 0))
                .1 += 1;
        }
        Ok((
            tiers
                .into_iter()
                .map(|(tier, members)| TierCount { tier, members })
                .collect(),
            scored_as_of,
            stages
                .into_values()
                .map(|(stage, members)| StageCount { stage, members })
                .collect(),
        ))
    }
}
