//! Playbooks: a file of templates, segments and campaigns that name each other locally
//! (`examples/campaigns/`), checked whole, then created (`quan campaigns apply`).

use std::collections::{BTreeMap, HashMap};

use quan_core::access::{Principal, Role};
use quan_core::campaign::{Action, Audience, Campaign, CampaignAction, CampaignSpec};
use quan_core::template::{StatusAction, Template, TemplateSpec};
use quan_core::text::Id;
use quan_core::ErrorCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::campaigns::CampaignView;
use crate::segments::SegmentBody;
use crate::{require, App, Error, Result};

/// A playbook as written: its campaigns name its templates and segments by their local names
/// (or existing ids).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaybookBody {
    /// What the playbook does, for the operator.
    #[serde(default)]
    pub description: Option<String>,
    /// Templates by local name; created and activated.
    #[serde(default)]
    pub templates: BTreeMap<String, TemplateSpec>,
    /// Segments by id (created or replaced).
    #[serde(default)]
    pub segments: BTreeMap<String, SegmentBody>,
    pub campaigns: Vec<CampaignSpec>,
}

/// `?activate=true` activates the playbook's campaigns at once.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ApplyQuery {
    pub activate: Option<bool>,
}

/// What applying a playbook made.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlaybookApplied {
    /// Local template names to the ids made.
    pub templates: BTreeMap<String, String>,
    pub segments: Vec<String>,
    pub campaigns: Vec<CampaignView>,
}

/// Replaces the local template names a campaign uses with their ids.
fn rename(spec: &mut CampaignSpec, ids: &HashMap<String, Id>) {
    let swap = |t: &mut Id| {
        if let Some(id) = ids.get(t.as_str()) {
            *t = id.clone();
        }
    };
    for a in &mut spec.actions {
        match a {
            Action::Grant { template_id } => swap(template_id),
            Action::GrantPack { template_ids, .. } | Action::Allocate { template_ids, .. } => {
                template_ids.iter_mut().for_each(swap)
            }
            Action::Task {
                template_id: Some(t),
                ..
            }
            | Action::Message {
                link_template_id: Some(t),
                ..
            } => swap(t),
            _ => {}
        }
    }
}

impl App {
    /// Checks a whole playbook (nothing is written if any part is refused; the error's field is
    /// dotted from the playbook: `campaigns[1].trigger.at`, `templates.welcome.benefit.off`),
    /// then creates its templates (active), segments and campaigns (active with `activate`).
    pub async fn apply_playbook(
        &self,
        principal: &Principal,
        body: PlaybookBody,
        activate: bool,
    ) -> Result<PlaybookApplied> {
        require(principal, &[Role::Platform])?;
        let within = |prefix: String| {
            move |e: Error| Error {
                field: Some(match e.field {
                    Some(f) => format!("{prefix}.{f}"),
                    None => prefix.clone(),
                }),
                ..e
            }
        };
        let mut templates = Vec::new();
        for (name, spec) in &body.templates {
            Id::parse(name.as_str())
                .map_err(|(code, m)| Error::field(code, format!("templates.{name}"), m))?;
            let t = Template::parse(spec.clone())
                .map_err(Error::from)
                .map_err(within(format!("templates.{name}")))?;
            templates.push((name.clone(), t));
        }
        for (id, s) in &body.segments {
            Id::parse(id.as_str())
                .map_err(|(code, m)| Error::field(code, format!("segments.{id}"), m))?;
            if let Some(rule) = &s.rule {
                rule.validate(&format!("segments.{id}.rule"))?;
            }
        }
        for (i, spec) in body.campaigns.iter().enumerate() {
            let at = format!("campaigns[{i}]");
            let campaign = Campaign::parse(spec.clone())
                .map_err(Error::from)
                .map_err(within(at.clone()))?;
            self.check_templates(&campaign, &templates)
                .await
                .map_err(within(at.clone()))?;
            if let Audience::Segment { segment_id } = &spec.audience {
                if !body.segments.contains_key(segment_id.as_str())
                    && self.store.segment(segment_id).await?.is_none()
                {
                    return Err(Error::field(
                        ErrorCode::InvalidValue,
                        format!("{at}.audience.segment_id"),
                        format!("no segment {segment_id} in the playbook or the database"),
                    ));
                }
            }
        }
        let mut made = BTreeMap::new();
        let mut ids = HashMap::new();
        for (name, t) in templates {
            let v = self.create_template(principal, t.into_spec()).await?;
            let id = Id::parse(v.id.as_str()).map_err(|_| Error::internal())?;
            self.change_template(principal, &id, StatusAction::Activate)
                .await?;
            made.insert(name.clone(), v.id.clone());
            ids.insert(name, id);
        }
        let mut segments = Vec::new();
        for (id, s) in body.segments {
            let id = Id::parse(id).map_err(|_| Error::internal())?;
            segments.push(self.put_segment(principal, id, s).await?.1.id);
        }
        let mut campaigns = Vec::new();
        for mut spec in body.campaigns {
            rename(&mut spec, &ids);
            let mut c = self.create_campaign(principal, spec).await?;
            if activate {
                let id = Id::parse(c.id.as_str()).map_err(|_| Error::internal())?;
                c = self
                    .change_campaign(principal, &id, CampaignAction::Activate)
                    .await?;
            }
            campaigns.push(c);
        }
        Ok(PlaybookApplied {
            templates: made,
            segments,
            campaigns,
        })
    }
}
