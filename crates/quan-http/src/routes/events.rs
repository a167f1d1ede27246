//! Behaviour events (docs/DOMAIN.md section 7), idempotent by id.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use quan_app::events::{EventBody, EventView};
use quan_app::page::{PageBody, Paging};
use quan_core::text::Id;

use super::written;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Body, Caller, PathIds, QueryParams};
use crate::AppState;

/// Records an event: `201` new, `200` the same event again, `409` the id with other content.
#[utoipa::path(post, path = "/v1/events", tag = "members", operation_id = "events_create", request_body = EventBody,
    responses((status = 201, body = EventView), (status = 200, body = EventView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Caller(p): Caller,
    Body(body, _): Body<EventBody>,
) -> ApiResult<(StatusCode, Json<EventView>)> {
    let (w, view) = state.app.record_event(&p, body).await?;
    Ok(written(w, view))
}

/// A member's events, in id order.
#[utoipa::path(get, path = "/v1/members/{id}/events", tag = "members", operation_id = "events_list", params(("id" = String, Path), Paging),
    responses((status = 200, body = PageBody<EventView>)))]
pub async fn list(
    State(state): State<AppState>,
    Caller(p): Caller,
    PathIds(id): PathIds<Id>,
    QueryParams(paging): QueryParams<Paging>,
) -> ApiResult<Json<PageBody<EventView>>> {
    Ok(Json(state.app.member_events(&p, &id, paging).await?))
}
