//! Members' orders (SCRM): ingestion from outside (history, POS, other channels) and the list.

use jiff::Timestamp;
use quan_core::access::{Principal, Role};
use quan_core::scrm::history::{HistoryStatus, OrderSource};
use quan_core::text::{Id, Label};
use quan_core::ErrorCode;
use quan_store::scrm::{Aggregates, HistoryLine, HistoryOrder, OrderFilter, OrderSummary, Written};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::page::{self, PageBody};
use crate::{require, App, Error, Result};

const MAX_LINES: usize = 2000;
const MAX_AMOUNT: i64 = 1_000_000_000_000;

/// An order from outside: history, POS, other channels. No coupon logic.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IngestBody {
    pub user_id: Id,
    #[schema(value_type = String, format = DateTime)]
    pub paid_at: Timestamp,
    /// paid, shipped, confirmed, completed (these count as purchases), refunded or cancelled.
    pub status: HistoryStatus,
    pub channel: Option<Label>,
    #[schema(max_items = 2000)]
    pub lines: Vec<IngestLine>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IngestLine {
    pub line_id: Id,
    pub sku: Id,
    pub store_id: Option<Id>,
    /// Default: the product's category, when the product is known.
    pub category: Option<Label>,
    /// Units (0 is kept: real data has such lines).
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub qty: i64,
    /// What the line paid, minor units.
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub amount: i64,
}

/// A line of a member's order, as stored.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HistoryLineView {
    pub line_id: String,
    pub sku: String,
    pub store_id: Option<String>,
    pub category: Option<String>,
    pub qty: i64,
    pub amount: i64,
}

impl From<HistoryLine> for HistoryLineView {
    fn from(l: HistoryLine) -> Self {
        HistoryLineView {
            line_id: l.line_id,
            sku: l.sku,
            store_id: l.store_id,
            category: l.category,
            qty: l.qty,
            amount: l.amount,
        }
    }
}

/// Checks an ingested order; the error names the field.
pub fn parse_order(id: Id, body: IngestBody) -> Result<HistoryOrder> {
    if body.lines.is_empty() {
        return Err(Error::field(
            ErrorCode::EmptyList,
            "lines",
            "an order has at least one line",
        ));
    }
    if body.lines.len() > MAX_LINES {
        return Err(Error::field(
            ErrorCode::TooLarge,
            "lines",
            "at most 2000 lines",
        ));
    }
    let mut seen = std::collections::HashSet::new();
    let mut lines = Vec::with_capacity(body.lines.len());
    for (i, l) in body.lines.into_iter().enumerate() {
        let at = |f: &str| format!("lines[{i}].{f}");
        if !seen.insert(l.line_id.clone()) {
            return Err(Error::field(
                ErrorCode::InvalidValue,
                at("line_id"),
                "line ids must be unique",
            ));
        }
        for (f, v) in [("qty", l.qty), ("amount", l.amount)] {
            if v < 0 {
                return Err(Error::field(
                    ErrorCode::Negative,
                    at(f),
                    "must not be negative",
                ));
            }
            if v > MAX_AMOUNT {
                return Err(Error::field(ErrorCode::TooLarge, at(f), "too large"));
            }
        }
        lines.push(HistoryLine {
            line_id: l.line_id.into_string(),
            sku: l.sku.into_string(),
            store_id: l.store_id.map(Id::into_string),
            category: l.category.map(Into::into),
            qty: l.qty,
            amount: l.amount,
        });
    }
    Ok(HistoryOrder {
        id: id.into_string(),
        user_id: body.user_id.into_string(),
        status: body.status,
        channel: body.channel.map(Into::into),
        paid_at: crate::input::accepted_time("paid_at", body.paid_at)?,
        lines,
        source: OrderSource::Ingest,
    })
}

/// An order of a member's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderSummaryView {
    pub order_id: String,
    pub user_id: String,
    pub status: HistoryStatus,
    /// Whether it counts as a purchase (RFM, lifecycle, purchase rules).
    pub counted: bool,
    pub channel: Option<String>,
    /// The store, when every line is of one store.
    pub store_id: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub paid_at: Timestamp,
    /// Σ line amounts, minor units.
    pub amount: i64,
    pub line_count: i64,
    /// `ingest` (from outside) or `checkout` (a paid checkout order).
    pub source: OrderSource,
}

impl From<OrderSummary> for OrderSummaryView {
    fn from(o: OrderSummary) -> Self {
        OrderSummaryView {
            counted: o.status.counts(),
            order_id: o.id,
            user_id: o.user_id,
            status: o.status,
            channel: o.channel,
            store_id: o.store_id,
            paid_at: o.paid_at,
            amount: o.amount,
            line_count: o.line_count,
            source: o.source,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryOrderView {
    #[serde(flatten)]
    pub order: OrderSummaryView,
    pub lines: Vec<HistoryLineView>,
}

/// What an order list filters on.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OrderListQuery {
    /// Only this member's orders.
    pub user_id: Option<Id>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

impl App {
    /// The order of a member's history with this id, if any.
    pub async fn history_view(&self, id: &str) -> Result<Option<HistoryOrderView>> {
        Ok(self
            .store
            .history_order(id)
            .await?
            .map(|(order, lines)| HistoryOrderView {
                order: order.into(),
                lines: lines.into_iter().map(HistoryLineView::from).collect(),
            }))
    }

    /// Ingests an order from outside, idempotent by id. An id of a checkout order, or of an
    /// order of another customer, is a conflict.
    pub async fn ingest_order(
        &self,
        principal: &Principal,
        id: Id,
        body: IngestBody,
    ) -> Result<(Written, HistoryOrderView)> {
        require(principal, &[Role::Platform])?;
        let order = parse_order(id.clone(), body)?;
        let written = self
            .store
            .put_orders(vec![order], self.now(), Aggregates::Current)
            .await?[0];
        if written == Written::Conflict {
            return Err(Error::field(
                ErrorCode::Conflict,
                "order_id",
                "this id is a checkout order's, or another customer's order",
            ));
        }
        let view = self.history_view(&id).await?.ok_or_else(Error::internal)?;
        Ok((written, view))
    }

    /// Members' orders (ingested, and checkout orders once paid), in id order.
    pub async fn list_history(
        &self,
        principal: &Principal,
        q: OrderListQuery,
    ) -> Result<PageBody<OrderSummaryView>> {
        require(principal, &[Role::Platform])?;
        let page = self
            .store
            .list_orders(OrderFilter {
                user_id: q.user_id.map(Id::into_string),
                limit: page::limit(q.limit)?,
                cursor: q.cursor,
            })
            .await?;
        Ok(PageBody::from(page, OrderSummaryView::from))
    }
}
