//! Bulk import (`quan import`): records already checked by the same parsers as the API's
//! bodies, written in batches by an operator through the store's idempotent writes.

use quan_core::access::{Principal, Role};
use quan_core::campaign::Campaign;
use quan_core::template::{Template, TemplateSpec};
use quan_store::scrm::{
    Aggregates, EventRecord, HistoryOrder, MemberProfile, ProductRecord, StoreRecord, Written,
};

use quan_store::{NewTemplate, PastCampaign};

use crate::{require, App, Result};

impl App {
    /// Writes a campaign of the past as it ended, with its coupons' template (`template_id`,
    /// written ended) and what became of each coupon; `false`, writing nothing, when the
    /// campaign exists already (an import run again). Its spec and the template are checked
    /// as the API checks them.
    pub async fn import_past_campaign(
        &self,
        principal: &Principal,
        template_id: &str,
        template: TemplateSpec,
        past: PastCampaign,
    ) -> Result<bool> {
        require(principal, &[Role::Platform])?;
        let past = PastCampaign {
            spec: Campaign::parse(past.spec)?.into_spec(),
            ..past
        };
        if self.store.campaign(&past.id).await?.is_some() {
            return Ok(false);
        }
        let template = Template::parse(template)?;
        if self.store.template(template_id).await?.is_none() {
            self.store
                .insert_template(NewTemplate {
                    id: template_id.to_string(),
                    template,
                    created_by: principal.key_id.clone(),
                    now: past.started_at,
                })
                .await?;
            self.store
                .set_template_status(
                    template_id,
                    quan_core::template::StatusAction::End,
                    past.ended_at,
                )
                .await?
                .map_err(|code| crate::Error::new(code, "the imported template cannot end"))?;
        }
        Ok(self.store.import_past_campaign(past, self.now()).await?)
    }

    /// Writes member profiles (a profile with a join time makes its customer a member).
    pub async fn import_members(
        &self,
        principal: &Principal,
        batch: Vec<MemberProfile>,
    ) -> Result<Vec<Written>> {
        require(principal, &[Role::Platform])?;
        Ok(self.store.put_members(batch, self.now()).await?)
    }

    /// Writes orders of members' history; with `Aggregates::Deferred`, the members' aggregates
    /// wait for [`App::refresh_imported`].
    pub async fn import_orders(
        &self,
        principal: &Principal,
        batch: Vec<HistoryOrder>,
        aggregates: Aggregates,
    ) -> Result<Vec<Written>> {
        require(principal, &[Role::Platform])?;
        Ok(self.store.put_orders(batch, self.now(), aggregates).await?)
    }

    /// Recomputes the aggregates of the members named (all, with `None`) after an import.
    pub async fn refresh_imported(
        &self,
        principal: &Principal,
        members: Option<Vec<String>>,
    ) -> Result<u64> {
        require(principal, &[Role::Platform])?;
        Ok(self.store.refresh_members(members, self.now()).await?)
    }

    pub async fn import_products(
        &self,
        principal: &Principal,
        batch: Vec<ProductRecord>,
    ) -> Result<Vec<Written>> {
        require(principal, &[Role::Platform])?;
        Ok(self.store.put_products(batch).await?)
    }

    pub async fn import_stores(
        &self,
        principal: &Principal,
        batch: Vec<StoreRecord>,
    ) -> Result<Vec<Written>> {
        require(principal, &[Role::Platform])?;
        Ok(self.store.put_stores(batch).await?)
    }

    /// Writes members' events, with their effects (`signup`, `tier_changed`) and campaign
    /// triggers, as the API's events do.
    pub async fn import_events(
        &self,
        principal: &Principal,
        batch: Vec<EventRecord>,
    ) -> Result<Vec<Written>> {
        require(principal, &[Role::Platform])?;
        Ok(self.store.put_events(batch, self.now()).await?)
    }

    /// Counted orders in all and the sum of their amounts, and the customers known (the
    /// import's closing report).
    pub async fn import_totals(&self, principal: &Principal) -> Result<(i64, i64, i64)> {
        require(principal, &[Role::Platform])?;
        let (orders, total) = self.store.order_totals().await?;
        let members = self.store.list_members(None, 1, None).await?.total;
        Ok((orders, total, members))
    }
}
