//! The outbox: messages by status, one message, and a dead letter retried by hand.

use axum::extract::State;
use axum::Json;
use quan_app::outbox::{MessageView, OutboxQuery};
use quan_app::page::PageBody;
use quan_core::text::Id;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Caller, PathIds, QueryParams};
use crate::AppState;

/// Messages in id order, optionally of one status (platform keys only).
#[utoipa::path(get, path = "/v1/outbox", tag = "outbox", operation_id = "outbox_list", params(OutboxQuery),
    responses((status = 200, body = PageBody<MessageView>), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Caller(p): Caller,
    QueryParams(q): QueryParams<OutboxQuery>,
) -> ApiResult<Json<PageBody<MessageView>>> {
    Ok(Json(state.app.outbox(&p, q).await?))
}

/// One message and where its delivery is (platform keys only).
#[utoipa::path(get, path = "/v1/outbox/{id}", tag = "outbox", operation_id = "outbox_get", params(("id" = String, Path)),
    responses((status = 200, body = MessageView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Caller(p): Caller,
    PathIds(id): PathIds<Id>,
) -> ApiResult<Json<MessageView>> {
    Ok(Json(state.app.message(&p, &id).await?))
}

/// Sends a dead letter back to pending, due now, with a fresh series of attempts (platform
/// keys only); 409 `invalid_state` unless it is dead.
#[utoipa::path(post, path = "/v1/outbox/{id}/retry", tag = "outbox", operation_id = "outbox_retry", params(("id" = String, Path)),
    responses((status = 200, body = MessageView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn retry(
    State(state): State<AppState>,
    Caller(p): Caller,
    PathIds(id): PathIds<Id>,
) -> ApiResult<Json<MessageView>> {
    Ok(Json(state.app.retry_message(&p, &id).await?))
}
