//! Bulk import (`quan import`): records already checked by the same parsers as the API's
//! bodies, written in batches by an operator through the store's idempotent writes.

use quan_core::access::{Principal, Role};
use quan_store::scrm::{
    Aggregates, EventRecord, HistoryOrder, MemberProfile, ProductRecord, StoreRecord, Written,
};

use crate::{require, App, Result};

impl App {
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
