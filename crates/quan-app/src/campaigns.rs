//! Campaigns: create (every part checked, every template it names checked), read with stats
//! and warnings, list, status changes, and the members who entered.

use jiff::Timestamp;
use quan_core::access::Principal;
use quan_core::campaign::decide::EntryStatus;
use quan_core::campaign::pack::{cac_check, CacWarning};
use quan_core::campaign::{Action, Campaign, CampaignAction, CampaignSpec, CampaignStatus};
use quan_core::template::{Template, TemplateSpec};
use quan_core::text::Id;
use quan_core::ErrorCode;
use quan_store::{new_id, CampaignRecord, EntryRecord, NewCampaign};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::allocation::AllocationReport;
use crate::keys::Capability;
use crate::page::{self, PageBody, Paging};
use crate::{require, App, Error, Result};

/// A campaign's counters.
#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignStatsView {
    /// Members who entered (once per trigger occurrence), whatever became of them.
    pub entered: i64,
    /// Entries that got the campaign's actions.
    pub treated: i64,
    /// Entries in the holdout: recorded, never treated.
    pub held_out: i64,
    /// Coupons granted.
    pub granted: i64,
    /// Face value granted, minor units.
    pub spent: i64,
    /// Entries waiting for their due time.
    pub pending: i64,
}

/// Something about a campaign's design the operator should look at; it does not stop it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignWarning {
    /// `pack_over_cac`: a pack's expected cost exceeds 80% of the LTV given.
    pub code: String,
    pub field: String,
    pub message: String,
}

/// A campaign with its status, counters and warnings.
#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignView {
    pub id: String,
    pub status: CampaignStatus,
    /// The status changes its status allows (`activate`, `pause`, `resume`, `end`).
    pub allowed_actions: Vec<CampaignAction>,
    /// Why it ended: `operator`, `ends_at`, `budget`, or `completed` (a `once` campaign whose
    /// whole audience was decided).
    pub end_reason: Option<String>,
    pub stats: CampaignStatsView,
    pub warnings: Vec<CampaignWarning>,
    /// An allocating campaign's allocation, once it ran: the model, who got which template,
    /// the expected value and cost, and the dual bound with the gap to it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allocation: Option<AllocationReport>,
    /// A schedule's next tick; when a `once` trigger entered its audience.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub trigger_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub activated_at: Option<Timestamp>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    #[serde(flatten)]
    pub spec: CampaignSpec,
}

/// A member's entry into a campaign.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntryView {
    pub user_id: String,
    pub status: EntryStatus,
    /// When it was decided (treated, held out, ...), or entered while pending.
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// The trigger occurrence: `event:<id>`, `tick:<time>`, `since:<time>` or `once`.
    pub occurrence: String,
    /// When it is (or was) due.
    #[schema(value_type = String, format = DateTime)]
    pub due_at: Timestamp,
    /// A refused grant's code.
    pub reason: Option<String>,
    pub coupon_ids: Vec<String>,
    /// The template an allocation chose for the member.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_id: Option<String>,
}

impl From<EntryRecord> for EntryView {
    fn from(e: EntryRecord) -> Self {
        EntryView {
            user_id: e.user_id,
            status: e.status,
            at: e.done_at.unwrap_or(e.entered_at),
            occurrence: e.occurrence,
            due_at: e.due_at,
            reason: e.reason,
            coupon_ids: e.coupon_ids,
            template_id: e.template_id,
        }
    }
}

/// `?status=&limit=&cursor=` of a campaign's members.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EntryQuery {
    pub status: Option<EntryStatus>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Whether a template may be granted by campaigns: it is distributed `campaign_only`.
pub(crate) fn campaign_only(spec: &TemplateSpec) -> bool {
    spec.distribution
        .has(quan_core::template::DistributionMode::CampaignOnly)
}

impl App {
    /// Creates a campaign as a draft: every part checked, every template it names existing,
    /// and every granted one distributed `campaign_only`.
    pub async fn create_campaign(
        &self,
        principal: &Principal,
        spec: CampaignSpec,
    ) -> Result<CampaignView> {
        require(principal, Capability::Campaigns.roles())?;
        let campaign = Campaign::parse(spec)?;
        self.check_templates(&campaign, &[]).await?;
        let now = self.now();
        let record = self
            .store
            .insert_campaign(NewCampaign {
                id: new_id("cmp", now.as_millisecond()),
                spec: campaign.into_spec(),
                now,
            })
            .await?;
        self.campaign_view(record).await
    }

    pub async fn campaign(&self, principal: &Principal, id: &Id) -> Result<CampaignView> {
        require(principal, Capability::Campaigns.roles())?;
        let record = self.campaign_record(id).await?;
        self.campaign_view(record).await
    }

    /// Campaigns in id order.
    pub async fn list_campaigns(
        &self,
        principal: &Principal,
        paging: Paging,
    ) -> Result<PageBody<CampaignView>> {
        require(principal, Capability::Campaigns.roles())?;
        let page = self
            .store
            .list_campaigns(paging.limit()?, paging.cursor)
            .await?;
        let mut items = Vec::with_capacity(page.items.len());
        for c in page.items {
            items.push(self.campaign_view(c).await?);
        }
        Ok(PageBody {
            items,
            total: page.total,
            next: page.next,
        })
    }

    /// Activates, pauses, resumes or ends a campaign. Activating checks its templates again
    /// (one may have been ended since).
    pub async fn change_campaign(
        &self,
        principal: &Principal,
        id: &Id,
        action: CampaignAction,
    ) -> Result<CampaignView> {
        require(principal, Capability::Campaigns.roles())?;
        let record = self.campaign_record(id).await?;
        let launching =
            action == CampaignAction::Activate && record.status == CampaignStatus::Draft;
        if launching {
            let campaign = Campaign::parse(record.spec.clone())?;
            self.check_templates(&campaign, &[]).await?;
        }
        match self
            .store
            .set_campaign_status(id, action, "operator", self.now())
            .await?
        {
            None => Err(Error::not_found("campaign")),
            Some(Ok(c)) => {
                if launching {
                    // The forecast is the review's yardstick; a campaign runs without one.
                    if let Err(e) = self.keep_campaign_forecast(&c.id, &c.spec).await {
                        tracing::warn!(campaign = %c.id, error = %e, "no forecast kept");
                    }
                }
                self.campaign_view(c).await
            }
            Some(Err(code)) => Err(Error::new(
                code,
                format!(
                    "cannot {} a campaign that is {}",
                    format!("{action:?}").to_lowercase(),
                    record.status.as_str()
                ),
            )),
        }
    }

    /// The members who entered a campaign, in member order, optionally of one status.
    pub async fn campaign_members(
        &self,
        principal: &Principal,
        id: &Id,
        q: EntryQuery,
    ) -> Result<PageBody<EntryView>> {
        require(principal, Capability::Campaigns.roles())?;
        self.campaign_record(id).await?;
        let page = self
            .store
            .campaign_entries(id, q.status, page::limit(q.limit)?, q.cursor)
            .await?;
        Ok(PageBody::from(page, EntryView::from))
    }

    pub(crate) async fn campaign_record(&self, id: &str) -> Result<CampaignRecord> {
        self.store
            .campaign(id)
            .await?
            .ok_or_else(|| Error::not_found("campaign"))
    }

    /// Every template a campaign names exists (in `local`, a playbook's own, or stored); the
    /// ones it grants (and a task's) are distributed `campaign_only`. The error names the
    /// field that names the template.
    pub(crate) async fn check_templates(
        &self,
        campaign: &Campaign,
        local: &[(String, Template)],
    ) -> Result<()> {
        for (field, id) in campaign.template_refs() {
            let stored;
            let template = match local.iter().find(|(name, _)| name == id) {
                Some((_, t)) => t,
                None => match self.store.parsed_template(id).await? {
                    Some(parsed) => {
                        stored = parsed;
                        stored.as_ref()
                    }
                    None => {
                        return Err(Error::field(
                            ErrorCode::InvalidValue,
                            field,
                            format!("no template {id}"),
                        ))
                    }
                },
            };
            // A message's link may point at any template links can claim.
            if !field.ends_with("link_template_id") && !campaign_only(template.spec()) {
                return Err(Error::field(
                    ErrorCode::InvalidValue,
                    field,
                    "a template a campaign grants must have the campaign_only distribution",
                ));
            }
        }
        Ok(())
    }

    /// The warnings of a campaign's design: packs whose expected cost passes the CAC ceiling.
    async fn campaign_warnings(&self, spec: &CampaignSpec) -> Result<Vec<CampaignWarning>> {
        let mut out = Vec::new();
        for (i, a) in spec.actions.iter().enumerate() {
            let Action::GrantPack {
                template_ids,
                cac: Some(cac),
            } = a
            else {
                continue;
            };
            let mut faces = Vec::with_capacity(template_ids.len());
            for t in template_ids {
                if let Some(template) = self.store.parsed_template(t).await? {
                    faces.push(template.face_value());
                }
            }
            let (_, warning) = cac_check(&faces, cac.expected_use_bp, cac.ltv);
            if let Some(CacWarning {
                expected_cost,
                ceiling,
            }) = warning
            {
                out.push(CampaignWarning {
                    code: "pack_over_cac".into(),
                    field: format!("actions[{i}]"),
                    message: format!(
                        "the pack's expected cost {expected_cost} exceeds the CAC ceiling {ceiling} (80% of the LTV {})",
                        cac.ltv
                    ),
                });
            }
        }
        Ok(out)
    }

    async fn campaign_view(&self, c: CampaignRecord) -> Result<CampaignView> {
        let warnings = self.campaign_warnings(&c.spec).await?;
        let allocates = c
            .spec
            .actions
            .iter()
            .any(|a| matches!(a, Action::Allocate { .. }));
        let allocation = match allocates {
            true => self.allocation_report(&c.id).await?,
            false => None,
        };
        Ok(CampaignView {
            allocation,
            id: c.id,
            allowed_actions: c.status.actions(),
            status: c.status,
            end_reason: c.end_reason,
            stats: CampaignStatsView {
                entered: c.stats.entered,
                treated: c.stats.treated,
                held_out: c.stats.held_out,
                granted: c.stats.granted,
                spent: c.stats.spent,
                pending: c.stats.pending,
            },
            warnings,
            trigger_at: c.trigger_at,
            activated_at: c.activated_at,
            created_at: c.created_at,
            updated_at: c.updated_at,
            spec: c.spec,
        })
    }
}
