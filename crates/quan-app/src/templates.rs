//! Templates: create, read with live counters, list, edit while draft, and status changes.

use quan_core::access::{Principal, Role};
use quan_core::template::{
    Audience, StatusAction, Template, TemplateAction, TemplateSpec, TemplateStatus,
};
use quan_core::text::Id;
use quan_core::ErrorCode;
use quan_store::{new_id, NewTemplate, TemplateFilter, TemplateRecord, TemplateUpdate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::keys::Capability;
use crate::page::{self, PageBody};
use crate::{require, App, Error, Result};

/// A template with its status and live counters.
#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateView {
    pub id: String,
    pub status: TemplateStatus,
    /// What its status allows: `edit` (a draft), and the status changes that move it on.
    pub allowed_actions: Vec<TemplateAction>,
    /// Campaigns may grant it: its distribution has `campaign_only`.
    pub campaign_grantable: bool,
    /// Coupons created for members: claims, grants and pre-made claim codes.
    pub issued: i64,
    /// Coupons that reached a wallet.
    pub claimed: i64,
    /// Coupons redeemed.
    pub used: i64,
    /// Stock not yet issued; `null` when the stock is unlimited.
    pub remaining: Option<i64>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: jiff::Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: jiff::Timestamp,
    #[serde(flatten)]
    pub spec: TemplateSpec,
}

impl From<TemplateRecord> for TemplateView {
    fn from(t: TemplateRecord) -> Self {
        TemplateView {
            campaign_grantable: crate::campaigns::campaign_only(t.spec()),
            spec: t.spec().clone(),
            id: t.id,
            allowed_actions: t.status.actions(),
            status: t.status,
            issued: t.issued,
            claimed: t.claimed,
            used: t.used,
            remaining: t.remaining,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

/// What a template list filters on.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TemplateQuery {
    pub status: Option<TemplateStatus>,
    /// `platform`, `store`, `category` or `product`.
    pub scope: Option<String>,
    pub store_id: Option<Id>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Checks that `principal` may create or edit a template of this spec.
fn may_author(principal: &Principal, template: &Template) -> Result<()> {
    let spec = template.spec();
    let scope = &spec.scope;
    match principal.role {
        Role::Platform => Ok(()),
        Role::Merchant if scope.is_platform() => Err(Error::field(
            ErrorCode::Forbidden,
            "scope.kind",
            "a merchant cannot create platform coupons",
        )),
        // The platform decides what it pays for.
        Role::Merchant if spec.funding.platform_bp > 0 => Err(Error::field(
            ErrorCode::Forbidden,
            "funding.platform_bp",
            "only a platform key may set a platform share",
        )),
        // Segments are the platform's: who is in one is not a merchant's to learn.
        Role::Merchant if matches!(spec.audience, Audience::Segment { .. }) => Err(Error::field(
            ErrorCode::Forbidden,
            "audience.segment_id",
            "a merchant cannot target the platform's segments",
        )),
        Role::Merchant if principal.owns_store(scope.store_id()) => Ok(()),
        Role::Merchant => Err(Error::field(
            ErrorCode::Forbidden,
            "scope.store_id",
            "not one of this key's stores",
        )),
        _ => Err(Error::forbidden(
            "only operators and merchants author templates",
        )),
    }
}

impl App {
    /// A template the caller may see; another merchant's reads as not found.
    pub async fn visible_template(
        &self,
        principal: &Principal,
        id: &str,
    ) -> Result<TemplateRecord> {
        match self.store.template(id).await? {
            Some(t) if principal.owns_store(t.store_id.as_deref()) => Ok(t),
            _ => Err(Error::not_found("template")),
        }
    }

    /// Creates a template as a draft.
    pub async fn create_template(
        &self,
        principal: &Principal,
        spec: TemplateSpec,
    ) -> Result<TemplateView> {
        require(principal, Capability::WriteTemplates.roles())?;
        let template = Template::parse(spec)?;
        may_author(principal, &template)?;
        let now = self.now();
        let record = self
            .store
            .insert_template(NewTemplate {
                id: new_id("tpl", now.as_millisecond()),
                template,
                created_by: principal.key_id.clone(),
                now,
            })
            .await?;
        Ok(record.into())
    }

    /// A template with its live counters.
    pub async fn template(&self, principal: &Principal, id: &Id) -> Result<TemplateView> {
        require(principal, Capability::ReadTemplates.roles())?;
        Ok(self.visible_template(principal, id).await?.into())
    }

    /// Templates, oldest first, filtered by status, scope kind and store.
    pub async fn list_templates(
        &self,
        principal: &Principal,
        q: TemplateQuery,
    ) -> Result<PageBody<TemplateView>> {
        require(principal, Capability::ReadTemplates.roles())?;
        let limit = page::limit(q.limit)?;
        if let Some(kind) = &q.scope {
            if !["platform", "store", "category", "product"].contains(&kind.as_str()) {
                return Err(Error::field(
                    ErrorCode::InvalidValue,
                    "scope",
                    "one of platform, store, category, product",
                ));
            }
        }
        let asked = q.store_id.map(Id::into_string);
        let stores = match (principal.store_filter(), asked) {
            (None, None) => None,
            (None, Some(s)) => Some(vec![s]),
            (Some(own), None) => Some(own.to_vec()),
            (Some(own), Some(s)) => Some(if own.contains(&s) { vec![s] } else { vec![] }),
        };
        let page = self
            .store
            .list_templates(TemplateFilter {
                stores,
                status: q.status,
                scope_kind: q.scope,
                limit,
                cursor: q.cursor,
            })
            .await?;
        Ok(PageBody::from(page, TemplateView::from))
    }

    /// Every template of `stores` (all, when `None`) with `status` (any, when `None`), in id
    /// order, read a page at a time: for the reads that need the whole set (the coupon center,
    /// the dashboard).
    pub(crate) async fn all_templates(
        &self,
        stores: Option<Vec<String>>,
        status: Option<TemplateStatus>,
    ) -> Result<Vec<TemplateRecord>> {
        let mut all = Vec::new();
        let mut cursor = None;
        loop {
            let page = self
                .store
                .list_templates(TemplateFilter {
                    stores: stores.clone(),
                    status,
                    scope_kind: None,
                    limit: 500,
                    cursor,
                })
                .await?;
            all.extend(page.items);
            match page.next {
                Some(next) => cursor = Some(next),
                None => return Ok(all),
            }
        }
    }

    /// Replaces a draft template's content.
    pub async fn update_template(
        &self,
        principal: &Principal,
        id: &Id,
        spec: TemplateSpec,
    ) -> Result<TemplateView> {
        require(principal, Capability::WriteTemplates.roles())?;
        self.visible_template(principal, id).await?;
        let template = Template::parse(spec)?;
        may_author(principal, &template)?;
        match self
            .store
            .update_template(TemplateUpdate {
                id: id.to_string(),
                template,
                now: self.now(),
            })
            .await?
        {
            Ok(t) => Ok(t.into()),
            Err(refusal) => Err(refusal.into()),
        }
    }

    /// Activates, pauses or ends a template.
    pub async fn change_template(
        &self,
        principal: &Principal,
        id: &Id,
        action: StatusAction,
    ) -> Result<TemplateView> {
        require(principal, Capability::WriteTemplates.roles())?;
        self.visible_template(principal, id).await?;
        match self
            .store
            .set_template_status(id, action, self.now())
            .await?
        {
            Ok(t) => Ok(t.into()),
            Err(ErrorCode::InvalidState) => Err(Error::new(
                ErrorCode::InvalidState,
                format!("cannot {action:?} from this status").to_lowercase(),
            )),
            Err(code) => Err(Error::code(code)),
        }
    }
}
