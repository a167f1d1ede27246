//! Members' orders (SCRM): ingestion from outside (`PUT /v1/orders/{id}`) and the order list.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use jiff::Timestamp;
use quan_core::access::Role;
use quan_core::scrm::history::COUNTED_STATUSES;
use quan_core::ErrorCode;
use quan_store::scrm::{Aggregates, HistoryLine, HistoryOrder, OrderFilter, OrderSummary, Written};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::members::text;
use super::{PageBody, Paging, Q};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::json::Body;
use crate::AppState;

/// The statuses an ingested order may have.
pub const STATUSES: &[&str] = &[
    "paid",
    "shipped",
    "confirmed",
    "completed",
    "refunded",
    "cancelled",
];
const MAX_LINES: usize = 2000;
const MAX_AMOUNT: i64 = 1_000_000_000_000;

/// An order from outside: history, POS, other channels. No coupon logic.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IngestBody {
    pub user_id: String,
    #[schema(value_type = String, format = DateTime)]
    pub paid_at: Timestamp,
    /// paid, shipped, confirmed, completed (these count as purchases), refunded or cancelled.
    pub status: String,
    pub channel: Option<String>,
    pub lines: Vec<IngestLine>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IngestLine {
    pub line_id: String,
    pub sku: String,
    pub store_id: Option<String>,
    /// Default: the product's category, when the product is known.
    pub category: Option<String>,
    /// Units (0 is kept: real data has such lines).
    pub qty: i64,
    /// What the line paid, minor units.
    pub amount: i64,
}

impl From<HistoryLine> for IngestLine {
    fn from(l: HistoryLine) -> Self {
        IngestLine {
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
pub fn parse_order(id: String, body: IngestBody) -> ApiResult<HistoryOrder> {
    text("order_id", &id)?;
    text("user_id", &body.user_id)?;
    if !STATUSES.contains(&body.status.as_str()) {
        return Err(ApiError::field(
            ErrorCode::InvalidValue,
            "status",
            format!("one of {}", STATUSES.join(", ")),
        ));
    }
    if let Some(c) = &body.channel {
        text("channel", c)?;
    }
    if body.lines.is_empty() {
        return Err(ApiError::field(
            ErrorCode::EmptyList,
            "lines",
            "an order has at least one line",
        ));
    }
    if body.lines.len() > MAX_LINES {
        return Err(ApiError::field(
            ErrorCode::TooLarge,
            "lines",
            "at most 2000 lines",
        ));
    }
    let mut seen = std::collections::HashSet::new();
    let mut lines = Vec::with_capacity(body.lines.len());
    for (i, l) in body.lines.into_iter().enumerate() {
        let at = |f: &str| format!("lines[{i}].{f}");
        text(&at("line_id"), &l.line_id)?;
        text(&at("sku"), &l.sku)?;
        for (f, v) in [("store_id", &l.store_id), ("category", &l.category)] {
            if let Some(v) = v {
                text(&at(f), v)?;
            }
        }
        if !seen.insert(l.line_id.clone()) {
            return Err(ApiError::field(
                ErrorCode::InvalidValue,
                at("line_id"),
                "line ids must be unique",
            ));
        }
        for (f, v) in [("qty", l.qty), ("amount", l.amount)] {
            if v < 0 {
                return Err(ApiError::field(
                    ErrorCode::Negative,
                    at(f),
                    "must not be negative",
                ));
            }
            if v > MAX_AMOUNT {
                return Err(ApiError::field(ErrorCode::TooLarge, at(f), "too large"));
            }
        }
        lines.push(HistoryLine {
            line_id: l.line_id,
            sku: l.sku,
            store_id: l.store_id,
            category: l.category,
            qty: l.qty,
            amount: l.amount,
        });
    }
    Ok(HistoryOrder {
        id,
        user_id: body.user_id,
        status: body.status,
        channel: body.channel,
        paid_at: body.paid_at,
        lines,
        source: "ingest".into(),
    })
}

/// An order of a member's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderSummaryView {
    pub order_id: String,
    pub user_id: String,
    pub status: String,
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
    pub source: String,
}

impl From<OrderSummary> for OrderSummaryView {
    fn from(o: OrderSummary) -> Self {
        OrderSummaryView {
            counted: COUNTED_STATUSES.contains(&o.status.as_str()),
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
    pub lines: Vec<IngestLine>,
}

/// The order of a member's history with this id, if any.
pub async fn history_view(state: &AppState, id: &str) -> ApiResult<Option<HistoryOrderView>> {
    Ok(state
        .store
        .history_order(id)
        .await?
        .map(|(order, lines)| HistoryOrderView {
            order: order.into(),
            lines: lines.into_iter().map(IngestLine::from).collect(),
        }))
}

/// Ingests an order from outside, idempotent by id: `201` new, `200` updated or unchanged,
/// `409` when the id is a checkout order's.
#[utoipa::path(put, path = "/v1/orders/{order_id}", tag = "orders", params(("order_id" = String, Path)), request_body = IngestBody,
    responses((status = 200, body = HistoryOrderView), (status = 201, body = HistoryOrderView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body, _): Body<IngestBody>,
) -> ApiResult<(StatusCode, Json<HistoryOrderView>)> {
    caller.require(&[Role::Platform])?;
    let order = parse_order(id.clone(), body)?;
    let written = state
        .store
        .put_orders(vec![order], state.now(), Aggregates::Current)
        .await?[0];
    let status = match written {
        Written::Inserted => StatusCode::CREATED,
        Written::Updated | Written::Unchanged => StatusCode::OK,
        Written::Conflict => {
            return Err(ApiError::field(
                ErrorCode::Conflict,
                "order_id",
                "this id is a checkout order's",
            ))
        }
    };
    let view = history_view(&state, &id)
        .await?
        .ok_or_else(|| ApiError::code(ErrorCode::Internal))?;
    Ok((status, Json(view)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OrderListQuery {
    /// Only this member's orders.
    pub user_id: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Members' orders (ingested, and checkout orders once paid), in id order.
#[utoipa::path(get, path = "/v1/orders", tag = "orders", params(OrderListQuery),
    responses((status = 200, body = PageBody<OrderSummaryView>)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Q(q): Q<OrderListQuery>,
) -> ApiResult<Json<PageBody<OrderSummaryView>>> {
    caller.require(&[Role::Platform])?;
    let limit = Paging {
        limit: q.limit,
        cursor: None,
    }
    .limit()?;
    let page = state
        .store
        .list_orders(OrderFilter {
            user_id: q.user_id,
            limit,
            cursor: q.cursor,
        })
        .await?;
    Ok(PageBody::from(page, OrderSummaryView::from))
}
