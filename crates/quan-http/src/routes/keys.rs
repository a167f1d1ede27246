//! API keys: an operator makes keys for merchants, guides and customers.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use quan_app::keys::{KeyBody, MeView, NewKeyBody};

use super::created;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Body, Caller};
use crate::AppState;

/// Makes an API key (platform operators only).
#[utoipa::path(post, path = "/v1/keys", tag = "keys", operation_id = "keys_create", request_body = NewKeyBody,
    responses((status = 201, body = KeyBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Caller(p): Caller,
    Body(body, _): Body<NewKeyBody>,
) -> ApiResult<(StatusCode, Json<KeyBody>)> {
    Ok(created(state.app.create_key(&p, body).await?))
}

/// The caller's own key: its role, stores and user (what the console may show).
#[utoipa::path(get, path = "/v1/me", tag = "keys", operation_id = "keys_me",
    responses((status = 200, body = MeView), (status = 401, body = ErrorBody)))]
pub async fn me(State(state): State<AppState>, Caller(p): Caller) -> Json<MeView> {
    Json(state.app.me(&p))
}
