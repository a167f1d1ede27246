//! Message channels: each one's webhook, set and read by operators (never the secret).

use axum::extract::State;
use axum::Json;
use quan_app::channels::{ChannelBody, ChannelView};
use quan_app::page::PageBody;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Body, Caller, PathIds};
use crate::AppState;

/// Sets a channel's webhook: `sms`, `wechat`, `app_push` or `email` (platform keys only).
#[utoipa::path(put, path = "/v1/channels/{channel}", tag = "channels", operation_id = "channels_put", params(("channel" = String, Path)), request_body = ChannelBody,
    responses((status = 200, body = ChannelView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put(
    State(state): State<AppState>,
    Caller(p): Caller,
    PathIds(channel): PathIds<String>,
    Body(body, _): Body<ChannelBody>,
) -> ApiResult<Json<ChannelView>> {
    Ok(Json(state.app.put_channel(&p, &channel, body).await?))
}

/// Every channel and its webhook's URL, if set (platform keys only).
#[utoipa::path(get, path = "/v1/channels", tag = "channels", operation_id = "channels_list",
    responses((status = 200, body = PageBody<ChannelView>), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Caller(p): Caller,
) -> ApiResult<Json<PageBody<ChannelView>>> {
    Ok(Json(state.app.channels(&p).await?))
}
