//! Behaviour events (domain.md section 7), idempotent by id.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use jiff::Timestamp;
use quan_core::access::Role;
use quan_core::ErrorCode;
use quan_store::scrm::{EventRecord, Written};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::members::text;
use super::{PageBody, Paging, Q};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::json::Body;
use crate::AppState;

/// The kinds of event quan knows.
pub const KINDS: &[&str] = &[
    "signup",
    "visit",
    "order_paid",
    "order_confirmed",
    "order_shipped",
    "review",
    "share",
    "check_in",
    "follow",
    "tier_changed",
    "coupon_claimed",
    "coupon_redeemed",
];

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventBody {
    pub event_id: String,
    pub user_id: String,
    /// signup, visit, order_paid, order_confirmed, order_shipped, review, share, check_in,
    /// follow, tier_changed (`data.tier`), coupon_claimed, coupon_redeemed.
    pub kind: String,
    /// When it happened (default now).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub at: Option<Timestamp>,
    pub store_id: Option<String>,
    pub order_id: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub data: Option<serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    pub event_id: String,
    pub user_id: String,
    pub kind: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    pub store_id: Option<String>,
    pub order_id: Option<String>,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

impl From<EventRecord> for EventView {
    fn from(e: EventRecord) -> Self {
        EventView {
            event_id: e.id,
            user_id: e.user_id,
            kind: e.kind,
            at: e.at,
            store_id: e.store_id,
            order_id: e.order_id,
            data: e.data,
        }
    }
}

/// Checks an event; the error names the field.
pub fn parse_event(body: EventBody, now: Timestamp) -> ApiResult<EventRecord> {
    text("event_id", &body.event_id)?;
    text("user_id", &body.user_id)?;
    if !KINDS.contains(&body.kind.as_str()) {
        return Err(ApiError::field(
            ErrorCode::InvalidValue,
            "kind",
            format!("one of {}", KINDS.join(", ")),
        ));
    }
    for (f, v) in [("store_id", &body.store_id), ("order_id", &body.order_id)] {
        if let Some(v) = v {
            text(f, v)?;
        }
    }
    let data = body.data.unwrap_or_else(|| serde_json::json!({}));
    if !data.is_object() {
        return Err(ApiError::field(
            ErrorCode::InvalidType,
            "data",
            "must be an object",
        ));
    }
    if body.kind == "tier_changed" && !data.get("tier").is_some_and(|t| t.is_string()) {
        return Err(ApiError::field(
            ErrorCode::MissingField,
            "data.tier",
            "tier_changed carries the new tier",
        ));
    }
    Ok(EventRecord {
        id: body.event_id,
        user_id: body.user_id,
        kind: body.kind,
        at: body.at.unwrap_or(now),
        store_id: body.store_id,
        order_id: body.order_id,
        data,
    })
}

/// Records an event: `201` new, `200` the same event again, `409` the id with other content.
#[utoipa::path(post, path = "/v1/events", tag = "members", request_body = EventBody,
    responses((status = 201, body = EventView), (status = 200, body = EventView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Body(body, _): Body<EventBody>,
) -> ApiResult<(StatusCode, Json<EventView>)> {
    caller.require(&[Role::Platform])?;
    let now = state.now();
    let event = parse_event(body, now)?;
    let status = match state.store.put_events(vec![event.clone()], now).await?[0] {
        Written::Inserted => StatusCode::CREATED,
        Written::Unchanged | Written::Updated => StatusCode::OK,
        Written::Conflict => {
            return Err(ApiError::field(
                ErrorCode::Conflict,
                "event_id",
                "this id was used for another event",
            ))
        }
    };
    Ok((status, Json(event.into())))
}

/// A member's events, in id order.
#[utoipa::path(get, path = "/v1/members/{id}/events", tag = "members", params(("id" = String, Path), Paging),
    responses((status = 200, body = PageBody<EventView>)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Q(paging): Q<Paging>,
) -> ApiResult<Json<PageBody<EventView>>> {
    caller.require(&[Role::Platform])?;
    let page = state
        .store
        .list_events(&id, paging.limit()?, paging.cursor.clone())
        .await?;
    Ok(PageBody::from(page, EventView::from))
}
