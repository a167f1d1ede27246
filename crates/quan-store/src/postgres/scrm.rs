//! The SCRM on PostgreSQL: members, stores, products, members' orders, events, RFM and segments.
use super::PgStore;
use crate::scrm::*;
use crate::{Page, Result};
use std::collections::{HashMap, HashSet};
use jiff::Timestamp;
use quan_core::scrm::rfm::RfmInput;
use quan_core::scrm::{History, Purchase, RfmScore};

#[async_trait::async_trait]
impl Scrm for PgStore {
    async fn setting(&self, name: &str) -> Result<Option<String>> {
        todo!()
    }

    async fn put_setting(&self, name: &str, value: String) -> Result<()> {
        todo!()
    }

    async fn put_members(&self, members: Vec<MemberProfile>, now: Timestamp) -> Result<Vec<Written>> {
        todo!()
    }

    async fn member(&self, id: &str) -> Result<Option<MemberRecord>> {
        todo!()
    }

    async fn list_members(&self, limit: u32, cursor: Option<String>) -> Result<Page<MemberRecord>> {
        todo!()
    }

    async fn all_members(&self) -> Result<Vec<MemberRecord>> {
        todo!()
    }

    async fn histories(&self, as_of: Timestamp) -> Result<HashMap<String, History>> {
        todo!()
    }

    async fn refresh_members(&self, ids: Option<Vec<String>>, now: Timestamp) -> Result<u64> {
        todo!()
    }

    async fn put_stores(&self, stores: Vec<StoreRecord>) -> Result<Vec<Written>> {
        todo!()
    }

    async fn store_record(&self, id: &str) -> Result<Option<StoreRecord>> {
        todo!()
    }

    async fn list_stores(&self, limit: u32, cursor: Option<String>) -> Result<Page<StoreRecord>> {
        todo!()
    }

    async fn put_products(&self, products: Vec<ProductRecord>) -> Result<Vec<Written>> {
        todo!()
    }

    async fn product(&self, id: &str) -> Result<Option<ProductRecord>> {
        todo!()
    }

    async fn list_products(&self, limit: u32, cursor: Option<String>) -> Result<Page<ProductRecord>> {
        todo!()
    }

    async fn put_orders(&self, orders: Vec<HistoryOrder>, now: Timestamp, aggregates: Aggregates) -> Result<Vec<Written>> {
        todo!()
    }

    async fn history_order(&self, id: &str) -> Result<Option<(OrderSummary, Vec<HistoryLine>)>> {
        todo!()
    }

    async fn list_orders(&self, filter: OrderFilter) -> Result<Page<OrderSummary>> {
        todo!()
    }

    async fn recent_orders(&self, user_id: &str, limit: u32) -> Result<Vec<OrderSummary>> {
        todo!()
    }

    async fn order_totals(&self) -> Result<(i64, i64)> {
        todo!()
    }

    async fn put_events(&self, events: Vec<EventRecord>, now: Timestamp) -> Result<Vec<Written>> {
        todo!()
    }

    async fn list_events(&self, user_id: &str, limit: u32, cursor: Option<String>) -> Result<Page<EventRecord>> {
        todo!()
    }

    async fn rfm_inputs(&self, since: Timestamp, as_of: Timestamp) -> Result<Vec<RfmInput>> {
        todo!()
    }

    async fn write_rfm(&self, rows: Vec<(String, RfmScore)>, cuts: RfmCuts) -> Result<u64> {
        todo!()
    }

    async fn purchase_members(&self, purchase: &Purchase, as_of: Timestamp) -> Result<HashSet<String>> {
        todo!()
    }

    async fn member_purchased(&self, member_id: &str, purchase: &Purchase, as_of: Timestamp) -> Result<bool> {
        todo!()
    }

    async fn put_segment(&self, segment: SegmentRecord) -> Result<SegmentRecord> {
        todo!()
    }

    async fn segment(&self, id: &str) -> Result<Option<SegmentRecord>> {
        todo!()
    }

    async fn list_segments(&self, limit: u32, cursor: Option<String>) -> Result<Page<SegmentRecord>> {
        todo!()
    }

}
